"""`siam-track`: run, evaluate and benchmark trackers offline, with the same core as the ROS node."""

from __future__ import annotations

import argparse
import sys
from contextlib import contextmanager, suppress
from pathlib import Path

import numpy as np

from siam_tracker_ros.errors import SiamTrackerError
from siam_tracker_ros.evaluation.datasets import default_dataset_dir


def _set_threads(threads: int) -> None:
    """Threads of torch's CPU inference; OpenCV (decoding, cv2.TrackerNano) keeps its own default."""
    import torch

    torch.set_num_threads(threads)


def _progress(total: int | None, desc: str, enabled: bool = True):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="frame", disable=not enabled or None, leave=False,
                dynamic_ncols=True)


def _tracker_names(text: str) -> list[str]:
    return [n.strip() for n in text.split(",") if n.strip()]


def _int_at_least(low: int):
    """An argparse type: an integer of at least `low`."""
    def parse(text: str) -> int:
        value = int(text)
        if value < low:
            raise argparse.ArgumentTypeError(f"must be {low} or more, got {value}")
        return value

    return parse


def _frame_size(text: str) -> tuple[int, int]:
    """An argparse type: WIDTHxHEIGHT in pixels, e.g. 1280x720."""
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 1280x720, got {text!r}") from None
    if min(width, height) < 64 or max(width, height) > 8192:
        raise argparse.ArgumentTypeError(f"each side must be 64 to 8192 px, got {text!r}")
    return width, height


def _output_dir(path: str | Path, created: list[Path], option: str = "--out-dir") -> Path:
    """Create the output folder now, so that a file in the way or a read-only place is reported before
    the work, not after it (and nothing computed is lost). The folders it makes are added to `created`,
    deepest first, for main() to take back if the run fails before writing into them."""
    import tempfile

    out = Path(path).expanduser()
    if out.exists() and not out.is_dir():
        raise SiamTrackerError(f"{option} {out} is a file; give a folder for the results")
    created += [p for p in (out, *out.parents) if not p.exists()]
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        raise SiamTrackerError(f"cannot write to {option} {out} ({exc.strerror or exc}); give a writable "
                               "folder") from None
    return out


@contextmanager
def _removed_if_left_empty(folders: list[Path]):
    """A failed run takes back the folders it made and wrote nothing into (a tracker that did not load),
    so that it leaves no trace; whatever it did write stays."""
    try:
        yield
    except BaseException:
        for folder in folders:
            with suppress(OSError):  # not empty (partial results), or already gone
                folder.rmdir()
        raise


def _warn_cpu_backend_unused(args: argparse.Namespace, names: list[str]) -> None:
    """--cpu-backend picks how our torch networks run; OpenCV's TrackerNano runs on OpenCV's DNN module
    whatever it says, so say so rather than let its timings be read as the backend's."""
    if not args.cpu_backend:
        return
    from siam_tracker_ros.trackers.registry import load_config

    opencv = [n for n in dict.fromkeys(names) if load_config(n)["type"] == "opencv_nano"]
    if opencv:
        print(f"siam-track {args.command}: warning: --cpu-backend {args.cpu_backend} does not apply to "
              f"{', '.join(opencv)}, which runs on OpenCV's DNN module; it applies to the other trackers "
              "only", file=sys.stderr)


def _refuse_overwriting(source: str | Path, outputs: list[Path]) -> None:
    """No result may land on the input it was computed from (a video tracked into its own folder)."""
    source = Path(source).expanduser().resolve()
    for out in outputs:
        if out.expanduser().resolve() == source:
            raise SiamTrackerError(f"{out} would overwrite the input {source}; give another --out-dir")


