"""Account, key and audit records -> API shapes, where they are more than the record."""

from __future__ import annotations

from facebank.api import auth_schemas as s
from facebank.auth.principal import Principal
from facebank.store.accounts import ApiKeyRecord, UserRecord


def me_out(principal: Principal, user: UserRecord | None) -> s.MeOut:
    return s.MeOut(
        kind=principal.kind.value,
        id=principal.id,
        name=principal.name,
        role=principal.role,
        permissions=sorted(principal.permissions),
        user=None if user is None else s.UserOut.model_validate(user),
    )


def api_key_created(key: ApiKeyRecord, plain: str) -> s.ApiKeyCreated:
    return s.ApiKeyCreated.model_validate({**key.model_dump(), "key": plain})
