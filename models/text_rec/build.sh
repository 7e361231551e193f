#!/usr/bin/env bash
# One command to rebuild the screen text recognizer: Debian's fonts, a training venv, the gettext corpus of the
# installed applications, training on lines rendered on the fly for MINUTES of wall time on the CPU, export of
# models/text_rec/text_rec.onnx with its charset and threshold, and metrics.json. Never run in CI.
#   MINUTES=50 models/text_rec/build.sh            (DATA=/tmp/text_rec by default)
# The fonts are Debian packages unpacked into $DATA/fonts (apt-get download, dpkg -x), never installed: fonts
# installed system-wide change the fonts every app on the machine draws with, and the test suite's
# layout-dependent tests expect Debian's defaults.
set -euo pipefail
cd "$(dirname "$0")"
here=$(pwd)
root=$(cd ../.. && pwd)
data=${DATA:-/tmp/text_rec}
fonts=$data/fonts
if [ ! -f "$fonts/unpacked" ]; then
  mkdir -p "$fonts/debs"
  # shellcheck disable=SC2046  # one package a word
  (cd "$fonts/debs" && apt-get download $(grep -v '^#' "$here/debian-packages.txt")) \
    || { echo "build.sh: could not download the font packages (apt-get update first?)" >&2; exit 1; }
  for deb in "$fonts"/debs/*.deb; do dpkg-deb -x "$deb" "$fonts"; done
  touch "$fonts/unpacked"
fi
export TEXT_REC_FONT_ROOT=$fonts/usr/share/fonts
[ -x "$root/.venv-train/bin/python" ] || python3 -m venv "$root/.venv-train"
py="$root/.venv-train/bin/python"
"$py" -m pip install -q -r requirements-train.txt
"$py" render.py --data "$data" --out "$data/samples" -n 40  # the corpus, sample lines to look at, charset.txt
nice -n 10 "$py" train.py --minutes "${MINUTES:-48}" --threads "${THREADS:-1}" --out "$data"
"$py" finish.py --run "$data" --out "$here"  # threshold on the synthetic validation set, metadata, metrics.json
