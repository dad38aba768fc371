"""`facebank bench ui-people`: seeds people, times the page's requests, prints p50/p95."""

from __future__ import annotations

from pathlib import Path

from facebank.bench import ui_people
from facebank.cli.bench import run, run_ui_people
from facebank.cli.main import _parser
from facebank.config import Settings
from facebank.pipeline.pipeline import FacePipeline


def test_it_times_every_request_the_page_makes(
    tmp_path: Path, face_pipeline: FacePipeline
) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path)
    timings = ui_people.run(settings, 120, 5, "nguyen", pipeline=face_pipeline)
    assert [t.path.split("?")[0] for t in timings] == ["/ui/people"] + ["/api/v1/people"] * 4
    assert all(t.requests == 5 and 0 < t.p50_ms <= t.p95_ms and t.cpu_p50_ms > 0 for t in timings)
    shell, first, search, _, last = timings
    assert shell.matches is None and first.matches == last.matches == 120
    assert 0 < (search.matches or 0) < 120 and "page=3" in last.path


def test_the_subcommand_leaves_the_load_test_as_it_was() -> None:
    parsed = _parser().parse_args(["bench", "ui-people", "--people", "50"])
    assert parsed.handler is run_ui_people and parsed.people == 50
    assert _parser().parse_args(["bench", "--duration", "1"]).handler is run
