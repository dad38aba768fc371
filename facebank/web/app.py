"""The whole service: the JSON API plus the browser UI on top of it."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from facebank.api.app import create_app as create_api_app
from facebank.config import Settings
from facebank.observability.logging import configure_logging
from facebank.services.container import Services
from facebank.web import pages, signing
from facebank.web.errors import install_page_errors
from facebank.web.templating import STATIC_DIR, STATIC_PATH, Templates


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    app = create_api_app(settings, services)
    templates = Templates()
    app.include_router(signing.build_router(templates))
    app.include_router(pages.build_router(templates))
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC_DIR), name="static")
    install_page_errors(app, templates)
    return app


def create_worker_app() -> FastAPI:
    """Entry point of each process of `facebank serve --workers N` (see the api's)."""
    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)
    return create_app(settings)
