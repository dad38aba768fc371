"""A session's fields are limited once (the store's field types): the API's request model
and the store's inputs accept and refuse the same values, and no repr shows the secret."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from facebank.errors import ValidationFailedError
from facebank.services.sessions import CameraIn, SessionStart, WebhookIn
from facebank.store.limits import CAMERA_NAME_MAX, FPS_MAX, KEY_MAX, SECRET_MAX, SECRET_MIN, URL_MAX
from facebank.store.sessions import NewCamera, NewSession

SECRET = "s" * SECRET_MIN
URL = "http://127.0.0.1:9/hook"


def camera(**fields: Any) -> dict[str, Any]:
    return {"url": "rtsp://cam/1", "name": "door", "fps": 5.0} | fields


def api_accepts(**fields: Any) -> bool:
    body = camera(**fields)
    try:
        CameraIn(**body)
    except ValidationError:
        return False
    return True


def store_accepts(**fields: Any) -> bool:
    body = camera(**fields)
    try:
        NewCamera(url=body["url"], name=body["name"], target_fps=body["fps"])
    except ValidationFailedError:
        return False
    return True


@pytest.mark.parametrize(
    "fields",
    [
        {"url": "u" * URL_MAX},
        {"url": "u" * (URL_MAX + 1)},
        {"url": ""},
        {"name": "n" * CAMERA_NAME_MAX},
        {"name": "n" * (CAMERA_NAME_MAX + 1)},
        {"name": ""},
        {"fps": FPS_MAX},
        {"fps": FPS_MAX + 0.1},
        {"fps": 0.0},
        {"fps": "fast"},
    ],
)
def test_camera_limits_agree(fields: dict[str, Any]) -> None:
    assert api_accepts(**fields) == store_accepts(**fields)


@pytest.mark.parametrize(
    ("key", "secret", "threshold", "cooldown_s"),
    [
        ("k" * KEY_MAX, SECRET, 0.5, 0.0),
        ("k" * (KEY_MAX + 1), SECRET, 0.5, 0.0),
        ("", SECRET, 0.5, 0.0),
        ("k", "s" * (SECRET_MIN - 1), 0.5, 0.0),
        ("k", "s" * SECRET_MAX, 0.5, 0.0),
        ("k", "s" * (SECRET_MAX + 1), 0.5, 0.0),
        ("k", SECRET, 1.5, 0.0),
        ("k", SECRET, -1.0, -1.0),
    ],
)
def test_session_limits_agree(key: str, secret: str, threshold: float, cooldown_s: float) -> None:
    try:
        SessionStart(
            key=key,
            cameras=[CameraIn(url="rtsp://cam/1")],
            threshold=threshold,
            cooldown_s=cooldown_s,
            webhook=WebhookIn(url=URL, secret=secret),
        )
        api = True
    except ValidationError:
        api = False
    try:
        NewSession(
            key=key,
            mode="once",
            threshold=threshold,
            cooldown_s=cooldown_s,
            cameras=(NewCamera(url="rtsp://cam/1", name="c", target_fps=5.0),),
            webhook_url=URL,
            webhook_secret=secret,
        )
        store = True
    except ValidationFailedError:
        store = False
    assert api == store


def test_store_refuses_a_blank_camera_url_and_no_cameras() -> None:
    with pytest.raises(ValidationFailedError):
        NewCamera(url="   ", name="c", target_fps=5.0)
    with pytest.raises(ValidationFailedError):
        NewSession(key="k", mode="once", threshold=0.5, cooldown_s=0.0, cameras=())


def test_no_repr_shows_the_webhook_secret() -> None:
    secret = "top-secret-" + "x" * SECRET_MIN
    hook = WebhookIn(url=URL, secret=secret)
    request = SessionStart(key="k", cameras=[CameraIn(url="rtsp://cam/1")], webhook=hook)
    stored = NewSession(
        key="k",
        mode="once",
        threshold=0.5,
        cooldown_s=0.0,
        cameras=(NewCamera(url="rtsp://cam/1", name="c", target_fps=5.0),),
        webhook_url=URL,
        webhook_secret=secret,
    )
    for value in (hook, request, stored):
        assert secret not in repr(value) and secret not in str(value)
    with pytest.raises(ValidationFailedError) as refused:
        NewSession(
            key="",
            mode="once",
            threshold=0.5,
            cooldown_s=0.0,
            cameras=stored.cameras,
            webhook_secret=secret,
        )
    assert secret not in str(refused.value) and secret not in repr(refused.value.details)
