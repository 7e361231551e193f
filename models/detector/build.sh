#!/usr/bin/env bash
# One command to rebuild the UI-element detector: icon sets (npm, shared with the icon recognizer),
# a training venv, random pages rendered in Debian's Chromium and random Qt windows rendered by PySide6
# (training seeds 0..N-1, held-out seeds from 100000), training on the CPU, export of models/detector/ui_detector.onnx, and the benchmark's
# figures in metrics.json.
#   PAGES=1500 TEST_PAGES=150 QT_SCREENS=900 QT_TEST_SCREENS=100 MINUTES=36 models/detector/build.sh
set -euo pipefail
cd "$(dirname "$0")"
here=$(pwd)
root=$(cd ../.. && pwd)
command -v chromium >/dev/null || { echo "build.sh: needs Chromium: sudo apt-get install -y chromium" >&2; exit 1; }
(cd ../icons && { [ -d node_modules ] || npm ci --silent --no-audit --no-fund; })
[ -x "$root/.venv-train/bin/python" ] || python3 -m venv "$root/.venv-train"
py="$root/.venv-train/bin/python"
"$py" -m pip install -q -r requirements-train.txt -e "$root"
"$py" render.py data/train --pages "${PAGES:-1500}"
"$py" render.py data/test --start 100000 --pages "${TEST_PAGES:-150}"
"$py" qt_screens.py data/qt-train --screens "${QT_SCREENS:-900}"
"$py" qt_screens.py data/qt-test --start 100000 --screens "${QT_TEST_SCREENS:-100}"
"$py" train.py data/train data/qt-train --minutes "${MINUTES:-36}" --out ui_detector.onnx
"$py" "$root/bench/detector.py" --held-out data/test data/qt-test --json "$here/metrics.json"
