"""`facebank bench-machines`: the follow delay between machines (issue 13).

Two running facebank servers on one database, A and B (separate processes, data dirs and
ports: "machines"). Each round enrolls one person with a real photo on A and, from A's
201, polls B's GET /api/v1/index until B's index has applied the database's change log up
to that enroll: the time until an enroll on one machine is searchable on another. The
person is then deleted on A and B caught up again (not timed), so the gallery stays small.

On PostgreSQL B is woken by NOTIFY at once; on MariaDB (and SQLite) it polls every
FACEBANK_INDEX_FOLLOW_INTERVAL_S (2 s), so its delay is spread up to that interval.
Figures: follow_p50_ms, follow_p95_ms, follow_max_ms over `rounds`; the poll itself costs
one request to B (POLL_S apart), which bounds the resolution.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from facebank.bench.stats import percentiles_ms

POLL_S = 0.005
TIMEOUT_S = 60.0


@dataclass(frozen=True)
class MachinesResult:
    a: str
    b: str
    rounds: int
    follow_p50_ms: float
    follow_p95_ms: float
    follow_max_ms: float
    follow_ms: list[float]


def bench(a: str, b: str, headers: dict[str, str], photo: Path, rounds: int) -> MachinesResult:
    delays: list[float] = []
    with (
        httpx.Client(base_url=a, headers=headers, timeout=TIMEOUT_S) as on_a,
        httpx.Client(base_url=b, headers=headers, timeout=TIMEOUT_S) as on_b,
    ):
        for n in range(rounds):
            person_id, seconds = _one_round(on_a, on_b, photo, f"bench-machines {n}")
            delays.append(seconds)
            _checked(on_a.delete(f"/api/v1/people/{person_id}"))
            _caught_up(on_b, _status(on_b)["db_version"])
    figures = percentiles_ms(delays)
    if figures is None:
        raise ValueError("rounds must be at least 1")
    return MachinesResult(
        a=a, b=b, rounds=rounds, follow_p50_ms=figures[0], follow_p95_ms=figures[1],
        follow_max_ms=round(max(delays) * 1000, 2),
        follow_ms=[round(d * 1000, 2) for d in delays],
    )  # fmt: skip


def as_dict(result: MachinesResult) -> dict[str, Any]:
    return asdict(result)


def _one_round(on_a: httpx.Client, on_b: httpx.Client, photo: Path, name: str) -> tuple[int, float]:
    """Enroll on A; seconds from A's answer until B's index holds the enroll."""
    files = {"photos": (photo.name, photo.read_bytes(), "application/octet-stream")}
    data = {"name": name, "allow_duplicate": "true"}
    person_id = int(_checked(on_a.post("/api/v1/people", data=data, files=files)).json()["id"])
    acknowledged = time.perf_counter()
    # The database's version as B first sees it after the commit: the enroll's change or later.
    target = int(_status(on_b)["db_version"])
    _caught_up(on_b, target)
    return person_id, time.perf_counter() - acknowledged


def _caught_up(on_b: httpx.Client, version: int) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while int(_status(on_b)["applied_version"]) < version:
        if time.monotonic() > deadline:
            raise TimeoutError(f"B did not apply change {version} within {TIMEOUT_S} s")
        time.sleep(POLL_S)


def _status(client: httpx.Client) -> dict[str, Any]:
    body: dict[str, Any] = _checked(client.get("/api/v1/index")).json()
    return body


def _checked(response: httpx.Response) -> httpx.Response:
    if not response.is_success:
        raise RuntimeError(f"{response.request.method} {response.request.url} answered "
                           f"{response.status_code}: {response.text[:300]}")  # fmt: skip
    return response
