"""Who is calling: a user, a machine's API key, the metrics scraper, or the system itself."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from facebank.auth.roles import SCRAPE_PERMISSIONS, Permission, Role, permissions_of


class PrincipalKind(StrEnum):
    USER = "user"
    API_KEY = "api_key"
    SCRAPE_KEY = "scrape_key"
    # Work done from the command line or by the service itself (bootstrap, migrations).
    SYSTEM = "system"


@dataclass(frozen=True)
class Principal:
    """An authenticated caller; also the actor recorded in the audit log."""

    kind: PrincipalKind
    id: int | None
    name: str
    role: Role | None
    permissions: frozenset[Permission]

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    @property
    def is_user(self) -> bool:
        return self.kind is PrincipalKind.USER


def user_principal(user_id: int, username: str, role: Role) -> Principal:
    return Principal(PrincipalKind.USER, user_id, username, role, permissions_of(role))


def key_principal(key_id: int, name: str, role: Role) -> Principal:
    return Principal(PrincipalKind.API_KEY, key_id, name, role, permissions_of(role))


def scrape_principal() -> Principal:
    return Principal(PrincipalKind.SCRAPE_KEY, None, "metrics-scraper", None, SCRAPE_PERMISSIONS)


def system_principal(name: str) -> Principal:
    """Full rights; only code paths that already run with the operator's shell access use it."""
    return Principal(PrincipalKind.SYSTEM, None, name, Role.ADMIN, permissions_of(Role.ADMIN))
