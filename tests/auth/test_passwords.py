"""Argon2id hashing and the user name / password rules."""

from __future__ import annotations

import pytest

from facebank.auth.passwords import PasswordHasher, check_password, normalize_username
from facebank.errors import ValidationFailedError


@pytest.fixture(scope="module")
def hasher() -> PasswordHasher:
    return PasswordHasher()


def test_hash_is_argon2id_salted_and_verifies(hasher: PasswordHasher) -> None:
    first, second = hasher.hash("correct horse battery"), hasher.hash("correct horse battery")
    assert first.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert first != second  # random salt
    assert "correct horse" not in first
    assert hasher.verify(first, "correct horse battery")
    assert not hasher.verify(first, "correct horse batterz")


def test_verify_never_raises(hasher: PasswordHasher) -> None:
    assert not hasher.verify("not a hash", "whatever")
    assert not hasher.verify(None, "facebank-timing-equaliser")  # the dummy never matches


def test_weaker_parameters_need_a_rehash(hasher: PasswordHasher) -> None:
    weak = PasswordHasher(time_cost=1, memory_kib=8 * 1024, parallelism=1).hash("pw-1234567890")
    assert hasher.needs_rehash(weak)
    assert not hasher.needs_rehash(hasher.hash("pw-1234567890"))


@pytest.mark.parametrize(
    ("raw", "expected"), [("Ada", "ada"), ("  grace.hopper@navy ", "grace.hopper@navy")]
)
def test_usernames_are_case_insensitive(raw: str, expected: str) -> None:
    assert normalize_username(raw) == expected


@pytest.mark.parametrize("raw", ["", "ab", "a" * 65, "has space", "-lead", "ünï"])
def test_bad_usernames_are_refused(raw: str) -> None:
    with pytest.raises(ValidationFailedError):
        normalize_username(raw)


@pytest.mark.parametrize("password", ["short", "x" * 257, "adalovelace", " AdaLovelace "])
def test_bad_passwords_are_refused(password: str) -> None:
    with pytest.raises(ValidationFailedError):
        check_password(password, "adalovelace")


def test_a_long_passphrase_is_fine() -> None:
    check_password("correct horse battery staple", "ada")
