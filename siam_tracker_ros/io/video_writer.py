"""MP4 writer for annotated frames, opened on the first frame so the caller never has to know the size."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from siam_tracker_ros.errors import ConfigError, InvalidImageError, SourceError


class AnnotatedVideoWriter:
    """Writes BGR frames to an MP4 (`mp4v`) file at `fps`; use as a context manager.

    The frame size is taken from the first frame. A later frame of another size is resized to it, since a
    source whose frame size changes (mixed image folders) should still give a watchable video. Nothing is
    created when no frame is written.
    """

    def __init__(self, path: str | Path, fps: float = 30.0):
        fps = float(fps)
        if not np.isfinite(fps) or fps <= 0:
            raise ConfigError(f"video fps must be a positive number, got {fps}")
        self.path = Path(path).expanduser()
        self.fps = fps
        self.frame_size: tuple[int, int] | None = None  # (width, height)
        self.frames_written = 0
        self._writer: cv2.VideoWriter | None = None
        self._closed = False

    def _open(self, width: int, height: int) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SourceError(f"cannot create the folder of video {self.path}: {exc}") from exc
        fourcc = cv2.VideoWriter_fourcc(*"mp4v")
        writer = cv2.VideoWriter(str(self.path), fourcc, self.fps, (width, height))
        if not writer.isOpened():
            writer.release()
            raise SourceError(
                f"cannot open {self.path} for writing an MP4 video; check that the folder is writable "
                "and the name ends in .mp4"
            )
        self._writer = writer
        self.frame_size = (width, height)

    def write(self, frame: np.ndarray) -> None:
        """Append one BGR uint8 frame (grayscale is accepted and converted)."""
        if self._closed:
            raise SourceError(f"video {self.path} is already closed")
        if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.size == 0:
            raise InvalidImageError(f"expected a non-empty uint8 frame for {self.path}")
        if frame.ndim == 2:
            frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        if frame.ndim != 3 or frame.shape[2] != 3:
            raise InvalidImageError(f"expected a BGR frame of shape (H, W, 3), got {frame.shape}")
        height, width = frame.shape[:2]
        if self._writer is None:
            self._open(width, height)
        elif (width, height) != self.frame_size:
            frame = cv2.resize(frame, self.frame_size, interpolation=cv2.INTER_AREA)
        self._writer.write(np.ascontiguousarray(frame))
        self.frames_written += 1

    def close(self) -> None:
        """Finish the file (the MP4 index is written here; an unclosed file may not play)."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None
        self._closed = True

    def __enter__(self) -> AnnotatedVideoWriter:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
