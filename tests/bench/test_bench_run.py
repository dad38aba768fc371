"""`facebank bench --ceiling` for real: a server process, the CLI as a user runs it, a short
run over a few photos; it must print the table and write sane JSON and a PNG."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import GROUPS, PEOPLE
from tests.e2e.server import ServerProcess

pytestmark = pytest.mark.slow

SCENARIOS = ["recognize", "recognize-group", "enroll", "verify", "mixed"]


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two identities with two photos each, and two group photos."""
    root = tmp_path_factory.mktemp("bench-photos")
    people, groups = root / "people", root / "groups"
    for identity in ("fr_obama", "fr_biden"):
        (people / identity).mkdir(parents=True)
        for photo in sorted((PEOPLE / identity).iterdir())[:2]:
            shutil.copy(photo, people / identity / photo.name)
    groups.mkdir()
    for name in ("two_people.jpg", "couple.jpg"):
        shutil.copy(GROUPS / name, groups / name)
    return people, groups


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("bench-server")).start()
    try:
        yield process
    finally:
        process.stop()


def test_bench_with_ceiling(
    server: ServerProcess, photos: tuple[Path, Path], tmp_path: Path
) -> None:
    people, groups = photos
    out_json, out_png = tmp_path / "bench.json", tmp_path / "bench.png"
    run = subprocess.run(
        [
            sys.executable, "-m", "facebank.cli.main", "bench",
            "--url", server.url, "--api-key", server.headers["X-API-Key"],
            "--photos", str(people), "--groups", str(groups),
            "--scenarios", ",".join(SCENARIOS), "--concurrency", "1,2",
            "--duration", "1", "--warmup", "0.3",
            "--ceiling", "--ceiling-duration", "1", "--latency-rounds", "1",
            "--paired-concurrency", "2", "--paired-rounds", "2",
            "--json", str(out_json), "--png", str(out_png),
        ],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=240,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    assert "of ceiling" in run.stdout and "bare pipeline on 'people'" in run.stdout
    assert "c=2" in run.stderr  # progress lines while it runs

    report = json.loads(out_json.read_text())
    assert set(report["ceilings"]) == {"people", "groups"}
    for ceiling in report["ceilings"].values():
        assert ceiling["throughput_ips"] > 0 and ceiling["latency_p50_ms"] > 0
        assert ceiling["processes"] >= 1
    levels = {(r["scenario"], r["concurrency"]): r for r in report["levels"]}
    assert set(levels) == {(s, c) for s in SCENARIOS for c in (1, 2)}
    for (scenario, _), level in levels.items():
        assert level["errors"] == {}, (scenario, level["errors"])
        assert level["requests"] > 0 and level["throughput_rps"] > 0
        assert 0 < level["p50_ms"] <= level["p95_ms"] <= level["p99_ms"]
        assert level["ceiling_fraction"] > 0 and level["latency_vs_bare"] > 0
    assert set(levels[("mixed", 2)]["by_kind"]) >= {"recognize"}
    assert report["machine"]["cpu_count"] >= 1 and report["server"]["health_status"] == 200
    paired = report["paired"]  # bare and server alternately, on the same 4 photos
    assert (paired["photos"], paired["passes"], paired["errors"]) == (4, 1, 0)
    assert paired["bare_p50_ms"] > 0 and paired["server_p50_ms"] > 0
    assert paired["ratio"] == pytest.approx(paired["server_p50_ms"] / paired["bare_p50_ms"], 0.01)
    assert "paired single-image latency" in run.stdout
    throughput = report["paired_throughput"]  # bare and server at c=2, two rounds each
    assert (throughput["concurrency"], throughput["rounds"], throughput["errors"]) == (2, 2, 0)
    assert len(throughput["bare_ips"]) == len(throughput["server_rps"]) == 2
    assert min(throughput["bare_ips"]) > 0 and min(throughput["server_rps"]) > 0
    assert throughput["fraction"] == pytest.approx(
        sum(throughput["server_rps"]) / sum(throughput["bare_ips"]), 0.01
    )
    assert "paired throughput at concurrency 2 (2 rounds" in run.stdout
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # Seeded people stay (reruns reuse them); people the enroll scenarios made are gone.
    listed = httpx.get(
        f"{server.url}/api/v1/people", headers=server.headers, params={"page_size": 100}
    ).json()
    assert sorted(p["name"] for p in listed["items"]) == ["fr_biden", "fr_obama"]


def test_bench_vs_stock(server: ServerProcess, photos: tuple[Path, Path], tmp_path: Path) -> None:
    people, _ = photos
    out_json, out_png = tmp_path / "bench.json", tmp_path / "bench.png"
    run = subprocess.run(
        [
            sys.executable, "-m", "facebank.cli.main", "bench", "--vs-stock",
            "--url", server.url, "--api-key", server.headers["X-API-Key"],
            "--photos", str(people), "--concurrency", "1", "--duration", "1", "--warmup", "0.3",
            "--ceiling-duration", "1", "--latency-rounds", "2",
            "--paired-concurrency", "2", "--paired-rounds", "2",
            "--json", str(out_json), "--png", str(out_png),
        ],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=240,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    assert "vs stock insightface==2.1 FaceAnalysis" in run.stdout
    stock = json.loads(out_json.read_text())["vs_stock"]
    assert stock["stock"] == "insightface==2.1" and stock["stock_det_size"] == 640
    assert stock["throughput_concurrency"] == 2 and stock["stock_images_per_s"] > 0
    assert stock["throughput_ratio_vs_stock"] == pytest.approx(
        stock["server_requests_per_s"] / stock["stock_images_per_s"], 0.02
    )
    assert stock["paired_throughput"]["errors"] == 0
    assert len(stock["paired_throughput"]["bare_ips"]) == 2  # the stock side's rounds
    assert stock["stock_p50_ms"] > 0 and stock["server_p50_ms"] > 0
    assert stock["p50_ratio_vs_stock"] == pytest.approx(
        stock["server_p50_ms"] / stock["stock_p50_ms"], 0.01
    )
    assert stock["paired_latency"]["errors"] == 0 and stock["paired_latency"]["photos"] == 4
    # 4 single-face photos, one face each; biden.jpg is over FACEBANK_MAX_DETECT_SIDE and
    # facebank detects it downscaled (tests/bench/test_stock.py), so only the count is exact.
    assert stock["embedding_faces_compared"] == 4
    assert stock["embedding_min_cosine_vs_stock"] > 0.9
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bench_refused_key_exits_2_naming_the_status(
    server: ServerProcess, photos: tuple[Path, Path], tmp_path: Path
) -> None:
    people, _ = photos
    run = subprocess.run(
        [
            sys.executable, "-m", "facebank.cli.main", "bench",
            "--url", server.url, "--api-key", "fbk_not-a-key", "--photos", str(people),
            "--concurrency", "1", "--duration", "1",
            "--json", str(tmp_path / "b.json"), "--png", str(tmp_path / "b.png"),
        ],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert run.returncode == 2
    assert "HTTP 401" in run.stderr and "Traceback" not in run.stderr
