"""Roles and what each may do: THE one table that decides access (routes name a permission)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"


class Permission(StrEnum):
    ACCOUNT = "account"  # see and change one's own account
    READ = "read"  # people, faces, photos, index status, sessions and their events
    RECOGNIZE = "recognize"  # recognize, verify, detect, embeddings
    ENROLL = "enroll"  # create, edit and delete people and their faces
    RUN_SESSIONS = "run_sessions"  # start and stop live camera sessions
    IMPORT = "import"  # upload bulk imports (zip) run as background jobs
    MANAGE_INDEX = "manage_index"  # rebuild, re-embed, reset the index
    DELETE_ALL = "delete_all"  # wipe the gallery
    MANAGE_USERS = "manage_users"
    MANAGE_API_KEYS = "manage_api_keys"
    MANAGE_SETTINGS = "manage_settings"
    READ_AUDIT = "read_audit"
    READ_METRICS = "read_metrics"  # /metrics and /health/detailed (also the scrape key)
    EXPORT = "export"  # download the whole gallery (photos and embeddings) as one archive


_VIEWER = frozenset({Permission.ACCOUNT, Permission.READ, Permission.RECOGNIZE})
_OPERATOR = _VIEWER | {Permission.ENROLL, Permission.RUN_SESSIONS, Permission.IMPORT}

# The whole access policy. Each role includes the one above it in this table.
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: _VIEWER,
    Role.OPERATOR: _OPERATOR,
    Role.ADMIN: frozenset(Permission),
}

# The only thing a configured metrics scrape key can do.
SCRAPE_PERMISSIONS: frozenset[Permission] = frozenset({Permission.READ_METRICS})


def permissions_of(role: Role) -> frozenset[Permission]:
    return ROLE_PERMISSIONS[role]


def parse_role(value: str) -> Role:
    """A role from stored or user text; ValueError names the valid ones."""
    try:
        return Role(value)
    except ValueError:
        valid = ", ".join(r.value for r in Role)
        raise ValueError(f"unknown role {value!r}; expected one of {valid}") from None
