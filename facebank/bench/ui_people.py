"""Server time of the people page over a big gallery: `facebank bench ui-people`.

Seeds N people (fields only: the list page shows no photos) straight through the store
into a fresh database (SQLite in a temporary data directory unless --database-url), signs
a browser session in, then times, in this process through the whole app (middleware,
session cookie, routing, the query, JSON), what a browser opening /ui/people asks for:
the page shell, and the API call its script makes for the first page, sorted by name,
without and with a name search. The client is in-process (no sockets), so the numbers are
server time plus a small constant for the ASGI hop. The access log is silenced (its line
per request would bury the results), so its formatting cost is not counted.
"""

from __future__ import annotations

import logging
import random
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient

from facebank.auth.principal import system_principal
from facebank.auth.roles import Role
from facebank.config import Settings
from facebank.pipeline.pipeline import FacePipeline
from facebank.services.container import Services, build_services
from facebank.services.web_sessions import SESSION_COOKIE
from facebank.store.db import make_engine, make_session_factory
from facebank.store.people import PeopleRepository, PersonFields
from facebank.web.app import create_app

FIRST = ["An", "Binh", "Chi", "Dung", "Giang", "Hoa", "Khanh", "Linh", "Minh", "Ngoc", "Phuong",
         "Quang", "Thao", "Trang", "Tuan", "Viet", "Ada", "Alan", "Grace", "Edsger", "Barbara",
         "Donald", "Margaret", "Ken", "Dennis", "Frances", "John", "Katherine", "Tim", "Radia"]
LAST = ["Nguyen", "Tran", "Le", "Pham", "Hoang", "Vu", "Dang", "Bui", "Do", "Ho", "Lovelace",
        "Turing", "Hopper", "Dijkstra", "Liskov", "Knuth", "Hamilton", "Thompson", "Ritchie",
        "Allen", "Backus", "Johnson", "Berners-Lee", "Perlman"]
CITIES = ["Hanoi", "Hue", "Da Nang", "Ho Chi Minh City", "Can Tho", "London", "Paris", None]
USER = "bench-admin"
PASSWORD = "bench-password-not-secret"  # noqa: S105 - a throwaway database's only user


@dataclass(frozen=True)
class Timing:
    what: str
    path: str
    requests: int
    p50_ms: float
    p95_ms: float
    cpu_p50_ms: float  # this process's CPU per request: steadier than wall time when busy
    matches: int | None  # people the API call found (None for the shell)

    def line(self) -> str:
        found = "" if self.matches is None else f"  ({self.matches} matching)"
        return (f"{self.what:<34} p50 {self.p50_ms:7.2f} ms   p95 {self.p95_ms:7.2f} ms   "
                f"CPU p50 {self.cpu_p50_ms:6.2f} ms   n={self.requests}{found}\n    {self.path}")


def seed(people: PeopleRepository, count: int, rng: random.Random) -> float:
    """Inserts `count` people; returns the seconds it took."""
    started = time.perf_counter()
    for i in range(count):
        people.create(PersonFields(
            name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            age=rng.randint(1, 95) if rng.random() > 0.05 else None,
            address=rng.choice(CITIES),
            external_id=f"P-{i:06d}",
        ))
    return time.perf_counter() - started


@contextmanager
def seeded_services(
    settings: Settings, count: int, seed_value: int, pipeline: FacePipeline | None = None
) -> Iterator[Services]:
    with tempfile.TemporaryDirectory(prefix="facebank-ui-bench-") as tmp:
        local = settings.model_copy(update={"data_dir": Path(tmp)})
        services = build_services(local, pipeline)
        try:
            services.start()
            engine = make_engine(local.effective_database_url)
            try:
                rng = random.Random(seed_value)  # noqa: S311 - made-up people, not secrets
                seconds = seed(PeopleRepository(make_session_factory(engine)), count, rng)
            finally:
                engine.dispose()
            print(f"seeded {count} people in {seconds:.1f} s "
                  f"({engine.url.render_as_string(hide_password=True)})")
            yield services
        finally:
            services.close()


def signed_in_client(services: Services) -> TestClient:
    services.auth.accounts.create_user(system_principal("bench"), USER, PASSWORD, Role.ADMIN)
    session = services.auth.web_sessions.sign_in(USER, PASSWORD, None)
    client = TestClient(create_app(services=services))
    client.cookies.set(SESSION_COOKIE, session.session_id)
    return client


def time_path(client: TestClient, what: str, path: str, requests: int, warmup: int) -> Timing:
    seconds: list[float] = []
    cpu: list[float] = []
    matches: int | None = None
    for i in range(warmup + requests):
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.get(path)
        elapsed, cpu_used = time.perf_counter() - started, time.process_time() - cpu_started
        if response.status_code != 200:
            raise RuntimeError(f"GET {path}: {response.status_code} {response.text[:200]}")
        if i >= warmup:
            seconds.append(elapsed)
            cpu.append(cpu_used)
    if path.startswith("/api/"):
        matches = int(response.json()["total"])
    p50, p95 = np.percentile(np.array(seconds) * 1000, [50, 95])
    cpu_p50 = float(np.percentile(np.array(cpu) * 1000, 50))
    return Timing(what, path, requests, float(p50), float(p95), cpu_p50, matches)


def run(
    settings: Settings,
    count: int,
    requests: int,
    search: str,
    seed_value: int = 7,
    pipeline: FacePipeline | None = None,  # loaded from settings when not given
) -> list[Timing]:
    """Seeds, then times each of the page's requests `requests` times after a warm-up."""
    first_page = "/api/v1/people?sort=name&page=1&page_size=50"
    paths = [
        ("the page shell (GET /ui/people)", "/ui/people"),
        ("first page, sorted by name", first_page),
        (f"name search {search!r}, sorted", f"{first_page}&q={search}"),
        ("age 30-40 in Hanoi, oldest first", "/api/v1/people?sort=-age&age_min=30&age_max=40"
         "&address=hanoi&page=1&page_size=50"),
        ("last page, sorted by name", first_page.replace("page=1", f"page={-(-count // 50)}")),
    ]
    # The access log's line per request is left out: it would bury the results.
    logging.getLogger("facebank.access").setLevel(logging.WARNING)
    with (
        seeded_services(settings, count, seed_value, pipeline) as services,
        signed_in_client(services) as client,
    ):
        return [time_path(client, what, path, requests, warmup=20) for what, path in paths]
