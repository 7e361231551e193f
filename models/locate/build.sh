#!/usr/bin/env bash
# One command to refit locate's calibrated click probability and its figures (MODEL_CARD.md says what each
# step is): install the harvest's applications (Debian), harvest the training apps' screens with their
# accessibility truth, turn them into a grounding set, fit (out-of-app threshold). CPU only, no GPU used.
#     models/locate/build.sh      (about 25 minutes on 2 cores: harvesting and parsing the screens)
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)
sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
missing=$(for p in $(grep -hv '^#' ../harvest/debian-packages.txt "$root/packaging/debian-packages.txt"); do
  dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
if [ -n "$missing" ]; then
  $sudo apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
fi
py="$root/.venv/bin/python"
apps=$("$py" -c "import sys; sys.path.insert(0, '../harvest'); import harvest_desktop as h; print(','.join(h.TRAIN_APPS))")
mkdir -p data
[ -s data/harvest-train/samples.jsonl ] || "$py" ../harvest/harvest_desktop.py --out data/harvest-train \
  --apps "$apps" --icon-themes default,Papirus --scales 1,2 --menus 3 --held-out ""
rm -rf data/train-set
"$py" ../harvest/to_grounding_set.py data/harvest-train data/train-set --apps "$apps"
"$py" fit.py data/train-set
