"""Several processes over one data directory (`serve --workers N`): exactly one runs the
cameras; sessions started or stopped through another's API follow; a standby takes over
when the runner goes away."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

from facebank.bench.simulate.mjpeg import MjpegCamera
from facebank.pipeline.pipeline import FacePipeline
from tests.api.conftest import app_client, running_services
from tests.sessions.conftest import FAST, start
from tests.waiting import wait_until


def test_one_runner_and_a_standby_that_takes_over(
    tmp_path: Path, face_pipeline: FacePipeline, scene_jpegs: list[bytes]
) -> None:
    camera = MjpegCamera(scene_jpegs[:10], 5).start()
    with ExitStack() as stack:
        stack.callback(camera.close)
        runner = stack.enter_context(running_services("sqlite", tmp_path, face_pipeline, **FAST))
        standby_stack = stack.enter_context(ExitStack())
        standby = standby_stack.enter_context(
            running_services("sqlite", tmp_path, face_pipeline, **FAST)
        )
        client = standby_stack.enter_context(app_client(standby))

        # Started through the standby's API, run by the runner.
        sid = start(client, [{"url": camera.url, "fps": 2}], None)["id"]
        wait_until(lambda: runner.sessions.manager.cameras(sid) is not None, 10,
                   "the runner to pick the session up")
        assert standby.sessions.manager.cameras(sid) is None
        wait_until(lambda: runner.sessions.get(sid).cameras[0].status == "running",  # type: ignore[index]
                   10, "the camera running")

        # Stopped through the standby's API: the runner stops its cameras.
        assert client.post(f"/api/v1/sessions/{sid}/stop").json()["status"] == "ended"
        wait_until(lambda: runner.sessions.manager.cameras(sid) is None, 10,
                   "the runner to stop the session")
        events = [e.type for e in runner.sessions.events(sid, 0, 100)]
        assert events == ["session.started", "session.ended"]

        # The runner goes away; the standby takes over and runs new sessions itself.
        other = start(client, [{"url": camera.url, "fps": 2}], None, key="slot-2")["id"]
        wait_until(lambda: runner.sessions.manager.cameras(other) is not None, 10,
                   "the runner to pick up the second session")
        runner.close()
        wait_until(lambda: standby.sessions.manager.cameras(other) is not None, 15,
                   "the standby to take over")
        client.post(f"/api/v1/sessions/{other}/stop")