# -- track -------------------------------------------------------------------------------------------
def cmd_track(args: argparse.Namespace) -> int:
    from siam_tracker_ros.io.sources import open_source
    from siam_tracker_ros.libs.boxes import parse_box
    from siam_tracker_ros.pipeline import TrackingPipeline
    from siam_tracker_ros.trackers.registry import build_tracker

    _set_threads(args.threads)
    source = open_source(args.source, image_topic=args.image_topic)
    init_box = parse_box(args.init) if args.init else source.initial_box
    if init_box is None:
        raise SiamTrackerError(
            f"{args.source} has no ground truth to start from; give the target with --init x,y,w,h"
        )
    out_dir = _output_dir(args.out_dir, args.created_dirs)
    boxes_file, states_file = out_dir / f"{source.name}.txt", out_dir / f"{source.name}_state.txt"
    _refuse_overwriting(args.source, [boxes_file, states_file, _video_path(out_dir, source)])
    if args.out_bag:  # before the tracker is built and the frames are read
        from siam_tracker_ros.io.bag_output import check_new_bag

        check_new_bag(args.out_bag)
    _warn_cpu_backend_unused(args, [args.tracker])
    tracker = build_tracker(args.tracker, device=args.device, fp16=args.fp16, weights=args.weights,
                            cpu_backend=args.cpu_backend)
    pipeline = TrackingPipeline(tracker)
    boxes = _run_pipeline(pipeline, source, init_box, args, out_dir, (boxes_file, states_file))
    print(f"tracked {len(boxes)} frames of {source.name} with {tracker.name}: {boxes_file} (confidence over "
          f"time: {_timeline_path(boxes_file)})")
    if source.groundtruth is not None and len(source.groundtruth) == len(boxes):
        from siam_tracker_ros.evaluation.metrics import evaluate_sequence

        m = evaluate_sequence(boxes, source.groundtruth, fps=float("nan"))
        print(f"against ground truth: success AUC {m.auc:.3f}, precision@20px {m.precision20:.3f}")
    return 0


def _video_path(out_dir: Path, source) -> Path:
    return out_dir / f"{source.name}.mp4"


def _write_track_results(outputs: list, boxes_file: Path, states_file: Path) -> np.ndarray:
    """Write the box and state files of `outputs` and the confidence over time beside them
    (<name>_timeline.png); returns their N x 4 boxes."""
    from siam_tracker_ros.evaluation.datasets import write_boxes, write_states
    from siam_tracker_ros.evaluation.plots import save_timeline_plot
    from siam_tracker_ros.pipeline import TargetState

    boxes = np.array([o.box for o in outputs], dtype=np.float64)
    confidences = [o.confidence for o in outputs]
    write_boxes(boxes_file, boxes)
    write_states(states_file, confidences, [o.state.name.lower() for o in outputs])
    lost = np.array([o.state is TargetState.LOST for o in outputs])
    save_timeline_plot({"confidence": (np.array(confidences, dtype=np.float64), lost)},
                       _timeline_path(boxes_file), boxes_file.stem)
    return boxes


def _timeline_path(boxes_file: Path) -> Path:
    return boxes_file.with_name(f"{boxes_file.stem}_timeline.png")


def _run_pipeline(pipeline, source, init_box, args, out_dir: Path, results: tuple[Path, Path]
                  ) -> np.ndarray:
    """Feed every frame through the same pipeline the ROS node uses, then write the box and state files
    `results` and return the boxes; optional video and bag output.

    A run that stops part way (a frame that cannot be decoded, Ctrl-C) keeps what it tracked: the video
    and bag are closed (playable, with their index and metadata), the box and state files are written for
    the frames done, and the message says which frames they hold and where. A bag that got no message is
    removed, so that a rerun is not refused for it."""
    from contextlib import ExitStack

    from siam_tracker_ros.io.video_writer import AnnotatedVideoWriter
    from siam_tracker_ros.visualization import draw_result

    outputs, video, bag = [], None, None
    try:
        with ExitStack() as stack:
            if args.save_video:
                fps = args.fps if args.fps is not None else getattr(source, "fps", None) or 30.0  # source's
                video = stack.enter_context(AnnotatedVideoWriter(_video_path(out_dir, source), fps=fps))
            if args.out_bag:
                from siam_tracker_ros.io.bag_output import BagOutputWriter

                bag = stack.enter_context(BagOutputWriter(args.out_bag))
            with _progress(source.frame_count, source.name, not args.quiet) as bar:
                for frame in source:
                    if not outputs:
                        pipeline.process(frame.image, frame.stamp_ns)
                        output = pipeline.request_init(init_box, frame.stamp_ns)
                    else:
                        output = pipeline.process(frame.image, frame.stamp_ns)
                    if video is not None:
                        video.write(draw_result(frame.image, output.as_track_result(), pipeline.tracker_name))
                    if bag is not None:
                        bag.write(output, frame_id=frame.frame_id)
                    outputs.append(output)  # after its writes: every output then holds the same frames
                    bar.update()
    except SiamTrackerError as exc:
        kept = _keep_partial_results(outputs, results, video, bag)
        if kept is None:
            raise
        raise SiamTrackerError(f"stopped at frame {len(outputs)}: {exc}; {kept}") from exc
    except KeyboardInterrupt:  # Ctrl-C on a long video: keep what was tracked, as for a bad frame
        kept = _keep_partial_results(outputs, results, video, bag)
        if kept is not None:
            print(f"interrupted at frame {len(outputs)}; {kept}", file=sys.stderr)
        raise
    return _write_track_results(outputs, *results)


