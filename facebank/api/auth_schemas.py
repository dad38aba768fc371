"""JSON shapes of the accounts, API key and audit endpoints. Limits come from the store's
field types (and auth.passwords); the answers read the store's records by attribute."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from facebank.api.answers import FromRecord, PageOut
from facebank.auth.passwords import PASSWORD_MAX
from facebank.auth.roles import Permission, Role
from facebank.store.accounts import ApiKeyName, ApiKeyRecord, Username
from facebank.store.audit import AuditRecord

# What a request may send as a password; auth.passwords.check_password applies the rules.
Password = Annotated[str, Field(min_length=1, max_length=PASSWORD_MAX)]


class RegisterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username = Field(examples=["ada"])
    password: Password = Field(examples=["correct horse battery"])


class UserCreate(RegisterIn):
    role: Role = Role.VIEWER


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    is_active: bool | None = None
    password: Password | None = None


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: Password
    new_password: Password


class UserOut(FromRecord):
    id: int
    username: str
    role: Role
    is_active: bool
    created_at: datetime
    updated_at: datetime
    last_login_at: datetime | None


class UsersPage(PageOut):
    items: list[UserOut]


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int = Field(description="seconds until the token expires")
    expires_at: datetime


class MeOut(BaseModel):
    kind: str = Field(description="user, api_key or scrape_key")
    id: int | None
    name: str
    role: Role | None
    permissions: list[Permission]
    user: UserOut | None = Field(default=None, description="the account, for users")


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: ApiKeyName = Field(examples=["attendance-kiosk"])
    role: Role = Field(examples=["viewer"])
    expires_at: datetime | None = Field(default=None, description="with a time zone; none = never")


class ApiKeyOut(ApiKeyRecord):
    role: Role  # the stored text, read as a role


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="send as X-API-Key; shown only this once, store it now")


class ApiKeysPage(PageOut):
    items: list[ApiKeyOut]


class AuditOut(AuditRecord):
    pass


class AuditPage(PageOut):
    items: list[AuditOut]
