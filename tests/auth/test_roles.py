"""The role table: each role includes the one below it; only admins administer."""

from __future__ import annotations

import pytest

from facebank.auth.principal import scrape_principal, system_principal
from facebank.auth.roles import ROLE_PERMISSIONS, Permission, Role, parse_role

ADMIN_ONLY = {
    Permission.MANAGE_INDEX,
    Permission.DELETE_ALL,
    Permission.MANAGE_USERS,
    Permission.MANAGE_API_KEYS,
    Permission.MANAGE_SETTINGS,
    Permission.READ_AUDIT,
    Permission.READ_METRICS,
    Permission.EXPORT,
}


def test_every_role_is_in_the_table() -> None:
    assert set(ROLE_PERMISSIONS) == set(Role)


def test_roles_nest() -> None:
    viewer, operator, admin = (
        ROLE_PERMISSIONS[r] for r in (Role.VIEWER, Role.OPERATOR, Role.ADMIN)
    )
    assert viewer < operator < admin
    assert admin == frozenset(Permission)


def test_viewer_reads_and_recognizes_only() -> None:
    assert ROLE_PERMISSIONS[Role.VIEWER] == {
        Permission.ACCOUNT,
        Permission.READ,
        Permission.RECOGNIZE,
    }


def test_operator_enrolls_and_runs_sessions_but_administers_nothing() -> None:
    operator = ROLE_PERMISSIONS[Role.OPERATOR]
    assert {Permission.ENROLL, Permission.RUN_SESSIONS, Permission.IMPORT} <= operator
    assert not operator & ADMIN_ONLY


def test_scrape_key_reads_metrics_only() -> None:
    assert scrape_principal().permissions == {Permission.READ_METRICS}
    assert system_principal("cli").role is Role.ADMIN


def test_parse_role_names_the_valid_roles() -> None:
    assert parse_role("operator") is Role.OPERATOR
    with pytest.raises(ValueError, match="viewer, operator, admin"):
        parse_role("root")