def _keep_partial_results(outputs: list, results: tuple[Path, Path], video, bag) -> str | None:
    """A run stopped part way: write the box and state files of the frames done and say where they and
    the (closed) video and bag are; None if no frame was done, after removing the empty bag."""
    import shutil

    if not outputs:
        if bag is not None:
            shutil.rmtree(bag.path, ignore_errors=True)
        return None
    _write_track_results(outputs, *results)
    written = [*results, *(w.path for w in (video, bag) if w is not None)]
    return f"results for frames 0-{len(outputs) - 1} are in {', '.join(map(str, written))}"


# -- eval --------------------------------------------------------------------------------------------
def cmd_eval(args: argparse.Namespace) -> int:
    from siam_tracker_ros.evaluation.datasets import find_sequences, write_boxes, write_states
    from siam_tracker_ros.evaluation.metrics import evaluate_sequence, precision_curve, success_curve
    from siam_tracker_ros.evaluation.out_of_view import (
        EVENT_OUTCOMES_FILE,
        EVENTS_FILE,
        REACQUIRE_IOU,
        TIMELINES_DIR,
        load_out_of_view,
        out_of_view_metrics,
        write_event_outcomes,
    )
    from siam_tracker_ros.evaluation.plots import save_precision_plot, save_success_plot, save_timeline_plot
    from siam_tracker_ros.evaluation.report import format_table
    from siam_tracker_ros.evaluation.runner import run_tracker
    from siam_tracker_ros.io.sources import open_source
    from siam_tracker_ros.libs.boxes import iou_xywh
    from siam_tracker_ros.trackers.base import TrackState
    from siam_tracker_ros.trackers.registry import build_tracker

    _set_threads(args.threads)
    dataset = Path(args.dataset) if args.dataset else default_dataset_dir()
    sequences = find_sequences(dataset)
    if args.sequences:
        wanted = _tracker_names(args.sequences)
        unknown = sorted(set(wanted) - {s.name for s in sequences})
        if unknown:
            raise SiamTrackerError(f"no sequence {', '.join(unknown)} in {dataset}; it has: "
                                   f"{', '.join(s.name for s in sequences)}")
        sequences = [s for s in sequences if s.name in wanted]
    names = _tracker_names(args.trackers)
    if not names:
        raise SiamTrackerError("--trackers names no tracker; give comma-separated names, e.g. drol_nano,nano")
    out_dir = _output_dir(args.out_dir, args.created_dirs)
    _warn_cpu_backend_unused(args, names)
    trackers = {n: build_tracker(n, device=args.device, weights=args.weights, cpu_backend=args.cpu_backend)
                for n in names}
    results: dict = {n: {} for n in names}
    absences: dict = {}  # tracker -> out-of-view metrics of the sequences that have events.txt
    outcomes: list[dict] = []  # one per (tracker, sequence, out-of-view event)
    success: dict = {n: [] for n in names}
    precision: dict = {n: [] for n in names}
    total = sum(len(s.frame_paths) for s in sequences) * len(names)
    for seq in sequences:  # before any work: every tracker starts on the first row
        if not np.all(np.isfinite(seq.groundtruth[0])):
            raise SiamTrackerError(f"{seq.name}: the first ground-truth row {seq.groundtruth[0].tolist()} is "
                                   f"not a box, and every tracker starts on it; fix {seq.path}")
    with _progress(total, "eval", not args.quiet) as bar:
        for seq in sequences:
            # Decode each sequence once and run every tracker on the same frames.
            frames = [f.image for f in open_source(seq.path)]
            out_of_view = load_out_of_view(seq.path) if (seq.path / EVENTS_FILE).is_file() else None
            timeline = {}  # a row per tracker: (IoU, LOST) per frame, for the out-of-view timeline plot
            for name, tracker in trackers.items():
                bar.set_postfix_str(f"{name} on {seq.name}")
                run = run_tracker(tracker, frames, seq.groundtruth[0], progress=bar.update)
                boxes = run.boxes_array()
                write_boxes(out_dir / name / f"{seq.name}.txt", boxes)
                write_states(out_dir / name / f"{seq.name}_state.txt", run.confidences, run.states)
                results[name][seq.name] = evaluate_sequence(boxes, seq.groundtruth, fps=run.fps)
                if out_of_view is not None:
                    oov = out_of_view_metrics(boxes, run.states, out_of_view)
                    absences.setdefault(name, []).append(oov)
                    outcomes += [{"tracker": name, "sequence": seq.name, **e} for e in oov["events"]]
                    timeline[f"{name}\nIoU"] = (iou_xywh(boxes, seq.groundtruth),
                                                np.array(run.states) == TrackState.LOST.value)
                success[name].append(success_curve(boxes, seq.groundtruth))
                precision[name].append(precision_curve(boxes, seq.groundtruth))
            if timeline:
                save_timeline_plot(timeline, out_dir / TIMELINES_DIR / f"{seq.name}.png", seq.name,
                                   absent=out_of_view.absent, reference=REACQUIRE_IOU)
            del frames
    print(format_table(results))
    if absences:
        print("\n" + format_out_of_view(absences))
        write_event_outcomes(out_dir / EVENT_OUTCOMES_FILE, outcomes)
        print(f"per event: {out_dir / EVENT_OUTCOMES_FILE}")
        print(f"over time (IoU, LOST, absences): {out_dir / TIMELINES_DIR}/<sequence>.png")
    save_success_plot({n: np.mean(c, axis=0) for n, c in success.items()}, out_dir / "success.png")
    save_precision_plot({n: np.mean(c, axis=0) for n, c in precision.items()}, out_dir / "precision.png")
    print(f"plots: {out_dir / 'success.png'}, {out_dir / 'precision.png'}; raw results under {out_dir}/")
    return 0


