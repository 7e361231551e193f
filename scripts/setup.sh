#!/usr/bin/env bash
# Set up desktop-agent on a Debian/Ubuntu machine: system packages from packaging/debian-packages.txt,
# then a virtual environment in .venv with the package (and, with --test, what the tests need).
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

extras=""
case "${1:-}" in
  --test) extras="[test,llama]" ;;   # the tests run a real local model
  --llama) extras="[llama]" ;;
  --bundle) extras="[bundle,llama]" ;;   # what scripts/bundle.sh builds with (the local planner included)
esac

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
stamp=".venv/.installed$(echo "$extras" | tr -d '[],')"
# The test install includes the plain one.
[ -z "$extras" ] && [ -f .venv/.installedtestllama ] && [ ! pyproject.toml -nt .venv/.installedtestllama ] \
  && stamp=.venv/.installedtestllama

# llama-cpp-python ships as source only and compiles for minutes: build it once, for any x86-64-v3 CPU
# (llama.cpp's native build crashes where AVX-512/AMX are reported but not usable, as in some VMs),
# and keep the wheel outside the checkout so fresh clones on this machine reuse it.
find_links=()
if [[ "$extras" == *llama* ]]; then
  llama_req=$(grep -o 'llama-cpp-python\[server\]==[0-9.]*' pyproject.toml)
  llama_version=${llama_req##*==}
  wheels="${XDG_CACHE_HOME:-$HOME/.cache}/desktop-agent/wheels/llama-cpp-python-$llama_version-$(uname -m)-portable"
  if ! ls "$wheels"/llama_cpp_python-"$llama_version"-*.whl >/dev/null 2>&1; then
    echo "setup: building llama-cpp-python $llama_version once (about 7 minutes on 2 cores) into $wheels"
    [ -x .venv/bin/python ] && .venv/bin/python -m pip install -q --upgrade pip
    cmake_args="-DGGML_NATIVE=OFF"
    if [ "$(uname -m)" = x86_64 ]; then
      cmake_args="$cmake_args -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON \
        -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
    fi
    mkdir -p "$wheels"
    CMAKE_ARGS="$cmake_args" .venv/bin/python -m pip wheel -q --no-deps --no-cache-dir \
      "llama-cpp-python==$llama_version" -w "$wheels"
  fi
  find_links=(--find-links "$wheels")
fi

if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing Python packages into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  # (setuptools prints a harmless note about editable installs; pip's own errors still show)
  .venv/bin/python -m pip install -q "${find_links[@]}" -e ".${extras}" 2> >(grep -v -e BuildBackendWarning -e '^\s*!!' -e '\*\*\*' \
    -e 'Please be careful' -e 'name as your package' -e 'WheelFile(wheel_path' -e '^\s*$' >&2)
  touch "$stamp"
fi
