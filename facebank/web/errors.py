"""Failures on a page become pages (sign-in, a 403 message, not found); everywhere else
they stay the API's JSON errors."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from facebank import errors
from facebank.api.errors import facebank_error_response, http_error_response, status_for
from facebank.web.templating import STATIC_PATH, Templates

UI_PREFIX = "/ui"
SIGN_IN = "/ui/sign-in"


def is_page_request(request: Request) -> bool:
    path = request.url.path
    return (
        request.method in ("GET", "HEAD")
        and (path == UI_PREFIX or path.startswith(UI_PREFIX + "/"))
        and not path.startswith(STATIC_PATH)
    )


def install_page_errors(app: FastAPI, templates: Templates) -> None:
    async def on_facebank_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, errors.FacebankError)
        if not is_page_request(request):
            return await facebank_error_response(request, exc)
        if isinstance(exc, errors.AuthenticationError):
            query = f"?{request.url.query}" if request.url.query else ""
            return RedirectResponse(
                f"{SIGN_IN}?next={quote(request.url.path + query)}", status_code=303
            )
        return _error_page(templates, request, status_for(exc), exc.message)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if not is_page_request(request):
            return await http_error_response(request, exc)
        message = "there is no such page" if exc.status_code == 404 else str(exc.detail)
        return _error_page(templates, request, exc.status_code, message)

    app.add_exception_handler(errors.FacebankError, on_facebank_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)


def _error_page(templates: Templates, request: Request, status: int, message: str) -> Response:
    titles = {403: "Not allowed", 404: "Not found"}
    return templates.render(
        request,
        "error.html",
        {"title": titles.get(status, "Something went wrong"), "status": status, "message": message},
        status,
    )