def _event_totals(events: list[dict]) -> tuple[int, float, int, float]:
    """(counted absent frames, lost % of them, events judged for re-acquisition, re-acquired %)."""
    absent = sum(e["absent_frames"] for e in events)
    lost = sum(e["lost_frames"] for e in events)
    judged = [e["reacquired"] for e in events if e["reacquired"] is not None]
    return absent, 100 * lost / max(absent, 1), len(judged), 100 * np.mean(judged) if judged else float("nan")


def format_out_of_view(absences: dict) -> str:
    """Totals over a tracker's out-of-view sequences: frames weighted for lost%, events counted."""
    lines = [
        "Out-of-view (lost% from the 3rd absent frame on; re-acquired: IoU >= 0.3 within 10 frames;",
        "missed: stayed lost = LOST through the 10 frames; box off = boxes there, none with IoU >= 0.3;",
        "false lost = LOST on a visible frame while the box still has IoU >= 0.3 with the target)",
        f"{'tracker':<14}{'absent fr':>10}{'lost %':>8}{'events':>8}{'re-acq %':>10}{'lost% visible':>15}"
        f"{'false lost%':>13}{'median delay':>14}{'stayed lost':>13}{'box off':>9}",
    ]
    for name, metrics in absences.items():
        events = [e for m in metrics for e in m["events"]]
        absent, lost_pct, judged, reacquired_pct = _event_totals(events)
        visible = sum(m["visible_frames"] for m in metrics)
        lost_visible, false_lost = (
            100 * sum(m[key] * m["visible_frames"] for m in metrics if m["visible_frames"]) / max(visible, 1)
            for key in ("lost_when_visible", "lost_on_target"))
        delays = [e["delay"] for e in events if e["delay"] is not None]
        delay = f"{np.median(delays):.0f} fr" if delays else "-"  # frames from the target's return
        outcomes = [e["outcome"] for e in events]
        lines.append(f"{name:<14}{absent:>10}{lost_pct:>8.1f}{judged:>8}{reacquired_pct:>10.1f}"
                     f"{lost_visible:>15.1f}{false_lost:>13.1f}{delay:>14}"
                     f"{outcomes.count('stayed lost'):>13}{outcomes.count('box off'):>9}")
    lines += ["", "Events where the tracker was on the target as it left (mean IoU >= 0.3 over the 5 frames",
              "before; the others follow a tracking failure)",
              f"{'tracker':<14}{'events':>8}{'absent fr':>10}{'lost %':>8}{'re-acq %':>10}"]
    for name, metrics in absences.items():
        events = [e for m in metrics for e in m["events"]]
        held = [e for e in events if e["on_target"]]
        absent, lost_pct, _, reacquired_pct = _event_totals(held)
        lines.append(f"{name:<14}{f'{len(held)}/{len(events)}':>8}{absent:>10}{lost_pct:>8.1f}"
                     f"{reacquired_pct:>10.1f}")
    return "\n".join(lines)


