"""Prometheus exposition of this process's metrics."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from facebank.api.deps import MetricsDep
from facebank.api.security import require_admin_or_scrape_key

router = APIRouter(tags=["health"])


@router.get(
    "/metrics",
    dependencies=[Depends(require_admin_or_scrape_key)],
    response_class=Response,
    summary="Prometheus metrics (text exposition format)",
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}},
)
def metrics(recorded: MetricsDep) -> Response:
    # A plain (sync) route: FastAPI runs it on a worker thread, off the event loop.
    return Response(generate_latest(recorded.registry), media_type=CONTENT_TYPE_LATEST)
