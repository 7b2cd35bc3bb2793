#!/usr/bin/env bash
# Set up .venv and run the whole test suite (lint, then pytest). Needs ../shared beside the checkout
# (or SIAM_TRACKER_SHARED); with CI=true a missing shared folder fails instead of skipping.
source "$(dirname "$0")/setup_env.sh"
"$VENV/bin/ruff" check .
"$VENV/bin/python" -m pytest -q "$@"