# -- make-oov ----------------------------------------------------------------------------------------
def cmd_make_oov(args: argparse.Namespace) -> int:
    from siam_tracker_ros.evaluation.out_of_view import read_events, write_out_of_view_set

    dataset = Path(args.dataset) if args.dataset else default_dataset_dir()
    skipped = []

    def skip(name: str, reason: str) -> None:
        skipped.append(name)
        print(f"skipped {reason}", file=sys.stderr)

    _output_dir(args.dest, args.created_dirs, "DEST")
    folders = write_out_of_view_set(args.dest, seed=args.seed, dataset_dir=dataset, on_skip=skip,
                                    min_absent=args.min_absent, max_absent=args.max_absent)
    for folder in folders:
        events = read_events(folder / "events.txt")
        spans = ", ".join(f"{a}-{b - 1}" for a, b in events)
        print(f"{folder.name:<28}{len(list((folder / 'img').iterdir())):>6} frames, out of view: {spans}")
    print(f"{len(folders)} sequences in {args.dest}; evaluate with: siam-track eval --dataset {args.dest}")
    written = {folder.name for folder in folders}
    stale = sorted(p.name for p in Path(args.dest).glob("*_oov") if p.is_dir() and p.name not in written)
    if stale:
        print(f"note: {args.dest} also holds {', '.join(stale)} from another run, which eval would include; "
              "remove them or write to an empty folder", file=sys.stderr)
    if skipped:
        print(f"{len(skipped)} skipped (see above): {', '.join(skipped)}", file=sys.stderr)
    return 0 if folders else 1


