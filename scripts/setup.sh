#!/usr/bin/env bash
# Set up desktop-agent on a Debian/Ubuntu machine: the system packages of packaging/debian-packages.txt
# (what the app needs), then a virtual environment in .venv with the package.
#   --suite          also the task suite's applications (packaging/debian-packages-suite.txt), for
#                    `desktop-agent eval tasks`
#   --test           the suite's applications and what the tests need (the `test` and `llama` extras:
#                    the tests run a real local model); scripts/test.sh and CI use it
#   --llama          the local-model planner (llama-cpp-python, built once: about 7 minutes on 2 cores)
#   --bundle         what scripts/bundle.sh builds with (PyInstaller, the local planner)
#   --list-packages  print the Debian packages these options need, one per line, and stop
# Options combine (--suite --llama). Safe to run again: it only installs what is missing. Quiet: one
# line per thing it installs; a step's own output is kept in a log and shown only when that step fails.
set -euo pipefail
cd "$(dirname "$0")/.."

lists=(packaging/debian-packages.txt)
extras=()
list_only=""
for arg in "$@"; do
  case "$arg" in
    --suite) lists+=(packaging/debian-packages-suite.txt) ;;
    --test) lists+=(packaging/debian-packages-suite.txt packaging/debian-packages-bundle.txt); extras+=(test llama) ;;
    --llama) extras+=(llama) ;;
    --bundle) lists+=(packaging/debian-packages-bundle.txt); extras+=(bundle llama) ;;
    --list-packages) list_only=1 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup: unknown option $arg (see ./scripts/setup.sh --help)" >&2; exit 2 ;;
  esac
done
# The extras, each once, in a fixed order (they name the install's stamp).
mapfile -t extras < <(printf '%s\n' "${extras[@]}" | awk 'NF && !seen[$0]++' | sort)
mapfile -t lists < <(printf '%s\n' "${lists[@]}" | awk '!seen[$0]++')

wanted=$(grep -hv '^\s*#' "${lists[@]}" | awk 'NF && !seen[$1]++ {print $1}')
if [ -n "$list_only" ]; then
  echo "$wanted"
  exit 0
fi

# Pip: no version nag, no warning about running as root, never a prompt.
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore PIP_NO_INPUT=1 DEBIAN_FRONTEND=noninteractive
# Lines of a step that succeeded which still deserve to be seen (pip's and apt's errors and warnings), less
# the known harmless ones.
# (A configured find-links folder that does not exist on this machine is skipped by pip: nothing lost.)
harmless='apt does not have a stable CLI interface|unsandboxed as root|debconf: |setuptools.*BuildBackendWarning|editable|is ignored: it is neither a file nor a directory'

quietly() {  # quietly WHAT COMMAND...: COMMAND's output in a log, shown (its end) only if COMMAND fails
  local what=$1 log rc
  shift
  log=$(mktemp "${TMPDIR:-/tmp}/desktop-agent-setup.XXXXXX")
  if "$@" >"$log" 2>&1; then
    { grep -E '^(ERROR|WARNING|W|E):' "$log" | grep -Ev "$harmless" >&2; } || true
    rm -f "$log"
  else
    rc=$?
    echo "setup: $what failed (exit $rc); the end of its output (all of it: $log):" >&2
    tail -n 40 "$log" >&2
    exit "$rc"
  fi
}

# -- system packages -------------------------------------------------------------------------------
python3 -m venv --help >/dev/null 2>&1 || wanted="$wanted python3-venv"
if command -v dpkg-query >/dev/null 2>&1; then
  missing=""
  for pkg in $wanted; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
  done
  if [ -n "$missing" ]; then
    sudo_cmd=()
    if [ "$(id -u)" != 0 ]; then sudo_cmd=(sudo); fi
    echo "setup: installing system packages:$missing"
    quietly "apt-get update" "${sudo_cmd[@]}" apt-get update -qq
    # shellcheck disable=SC2086
    quietly "apt-get install" "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends $missing
  fi
else
  echo "setup: not a Debian/Ubuntu system (no dpkg): install the equivalents of ${lists[*]} yourself" >&2
fi

# -- Python environment ----------------------------------------------------------------------------
python3 - <<'PY'
import sys
if sys.version_info < (3, 11):
    sys.exit(f"setup: desktop-agent needs Python 3.11 or newer, found {sys.version.split()[0]}")
PY
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating the virtual environment .venv"
  quietly "python3 -m venv" python3 -m venv .venv
fi

