"""Start the tracker node: `ros2 launch siam_tracker_ros track.launch.py [tracker:=nano] [device:=cpu]
[image_topic:=/my_camera/image_raw] [params_file:=/path/to/params.yaml]`.

The image topic is a parameter rather than a remapping because the node derives other names from it
(<image_topic>/compressed, <image_topic>_mouse_left). Launch arguments override the params file.
"""

from launch.actions import DeclareLaunchArgument
from launch.launch_description import LaunchDescription
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare


def generate_launch_description() -> LaunchDescription:
    arguments = [
        DeclareLaunchArgument("tracker", default_value="drol_nano",
                              description="tracker name (a file of config/trackers), e.g. nano, drol_nano"),
        DeclareLaunchArgument("device", default_value="auto", description="auto, cpu, cuda or cuda:N"),
        DeclareLaunchArgument("image_topic", default_value="/camera/image_raw",
                              description="camera image topic (sensor_msgs/Image)"),
        DeclareLaunchArgument(
            "params_file",
            default_value=PathJoinSubstitution([FindPackageShare("siam_tracker_ros"), "config",
                                                "tracker.params.yaml"]),
            description="parameters file of the node (node name siam_tracker)"),
    ]

    def text(name: str) -> ParameterValue:
        # value_type=str: keep e.g. a tracker named "on" or a topic "1" from being read as YAML
        return ParameterValue(LaunchConfiguration(name), value_type=str)

    node = Node(
        package="siam_tracker_ros",
        executable="tracker_node",
        name="siam_tracker",
        parameters=[
            LaunchConfiguration("params_file"),
            {"tracker": text("tracker"), "device": text("device"), "image_topic": text("image_topic")},
        ],
        output="screen",
        emulate_tty=True,
    )
    return LaunchDescription([*arguments, node])
