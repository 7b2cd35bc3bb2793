"""Reusable building blocks under the trackers: boxes, cropping, windows, penalties."""
