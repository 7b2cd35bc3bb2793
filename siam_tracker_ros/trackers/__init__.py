"""Trackers: the common interface, the Siamese tracking loop, and the concrete trackers by name."""
