#!/usr/bin/env bash
# Set up desktop-agent and run its main job. Until the desktop app lands that is `desktop-agent doctor`:
# the screens with their geometry and scale, the models found, the planners available.
# Any arguments replace `doctor`, e.g. ./scripts/start.sh run 'click "File"' .
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
if [ $# -eq 0 ]; then set -- doctor; fi
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "start: no display here; running on a virtual one (Xvfb 1920x1080)" >&2
  exec xvfb-run -a -s "-screen 0 1920x1080x24 -nolisten tcp" .venv/bin/desktop-agent "$@"
fi
exec .venv/bin/desktop-agent "$@"
