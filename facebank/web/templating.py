"""Renders the UI's templates, with the headers every page carries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from facebank import __version__
from facebank.auth.passwords import PASSWORD_MAX, PASSWORD_MIN
from facebank.services.audit import Action, Target

WEB_DIR = Path(__file__).resolve().parent
STATIC_DIR = WEB_DIR / "static"
STATIC_PATH = "/ui/static"

# No inline script or style anywhere: every script and stylesheet is a file of ours.
# img-src allows blob: for previews of photos the user picked (URL.createObjectURL).
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' blob: data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
PAGE_HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-store"}


class Templates:
    def __init__(self) -> None:
        self._env = Environment(
            loader=FileSystemLoader(WEB_DIR / "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.globals.update(
            static=STATIC_PATH,
            version=__version__,
            password_min=PASSWORD_MIN,  # the form's limits are the account service's
            password_max=PASSWORD_MAX,
            audit_actions=[a.value for a in Action],  # the audit page's filter choices
            audit_targets=[t.value for t in Target],
        )

    def render(
        self,
        request: Request,
        template: str,
        context: dict[str, Any],
        status_code: int = 200,
        headers: dict[str, str] | None = None,
    ) -> HTMLResponse:
        html = self._env.get_template(template).render(request=request, **context)
        return HTMLResponse(html, status_code, headers={**PAGE_HEADERS, **(headers or {})})
