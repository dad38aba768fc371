"""Every write leaves an audit row: the walk takes each mutating route of the app (from
app.routes, so a new route joins it by itself), calls it with valid input as an admin and
finds the row the call added to GET /api/v1/audit."""

from __future__ import annotations

import io
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute

from facebank.api.app import create_app
from facebank.api.security import COMPAT_PREFIX
from facebank.bench.simulate.mjpeg import MjpegCamera
from facebank.bench.simulate.receiver import WebhookReceiver
from facebank.pipeline.pipeline import FacePipeline
from facebank.services.container import Services
from tests.api.conftest import app_client, make_settings, photo_file, running_services
from tests.conftest import YALE, identity_photos
from tests.sessions.conftest import FAST, SECRET
from tests.waiting import wait_until

ADMIN = "tests-admin"  # the name of the key app_client gives the admin client
PASSWORD = "correct horse battery staple"
RETRY_FOR_S = 1.0  # a delivery to a receiver that is down gives up after this
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
Route = tuple[str, str]

# POSTs that change nothing, so they leave no audit row.
NOT_WRITES: frozenset[Route] = frozenset(
    {
        ("POST", "/api/v1/auth/login"),  # issues a token; accounts and keys stay as they are
        # Read faces out of an uploaded photo; nothing is stored.
        ("POST", "/api/v1/recognize"),
        ("POST", "/api/v1/verify"),
        ("POST", "/api/v1/detect"),
        ("POST", "/api/v1/embeddings"),
        # The replaced system's login and queries, over the same use cases (routes.compat).
        ("POST", "/compat/login"),
        ("POST", "/compat/query"),
        ("POST", "/compat/query_top5"),
    }
)
WALKED_PREFIXES = ("/api/v1/", f"{COMPAT_PREFIX}/")


def _write_routes() -> list[Route]:
    app = create_app(make_settings(Path(tempfile.gettempdir()) / "facebank-audit-walk"))
    return sorted(
        (method, route.path)
        for route in _api_routes(app.routes)
        if route.path.startswith(WALKED_PREFIXES)
        for method in (route.methods or set()) & WRITE_METHODS
    )