# -- bench -------------------------------------------------------------------------------------------
def cmd_bench(args: argparse.Namespace) -> int:
    import cv2

    from siam_tracker_ros.evaluation.bench import bench_redetection, bench_tracker, format_bench
    from siam_tracker_ros.io.sources import open_source
    from siam_tracker_ros.trackers.registry import build_tracker

    _set_threads(args.threads)
    default_sequence = default_dataset_dir() / "uav123_person12_1"
    seq_dir = Path(args.sequence) if args.sequence else default_sequence
    source = open_source(seq_dir)
    frames = [f.image for f in source]
    if len(frames) < 2:
        raise SiamTrackerError(f"{seq_dir} needs at least two frames to benchmark")
    total = args.warmup + args.frames + 1  # the init frame, the untimed warm-up, the timed frames
    init_box = source.initial_box if source.initial_box is not None else np.array([0, 0, 64, 64], float)
    if args.size:  # the camera's resolution: frames and box scaled alike, so the target keeps its share
        scale = np.array(args.size, float) / frames[0].shape[1::-1]
        frames = [cv2.resize(f, args.size, interpolation=cv2.INTER_LINEAR) for f in frames[:total]]
        init_box = np.asarray(init_box, float) * np.tile(scale, 2)
    while len(frames) < total:  # play the clip back and forth to reach the frame count
        frames += frames[-2::-1]
    frames = frames[:total]
    names = _tracker_names(args.trackers)
    if args.reference and args.reference not in names:
        names.append(args.reference)
    h, w = frames[0].shape[:2]
    print(f"{args.frames} timed frames (after {args.warmup} untimed) of {source.name} ({w}x{h}), CPU threads "
          f"{args.threads}, CPU backend "
          f"{args.cpu_backend or 'config'}, OpenCV threads {cv2.getNumThreads()}, "
          f"device {args.device or 'auto'}")
    _warn_cpu_backend_unused(args, names)
    results, redetection = [], []
    for name in names:
        tracker = build_tracker(name, device=args.device if name != args.reference else "cpu", fp16=False,
                                cpu_backend=args.cpu_backend)
        results.append(bench_tracker(tracker, frames, init_box, warmup=args.warmup))
        passes = bench_redetection(tracker, frames[0], init_box)
        if passes is not None:
            redetection.append(f"{name:<14}{passes[2]:>6}{passes[0]:>11.1f}{passes[1]:>9.1f}")
    print(format_bench(results, reference=args.reference))
    if redetection:
        print(f"\nfull-frame re-detection pass (long-term mode)\n{'tracker':<14}{'tiles':>6}{'median ms':>11}"
              f"{'p95 ms':>9}")
        print("\n".join(redetection))
    return 0


