#!/usr/bin/env bash
# Build the native bundle: a PyInstaller one-folder app (dist/desktop-agent/), a portable tar.gz and a
# Debian package that installs it under /opt with a launcher. `make bundle` runs this.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh --bundle
version=$(.venv/bin/python -c "import desktop_agent; print(desktop_agent.__version__)")
arch=$(dpkg --print-architecture 2>/dev/null || uname -m)
echo "bundle: PyInstaller (one folder)"
rm -rf dist/desktop-agent
# PyInstaller's harmless notes (libraries it finds nowhere, hooks it skips) dropped; filtered in line, so
# its messages come before the next step's, and its exit status still counts.
.venv/bin/pyinstaller --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller \
  packaging/desktop-agent.spec 2>&1 | { grep -v -e 'WARNING: Library' -e 'WARNING: Ignoring' >&2 || true; }
# Smaller, same code: Python's own library and extension modules (built on this machine) and the minimal
# OpenCV built by setup.sh carry their symbols; PyPI's manylinux libraries are left as they are (stripping
# breaks their ELF alignment). And a library PyInstaller copied under each of its names (libllama.so,
# .so.0, .so.0.5.0) is kept once, its other names linked to it.
internal=dist/desktop-agent/_internal
for f in "$internal"/libpython3*.so* "$internal"/python3*/lib-dynload/*.so "$internal"/cv2/cv2*.so; do
  if [ -f "$f" ] && [ ! -L "$f" ]; then strip --strip-unneeded "$f"; fi
done
# ICU's data (32 MB, every locale of every tree) cut to what Qt uses here: packaging/trim_icu_data.py.
for f in "$internal"/PySide6/Qt/lib/libicudata.so.*; do
  if [ -f "$f" ] && [ ! -L "$f" ]; then .venv/bin/python packaging/trim_icu_data.py "$f"; fi
done
# PP-OCR's weights stored in 16 bits, read back to 32 when the model loads (31 -> 16 MB):
# packaging/half_float_weights.py.
.venv/bin/python packaging/half_float_weights.py "$internal"/rapidocr/models/*.onnx
.venv/bin/python - "$internal" <<'PY'
import filecmp, os, sys
from pathlib import Path

for folder in {p.parent for p in Path(sys.argv[1]).rglob("*.so*")}:
    libs = sorted((p for p in folder.glob("*.so*") if p.is_file() and not p.is_symlink()), key=lambda p: len(p.name))
    for i, short in enumerate(libs):  # the shortest name of a set stays; the longer ones point to it
        for long in libs[i + 1:]:
            if (long.exists() and not long.is_symlink() and long.name.startswith(short.name + ".")
                    and filecmp.cmp(short, long, shallow=False)):
                long.unlink()
                os.symlink(short.name, long)
PY
dist/desktop-agent/desktop-agent --version

echo "bundle: portable tar.gz"
tarball="dist/desktop-agent-$version-linux-$arch.tar.gz"
cp packaging/desktop-agent.desktop assets/desktop-agent.svg dist/desktop-agent/
tar -C dist -czf "$tarball" desktop-agent

echo "bundle: Debian package"
root=build/deb/root
rm -rf build/deb
mkdir -p "$root/DEBIAN" "$root/opt" "$root/usr/bin" "$root/usr/share/applications" \
  "$root/usr/share/icons/hicolor/scalable/apps" "$root/usr/share/desktop-agent"
cp -a dist/desktop-agent "$root/opt/desktop-agent"
ln -s /opt/desktop-agent/desktop-agent "$root/usr/bin/desktop-agent"
cp packaging/desktop-agent.desktop "$root/usr/share/applications/desktop-agent.desktop"
cp assets/desktop-agent.svg "$root/usr/share/icons/hicolor/scalable/apps/desktop-agent.svg"
# Optional autostart: the app's Settings ("Start with the session") copies this into
# ~/.config/autostart; an administrator can put it in /etc/xdg/autostart for everyone.
sed 's/^Name=desktop-agent$/Name=desktop-agent (autostart)/' packaging/desktop-agent.desktop \
  > "$root/usr/share/desktop-agent/desktop-agent-autostart.desktop"
depends=$(grep -v '^\s*#' packaging/deb-depends.txt | awk 'NF {print $1}' | paste -sd, - | sed 's/,/, /g')
size=$(du -sk "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<CONTROL
Package: desktop-agent
Version: $version
Architecture: $arch
Maintainer: desktop-agent developers <desktop-agent@users.noreply.github.com>
Installed-Size: $size
Depends: $depends
Section: utils
Priority: optional
Homepage: https://github.com/desktop-agent/desktop-agent
Description: local-first computer-use agent for the desktop
 A tray app and command line that capture the screen, perceive it locally (OCR and
 ONNX models), locate the element each step names, ask before every input, act, verify
 and record every step in a local run database.
CONTROL
deb="dist/desktop-agent_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zgzip --build "$root" "$deb" >/dev/null
echo "bundle: done"
du -sh dist/desktop-agent "$tarball" "$deb"
