"""First admin, sign-in and sign-out: the UI's only plain form posts (no script needed)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio.to_thread
from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from facebank.api.deps import AccountsDep, SettingsDep, WebSessionsDep
from facebank.api.errors import status_for
from facebank.api.security import public
from facebank.errors import AuthenticationError, FacebankError
from facebank.services.accounts import AccountService
from facebank.services.web_sessions import SESSION_COOKIE, WebSessionService, csrf_matches
from facebank.web.forms import (
    FORM_FIELD,
    UI_ROOT,
    form_token,
    form_token_matches,
    remember_form_token,
    safe_next,
    set_cookie,
    text_field,
)
from facebank.web.templating import Templates

SIGN_IN = "/ui/sign-in"
SETUP = "/ui/setup"
SIGN_OUT = "/ui/sign-out"
STALE_FORM = "the form expired; please try again"

T = TypeVar("T")


def build_router(templates: Templates) -> APIRouter:
    router = APIRouter(include_in_schema=False, dependencies=[Depends(public)])

    def form_page(
        request: Request, template: str, status_code: int = 200, **context: object
    ) -> Response:
        token = form_token(request)
        response = templates.render(
            request, template, {"form_token": token, "form_field": FORM_FIELD, **context},
            status_code,
        )
        remember_form_token(request, response, token)
        return response

    @router.get("/")
    def root() -> RedirectResponse:
        return RedirectResponse(UI_ROOT, status_code=303)

    @router.get(SIGN_IN)
    def sign_in_page(request: Request, accounts: AccountsDep) -> Response:
        if not accounts.has_admin():
            return RedirectResponse(SETUP, status_code=303)
        return form_page(request, "sign_in.html", next=safe_next(request.query_params.get("next")))

    @router.post(SIGN_IN)
    async def sign_in(
        request: Request, web_sessions: WebSessionsDep, settings: SettingsDep
    ) -> Response:
        form = await request.form()
        target = safe_next(form.get("next"))
        username = text_field(form, "username")
        if not form_token_matches(request, form.get(FORM_FIELD)):
            return form_page(request, "sign_in.html", 403, next=target, error=STALE_FORM)
        try:
            signed = await _in_thread(
                web_sessions.sign_in, username, text_field(form, "password"), _address(request)
            )
        except FacebankError as exc:
            return form_page(
                request, "sign_in.html", status_for(exc), next=target, error=exc.message,
                username=username,
            )
        response = RedirectResponse(target, status_code=303)
        set_cookie(
            request, response, SESSION_COOKIE, signed.session_id, settings.web_session_ttl_s, "/"
        )
        return response

    @router.get(SETUP)
    def setup_page(request: Request, accounts: AccountsDep) -> Response:
        if accounts.has_admin():
            return RedirectResponse(SIGN_IN, status_code=303)
        return form_page(request, "setup.html")

    @router.post(SETUP)
    async def setup(
        request: Request,
        accounts: AccountsDep,
        web_sessions: WebSessionsDep,
        settings: SettingsDep,
    ) -> Response:
        form = await request.form()
        username, password = text_field(form, "username"), text_field(form, "password")
        if not form_token_matches(request, form.get(FORM_FIELD)):
            return form_page(request, "setup.html", 403, error=STALE_FORM, username=username)
        if password != text_field(form, "confirm"):
            return form_page(
                request, "setup.html", 422, error="the two passwords differ", username=username
            )
        try:
            await _in_thread(_first_admin, accounts, username, password)
            signed = await _in_thread(web_sessions.sign_in, username, password, _address(request))
        except FacebankError as exc:
            return form_page(
                request, "setup.html", status_for(exc), error=exc.message, username=username
            )
        response = RedirectResponse(UI_ROOT, status_code=303)
        set_cookie(
            request, response, SESSION_COOKIE, signed.session_id, settings.web_session_ttl_s, "/"
        )
        return response

    @router.post(SIGN_OUT)
    async def sign_out(request: Request, web_sessions: WebSessionsDep) -> Response:
        form = await request.form()
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            await _in_thread(_end_session, web_sessions, cookie, text_field(form, "csrf_token"))
        response = RedirectResponse(SIGN_IN, status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    return router


def _first_admin(accounts: AccountService, username: str, password: str) -> None:
    if accounts.has_admin():  # someone was quicker: this form no longer creates admins
        raise AuthenticationError("an admin already exists; sign in instead")
    accounts.register(username, password)


def _end_session(web_sessions: WebSessionService, cookie: str, csrf: str) -> None:
    """Ends the server-side session when the form carries its CSRF token; a forged
    sign-out (no token) only clears this browser's cookie, which costs the attacker
    nothing and the user a sign-in."""
    try:
        caller = web_sessions.resolve(cookie)
    except AuthenticationError:
        return
    if csrf_matches(caller.csrf_token, csrf):
        web_sessions.sign_out(caller.principal, cookie)


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


async def _in_thread(func: Callable[..., T], *args: object) -> T:
    # Password hashing takes ~50 ms of CPU: off the event loop.
    return await anyio.to_thread.run_sync(func, *args)
