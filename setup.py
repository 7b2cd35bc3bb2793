"""Packages for `pip install .`: the ROS-free core plus the tracker configs from config/trackers.

The tracker YAML files live in the ROS package's config/ folder; they are shipped inside the Python
package as `siam_tracker_ros/tracker_configs` so that both pip and colcon installs find them in the
same place (CMakeLists.txt installs them there too).
"""
from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["siam_tracker_ros", "siam_tracker_ros.*"]) + ["siam_tracker_ros.tracker_configs"],
    package_dir={"siam_tracker_ros.tracker_configs": "config/trackers"},
    package_data={"siam_tracker_ros.tracker_configs": ["*.yaml"]},
)
