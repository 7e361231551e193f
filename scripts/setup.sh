#!/usr/bin/env bash
# Set up desktop-agent on a Debian/Ubuntu machine: system packages from packaging/debian-packages.txt,
# then a virtual environment in .venv with the package (and, with --test, what the tests need).
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

extras=""
[ "${1:-}" = "--test" ] && extras="[test]"

sudo_cmd=""
if [ "$(id -u)" != 0 ]; then sudo_cmd="sudo"; fi

# -- system packages -------------------------------------------------------------------------------
wanted=$(grep -v '^\s*#' packaging/debian-packages.txt | awk 'NF {print $1}')
python3 -m venv --help >/dev/null 2>&1 || wanted="$wanted python3-venv"
missing=""
for pkg in $wanted; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
  echo "setup: installing system packages:$missing"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  # shellcheck disable=SC2086
  $sudo_cmd apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# -- Python environment ----------------------------------------------------------------------------
python3 - <<'PY'
import sys
if sys.version_info < (3, 11):
    sys.exit(f"setup: desktop-agent needs Python 3.11 or newer, found {sys.version.split()[0]}")
PY
[ -x .venv/bin/python ] || python3 -m venv .venv
stamp=".venv/.installed$(echo "$extras" | tr -d '[]')"
# The test install includes the plain one.
[ -z "$extras" ] && [ -f .venv/.installedtest ] && [ ! pyproject.toml -nt .venv/.installedtest ] && stamp=.venv/.installedtest
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing Python packages into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  # (setuptools prints a harmless note about editable installs; pip's own errors still show)
  .venv/bin/python -m pip install -q -e ".${extras}" 2> >(grep -v -e BuildBackendWarning -e '^\s*!!' -e '\*\*\*' \
    -e 'Please be careful' -e 'name as your package' -e 'WheelFile(wheel_path' -e '^\s*$' >&2)
  touch "$stamp"
fi
