#!/usr/bin/env bash
# One command to refit locate's calibrated click probability and its figures (MODEL_CARD.md says what each
# step is): install the harvest's applications (Debian), harvest the training apps' screens with their
# accessibility truth, turn them into a grounding set, fit (out-of-app threshold). CPU only, no GPU used.
#     models/locate/build.sh      (about 75 minutes on 2 cores, CPU only: harvesting and parsing the screens)
# The committed fit's data differs in one way: its nine-theme main windows are of the first seven training
# apps only (models/icon_embed/data/harvest-train); a rebuild harvests all of them in both passes.
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)
sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
missing=$(for p in $(grep -hv '^#' ../harvest/debian-packages.txt "$root/packaging/debian-packages.txt" \
    "$root/packaging/debian-packages-suite.txt"); do
  dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
if [ -n "$missing" ]; then
  $sudo apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
fi
py="$root/.venv/bin/python"
apps=$("$py" -c "import sys; sys.path.insert(0, '../harvest'); import harvest_desktop as h; print(','.join(h.TRAIN_APPS))")
mkdir -p data
# Main windows in nine icon themes, and main windows with up to three open menus in two.
[ -s data/harvest-main/samples.jsonl ] || "$py" ../harvest/harvest_desktop.py --out data/harvest-main \
  --apps "$apps" --icon-themes default,Papirus,Tango,Numix,oxygen,mate,Yaru,Faenza,gnome --scales 1,2 --menus 0 \
  --held-out ""
[ -s data/harvest-menus/samples.jsonl ] || "$py" ../harvest/harvest_desktop.py --out data/harvest-menus \
  --apps "$apps" --icon-themes default,Papirus --scales 1,2 --menus 3 --held-out ""
for part in main menus; do
  rm -rf "data/set-$part"
  "$py" ../harvest/to_grounding_set.py "data/harvest-$part" "data/set-$part" --apps "$apps" --short-names
done
"$py" fit.py data/set-main data/set-menus
