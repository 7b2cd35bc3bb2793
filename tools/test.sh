#!/usr/bin/env bash
# Set up .venv and run the whole test suite (lint, then pytest). Needs ../shared beside the checkout
# (or SIAM_TRACKER_SHARED); with CI=true a missing shared folder fails instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup_env.sh
VENV=${SIAM_TRACKER_VENV:-.venv}
export SIAM_TRACKER_SHARED=${SIAM_TRACKER_SHARED:-$(cd .. && pwd)/shared}
export SIAM_TRACKER_WEIGHTS=${SIAM_TRACKER_WEIGHTS:-$SIAM_TRACKER_SHARED/weights}
"$VENV/bin/ruff" check .
"$VENV/bin/python" -m pytest -q "$@"
