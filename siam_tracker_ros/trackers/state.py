"""Tracking / uncertain / lost decision with hysteresis on the confidence signal.

Entering LOST needs the confidence to fall below `lost_below`; leaving it needs a rise above
`found_above` (> lost_below), so a confidence that hovers near one threshold does not flicker.
Outside LOST, confidence below `uncertain_below` reads UNCERTAIN.
"""

from __future__ import annotations

from dataclasses import dataclass

from siam_tracker_ros.errors import ConfigError
from siam_tracker_ros.trackers.base import TrackState


@dataclass
class StateThresholds:
    lost_below: float = 0.2
    uncertain_below: float = 0.5
    found_above: float = 0.6
    lost_after: int = 1  # consecutive frames below lost_below before LOST is declared

    def __post_init__(self) -> None:
        if not 0.0 <= self.lost_below <= self.uncertain_below <= 1.0:
            raise ConfigError(
                f"state thresholds need 0 <= lost_below ({self.lost_below}) <= uncertain_below "
                f"({self.uncertain_below}) <= 1"
            )
        if not self.lost_below <= self.found_above <= 1.0:
            raise ConfigError(f"found_above ({self.found_above}) must lie in [lost_below, 1]")
        if self.lost_after < 1:
            raise ConfigError(f"lost_after must be >= 1, got {self.lost_after}")


class StateMachine:
    def __init__(self, thresholds: StateThresholds) -> None:
        self.thresholds = thresholds
        self.state = TrackState.TRACKING
        self._low_frames = 0

    def reset(self) -> None:
        self.state = TrackState.TRACKING
        self._low_frames = 0

    def force_lost(self) -> TrackState:
        """LOST now, whatever the confidence: evidence outside the score says the target is gone."""
        self.state = TrackState.LOST
        self._low_frames = 0
        return self.state

    def update(self, confidence: float, can_recover: bool = True) -> TrackState:
        """Next state; `can_recover=False` keeps LOST whatever the confidence (a re-detection candidate
        that failed a check other than the confidence, e.g. the online classifier's)."""
        t = self.thresholds
        if self.state is TrackState.LOST:
            if can_recover and confidence >= t.found_above:
                self.state = TrackState.TRACKING if confidence >= t.uncertain_below else TrackState.UNCERTAIN
                self._low_frames = 0
            return self.state
        self._low_frames = self._low_frames + 1 if confidence < t.lost_below else 0
        if self._low_frames >= t.lost_after:
            self.state = TrackState.LOST
        elif confidence < t.uncertain_below:
            self.state = TrackState.UNCERTAIN
        else:
            self.state = TrackState.TRACKING
        return self.state
