"""A non-editable install (what pip and colcon give users) carries the tracker configs and message files."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_installed_package_finds_its_trackers_and_messages(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path / "wheel"), str(REPO)], check=True, timeout=300)
    wheel = next((tmp_path / "wheel").glob("siam_tracker_ros-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "siam_tracker_ros/tracker_configs/drol_nano.yaml" in names
    assert "siam_tracker_ros/interface_files/TrackedBox.msg" in names
    assert not any(n.startswith("siam_tracker_ros/msg/") for n in names)  # rosidl owns that name
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(tmp_path / "site"), str(wheel)], check=True, timeout=300)
    probe = ("from siam_tracker_ros.trackers.registry import available_trackers, config_dir\n"
             "from siam_tracker_ros.io.bag_output import message_definitions\n"
             "print(config_dir()); print(','.join(available_trackers())); print(len(message_definitions()))")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env,
                         cwd=tmp_path, check=True, timeout=120).stdout.splitlines()
    assert out[0].startswith(str(tmp_path / "site"))
    assert {"nano", "drol_nano", "cv2_nano"} <= set(out[1].split(","))
    assert int(out[2]) >= 3
