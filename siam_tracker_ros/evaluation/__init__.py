"""Offline evaluation: OPE metrics (success, precision, normalised precision), sequence and result files,
plots, text reports, and the synthetic out-of-view test set built from the real sequences.

Everything here is plain Python (numpy, OpenCV, matplotlib) and runs without ROS.
"""
