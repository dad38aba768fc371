"""The UI's pages: one table says each page's path, title, permission and place in the menu;
the routes are made from it, so a page cannot be added without declaring who may see it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from facebank.api.security import require
from facebank.auth.principal import Principal
from facebank.auth.roles import Permission
from facebank.errors import AuthenticationError
from facebank.services.web_sessions import WebCaller
from facebank.web.templating import Templates

P = Permission


@dataclass(frozen=True)
class Page:
    name: str  # its template is pages/<name>.html, its script js/pages/<name>.js
    path: str
    title: str
    permission: Permission
    menu: str | None = None  # the menu group it is listed under; None: reached by links


# Order matters where paths overlap: /ui/people/new before /ui/people/{id}.
PAGES: tuple[Page, ...] = (
    Page("dashboard", "/ui/", "Dashboard", P.READ, "Dashboard"),
    Page("people", "/ui/people", "People", P.READ, "People"),
    Page("add_person", "/ui/people/new", "Add a person", P.ENROLL),
    Page("person", "/ui/people/{person_id:int}", "Person", P.READ),
    Page("unknowns", "/ui/unknowns", "Unknown faces", P.READ, "Unknown faces"),
    Page("recognise", "/ui/recognise", "Recognise", P.RECOGNIZE, "Recognise"),
    Page("verify", "/ui/verify", "Verify", P.RECOGNIZE, "Verify"),
    Page("sessions", "/ui/sessions", "Sessions", P.READ, "Sessions"),
    Page("new_session", "/ui/sessions/new", "Start a session", P.RUN_SESSIONS),
    Page("session", "/ui/sessions/{session_id:int}", "Session", P.READ),
    Page("import", "/ui/import", "Import", P.IMPORT, "Import"),
    Page("users", "/ui/admin/users", "Users", P.MANAGE_USERS, "Admin"),
    Page("api_keys", "/ui/admin/keys", "API keys", P.MANAGE_API_KEYS, "Admin"),
    Page("audit", "/ui/admin/audit", "Audit log", P.READ_AUDIT, "Admin"),
    Page("system", "/ui/admin/system", "System", P.MANAGE_INDEX, "Admin"),
    Page("account", "/ui/account", "My account", P.ACCOUNT),
)


@dataclass(frozen=True)
class MenuItem:
    title: str
    path: str
    active: bool


def menu_for(principal: Principal, current: Page) -> dict[str, list[MenuItem]]:
    """Menu groups in table order, holding only the pages the caller may open."""
    groups: dict[str, list[MenuItem]] = {}
    for page in PAGES:
        if page.menu is not None and principal.can(page.permission):
            groups.setdefault(page.menu, []).append(
                MenuItem(page.title, page.path, page.name == current.name)
            )
    return groups


def page_context(request: Request, page: Page, principal: Principal) -> dict[str, Any]:
    caller: WebCaller | None = getattr(request.state, "web_caller", None)
    if caller is None:  # an API key or token on a page: pages are for browser sessions
        raise AuthenticationError("sign in to use the web UI")
    return {
        "page": page.name,
        "title": page.title,
        "user": principal,
        "can": sorted(p.value for p in principal.permissions),
        "csrf_token": caller.csrf_token,
        "menu": menu_for(principal, page),
        "params": dict(request.path_params),
    }


def build_router(templates: Templates) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    for page in PAGES:
        router.add_api_route(page.path, _view(templates, page), methods=["GET"], name=page.name)
    return router


def _view(templates: Templates, page: Page) -> Any:
    allowed = Depends(require(page.permission))

    def view(request: Request, principal: Principal = allowed) -> Response:
        return templates.render(
            request, f"pages/{page.name}.html", page_context(request, page, principal)
        )

    return view