# What is installed: .venv/.setup-extras lists the extras installed with the package (empty: the plain
# install), written after a successful install; older set-ups left .venv/.installed<extras> instead.
stamp=.venv/.setup-extras
installed=""
if [ -f "$stamp" ] && [ ! pyproject.toml -nt "$stamp" ]; then
  installed=" $(cat "$stamp") "
else
  for old in .venv/.installed .venv/.installedllama .venv/.installedtestllama .venv/.installedbundlellama; do
    if [ -f "$old" ] && [ ! pyproject.toml -nt "$old" ]; then
      installed="${installed:- } $(echo "${old#.venv/.installed}" | sed 's/test/test /; s/bundle/bundle /') "
    fi
  done
fi
needed=""
[ -n "$installed" ] || needed=1
for extra in "${extras[@]}"; do
  [[ "$installed" == *" $extra "* ]] || needed=1
done

# llama-cpp-python ships as source only and compiles for minutes: build it once, for any x86-64-v3 CPU
# (llama.cpp's native build crashes where AVX-512/AMX are reported but not usable, as in some VMs),
# and keep the wheel outside the checkout so fresh clones on this machine reuse it.
find_links=()
if [[ " ${extras[*]} " == *" llama "* ]]; then
  llama_req=$(grep -o 'llama-cpp-python\[server\]==[0-9.]*' pyproject.toml)
  llama_version=${llama_req##*==}
  wheels="${XDG_CACHE_HOME:-$HOME/.cache}/desktop-agent/wheels/llama-cpp-python-$llama_version-$(uname -m)-portable"
  if [ -n "$needed" ] && ! ls "$wheels"/llama_cpp_python-"$llama_version"-*.whl >/dev/null 2>&1; then
    echo "setup: building llama-cpp-python $llama_version once (about 7 minutes on 2 cores) into $wheels"
    quietly "upgrading pip" .venv/bin/python -m pip install -q --upgrade pip
    cmake_args="-DGGML_NATIVE=OFF"
    if [ "$(uname -m)" = x86_64 ]; then
      cmake_args="$cmake_args -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON \
        -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
    fi
    mkdir -p "$wheels"
    CMAKE_ARGS="$cmake_args" quietly "building llama-cpp-python" .venv/bin/python -m pip wheel -q --no-deps \
      --no-cache-dir "llama-cpp-python==$llama_version" -w "$wheels"
  fi
  find_links=(--find-links "$wheels")
fi

# The bundle's OpenCV: the PyPI wheel carries every module, FFmpeg and its own OpenBLAS (over 150 MB);
# the app uses core, imgproc and imgcodecs (PNG, JPEG). Build that much once from the sdist (about
# 10 minutes on 2 cores; features2d too, which the wheel's typing stubs name) and keep the wheel beside
# llama-cpp-python's; the bundle's .venv gets it instead.
opencv_wheel=""
if [[ " ${extras[*]} " == *" bundle "* ]]; then
  opencv_version=4.12.0.88
  wheels="${XDG_CACHE_HOME:-$HOME/.cache}/desktop-agent/wheels/opencv-python-headless-$opencv_version-$(uname -m)-minimal"
  if ! ls "$wheels"/opencv_python_headless-"$opencv_version"-*.whl >/dev/null 2>&1; then
    echo "setup: building a minimal OpenCV $opencv_version once (about 10 minutes on 2 cores) into $wheels"
    quietly "upgrading pip" .venv/bin/python -m pip install -q --upgrade pip
    mkdir -p "$wheels"
    off="FFMPEG GSTREAMER V4L LAPACK EIGEN IPP ITT OPENCL VA VA_INTEL PROTOBUF TIFF WEBP OPENJPEG JASPER OPENEXR AVIF
      IMGCODEC_HDR IMGCODEC_SUNRASTER IMGCODEC_PXM IMGCODEC_PFM"
    cmake_args="-DBUILD_LIST=core,imgproc,imgcodecs,features2d,python3 -DBUILD_PNG=ON -DBUILD_JPEG=ON -DBUILD_ZLIB=ON
      -DBUILD_TESTS=OFF -DBUILD_PERF_TESTS=OFF -DBUILD_EXAMPLES=OFF -DBUILD_JAVA=OFF $(printf -- '-DWITH_%s=OFF ' $off)"
    ENABLE_HEADLESS=1 CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" CMAKE_ARGS="$(echo $cmake_args)" \
      quietly "building OpenCV" .venv/bin/python -m pip wheel -q --no-deps --no-cache-dir \
      --no-binary opencv-python-headless "opencv-python-headless==$opencv_version" -w "$wheels"
  fi
  opencv_wheel=$(ls "$wheels"/opencv_python_headless-"$opencv_version"-*.whl | head -n 1)
fi

if [ -n "$needed" ]; then
  spec="."
  if [ ${#extras[@]} -gt 0 ]; then spec=".[$(IFS=,; echo "${extras[*]}")]"; fi
  echo "setup: installing Python packages into .venv ($spec)"
  quietly "upgrading pip" .venv/bin/python -m pip install -q --upgrade pip
  quietly "pip install -e $spec" .venv/bin/python -m pip install -q "${find_links[@]}" -e "$spec"
  # Every extra installed so far stays installed: record them all.
  echo "$installed ${extras[*]}" | tr ' ' '\n' | awk 'NF && !seen[$0]++' | sort | paste -sd' ' - > "$stamp"
  echo "setup: done"
fi
# The minimal OpenCV in place of whatever OpenCV wheels pip chose (any of them writes the same cv2 package,
# so all of them go first); pip keeps it afterwards: it satisfies the package's and rapidocr's requirement.
if [ -n "$opencv_wheel" ]; then
  others=$(.venv/bin/python -m pip list --format=freeze 2>/dev/null | grep -io '^opencv[a-z_-]*' || true)
fi
if [ -n "$opencv_wheel" ] && { [ "$others" != opencv-python-headless ] && [ "$others" != opencv_python_headless ] \
    || [ "$(cat .venv/.opencv-minimal 2>/dev/null)" != "$opencv_wheel" ]; }; then
  echo "setup: the minimal OpenCV into .venv"
  # shellcheck disable=SC2086
  [ -z "$others" ] || quietly "removing OpenCV wheels" .venv/bin/python -m pip uninstall -q -y $others
  quietly "installing the minimal OpenCV" .venv/bin/python -m pip install -q --no-deps "$opencv_wheel"
  echo "$opencv_wheel" > .venv/.opencv-minimal
fi

# The bundle's NumPy: PyPI's wheel carries OpenBLAS, gfortran and quadmath (27 MB) for linear algebra the
# app never does (its products are of a few hundred values). Build the version pip chose once without BLAS
# or LAPACK (NumPy's own loops; about 4 minutes on 2 cores), keep the wheel beside the others, and put it in
# .venv in place of PyPI's (pip keeps it: same version). A .venv whose NumPy has OpenBLAS gets it again.
if [[ " ${extras[*]} " == *" bundle "* ]]; then
  numpy_version=$(.venv/bin/python -c "import importlib.metadata as m; print(m.version('numpy'))")
  wheels="${XDG_CACHE_HOME:-$HOME/.cache}/desktop-agent/wheels/numpy-$numpy_version-$(uname -m)-noblas"
  if ! ls "$wheels"/numpy-"$numpy_version"-*.whl >/dev/null 2>&1; then
    echo "setup: building NumPy $numpy_version without BLAS once (about 4 minutes on 2 cores) into $wheels"
    mkdir -p "$wheels"
    quietly "building NumPy" .venv/bin/python -m pip wheel -q --no-deps --no-cache-dir --no-binary numpy \
      "numpy==$numpy_version" -Csetup-args=-Dblas=none -Csetup-args=-Dlapack=none -w "$wheels"
  fi
  if compgen -G ".venv/lib/python3*/site-packages/numpy.libs/*openblas*" >/dev/null; then
    echo "setup: NumPy without BLAS into .venv"
    quietly "installing NumPy without BLAS" .venv/bin/python -m pip install -q --no-deps --force-reinstall \
      "$(ls "$wheels"/numpy-"$numpy_version"-*.whl | head -n 1)"
  fi
fi

# -- the tests' fonts: unpacked, never installed (packaging/test-fonts.txt says why) ---------------------------
if [[ " ${extras[*]} " == *" test "* ]] && command -v apt-get >/dev/null 2>&1; then
  fonts="${XDG_CACHE_HOME:-$HOME/.cache}/desktop-agent/test-fonts"
  if [ ! -f "$fonts/unpacked" ] || [ packaging/test-fonts.txt -nt "$fonts/unpacked" ]; then
    echo "setup: unpacking the tests' fonts into $fonts"
    font_packages=$(grep -v '^\s*#' packaging/test-fonts.txt | xargs)
    rm -rf "$fonts" && mkdir -p "$fonts/debs"
    # shellcheck disable=SC2086  # one package a word
    (cd "$fonts/debs" && quietly "apt-get download" apt-get download $font_packages)
    for deb in "$fonts"/debs/*.deb; do dpkg-deb -x "$deb" "$fonts"; done
    rm -rf "$fonts/debs"
    touch "$fonts/unpacked"
  fi
fi
