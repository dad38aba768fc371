"""Form posts of the pages that run before there is a session (sign-in, first admin).

They are guarded by a double-submit token: the page sets it in a cookie and repeats it in
a hidden field; a post whose field does not match its cookie is refused. Another site can
make a browser post the form but can neither read nor set our cookie (SameSite=Strict too).
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import Response
from starlette.datastructures import FormData

FORM_COOKIE = "facebank_form"
FORM_FIELD = "form_token"
UI_ROOT = "/ui/"


def form_token(request: Request) -> str:
    """The browser's form token, or a new one (which `remember_form_token` then sets)."""
    return request.cookies.get(FORM_COOKIE) or secrets.token_urlsafe(32)


def remember_form_token(request: Request, response: Response, token: str) -> None:
    if request.cookies.get(FORM_COOKIE) != token:
        set_cookie(request, response, FORM_COOKIE, token, max_age=None, path="/ui")


def form_token_matches(request: Request, presented: object) -> bool:
    expected = request.cookies.get(FORM_COOKIE)
    return (
        isinstance(presented, str)
        and expected is not None
        and hmac.compare_digest(expected.encode(), presented.encode("utf-8", "replace"))
    )


def set_cookie(
    request: Request, response: Response, name: str, value: str, max_age: int | None, path: str
) -> None:
    """HttpOnly and SameSite=Strict always; Secure whenever the page came over HTTPS."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def safe_next(target: object) -> str:
    """Where to go after signing in: only a path of the UI itself (no open redirect)."""
    if not isinstance(target, str) or not target.startswith(UI_ROOT):
        return UI_ROOT
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target or target.startswith("//"):
        return UI_ROOT
    return target


def text_field(form: FormData, name: str, limit: int = 1024) -> str:
    """A form field as text ('' when missing or a file), clipped to `limit` characters."""
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""
