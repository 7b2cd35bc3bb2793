#!/usr/bin/env bash
# Create (or reuse) the virtual environment .venv with the package and its test tools installed, and
# export where the shared data and weights are. Sourced by demo.sh and test.sh; also runnable alone.
# torch is installed first as the CPU build 2.13.0: a bare `torch` would pull several GB of CUDA wheels.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV=${SIAM_TRACKER_VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -c "import torch" 2>/dev/null || "$VENV/bin/python" -m pip install -q "torch==2.13.0"
"$VENV/bin/python" -m pip install -q -e ".[test]"
export SIAM_TRACKER_SHARED=${SIAM_TRACKER_SHARED:-$(cd .. && pwd)/shared}
export SIAM_TRACKER_WEIGHTS=${SIAM_TRACKER_WEIGHTS:-$SIAM_TRACKER_SHARED/weights}