# -- parser ------------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    from siam_tracker_ros.evaluation.out_of_view import EVENT_OUTCOMES_FILE, TIMELINES_DIR
    from siam_tracker_ros.trackers.registry import CPU_BACKENDS, DEFAULT_TRACKER, available_trackers

    trackers = ", ".join(available_trackers())
    parser = argparse.ArgumentParser(
        prog="siam-track",
        description="Siamese trackers offline: track a video, image folder, sequence or rosbag2; "
        "evaluate trackers on sequences with ground truth; benchmark their speed.",
        epilog=f"trackers: {trackers}. Weights are looked up under $SIAM_TRACKER_WEIGHTS.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="{track,eval,make-oov,bench}")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--device", default=None, help="auto (default: cuda when available), cpu or cuda")
        p.add_argument("--threads", type=_int_at_least(1), default=1,
                       help="threads for CPU inference, torch and onnxruntime (default 1: the networks are "
                       "small, one thread is fastest and keeps its speed when other processes load the CPU)")
        p.add_argument("--cpu-backend", default=None, choices=CPU_BACKENDS,
                       help="how the network runs on the CPU (default: the tracker config's, auto = "
                       "onnxruntime when installed, else TorchScript)")
        p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = sub.add_parser(
        "track", help="track one target through a video, image folder, sequence or rosbag2",
        description="Track one target. SOURCE: a video file, a folder of images, an OTB-style sequence "
        "folder (img/ + groundtruth_rect.txt; the first row is the initial box) or a rosbag2 folder "
        "(sensor_msgs/Image or CompressedImage on --image-topic). Writes DIR/<name>.txt (x,y,w,h per "
        "frame, first line the initial box), DIR/<name>_state.txt (confidence,state per frame) and "
        "DIR/<name>_timeline.png (the confidence over time, LOST frames in red).",
    )
    p.add_argument("source", help="video file, image folder, sequence folder or rosbag2 folder")
    p.add_argument("--init", help="initial box x,y,w,h in pixels of the first frame (top-left, size); "
                   "write --init=-5,10,40,30 when x or y is negative")
    p.add_argument("--tracker", default=DEFAULT_TRACKER,
                   help=f"tracker name: {trackers} (default {DEFAULT_TRACKER})")
    p.add_argument("--weights", help="weights file instead of the tracker's default")
    p.add_argument("--fp16", action="store_true", help="half precision (cuda only)")
    p.add_argument("--image-topic", help="image topic of a rosbag2 source (default: its only image topic)")
    p.add_argument("--out-dir", default="runs/track", help="output folder (default runs/track)")
    p.add_argument("--save-video", action="store_true", help="also write an annotated MP4")
    p.add_argument("--fps", type=float, default=None,
                   help="frame rate of the written video (default: the source's, else 30)")
    p.add_argument("--out-bag", help="also write the node's topics (/tracker/box, ...) to a rosbag2 folder")
    common(p)
    p.set_defaults(func=cmd_track)

    p = sub.add_parser(
        "eval", help="success/precision of trackers over a dataset of sequences",
        description="Run each tracker on every sequence folder (img/ + groundtruth_rect.txt) of the "
        "dataset and print success AUC (IoU thresholds 0..1, 21 steps), precision at 20 px, normalised "
        "precision and frames per second; write success.png, precision.png and the raw results "
        "OUT/<tracker>/<sequence>.txt and _state.txt. Ground-truth rows of NaN are skipped. On a set made "
        f"by make-oov it also reports the out-of-view figures and writes OUT/{EVENT_OUTCOMES_FILE} and, per "
        f"sequence, OUT/{TIMELINES_DIR}/<sequence>.png: each tracker's IoU over time, the frames it reports "
        "LOST and those with the target out of view.",
    )
    p.add_argument("--dataset", help="folder of sequence folders (default ../shared/data/sequences)")
    p.add_argument("--trackers", default=f"{DEFAULT_TRACKER},cv2_nano", help="comma-separated names")
    p.add_argument("--sequences", help="comma-separated subset of sequence names")
    p.add_argument("--weights", help="weights file (applies to every tracker given)")
    p.add_argument("--out-dir", default="runs/eval", help="output folder (default runs/eval)")
    common(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser(
        "make-oov", help="build the out-of-view test set from sequences with ground truth",
        description="Write an out-of-view test set: a virtual camera (a crop window over the real frames) "
        "follows the target, pans away so the target is fully out of view for N frames (N drawn from "
        "--min-absent..--max-absent), then pans back. Ground truth is NaN while the target is out of view; "
        "events.txt lists the absences. Reproducible from --seed. `siam-track eval --dataset DEST` then "
        "also reports how often each tracker says `lost` while the target is away and how fast it "
        "re-acquires it.",
    )
    p.add_argument("dest", help="output folder for the <sequence>_oov folders")
    p.add_argument("--dataset", help="source sequences (default ../shared/data/sequences)")
    p.add_argument("--seed", type=_int_at_least(0), default=0, help="random seed (default 0)")
    p.add_argument("--min-absent", type=_int_at_least(1), default=10,
                   help="shortest absence in frames (default 10)")
    p.add_argument("--max-absent", type=_int_at_least(1), default=60,
                   help="longest absence in frames (default 60)")
    p.set_defaults(func=cmd_make_oov)

    p = sub.add_parser(
        "bench", help="frames per second and latency on real frames, beside cv2.TrackerNano",
        description="Time each tracker on the same real frames (a drone sequence played back and forth) "
        "and print fps, median and 95th-percentile latency, and the fps ratio to the reference tracker.",
    )
    p.add_argument("--trackers", default=DEFAULT_TRACKER, help="comma-separated names")
    p.add_argument("--reference", default="cv2_nano", help="reference tracker (default cv2_nano)")
    p.add_argument("--sequence", help="sequence folder to take frames from (default uav123_person12_1)")
    p.add_argument("--frames", type=_int_at_least(1), default=300,
                   help="timed frames per tracker (default 300)")
    p.add_argument("--warmup", type=_int_at_least(0), default=10,
                   help="untimed frames before them (default 10)")
    p.add_argument("--size", type=_frame_size, metavar="WxH",
                   help="resize the frames (and the initial box) to your camera's resolution, e.g. 1280x720: "
                   "the full-frame re-detection pass needs more tiles on larger frames (default: the "
                   "sequence's own size)")
    common(p)
    p.set_defaults(func=cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.created_dirs = []  # the output folders this run makes (_output_dir)
    try:
        with _removed_if_left_empty(args.created_dirs):
            return args.func(args)
    except SiamTrackerError as exc:
        print(f"siam-track {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
