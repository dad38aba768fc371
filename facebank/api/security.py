"""Who may call what: FastAPI dependencies over the services' Authenticator.

Routes declare what they need with `require(Permission.X)` (the role -> permission table is
facebank.auth.roles). The few public routes are listed in PUBLIC_PATHS. Any other route that
declares nothing is admin-only (`enforce_declared_access`, installed app-wide): forgetting
to declare access fails closed, not open.
"""

from __future__ import annotations

from typing import Annotated

import anyio.to_thread
from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer

from facebank.api.deps import AuthenticatorDep, WebSessionsDep
from facebank.auth.principal import Principal
from facebank.auth.roles import Permission, Role
from facebank.errors import AuthenticationError, CsrfFailedError, PermissionDeniedError
from facebank.services.authenticator import Authenticator, Credentials
from facebank.services.web_sessions import (
    CSRF_HEADER,
    SESSION_COOKIE,
    WebSessionService,
    csrf_matches,
)

API_KEY_HEADER = "X-API-Key"
LOGIN_PATH = "/api/v1/auth/login"
REGISTER_PATH = "/api/v1/auth/register"
COMPAT_PREFIX = "/compat"  # the replaced system's endpoints (api.routes.compat)

# Reachable without credentials. Registration refuses by itself once it is closed.
PUBLIC_PATHS: frozenset[str] = frozenset(
    {"/health", "/health/live", "/health/ready", LOGIN_PATH, REGISTER_PATH}
    | {f"{COMPAT_PREFIX}/login", f"{COMPAT_PREFIX}/register"}
)

# Declared as security schemes so the OpenAPI document (and /docs' Authorize button) show
# them; auto_error=False because the missing-credentials answer is ours (one error shape).
_bearer_scheme = OAuth2PasswordBearer(tokenUrl=LOGIN_PATH, auto_error=False)
_api_key_scheme = APIKeyHeader(name=API_KEY_HEADER, auto_error=False)


def credentials_of(request: Request) -> Credentials:
    bearer = None
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer":
            raise AuthenticationError("only Bearer authorization is supported")
        bearer = value.strip()
    return Credentials(bearer=bearer, api_key=request.headers.get(API_KEY_HEADER))


def has_credentials(request: Request) -> bool:
    return "authorization" in request.headers or API_KEY_HEADER in request.headers


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def authenticate(
    request: Request,
    authenticator: AuthenticatorDep,
    web_sessions: WebSessionsDep,
    _bearer: Annotated[str | None, Depends(_bearer_scheme)],
    _key: Annotated[str | None, Depends(_api_key_scheme)],
) -> Principal:
    """The caller, or 401. Headers win; without any, a browser's session cookie counts."""
    return await _caller(request, authenticator, web_sessions)


async def _caller(
    request: Request, authenticator: Authenticator, web_sessions: WebSessionService
) -> Principal:
    cookie = request.cookies.get(SESSION_COOKIE)
    if has_credentials(request) or not cookie:
        return await _principal(authenticator, credentials_of(request))
    return await cookie_principal(request, web_sessions, cookie)


async def cookie_principal(
    request: Request, web_sessions: WebSessionService, cookie: str
) -> Principal:
    """The browser's user; an unsafe method must echo the session's CSRF token (403)."""
    # As for keys: a cached session is checked on the event loop, a miss in a worker thread.
    caller = web_sessions.resolve_cached(cookie)
    if caller is None:
        caller = await anyio.to_thread.run_sync(web_sessions.resolve, cookie)
    # Kept for the web UI's pages, which embed the session's CSRF token (one lookup, not two).
    request.state.web_caller = caller
    if request.method not in SAFE_METHODS and not csrf_matches(
        caller.csrf_token, request.headers.get(CSRF_HEADER)
    ):
        raise CsrfFailedError(f"this request needs the {CSRF_HEADER} header of the session")
    return caller.principal


async def _principal(authenticator: Authenticator, credentials: Credentials) -> Principal:
    # A cached answer is a few microseconds: checked on the event loop, since a thread hop
    # costs ~1 ms on a busy 2-core machine (docs/bench.md). A miss reads the database, in a
    # worker thread.
    principal = authenticator.authenticate_cached(credentials)
    if principal is None:
        principal = await anyio.to_thread.run_sync(authenticator.authenticate, credentials)
    return principal


