#!/usr/bin/env bash
# Set up .venv, then track a sample drone sequence with the default tracker: writes the boxes, the
# per-frame state, the confidence over time, an annotated MP4 and prints the metrics against ground
# truth (runs/demo/).
source "$(dirname "$0")/setup_env.sh"
"$VENV/bin/siam-track" track "$SIAM_TRACKER_SHARED/data/sequences/${1:-uav123_person12_1}" \
    --save-video --out-dir runs/demo
