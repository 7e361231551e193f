#!/usr/bin/env bash
# One command to rebuild the screen text recognizer: Debian's fonts, a training venv, the gettext corpus of the
# installed applications, training on lines rendered on the fly for MINUTES of wall time on the CPU, export of
# models/text_rec/text_rec.onnx with its charset and threshold, and metrics.json. Never run in CI.
#   MINUTES=50 models/text_rec/build.sh            (DATA=/tmp/text_rec by default)
# The fonts are installed system-wide, and they change the fonts every app on the machine draws with: the
# test suite's layout-dependent tests expect Debian's defaults, so remove them again before running it
# (all but fonts-dejavu-core, Debian's default), or train on another machine.
set -euo pipefail
cd "$(dirname "$0")"
here=$(pwd)
root=$(cd ../.. && pwd)
data=${DATA:-/tmp/text_rec}
missing=$(grep -v '^#' debian-packages.txt | xargs -n1 sh -c 'dpkg -s "$0" >/dev/null 2>&1 || echo "$0"')
[ -z "$missing" ] || { echo "build.sh: needs fonts: sudo apt-get install -y $missing" >&2; exit 1; }
[ -x "$root/.venv-train/bin/python" ] || python3 -m venv "$root/.venv-train"
py="$root/.venv-train/bin/python"
"$py" -m pip install -q -r requirements-train.txt
"$py" render.py --data "$data" --out "$data/samples" -n 40  # the corpus, sample lines to look at, charset.txt
nice -n 10 "$py" train.py --minutes "${MINUTES:-48}" --threads "${THREADS:-1}" --out "$data"
"$py" finish.py --run "$data" --out "$here"  # threshold on the synthetic validation set, metadata, metrics.json
