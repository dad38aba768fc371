"""kill -9 of a server in the middle of an import job: the restarted server resumes it from
its unpacked files, and the gallery ends as an uninterrupted import leaves it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.server import ServerProcess
from tests.services.import_sources import folder_source, zip_folder
from tests.waiting import wait_until

pytestmark = pytest.mark.slow

IMPORT_TIMEOUT_S = 240.0


def _job(server: ServerProcess, job_id: int) -> dict[str, Any]:
    answer = httpx.get(f"{server.url}/api/v1/imports/{job_id}", headers=server.headers)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _workers_of(data_dir: Path) -> list[int]:
    """Import worker processes (multiprocessing spawn children) of this data directory."""
    found = []
    wanted = f"FACEBANK_DATA_DIR={data_dir}".encode()
    for proc in Path("/proc").iterdir():
        try:
            cmd = (proc / "cmdline").read_bytes()
            env = (proc / "environ").read_bytes().split(b"\0")
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if b"spawn_main" in cmd and wanted in env:
            found.append(int(proc.name))
    return found


def test_kill_minus_nine_during_an_import_job(tmp_path: Path) -> None:
    archive = zip_folder(folder_source(tmp_path), tmp_path / "people.zip")
    # Progress every 0.1 s, so the kill lands after some photos are counted.
    env = {"FACEBANK_IMPORT_PROGRESS_INTERVAL_S": "0.1", "FACEBANK_IMPORT_WORKERS": "1"}
    server = ServerProcess(tmp_path / "data", env).start()
    try:
        files = {"file": (archive.name, archive.read_bytes(), "application/zip")}
        created = httpx.post(
            f"{server.url}/api/v1/imports", files=files, headers=server.headers, timeout=60
        )
        assert created.status_code == 202, created.text
        job_id = created.json()["id"]
        wait_until(
            lambda: _job(server, job_id)["counts"]["photos_done"] >= 3,
            timeout=IMPORT_TIMEOUT_S,
            what="the import under way",
            poll_s=0.05,
        )
        assert _workers_of(tmp_path / "data")
        server.kill_hard()
        # The killed server's workers notice and exit instead of lingering with their models.
        wait_until(lambda: not _workers_of(tmp_path / "data"), 30, "the orphaned workers' exit")
        server = ServerProcess(tmp_path / "data", env).start()
        wait_until(
            lambda: _job(server, job_id)["state"] == "done",
            timeout=IMPORT_TIMEOUT_S,
            what="the resumed import to end",
            poll_s=0.25,
        )
        job = _job(server, job_id)
        assert job["attempts"] == 2, server.log_tail()
        people = httpx.get(
            f"{server.url}/api/v1/people", params={"page_size": 100}, headers=server.headers
        ).json()["items"]
        assert sorted(p["name"] for p in people) == [
            "Joe Biden",
            "Kit Harington",
            "Rose Leslie",
            "deepface id11",
        ]
        assert sum(p["face_count"] for p in people) == 9
    finally:
        server.stop()
