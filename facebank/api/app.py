"""The FastAPI application factory."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from facebank import __version__
from facebank.api.body_limit import BodyLimitMiddleware
from facebank.api.errors import install_error_handlers
from facebank.api.middleware import RequestContextMiddleware
from facebank.api.openapi import document_models
from facebank.api.routes import (
    api_keys,
    audit,
    auth,
    compat,
    export,
    faces,
    health,
    imports,
    index,
    metrics,
    negatives,
    people,
    people_fix,
    recognition,
    sessions,
    unknowns,
    users,
)
from facebank.api.security import API_KEY_HEADER, enforce_declared_access
from facebank.api.security_headers import SecurityHeadersMiddleware
from facebank.config import Settings
from facebank.observability.system import SystemProbe
from facebank.services.container import Services, build_services

DESCRIPTION = """
Self-hosted face recognition: enroll people with face photos, identify faces (1:N),
verify (1:1), detect and embed. Errors always look like
`{"error": {"code": "no_face", "message": "..."}}`.
"""


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    """Build the app. Pass `services` to share already-loaded models (tests)."""
    settings = settings or (services.settings if services else Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = services is None
        app.state.services = services or build_services(settings)
        if owned:
            app.state.services.start()
        app.state.started_at = time.monotonic()
        try:
            yield
        finally:
            if owned:
                app.state.services.close()

    app = FastAPI(
        title="facebank",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        # Routes that declare no access rule are admin-only (see api.security).
        dependencies=[Depends(enforce_declared_access)],
    )
    app.state.system = SystemProbe(settings.data_dir)
    install_error_handlers(app)
    for module in (people, faces, recognition, index, health, metrics, sessions, imports):
        app.include_router(module.router)
    app.include_router(people_fix.router)
    for module in (auth, users, api_keys, audit, export):
        app.include_router(module.router)
    app.include_router(unknowns.router)  # the unknown faces' review queue (issue 12)
    app.include_router(negatives.router)  # "not this person" labels (issue 12)
    app.include_router(compat.router)  # the replaced system's endpoints, under /compat
    document_models(app, people.SELF_PARSED_MODELS)
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_request_bytes,
        path_limits={imports.IMPORTS_PATH: settings.import_max_upload_bytes},
    )
    if settings.cors_origins:  # closed unless configured
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", API_KEY_HEADER],
            allow_credentials=False,  # credentials travel in headers, never cookies
            max_age=600,
        )
    app.add_middleware(SecurityHeadersMiddleware)
    # Added last, so outermost: even a refused body gets a request id and is counted.
    app.add_middleware(RequestContextMiddleware)
    return app
