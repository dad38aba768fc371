"""Readiness checks and the detailed health report, built from the service container."""

from __future__ import annotations

import time
from typing import Any

from facebank import __version__
from facebank.errors import VectorEngineUnavailableError
from facebank.observability.probe import CheckTimeout, SingleFlightCheck
from facebank.observability.system import SystemProbe
from facebank.services.container import Services
from facebank.store.db import check_connection, database_kind, pool_status

Checks = dict[str, dict[str, Any]]
INDEX_TYPE = "faiss IndexIDMap2(IndexFlatIP): exact cosine search"


# An enroll commits its rows a moment before it adds them to the index: a lag seen once
# may be that moment, so it is looked at again after this pause before it counts.
INDEX_RECHECK_S = 0.25


class ReadinessChecks:
    """The checks behind /health/ready, /health and /health/detailed, for one app.

    The database-touching part runs through a SingleFlightCheck: probes share one
    round trip, answer within `health_db_timeout_s`, and a hung database cannot pile
    up threads (see facebank.observability.probe)."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._database: SingleFlightCheck[Checks] = SingleFlightCheck(
            lambda: _database_checks(services), name="health-db"
        )

    @property
    def stuck_checks(self) -> int:
        """Database checks still running (stuck ones included): bounded by design."""
        return self._database.running

    async def run(self) -> Checks:
        services = self._services
        checks: Checks = {"models": _models_check(services)}
        timeout = services.settings.health_db_timeout_s
        try:
            checks.update(await self._database.run(timeout))
        except CheckTimeout as exc:
            checks["database"] = {"ok": False, "error": str(exc)}
            checks["index"] = {"ok": False, "error": "database unreachable"}
        return checks


def readiness(app_state: Any, services: Services) -> ReadinessChecks:
    """The app's ReadinessChecks, made on first use (one per app, so probes share it)."""
    checks: ReadinessChecks | None = getattr(app_state, "readiness", None)
    if checks is None:
        checks = app_state.readiness = ReadinessChecks(services)
    return checks


def all_ok(checks: Checks) -> bool:
    return all(check["ok"] for check in checks.values())


def _models_check(services: Services) -> dict[str, Any]:
    providers = services.pipeline.providers_in_use  # empty until sessions were created
    return {"ok": bool(providers), "model_id": services.pipeline.model_id}


def _database_checks(services: Services) -> Checks:
    try:
        check_connection(services.engine)
        # The applied change against the database's (one primary-key read), not every
        # face id: O(1) at any gallery size. GET /api/v1/index does the full comparison.
        lag = services.index.lag()
        if not lag.current:
            time.sleep(INDEX_RECHECK_S)
            lag = services.index.lag()
    except VectorEngineUnavailableError as exc:  # the database answered; the engine did not
        return {
            "database": {"ok": True},
            "index": {"ok": False, "error": f"{type(exc).__name__}: {_first_line(exc)}"},
        }
    except Exception as exc:  # any driver error means "not reachable"
        return {
            "database": {"ok": False, "error": f"{type(exc).__name__}: {_first_line(exc)}"},
            "index": {"ok": False, "error": "database unreachable"},
        }
    return {
        "database": {"ok": True},
        "index": {
            "ok": lag.current,
            "index_size": lag.index_size,
            "applied_version": lag.applied_version,
            "db_version": lag.db_version,
        },
    }


def _first_line(exc: Exception) -> str:
    # Driver messages run to several lines (SQL, background links); the first says what.
    text = str(getattr(exc, "orig", None) or exc)
    return text.splitlines()[0][:200] if text else ""


def detailed_report(
    services: Services,
    checks: Checks,
    started_at: float,
    system: SystemProbe,
) -> dict[str, Any]:
    recent = services.metrics.http.window
    return {
        "status": "ok" if all_ok(checks) else "degraded",
        "version": __version__,
        "uptime_s": round(time.monotonic() - started_at, 1),
        "checks": checks,
        "models": _models(services),
        "inference": _inference(services),
        "database": _database(services),
        "index": _index(services, checks),
        "system": system.snapshot(),
        "requests": {
            "window_s": recent.window_s,
            "routes": {route: s.as_dict() for route, s in recent.snapshot().items()},
        },
        "sessions": services.sessions_probe.snapshot().as_dict(),
    }


def _models(services: Services) -> dict[str, Any]:
    pipeline = services.pipeline
    models = pipeline.lanes.first
    return {
        "model_id": pipeline.model_id,
        "detector": models.detector.path.name,
        "recogniser": models.embedder.path.name,
        "model_dir": str(models.embedder.path.parent),
        "providers": pipeline.providers_in_use,
        "det_size": pipeline.det_size,
        "embedding_dim": pipeline.dim,
    }


def _inference(services: Services) -> dict[str, Any]:
    stats = services.executor.stats()
    return {
        "lanes": [
            {
                "name": lane.name,
                "ort_threads": lane.threads,
                "jobs": stats.jobs_by_lane.get(lane.name, 0),
                "busy": lane.name in stats.busy_lanes,
            }
            for lane in services.pipeline.lanes
        ],
        "in_flight": stats.in_flight,
        "waiting": stats.waiting,
    }


def _database(services: Services) -> dict[str, Any]:
    return {
        "kind": database_kind(services.engine),
        "url": services.engine.url.render_as_string(hide_password=True),
        "pool": pool_status(services.engine),
    }


def _index(services: Services, checks: Checks) -> dict[str, Any]:
    manager = services.index
    faces, people = manager.size
    report: dict[str, Any] = {"type": INDEX_TYPE, "size": faces, "people": people}
    if checks.get("database", {}).get("ok"):
        status = manager.status()
        report.update(
            consistent=status.consistent,
            db_count=status.db_count,
            last_sync=status.last_sync,
            last_sync_kind=status.last_sync_kind,
            last_sync_seconds=status.last_sync_seconds,
            snapshot_saved_at=status.snapshot_saved_at,
        )
    return report
