"""Readiness checks and the detailed health report, built from the service container."""

from __future__ import annotations

import time
from typing import Any

import anyio
import anyio.to_thread

from facebank import __version__
from facebank.observability.request_stats import RequestStats
from facebank.observability.system import SystemProbe
from facebank.pipeline.lanes import LanedPipeline
from facebank.services.container import Services
from facebank.store.db import check_connection, database_kind, pool_status

Checks = dict[str, dict[str, Any]]
INDEX_TYPE = "faiss IndexIDMap2(IndexFlatIP): exact cosine search"


async def run_checks(services: Services) -> Checks:
    """models, database and index, within `health_db_timeout_s` even if the database hangs."""
    checks: Checks = {"models": _models_check(services)}
    timeout = services.settings.health_db_timeout_s
    # A dead server behind a live TCP endpoint can stall a connect for minutes: give up on
    # the thread (it finishes or fails on its own) rather than on the probe's deadline.
    with anyio.move_on_after(timeout) as scope:
        checks.update(
            await anyio.to_thread.run_sync(_database_checks, services, abandon_on_cancel=True)
        )
    if scope.cancelled_caught:
        checks["database"] = {"ok": False, "error": f"no answer within {timeout:g} s"}
        checks["index"] = {"ok": False, "error": "database unreachable"}
    return checks


def all_ok(checks: Checks) -> bool:
    return all(check["ok"] for check in checks.values())


def _models_check(services: Services) -> dict[str, Any]:
    providers = services.pipeline.providers_in_use  # empty until sessions were created
    return {"ok": bool(providers), "model_id": services.pipeline.model_id}


def _database_checks(services: Services) -> Checks:
    try:
        check_connection(services.engine)
    except Exception as exc:  # any driver error means "not reachable"
        return {
            "database": {"ok": False, "error": type(exc).__name__},
            "index": {"ok": False, "error": "database unreachable"},
        }
    status = services.index.status()
    return {
        "database": {"ok": True},
        "index": {
            "ok": status.consistent,
            "index_size": status.index_size,
            "db_count": status.db_count,
        },
    }


def detailed_report(
    services: Services,
    checks: Checks,
    started_at: float,
    stats: RequestStats,
    system: SystemProbe,
) -> dict[str, Any]:
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
            "window_s": stats.window_s,
            "routes": {route: s.as_dict() for route, s in stats.snapshot().items()},
        },
        "sessions": services.sessions_probe.snapshot().as_dict(),
    }


def _models(services: Services) -> dict[str, Any]:
    pipeline = services.pipeline
    return {
        "model_id": pipeline.model_id,
        "detector": pipeline.detector.path.name,
        "recogniser": pipeline.embedder.path.name,
        "model_dir": str(pipeline.embedder.path.parent),
        "providers": pipeline.providers_in_use,
        "det_size": pipeline.det_size,
        "embedding_dim": pipeline.dim,
    }


def _inference(services: Services) -> dict[str, Any]:
    stats = services.executor.stats()
    lanes = services.pipeline.lanes if isinstance(services.pipeline, LanedPipeline) else ()
    return {
        "lanes": [
            {
                "name": lane.name,
                "ort_threads": lane.threads,
                "jobs": stats.jobs_by_lane.get(lane.name, 0),
                "busy": lane.name in stats.busy_lanes,
            }
            for lane in lanes
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
    report: dict[str, Any] = {
        "type": INDEX_TYPE,
        "size": manager.index.size,
        "people": manager.index.person_count,
    }
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
