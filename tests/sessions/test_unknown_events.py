"""Sessions hand their unknown faces to the unknowns store (a recording sink at the
`UnknownSink` boundary) and, with `unknown_events`, report the clusters as signed, retried
webhook events; a failing store loses faces, never cameras or recognitions.

The session service is wired by `build_session_service`, as the composition root does,
over a real SQLite database, footage from the real photos as a video file and a webhook
receiver on loopback.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from facebank.auth.clock import system_clock
from facebank.auth.principal import system_principal
from facebank.bench.simulate.confirmation import MatrixSearcher
from facebank.bench.simulate.receiver import WebhookReceiver
from facebank.pipeline.pipeline import FacePipeline
from facebank.services.audit import AuditService
from facebank.services.sessions import (
    CameraIn,
    SessionService,
    SessionStart,
    WebhookIn,
    build_session_service,
)
from facebank.sessions.observer import NoObserver
from facebank.sessions.unknown_sink import KeptUnknown, UnknownSighting
from facebank.store.audit import AuditRepository
from facebank.store.db import make_engine, make_session_factory, migrate
from facebank.store.people import PeopleRepository
from tests.api.conftest import make_settings
from tests.conftest import identity_photos
from tests.sessions.conftest import FAST, SECRET
from tests.sessions.unknown_footage import walkers_video
from tests.waiting import wait_until

ENROLLED = ("deepface_id01", "deepface_id03")  # enrolled from photo 0, shown from photo 1
STRANGER = "deepface_id05"  # walks between them, never enrolled
ACTOR = system_principal("tests")
CLUSTER = 7


REFUSED = "refused"  # sightings of cameras named so make the store fail


class RecordingSink:
    """Remembers every sighting. The first face of a session starts cluster 7, later ones
    join it; sightings from cameras named `refused-…` raise."""

    def __init__(self) -> None:
        self.sightings: list[UnknownSighting] = []
        self._lock = threading.Lock()

    def keep(self, sighting: UnknownSighting) -> KeptUnknown | None:
        with self._lock:
            self.sightings.append(sighting)
            if (sighting.camera_name or "").startswith(REFUSED):
                raise RuntimeError("the unknowns store is down")
            size = sum(s.session_id == sighting.session_id for s in self.sightings)
        return KeptUnknown(face_id=100 + size, cluster_id=CLUSTER, cluster_size=size,
                           created=size == 1)  # fmt: skip


@contextmanager
def session_service(
    tmp_path: Path, pipeline: FacePipeline, sink: RecordingSink
) -> Iterator[SessionService]:
    settings = make_settings(tmp_path, **FAST)
    tmp_path.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.effective_database_url)
    migrate(engine)
    factory = make_session_factory(engine)
    photos = identity_photos()
    gallery = {}
    for n, label in enumerate(ENROLLED, start=1):
        image = pipeline.decode(photos[label][0].read_bytes())
        face = max(pipeline.detect(image), key=lambda d: d.area)
        gallery[n] = pipeline.embed(image, [face])[0].embedding.astype(np.float32)
    service = build_session_service(
        settings, factory, pipeline, MatrixSearcher(gallery), PeopleRepository(factory),
        lambda work: work(), NoObserver(), AuditService(AuditRepository(factory), system_clock),
        lambda: 0.33, unknowns=sink,
    )  # fmt: skip
    service.resume()
    try:
        yield service
    finally:
        service.close()
        engine.dispose()


def _play(service: SessionService, key: str, video: Path, cameras: int, hook: str,
          unknown_events: bool) -> int:  # fmt: skip
    """Start a session on `cameras` cameras playing the file; wait until it played out."""
    request = SessionStart(
        key=key,
        cameras=[CameraIn(url=str(video), name=f"{key}-{n}", fps=5) for n in range(cameras)],
        webhook=WebhookIn(url=hook, secret=SECRET),
        unknown_events=unknown_events,
        evidence=False,
    )
    sid = service.start(ACTOR, request).record.id
    assert service.get(sid).record.unknown_events is unknown_events

    def ended() -> bool:
        return service.get(sid).record.status != "active"

    wait_until(ended, 120, "the video to play out")
    return sid


def test_unknown_clusters_are_reported_signed_and_a_failing_store_harms_nothing(
    tmp_path: Path,
    face_pipeline: FacePipeline,
    receiver: WebhookReceiver,
) -> None:
    shown = [(ENROLLED[0], 1), (STRANGER, 1), (ENROLLED[1], 1)]
    footage = walkers_video(face_pipeline, tmp_path / "walkers.avi", shown)
    sink = RecordingSink()
    with session_service(tmp_path / "data", face_pipeline, sink) as service:
        # The stranger walks past both cameras of `with-events`, then past the one of
        # `refused`, whose sightings the store refuses (one session at a time: on a loaded
        # machine three cameras at once would drop too many frames to see every walker).
        loud = _play(service, "with-events", footage, 2, receiver.url, True)
        quiet = _play(service, REFUSED, footage, 1, receiver.url, False)
        events = {s: service.events(s, 0, 200) for s in (loud, quiet)}
        record = {s: service.get(s).record for s in (loud, quiet)}
        assert receiver.wait_for(lambda got: len(got) >= sum(map(len, events.values())), 30)

    # One face per camera and session (the stranger's track), not one per frame.
    by_session = Counter(s.session_id for s in sink.sightings)
    assert by_session == {loud: 2, quiet: 1}, sink.sightings
    loud_cameras = {c.id: c.name for c in record[loud].cameras}
    seen = [s for s in sink.sightings if s.session_id == loud]
    assert {(s.camera_id, s.camera_name) for s in seen} == set(loud_cameras.items())
    assert all(s.source == "session" and s.crop.width < 640 / 2 for s in seen)
    stranger = _embedding(face_pipeline, identity_photos()[STRANGER][0])
    assert all(float(s.face.embedding @ stranger) > 0.5 for s in sink.sightings)

    # `with-events` reported the cluster's creation, then its growth; `quiet` neither.
    unknown = [e for e in events[loud] if e.type.startswith("unknown.")]
    assert [e.type for e in unknown] == ["unknown.cluster_created", "unknown.cluster_grew"]
    for n, event in enumerate(unknown, start=1):
        data = event.payload["data"]
        assert data["cluster_id"] == CLUSTER and data["cluster_size"] == n
        assert data["face_id"] == 100 + n
        assert data["image"] == f"/api/v1/unknowns/faces/{100 + n}/image"
        assert loud_cameras[data["camera"]["id"]] == data["camera"]["name"]
        assert event.camera_id == data["camera"]["id"] and event.person_id is None
    assert not [e for e in events[quiet] if e.type.startswith("unknown.")]
    assert events[loud][-1].type == "session.ended"  # the stop flushed before the end

    # Both sessions still reported each enrolled walker once, and ended normally.
    for sid in (loud, quiet):
        assert Counter(e.type for e in events[sid])["recognition"] == len(ENROLLED)
        assert record[sid].reason == "every camera finished"

    # Every event reached the webhook once, signed, with the stored body.
    got = receiver.accepted
    assert all(r.signature_ok for r in receiver.all)
    stored = {e.event_id: e for evs in events.values() for e in evs}
    assert Counter(r.event_id for r in got) == Counter(list(stored))
    for r in got:
        assert r.event_type == stored[r.event_id].type
        assert r.payload == stored[r.event_id].payload


def _embedding(pipeline: FacePipeline, photo: Path) -> np.ndarray:
    image = pipeline.decode(photo.read_bytes())
    face = max(pipeline.detect(image), key=lambda d: d.area)
    return pipeline.embed(image, [face])[0].embedding
