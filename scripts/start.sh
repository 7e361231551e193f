#!/usr/bin/env bash
# Set up desktop-agent and run its main job: the tray app (command bar, timeline, per-step approval).
# Any arguments replace it with a `desktop-agent` command, e.g. ./scripts/start.sh run 'click "File"'.
# It installs what the app needs; `./scripts/start.sh eval tasks` also the task suite's applications.
# With --llama the local-model planner is installed too (llama-cpp-python builds once, ~7 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
setup=()
if [ "${1:-}" = "--llama" ]; then setup+=(--llama); shift; fi
if [ "${1:-}" = eval ] && [ "${2:-}" = tasks ]; then setup+=(--suite); fi
# Set-up's lines (and any error) all come before the command's own: it runs to its end first.
./scripts/setup.sh "${setup[@]}"
if [ $# -eq 0 ]; then set -- app; fi
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  if [ "$1" = app ] && [ $# -eq 1 ]; then
    echo "start: no display here, and the app needs a desktop session. Saving pictures of its windows" \
         "(light and dark) to build/screenshots instead:" >&2
    exec .venv/bin/desktop-agent app --screenshots build/screenshots
  fi
  echo "start: no display here; running on a virtual one (Xvfb 1920x1080)" >&2
  exec xvfb-run -a -s "-screen 0 1920x1080x24 -nolisten tcp" .venv/bin/desktop-agent "$@"
fi
exec .venv/bin/desktop-agent "$@"
