#!/usr/bin/env bash
# One command to rebuild the open-vocabulary icon model and its figures (MODEL_CARD.md says what each step
# is): install the icon themes and the harvest's applications (Debian) and the web icon sets (npm), set up a
# training venv (torch; CUDA when the machine has a GPU, else the CPU), harvest the training apps' screens,
# render, train, export, calibrate on the training apps, and measure on the held-out apps.
#     models/icon_embed/build.sh            everything (about an hour on 2 cores, most of it training)
#     SKIP_TRAIN=1 models/icon_embed/build.sh   calibrate and measure the committed model only
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)
sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
missing=$(for p in $(grep -hv '^#' debian-packages.txt ../harvest/debian-packages.txt "$root/packaging/debian-packages.txt" \
    "$root/packaging/debian-packages-suite.txt"); do
  dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
if [ -n "$missing" ]; then
  $sudo apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
fi
(cd ../icons && { [ -d node_modules ] || npm ci --silent --no-audit --no-fund; })
py="$root/.venv-train/bin/python"
[ -x "$py" ] || python3 -m venv "$root/.venv-train"
"$py" -m pip install -q -r requirements-train.txt -e "$root"
split() { "$py" -c "import sys; sys.path.insert(0, '../harvest'); import harvest_desktop as h; print(','.join(h.$1))"; }
# Whether a harvest folder holds the runs of exactly the split's apps (a changed split harvests anew).
harvested() { [ -s "$2/samples.jsonl" ] && "$py" -c "import json, sys; sys.path.insert(0, '../harvest'); import harvest_desktop as h
sys.exit({r['app'] for r in json.load(open('$2/metadata.json'))['runs']} != set(h.$1))"; }
themes=default,Papirus,Tango,Numix,oxygen,mate,Yaru,Faenza,gnome
data=data
mkdir -p "$data"
harvested ICON_TRAIN_APPS "$data/harvest-train" || "$py" ../harvest/harvest_desktop.py --out "$data/harvest-train" \
  --apps "$(split ICON_TRAIN_APPS)" --icon-themes "$themes" --scales 1,2 --menus 0 --held-out ""
if [ "${SKIP_TRAIN:-0}" != 1 ]; then
  [ "$data/icon_pairs.npz" -nt "$data/harvest-train/samples.jsonl" ] || export ICON_EMBED_RENDER=1  # a new harvest
  "$py" build.py --harvest "$data/harvest-train"
fi
"$py" calibrate.py "$data/harvest-train"
# The held-out apps: never rendered, harvested for training or calibrated on; default and a held-out theme.
# (Harvested anew when HELD_OUT_APPS changes: the folder's metadata lists the apps it holds.)
harvested HELD_OUT_APPS "$data/harvest-test" || "$py" ../harvest/harvest_desktop.py --out "$data/harvest-test" \
  --apps "$(split HELD_OUT_APPS)" --icon-themes default,breeze --scales 1,2 --menus 3
rm -rf "$data/heldout-set"
"$py" ../harvest/to_grounding_set.py "$data/harvest-test" "$data/heldout-set" --apps "$(split HELD_OUT_APPS)"
"$py" -m desktop_agent eval grounding "$data/heldout-set" --out "$data/heldout-predictions.jsonl" | tee "$data/heldout-report.txt"
