#!/usr/bin/env bash
# Set up everything, then run the whole check: lint, types and the test suite. The tests start their
# own Xvfb display and target application, and stop them.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh --test
.venv/bin/ruff check desktop_agent tests bench models
.venv/bin/mypy
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