class Requirement:
    """A dependency that lets through principals holding `permission` (401 / 403 otherwise)
    and returns the principal, e.g. to record it as the actor in the audit log."""

    def __init__(self, permission: Permission) -> None:
        self.permission = permission

    # async: a pure check, so it runs on the event loop rather than costing a thread hop.
    async def __call__(self, principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if not principal.can(self.permission):
            raise PermissionDeniedError(
                f"this needs the {self.permission.value!r} permission, which the "
                f"{principal.role.value if principal.role else principal.kind.value} role "
                "does not have",
                permission=self.permission.value,
            )
        return principal

    def __repr__(self) -> str:
        return f"require({self.permission.value})"


_REQUIREMENTS = {permission: Requirement(permission) for permission in Permission}


def require(permission: Permission) -> Requirement:
    return _REQUIREMENTS[permission]


# For /metrics and /health/detailed: an admin, or the configured metrics scrape key.
require_admin_or_scrape_key = require(Permission.READ_METRICS)

# Route parameter types: `actor: Enroller` both checks and hands over the caller.
Account = Annotated[Principal, Depends(require(Permission.ACCOUNT))]
Reader = Annotated[Principal, Depends(require(Permission.READ))]
Recognizer = Annotated[Principal, Depends(require(Permission.RECOGNIZE))]
Enroller = Annotated[Principal, Depends(require(Permission.ENROLL))]
SessionRunner = Annotated[Principal, Depends(require(Permission.RUN_SESSIONS))]
ImportRunner = Annotated[Principal, Depends(require(Permission.IMPORT))]
IndexAdmin = Annotated[Principal, Depends(require(Permission.MANAGE_INDEX))]
UserAdmin = Annotated[Principal, Depends(require(Permission.MANAGE_USERS))]
KeyAdmin = Annotated[Principal, Depends(require(Permission.MANAGE_API_KEYS))]
AuditReader = Annotated[Principal, Depends(require(Permission.READ_AUDIT))]
GalleryExporter = Annotated[Principal, Depends(require(Permission.EXPORT))]


async def require_user(principal: Account) -> Principal:
    """Self-service on a user account (e.g. password change); API keys have none (403)."""
    if not principal.is_user:
        raise PermissionDeniedError("this needs a user login, not an API key")
    return principal


AccountUser = Annotated[Principal, Depends(require_user)]


async def optional_principal(
    request: Request, authenticator: AuthenticatorDep, web_sessions: WebSessionsDep
) -> Principal | None:
    """The caller if they sent credentials (which must then be valid), else None."""
    if not has_credentials(request) and SESSION_COOKIE not in request.cookies:
        return None
    return await _caller(request, authenticator, web_sessions)


async def enforce_declared_access(
    request: Request, authenticator: AuthenticatorDep, web_sessions: WebSessionsDep
) -> None:
    """App-wide safety net: routes that are neither public nor declare a Requirement are
    admin-only, so a new route that forgot its access rule is closed rather than open.
    (Paths are compared as routers declare them; no router is included with a prefix.)"""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or route.path in PUBLIC_PATHS or declares_access(route):
        return
    principal = await _caller(request, authenticator, web_sessions)
    if principal.role is not Role.ADMIN:
        raise PermissionDeniedError("this route has no declared access rule: admins only")


class PublicAccess:
    """A dependency that declares a route open to anyone (e.g. the web UI's sign-in page),
    where a path in PUBLIC_PATHS would not fit: the declaration sits on the route itself."""

    async def __call__(self) -> None:
        return None

    def __repr__(self) -> str:
        return "public"


public = PublicAccess()


def declares_access(route: APIRoute) -> bool:
    # A walk over a handful of dependencies: microseconds, so not worth caching per route.
    return bool(_requirements(route.dependant)) or _declares_public(route.dependant)


def _declares_public(dependant: Dependant) -> bool:
    return any(sub.call is public for sub in dependant.dependencies)


def declared_permission(route: APIRoute) -> Permission | None:
    """The permission a route requires (None for public or undeclared routes)."""
    found = _requirements(route.dependant)
    return found[0].permission if found else None


def _requirements(dependant: Dependant) -> list[Requirement]:
    found = []
    for sub in dependant.dependencies:
        if isinstance(sub.call, Requirement):
            found.append(sub.call)
        found.extend(_requirements(sub))
    return found