def _api_routes(routes: Sequence[BaseRoute]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        # FastAPI keeps an included router whole, as one entry holding its routes.
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _api_routes(included.routes)


WRITE_ROUTES = _write_routes()


@dataclass(frozen=True)
class Row:
    """The audit row a call must leave: what was done to which target, by whom."""

    action: str
    target_kind: str
    target_id: str | None
    actor: str = ADMIN


@dataclass
class Call:
    send: Callable[[], httpx.Response]
    row: Callable[[httpx.Response], Row]


class Walk:
    """One fresh service over SQLite per route, an admin client, and what a recipe needs."""

    def __init__(self, services: Services, admin: TestClient, stack: ExitStack) -> None:
        self.services = services
        self.admin = admin
        self._stack = stack

    def post(self, url: str, **kwargs: Any) -> dict[str, Any]:
        response = self.admin.post(url, **kwargs)
        assert response.is_success, response.text
        return dict(response.json())

    def person(self, with_face: bool = False) -> dict[str, Any]:
        if not with_face:
            return self.post("/api/v1/people", json={"name": "Ada"})
        photo = identity_photos()["fr_obama"][0]
        return self.post(
            "/api/v1/people", data={"name": "Obama"}, files=[photo_file(photo, "photos")]
        )

    def user(self, name: str = "grace") -> dict[str, Any]:
        return self.post("/api/v1/users", json={"username": name, "password": PASSWORD})

    def anonymous(self) -> TestClient:
        return self._stack.enter_context(app_client(self.services, role=None))

    def receiver(self, up: bool = True) -> WebhookReceiver:
        hook = WebhookReceiver(SECRET).start()
        self._stack.callback(hook.close)
        hook.set_up(up)
        return hook

    def camera(self) -> str:
        """The URL of a camera streaming one photo, open until the case ends."""
        photo = identity_photos()["fr_obama"][0]
        camera = MjpegCamera([photo.read_bytes()], 2).start()
        self._stack.callback(camera.close)
        return camera.url

    def session(self, hook: WebhookReceiver | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"key": "slot-1", "cameras": [{"url": self.camera()}]}
        if hook is not None:
            body["webhook"] = {"url": hook.url, "secret": SECRET}
        return self.post("/api/v1/sessions", json=body)

    def audit(self) -> list[dict[str, Any]]:
        page = self.admin.get("/api/v1/audit", params={"page_size": 200})
        assert page.is_success, page.text
        return list(page.json()["items"])


def _created(kind: str, action: str = "create") -> Callable[[httpx.Response], Row]:
    return lambda r: Row(action, kind, str(r.json()["id"]))


def _on(action: str, kind: str, target_id: object) -> Callable[[httpx.Response], Row]:
    return lambda _: Row(action, kind, None if target_id is None else str(target_id))


def create_person(w: Walk) -> Call:
    return Call(lambda: w.admin.post("/api/v1/people", json={"name": "Ada"}), _created("person"))


def update_person(w: Walk) -> Call:
    pid = w.person()["id"]
    return Call(
        lambda: w.admin.patch(f"/api/v1/people/{pid}", json={"age": 36}),
        _on("update", "person", pid),
    )


def delete_person(w: Walk) -> Call:
    pid = w.person()["id"]
    return Call(lambda: w.admin.delete(f"/api/v1/people/{pid}"), _on("delete", "person", pid))


def add_faces(w: Walk) -> Call:
    pid = w.person()["id"]
    photo = identity_photos()["fr_obama"][1]
    return Call(
        lambda: w.admin.post(f"/api/v1/people/{pid}/faces", files=[photo_file(photo, "photos")]),
        lambda r: Row("create", "face", str(r.json()[0]["id"])),
    )


def delete_face(w: Walk) -> Call:
    fid = w.person(with_face=True)["faces"][0]["id"]
    return Call(lambda: w.admin.delete(f"/api/v1/faces/{fid}"), _on("delete", "face", fid))


def add_negative(w: Walk) -> Call:
    pid = w.person()["id"]
    photo = identity_photos()["fr_biden"][0]
    return Call(
        lambda: w.admin.post(f"/api/v1/people/{pid}/negatives", files=[photo_file(photo)]),
        _created("negative_label"),
    )


def delete_negative(w: Walk) -> Call:
    pid = w.person()["id"]
    photo = identity_photos()["fr_biden"][0]
    nid = w.post(f"/api/v1/people/{pid}/negatives", files=[photo_file(photo)])["id"]
    return Call(
        lambda: w.admin.delete(f"/api/v1/people/{pid}/negatives/{nid}"),
        _on("delete", "negative_label", nid),
    )


def merge_person(w: Walk) -> Call:
    into, source = w.person()["id"], w.person()["id"]
    return Call(
        lambda: w.admin.post(f"/api/v1/people/{into}/merge", json={"from_person_id": source}),
        _on("merge", "person", into),
    )


def split_person(w: Walk) -> Call:
    photos = [photo_file(p, "photos") for p in identity_photos()["fr_obama"][:2]]
    person = w.post("/api/v1/people", data={"name": "Obama"}, files=photos)
    body = {"face_ids": [person["faces"][0]["id"]], "person": {"name": "Split"}}
    return Call(
        lambda: w.admin.post(f"/api/v1/people/{person['id']}/split", json=body),
        _on("split", "person", person["id"]),
    )


def rebuild_index(w: Walk) -> Call:
    return Call(lambda: w.admin.post("/api/v1/index/rebuild"), _on("rebuild", "index", None))


def reembed(w: Walk) -> Call:
    return Call(lambda: w.admin.post("/api/v1/index/reembed"), _on("reembed", "index", None))


def apply_calibration(w: Walk) -> Call:
    # Calibration needs at least 20 faces of 2 or more people: three Yale subjects.
    for subject in sorted(p for p in YALE.iterdir() if p.is_dir())[:3]:
        photos = [photo_file(p, "photos") for p in sorted(subject.iterdir())[:8]]
        w.post("/api/v1/people", data={"name": subject.name}, files=photos)
    return Call(
        lambda: w.admin.post("/api/v1/index/calibration", json={"target_far": 0.01}),
        lambda r: Row("calibrate", "index", str(r.json()["id"])),
    )


def clear_calibration(w: Walk) -> Call:
    return Call(
        lambda: w.admin.delete("/api/v1/index/calibration"), _on("uncalibrate", "index", None)
    )


def register(w: Walk) -> Call:
    # The first account may register (it becomes the admin); the walk's services have none.
    body = {"username": "ada", "password": PASSWORD}
    return Call(
        lambda: w.anonymous().post("/api/v1/auth/register", json=body),
        lambda r: Row("register", "user", str(r.json()["id"]), actor="ada"),
    )


def change_password(w: Walk) -> Call:
    uid = w.user("grace")["id"]
    client = w.anonymous()
    login = client.post("/api/v1/auth/login", data={"username": "grace", "password": PASSWORD})
    assert login.is_success, login.text
    bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
    body = {"current_password": PASSWORD, "new_password": PASSWORD + "!"}
    return Call(
        lambda: client.post("/api/v1/auth/password", json=body, headers=bearer),
        lambda _: Row("password_change", "user", str(uid), actor="grace"),
    )


def create_user(w: Walk) -> Call:
    body = {"username": "grace", "password": PASSWORD}
    return Call(lambda: w.admin.post("/api/v1/users", json=body), _created("user"))


def update_user(w: Walk) -> Call:
    uid = w.user()["id"]
    return Call(
        lambda: w.admin.patch(f"/api/v1/users/{uid}", json={"role": "operator"}),
        _on("update", "user", uid),
    )


def delete_user(w: Walk) -> Call:
    uid = w.user()["id"]
    return Call(lambda: w.admin.delete(f"/api/v1/users/{uid}"), _on("delete", "user", uid))


def create_key(w: Walk) -> Call:
    body = {"name": "kiosk", "role": "viewer"}
    return Call(lambda: w.admin.post("/api/v1/api-keys", json=body), _created("api_key"))


def revoke_key(w: Walk) -> Call:
    kid = w.post("/api/v1/api-keys", json={"name": "kiosk", "role": "viewer"})["id"]
    return Call(lambda: w.admin.delete(f"/api/v1/api-keys/{kid}"), _on("revoke", "api_key", kid))


def start_session(w: Walk) -> Call:
    body = {"key": "slot-1", "cameras": [{"url": w.camera()}]}
    return Call(lambda: w.admin.post("/api/v1/sessions", json=body), _created("session", "start"))


def stop_session(w: Walk) -> Call:
    sid = w.session()["id"]
    return Call(lambda: w.admin.post(f"/api/v1/sessions/{sid}/stop"), _on("stop", "session", sid))


def replay_event(w: Walk) -> Call:
    hook = w.receiver()
    sid = w.session(hook)["id"]
    events = w.admin.get(f"/api/v1/sessions/{sid}/events").json()["items"]
    event_id = events[0]["id"]  # session.started
    assert hook.wait_for(lambda got: len(got) >= 1, 15)
    return Call(
        lambda: w.admin.post(f"/api/v1/sessions/{sid}/events/{event_id}/replay"),
        _on("replay", "session", sid),
    )


def replay_failed(w: Walk) -> Call:
    hook = w.receiver(up=False)
    sid = w.session(hook)["id"]
    url = f"/api/v1/sessions/{sid}/deliveries"
    wait_until(
        lambda: w.admin.get(url, params={"status": "failed"}).json()["total"] >= 1,
        RETRY_FOR_S + 15,
        "a delivery to give up",
    )
    hook.set_up(True)
    return Call(lambda: w.admin.post(f"{url}/replay-failed"), _on("replay", "session", sid))


def create_import(w: Walk) -> Call:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        zipped.write(identity_photos()["fr_obama"][0], "Barack_Obama/1.jpg")
    files = {"file": ("people.zip", buffer.getvalue(), "application/zip")}

    def send() -> httpx.Response:
        answer = w.admin.post("/api/v1/imports", files=files)
        if answer.is_success:  # end the job within the case: its workers hold the models
            job = f"/api/v1/imports/{answer.json()['id']}"
            wait_until(lambda: w.admin.get(job).json()["state"] == "done", 240, "the import")
        return answer

    return Call(send, _created("import"))


def compat_register(w: Walk) -> Call:
    body = {"username": "ada", "passwrd": PASSWORD}
    return Call(
        lambda: w.anonymous().post("/compat/register", json=body),
        lambda r: Row("register", "user", str(r.json()["id"]), actor="ada"),
    )


def compat_add_embedding(w: Walk) -> Call:
    photo = identity_photos()["fr_obama"][0]
    form = {"class_id": "7", "ten": "Obama"}
    return Call(
        lambda: w.admin.post("/compat/add_embedding", data=form, files=[photo_file(photo)]),
        lambda r: Row("create", "face", str(r.json()["image_id"])),
    )


def compat_edit_embedding(w: Walk) -> Call:
    pid = w.post("/api/v1/people", json={"name": "Ada", "external_id": "7"})["id"]
    return Call(
        lambda: w.admin.put("/compat/edit_embedding", data={"class_id": "7", "tuoi": "36"}),
        _on("update", "person", pid),
    )


def compat_delete_image(w: Walk) -> Call:
    fid = w.person(with_face=True)["faces"][0]["id"]
    return Call(lambda: w.admin.delete(f"/compat/delete_image/{fid}"), _on("delete", "face", fid))


def compat_delete_class(w: Walk) -> Call:
    pid = w.post("/api/v1/people", json={"name": "Ada", "external_id": "7"})["id"]
    return Call(lambda: w.admin.delete("/compat/delete_class/7"), _on("delete", "person", pid))


def compat_reset_index(w: Walk) -> Call:
    return Call(lambda: w.admin.post("/compat/reset_index"), _on("rebuild", "index", None))


def _unknown_cluster(w: Walk, identity: str = "deepface_id06", photos: int = 2) -> int:
    """Faces of one stranger kept through recognise; the cluster they make."""
    clusters = set()
    for photo in identity_photos()[identity][:photos]:
        body = w.post(
            "/api/v1/recognize",
            files=[photo_file(photo)],
            data={"keep_unknown": "true"},
            params={"max_faces": 1},
        )
        clusters.add(body["faces"][0]["unknown_cluster_id"])
    assert len(clusters) == 1
    return int(clusters.pop())


def name_unknowns(w: Walk) -> Call:
    cid = _unknown_cluster(w)
    url = f"/api/v1/unknowns/clusters/{cid}/name"
    return Call(
        lambda: w.admin.post(url, json={"name": "Six"}), _on("name", "unknown_cluster", cid)
    )


def add_unknowns(w: Walk) -> Call:
    pid = w.person()["id"]
    cid = _unknown_cluster(w)
    url = f"/api/v1/unknowns/clusters/{cid}/add"
    return Call(
        lambda: w.admin.post(url, json={"person_id": pid}), _on("add", "unknown_cluster", cid)
    )


def dismiss_unknowns(w: Walk) -> Call:
    cid = _unknown_cluster(w)
    url = f"/api/v1/unknowns/clusters/{cid}/dismiss"
    return Call(lambda: w.admin.post(url), _on("dismiss", "unknown_cluster", cid))


def delete_unknown_face(w: Walk) -> Call:
    cid = _unknown_cluster(w)
    fid = w.admin.get(f"/api/v1/unknowns/clusters/{cid}").json()["faces"][0]["id"]
    url = f"/api/v1/unknowns/faces/{fid}"
    return Call(lambda: w.admin.delete(url), _on("delete", "unknown_face", fid))


RECIPES: dict[Route, Callable[[Walk], Call]] = {
    ("POST", "/api/v1/people"): create_person,
    ("PATCH", "/api/v1/people/{person_id}"): update_person,
    ("DELETE", "/api/v1/people/{person_id}"): delete_person,
    ("POST", "/api/v1/people/{person_id}/faces"): add_faces,
    ("DELETE", "/api/v1/faces/{face_id}"): delete_face,
    ("POST", "/api/v1/people/{person_id}/negatives"): add_negative,
    ("DELETE", "/api/v1/people/{person_id}/negatives/{negative_id}"): delete_negative,
    ("POST", "/api/v1/people/{person_id}/merge"): merge_person,
    ("POST", "/api/v1/people/{person_id}/split"): split_person,
    ("POST", "/api/v1/index/rebuild"): rebuild_index,
    ("POST", "/api/v1/index/reembed"): reembed,
    ("POST", "/api/v1/index/calibration"): apply_calibration,
    ("DELETE", "/api/v1/index/calibration"): clear_calibration,
    ("POST", "/api/v1/auth/register"): register,
    ("POST", "/api/v1/auth/password"): change_password,
    ("POST", "/api/v1/users"): create_user,
    ("PATCH", "/api/v1/users/{user_id}"): update_user,
    ("DELETE", "/api/v1/users/{user_id}"): delete_user,
    ("POST", "/api/v1/api-keys"): create_key,
    ("DELETE", "/api/v1/api-keys/{key_id}"): revoke_key,
    ("POST", "/api/v1/sessions"): start_session,
    ("POST", "/api/v1/sessions/{session_id}/stop"): stop_session,
    ("POST", "/api/v1/sessions/{session_id}/events/{event_id}/replay"): replay_event,
    ("POST", "/api/v1/sessions/{session_id}/deliveries/replay-failed"): replay_failed,
    ("POST", "/api/v1/imports"): create_import,
    ("POST", "/compat/register"): compat_register,
    ("POST", "/compat/add_embedding"): compat_add_embedding,
    ("PUT", "/compat/edit_embedding"): compat_edit_embedding,
    ("DELETE", "/compat/delete_image/{image_id}"): compat_delete_image,
    ("DELETE", "/compat/delete_class/{class_id}"): compat_delete_class,
    ("POST", "/compat/reset_index"): compat_reset_index,
    ("POST", "/api/v1/unknowns/clusters/{cluster_id}/name"): name_unknowns,
    ("POST", "/api/v1/unknowns/clusters/{cluster_id}/add"): add_unknowns,
    ("POST", "/api/v1/unknowns/clusters/{cluster_id}/dismiss"): dismiss_unknowns,
    ("DELETE", "/api/v1/unknowns/faces/{face_id}"): delete_unknown_face,
}


def _cases() -> list[Any]:
    return [
        pytest.param(route, id=f"{route[0]} {route[1]}")
        for route in WRITE_ROUTES
        if route not in NOT_WRITES
    ]


@pytest.fixture
def walk(tmp_path: Path, face_pipeline: FacePipeline) -> Iterator[Walk]:
    settings = {**FAST, "webhook_retry_for_s": RETRY_FOR_S}
    with (
        ExitStack() as stack,
        running_services("sqlite", tmp_path, face_pipeline, **settings) as services,
        app_client(services) as admin,
    ):
        yield Walk(services, admin, stack)


@pytest.mark.parametrize("route", _cases())
def test_the_write_leaves_its_audit_row(route: Route, walk: Walk) -> None:
    recipe = RECIPES.get(route)
    assert recipe is not None, f"{route}: a new write route needs a recipe here (or NOT_WRITES)"
    call = recipe(walk)
    before = {row["id"] for row in walk.audit()}
    response = call.send()
    assert response.is_success, response.text
    expected = call.row(response)
    added = [row for row in walk.audit() if row["id"] not in before]
    found = [row for row in added if _matches(row, expected)]
    assert found, f"{route} left no audit row like {expected}; it added {added}"


def _matches(row: dict[str, Any], expected: Row) -> bool:
    if row["actor_name"] != expected.actor:
        return False
    named = (row["action"], row["target_kind"], row["target_id"])
    return named == (expected.action, expected.target_kind, expected.target_id)


def test_the_lists_name_real_routes() -> None:
    stale = (NOT_WRITES | set(RECIPES)) - set(WRITE_ROUTES)
    assert not stale, stale
