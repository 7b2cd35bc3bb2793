"""ROS 2 front end: the tracker node (`node`), the target selection tool (`select_target`) and the rclpy
message conversion (`messages`). The only part of the package that imports rclpy; everything it does
beyond moving messages lives in the ROS-free `siam_tracker_ros.pipeline` and `siam_tracker_ros.io`.
"""
