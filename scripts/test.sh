#!/usr/bin/env bash
# Set up everything (the app's packages, the task suite's applications, the test extras), then run the
# whole check: lint, types and the test suite. The tests start their own Xvfb display and target
# application, and stop them. Skipped tests are listed with their reasons (-rs): those that need a
# dataset that is not in the repository (../shared/datasets/...) name it.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh --test
.venv/bin/ruff check desktop_agent tests bench models packaging
.venv/bin/mypy
.venv/bin/python -m pytest -q -rs -p no:cacheprovider "$@"
