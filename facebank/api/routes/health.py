"""Liveness, readiness, a short summary and the detailed report (for admins)."""

from __future__ import annotations

import time

import anyio.to_thread
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from facebank import __version__
from facebank.api.deps import ServicesDep
from facebank.api.health_checks import all_ok, detailed_report, readiness
from facebank.api.security import require_admin_or_scrape_key

router = APIRouter(tags=["health"])


@router.get("/health/live", summary="The process is up")
async def live() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/health/ready",
    summary="Models loaded, database reachable, index consistent (503 names what failed)",
)
async def ready(request: Request, services: ServicesDep) -> JSONResponse:
    checks = await readiness(request.app.state, services).run()
    ok = all_ok(checks)
    failing = [name for name, check in checks.items() if not check["ok"]]
    body = {"status": "ready" if ok else "not_ready", "checks": checks, "failing": failing}
    return JSONResponse(body, status_code=200 if ok else 503)


@router.get("/health", summary="Short summary")
async def summary(request: Request, services: ServicesDep) -> JSONResponse:
    checks = await readiness(request.app.state, services).run()
    ok = all_ok(checks)
    return JSONResponse(
        {
            "status": "ok" if ok else "degraded",
            "version": __version__,
            "uptime_s": round(time.monotonic() - request.app.state.started_at, 1),
            "model_id": services.pipeline.model_id,
            "faces_indexed": services.index.size[0],
            "failing": [name for name, check in checks.items() if not check["ok"]],
        },
        status_code=200 if ok else 503,
    )


@router.get(
    "/health/detailed",
    summary="Everything an operator looks at (admin or metrics scrape key)",
    dependencies=[Depends(require_admin_or_scrape_key)],
)
async def detailed(request: Request, services: ServicesDep) -> JSONResponse:
    checks = await readiness(request.app.state, services).run()
    state = request.app.state
    report = await anyio.to_thread.run_sync(
        detailed_report, services, checks, state.started_at, state.system
    )
    return JSONResponse(report, status_code=200 if all_ok(checks) else 503)
