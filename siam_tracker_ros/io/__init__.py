"""Frame input and output without ROS: image message conversion, frame sources and video writing.

Kept free of rclpy so that the offline command line, the rosbag2 reader and the tests share exactly the
conversion code that the ROS node uses.
"""
