"""The one place where failures become HTTP responses, all in one JSON shape."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from facebank import errors

log = logging.getLogger(__name__)

STATUS_BY_ERROR: dict[type[errors.FacebankError], int] = {
    errors.ImageInvalidError: 400,
    errors.ImageTooLargeError: 413,
    errors.NoFaceError: 422,
    errors.MultipleFacesError: 422,
    errors.LowQualityError: 422,
    errors.NotFoundError: 404,
    errors.ConflictError: 409,
    errors.ImportInProgressError: 409,
    errors.DuplicateFaceError: 409,
    errors.CalibrationUnavailableError: 409,
    errors.ValidationFailedError: 422,
    errors.ModelMismatchError: 409,
    errors.ModelPackError: 500,
    errors.IndexInconsistentError: 503,
    errors.ArchiveRefusedError: 400,
    errors.ArchiveInvalidError: 400,
    errors.AuthenticationError: 401,
    errors.PermissionDeniedError: 403,
    errors.CsrfFailedError: 403,
    errors.RateLimitedError: 429,
    errors.ServiceUnavailableError: 503,
}

CODE_BY_HTTP_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return {"error": error}


def status_for(exc: errors.FacebankError) -> int:
    for kind in type(exc).__mro__:
        if kind in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[kind]
    return 400


def headers_for(exc: errors.FacebankError) -> dict[str, str] | None:
    if isinstance(exc, errors.AuthenticationError):
        # RFC 9110: a 401 names the scheme to use (the X-API-Key header is the other way in).
        return {"WWW-Authenticate": "Bearer"}
    if isinstance(exc, errors.RateLimitedError | errors.ServiceUnavailableError):
        return {"Retry-After": str(exc.retry_after_s)}
    return None


async def facebank_error_response(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.FacebankError)
    return JSONResponse(
        error_body(exc.code, exc.message, exc.details),
        status_code=status_for(exc),
        headers=headers_for(exc),
    )


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [
        {"field": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")}
        for e in exc.errors()
    ]
    body = error_body("validation_error", "the request is not valid", {"problems": problems})
    return JSONResponse(body, status_code=422)


async def http_error_response(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = CODE_BY_HTTP_STATUS.get(exc.status_code, "http_error")
    return JSONResponse(
        error_body(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
    )


async def _unexpected_error(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return JSONResponse(error_body("internal_error", "internal server error"), status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(errors.FacebankError, facebank_error_response)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error_response)
    app.add_exception_handler(Exception, _unexpected_error)
