#!/usr/bin/env bash
# One command to rebuild the icon recognizer: fetch the icon sets (npm), set up a training venv
# (torch; CUDA if the machine has a GPU, else the CPU), render, train, export
# models/icons/icon_recognizer.onnx and metrics.json.
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)
[ -d node_modules ] || npm ci --silent --no-audit --no-fund
[ -x "$root/.venv-train/bin/python" ] || python3 -m venv "$root/.venv-train"
"$root/.venv-train/bin/python" -m pip install -q -r requirements-train.txt -e "$root"
exec "$root/.venv-train/bin/python" build.py
