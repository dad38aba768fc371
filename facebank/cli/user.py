"""`facebank user`: bootstrap and administer accounts from the shell (no models loaded).

Whoever runs this already controls the data directory and database, so it acts as the
"system" principal; every change is still audited under the shell user's name.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from facebank.auth.clock import system_clock
from facebank.auth.principal import Principal, system_principal
from facebank.auth.roles import Role
from facebank.config import Settings
from facebank.errors import FacebankError
from facebank.services.auth_setup import AuthServices, build_auth


def register(commands: Any) -> None:
    user = commands.add_parser("user", help="create and administer user accounts and API keys")
    actions = user.add_subparsers(dest="user_command", required=True)

    create = actions.add_parser("create", help="create a user (e.g. the first admin)")
    create.add_argument("username")
    roles = create.add_mutually_exclusive_group()
    roles.add_argument("--admin", action="store_true", help="same as --role admin")
    roles.add_argument("--role", choices=[r.value for r in Role], default=Role.VIEWER.value)
    _password_source(create)
    create.set_defaults(handler=_create)

    listing = actions.add_parser("list", help="list users")
    listing.set_defaults(handler=_list)

    password = actions.add_parser("set-password", help="reset a user's password")
    password.add_argument("username")
    _password_source(password)
    password.set_defaults(handler=_set_password)

    key = actions.add_parser("api-key", help="create an API key (printed once)")
    key.add_argument("name")
    key.add_argument("--role", choices=[r.value for r in Role], required=True)
    key.add_argument("--expires-days", type=int, help="default: never expires")
    key.set_defaults(handler=_api_key)


def _password_source(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input (for scripts) instead of prompting",
    )


def _create(settings: Settings, args: argparse.Namespace) -> int:
    role = Role.ADMIN if args.admin else Role(args.role)
    return _run(
        settings,
        lambda auth, actor: print(
            "created {0.username} ({0.role}), id {0.id}".format(
                auth.accounts.create_user(actor, args.username, _password(args), role)
            )
        ),
    )


def _list(settings: Settings, _: argparse.Namespace) -> int:
    def show(auth: AuthServices, _actor: Principal) -> None:
        offset = 0
        while page := auth.accounts.list_users(offset, 200).items:
            for u in page:
                state = "active" if u.is_active else "inactive"
                print(f"{u.id:>6}  {u.username:<32} {u.role:<9} {state}")
            offset += len(page)

    return _run(settings, show)


def _set_password(settings: Settings, args: argparse.Namespace) -> int:
    def reset(auth: AuthServices, actor: Principal) -> None:
        found = auth.accounts.find_user(args.username)
        auth.accounts.update_user(actor, found.id, password=_password(args))
        print(f"password of {found.username} changed; their sessions have ended")

    return _run(settings, reset)


def _api_key(settings: Settings, args: argparse.Namespace) -> int:
    expires = None
    if args.expires_days is not None:
        expires = datetime.now(UTC) + timedelta(days=args.expires_days)

    def create(auth: AuthServices, actor: Principal) -> None:
        created = auth.api_keys.create(actor, args.name, Role(args.role), expires)
        print(created.key)  # alone on stdout, so scripts can capture it
        print(
            f"API key {created.record.id} ({created.record.role}); shown only now, store it",
            file=sys.stderr,
        )

    return _run(settings, create)


def _run(settings: Settings, action: Any) -> int:
    from facebank.store.db import make_engine, make_session_factory, migrate

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.effective_database_url, pool_size=1, max_overflow=1)
    try:
        migrate(engine)
        auth = build_auth(settings, make_session_factory(engine), system_clock)
        action(auth, system_principal(f"cli:{getpass.getuser()}"))
        return 0
    except FacebankError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise FacebankError("the passwords differ")
    return first
