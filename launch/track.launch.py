"""Start the tracker node: `ros2 launch siam_tracker_ros track.launch.py [tracker:=nano] [device:=cpu]
[image_topic:=/my_camera/image_raw] [params_file:=/path/to/params.yaml] [namespace:=drone1]`.

The image topic is a parameter rather than a remapping because the node derives other names from it
(<image_topic>/compressed, <image_topic>_mouse_left). Launch arguments that are given override the
params file; those left empty keep its values. Both reach the node as `/**` parameters, which rclpy
applies in order (a node-name key, `siam_tracker:`, would outrank every wildcard whatever the order:
ros2/launch_ros#233), so the params files use `/**` too.
"""

from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.launch_description import LaunchDescription
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare

OVERRIDES = ("tracker", "device", "image_topic")


def _tracker_node(context) -> list[Node]:
    # value_type=str: keep e.g. a tracker named "on" or a topic "1" from being read as YAML
    given = {name: ParameterValue(value, value_type=str) for name in OVERRIDES
             if (value := LaunchConfiguration(name).perform(context))}
    return [Node(
        package="siam_tracker_ros",
        executable="tracker_node",
        name="siam_tracker",
        namespace=LaunchConfiguration("namespace"),
        parameters=[LaunchConfiguration("params_file")] + ([given] if given else []),
        output="screen",
        emulate_tty=True,
    )]


def generate_launch_description() -> LaunchDescription:
    arguments = [
        DeclareLaunchArgument("tracker", default_value="",
                              description="tracker name (a file of config/trackers), e.g. nano, drol_nano; "
                                          "empty: the params file's (drol_nano in the default file)"),
        DeclareLaunchArgument("device", default_value="",
                              description="auto, cpu, cuda or cuda:N; empty: the params file's (auto)"),
        DeclareLaunchArgument("image_topic", default_value="",
                              description="camera image topic (sensor_msgs/Image); empty: the params "
                                          "file's (/camera/image_raw)"),
        DeclareLaunchArgument(
            "params_file",
            default_value=PathJoinSubstitution([FindPackageShare("siam_tracker_ros"), "config",
                                                "tracker.params.yaml"]),
            description="parameters file of the node (keys under /**)"),
        DeclareLaunchArgument("namespace", default_value="",
                              description="namespace of the node and its topics, e.g. drone1 "
                                          "(/drone1/tracker/box); empty: none (/tracker/box)"),
    ]
    return LaunchDescription([*arguments, OpaqueFunction(function=_tracker_node)])
