"""`facebank sessions-bench`: K simulated cameras at F fps through live sessions, in this
process, with the service's own models, database, scheduler and webhook delivery.

Each camera is a loopback MJPEG stream of people walking through a room (the same loop per
camera, shifted in time so faces appear at different moments), watched by its own session in
`every` mode, so each walk is one recognition; its webhook's arrival minus the moment the face
was fully in view is the latency. Prints per-camera achieved fps, dropped frames and the CPU
use of this process (cameras, inference, database, webhooks, and the simulators themselves).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from facebank.config import Settings

DEFAULT_PHOTOS = Path("../shared/faces/people")
SECRET = "sessions-bench-secret-000"  # noqa: S105 - signs a local test receiver only
SUFFIXES = {".jpg", ".jpeg", ".png"}


@dataclass(frozen=True)
class LevelResult:
    cameras: int
    target_fps: float
    seconds: float
    fps_per_camera: list[float]  # frames through inference per second, measured
    read_fps_per_camera: list[float]  # frames read from the stream per second
    dropped_per_camera: list[int]  # frames replaced by a newer one before inference
    cpu_cores: float  # CPU seconds of this process per wall second
    cpu_percent_of_machine: float
    latency_s: list[float]  # face fully in view -> webhook received
    recognitions: int


def register(commands: Any) -> None:
    bench = commands.add_parser(
        "sessions-bench",
        help="run K simulated cameras at F fps through a live session and measure it",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    bench.add_argument("--cameras", default="1,4,8", help="camera counts to run (default 1,4,8)")
    bench.add_argument("--fps", type=float, default=5.0, help="per camera (default 5)")
    bench.add_argument("--size", default="1280x720", help="frame size (default 1280x720)")
    bench.add_argument("--duration", type=float, default=30.0, help="measured seconds per level")
    bench.add_argument("--warmup", type=float, default=5.0, help="unmeasured seconds per level")
    bench.add_argument("--people", type=int, default=4, help="enrolled walkers (default 4)")
    bench.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS,
                       help="<dir>/<identity>/<photo> (default ../shared/faces/people)")
    bench.add_argument("--json", type=Path, help="also write the results here")
    bench.set_defaults(handler=run)


def run(settings: Settings, args: argparse.Namespace) -> int:
    from facebank.bench.simulate.receiver import WebhookReceiver
    from facebank.services.container import build_services

    width, height = (int(v) for v in args.size.lower().split("x"))
    levels = [int(k) for k in args.cameras.split(",")]
    with tempfile.TemporaryDirectory(prefix="facebank-sessions-bench-") as tmp:
        local = settings.model_copy(update={"data_dir": Path(tmp), "database_url": ""})
        services = build_services(local)
        services.start()
        receiver = WebhookReceiver(SECRET).start()
        try:
            shown = _enroll(services, args.photos, args.people)
            footage = _footage(services, shown, (width, height), args.fps)
            print(f"footage: {len(footage.jpegs)} frames of {width}x{height} at {args.fps} fps "
                  f"per loop; {args.people} enrolled walkers + 1 stranger; "
                  f"{os.cpu_count()} cores; inference threads "
                  f"{services.sessions.manager.snapshot().inference_threads}", flush=True)
            results = [
                _level(services, receiver, footage, k, args.fps, args.warmup, args.duration)
                for k in levels
            ]
        finally:
            receiver.close()
            services.close()
    print(_table(results))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2))
    return 0


def _enroll(services: Any, root: Path, count: int) -> dict[str, Path]:
    """Enroll `count` identities from their first photo; returns label -> photo to show
    (another photo of theirs), plus one identity never enrolled (the stranger)."""
    from facebank.auth.principal import system_principal
    from facebank.evaluation.dataset import identity_folders
    from facebank.services.photos import Photo
    from facebank.store.people import PersonFields

    photos = identity_folders(root, SUFFIXES)
    candidates = [(label, ps) for label, ps in photos.items() if len(ps) >= 2]
    if len(candidates) <= count:
        raise SystemExit(f"need more than {count} identities with 2+ photos in {root}")
    shown = {}
    for label, ps in candidates[:count]:
        photo = Photo(ps[0].read_bytes(), ps[0].name)
        actor = system_principal("sessions-bench")
        services.gallery.create_person(actor, PersonFields(name=label), [photo])
        shown[label] = ps[1]
    stranger, ps = candidates[count]
    shown[stranger] = ps[0]
    return shown


def _footage(services: Any, shown: dict[str, Path], size: tuple[int, int], fps: float) -> Any:
    from facebank.bench.simulate.footage import walkers_footage

    face_px = max(48, size[1] // 6)
    return walkers_footage(services.pipeline, shown, size, fps, face_px)


def _level(services: Any, receiver: Any, footage: Any, k: int, fps: float, warmup: float,
           duration: float) -> LevelResult:
    import psutil

    from facebank.auth.principal import system_principal
    from facebank.bench.simulate.mjpeg import MjpegCamera
    from facebank.services.sessions import CameraIn, SessionStart, WebhookIn

    loop_s = len(footage.jpegs) / footage.fps
    actor = system_principal("sessions-bench")
    cams = []
    for i in range(k):
        cam = MjpegCamera(footage.jpegs, footage.fps).start()
        cam.started -= i * loop_s / k  # spread the walkers' appearances over the cameras
        cams.append(cam)
    try:
        # One session per camera: `every` mode's cooldown is per person per session, so
        # each walk on each camera is one report.
        sids = [
            services.sessions.start(actor, SessionStart(
                key=f"bench-{k}-{i}",
                cameras=[CameraIn(url=cam.url, name=f"cam{i}", fps=fps)],
                mode="every",
                cooldown_s=loop_s / 2,
                webhook=WebhookIn(url=receiver.url, secret=SECRET),
            )).record.id
            for i, cam in enumerate(cams)
        ]
        deadline = time.monotonic() + 60
        while any(c.status != "running" for c in _cameras(services, sids)):
            if time.monotonic() > deadline:
                raise SystemExit("cameras did not start within 60 s")
            time.sleep(0.2)
        time.sleep(warmup)
        process = psutil.Process()
        before, cpu0, t0 = _stats(services, sids), process.cpu_times(), time.monotonic()
        time.sleep(duration)
        after, cpu1, t1 = _stats(services, sids), process.cpu_times(), time.monotonic()
        for sid in sids:
            services.sessions.stop(actor, sid)
        time.sleep(1.0)  # the last deliveries
        latencies = _latencies(receiver, footage, cams, set(sids), t0, t1)
    finally:
        for cam in cams:
            cam.close()
    span = t1 - t0
    cpu = (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / span
    return LevelResult(
        cameras=k,
        target_fps=fps,
        seconds=round(span, 1),
        fps_per_camera=[round((after[n][0] - before[n][0]) / span, 2) for n in sorted(after)],
        read_fps_per_camera=[round((after[n][1] - before[n][1]) / span, 2) for n in sorted(after)],
        dropped_per_camera=[after[n][2] - before[n][2] for n in sorted(after)],
        cpu_cores=round(cpu, 2),
        cpu_percent_of_machine=round(100 * cpu / (os.cpu_count() or 1), 1),
        latency_s=[round(v, 3) for v in sorted(latencies)],
        recognitions=len(latencies),
    )


def _cameras(services: Any, sids: list[int]) -> list[Any]:
    return [c for sid in sids for c in services.sessions.get(sid).cameras or []]


def _stats(services: Any, sids: list[int]) -> dict[str, tuple[int, int, int]]:
    return {
        c.name: (c.frames_processed, c.frames_read, c.frames_dropped)
        for c in _cameras(services, sids)
    }


def _latencies(receiver: Any, footage: Any, cams: list[Any], sids: set[int], t0: float,
               t1: float) -> list[float]:
    """For each walk reported in the window: webhook arrival - face fully in view."""
    by_name = {f"cam{i}": cam for i, cam in enumerate(cams)}
    seen: dict[tuple[str, int], float] = {}
    for r in receiver.accepted:
        p = r.payload
        if p.get("type") != "recognition" or p["session"]["id"] not in sids or not t0 <= r.at <= t1:
            continue
        cam = by_name[p["data"]["camera"]["name"]]
        appeared = footage.last_appearance(p["data"]["person"]["name"], cam.live_frame(r.at))
        if appeared is None:
            continue
        key = (p["data"]["camera"]["name"], appeared)
        seen.setdefault(key, r.at - cam.shown_at(appeared))
    return list(seen.values())


def _table(results: list[LevelResult]) -> str:
    lines = [
        "cameras | target fps | achieved fps per camera (min/mean/max) | read fps | dropped "
        "frames/camera/s | CPU (cores, % of machine) | face -> webhook s (p50/p95/max, n)",
    ]
    for r in results:
        fps = r.fps_per_camera
        lat = r.latency_s
        latency = (
            f"{statistics.median(lat):.2f}/{_p95(lat):.2f}/{max(lat):.2f}, n={len(lat)}"
            if lat else "none"
        )
        lines.append(
            f"{r.cameras:>7} | {r.target_fps:>10} | {min(fps):.2f}/{statistics.mean(fps):.2f}/"
            f"{max(fps):.2f} | {statistics.mean(r.read_fps_per_camera):.2f} | "
            f"{statistics.mean(r.dropped_per_camera) / r.seconds:.2f} | "
            f"{r.cpu_cores:.2f}, {r.cpu_percent_of_machine:.0f}% | {latency}"
        )
    return "\n".join(lines)


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
