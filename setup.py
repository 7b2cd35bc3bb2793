"""Packages for `pip install .`: the ROS-free core plus the tracker configs and message definitions.

The tracker YAML files live in the ROS package's config/ folder and the .msg files in msg/; they are
shipped inside the Python package as `siam_tracker_ros/tracker_configs` and
`siam_tracker_ros/interface_files` so that both pip and colcon installs find them in the same place
(CMakeLists.txt installs them there too). Not `msg`: that name belongs to the rosidl-generated code.
"""
from setuptools import find_packages, setup

_DATA_PACKAGES = {
    "siam_tracker_ros.tracker_configs": ("config/trackers", ["*.yaml"]),
    "siam_tracker_ros.interface_files": ("msg", ["*.msg"]),
}

setup(
    packages=find_packages(include=["siam_tracker_ros", "siam_tracker_ros.*"]) + list(_DATA_PACKAGES),
    package_dir={name: folder for name, (folder, _) in _DATA_PACKAGES.items()},
    package_data={name: patterns for name, (_, patterns) in _DATA_PACKAGES.items()},
)
