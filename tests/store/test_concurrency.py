"""Many writers at once: no lost rows, no "database is locked", one winner per external id."""

from __future__ import annotations

import threading
from collections.abc import Callable

from facebank.errors import ConflictError, NotFoundError
from facebank.store.people import FaceRepository, PeopleRepository, PersonFields, PersonFilter
from tests.store.factories import new_face

THREADS = 8
PER_THREAD = 12


def _run_threads(target: Callable[[int], None]) -> list[BaseException]:
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def run(worker: int) -> None:
        start.wait()
        try:
            target(worker)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def test_concurrent_writers_lose_nothing(people: PeopleRepository, faces: FaceRepository) -> None:
    def work(worker: int) -> None:
        for i in range(PER_THREAD):
            seed = worker * 100 + i
            created, _ = people.create(
                PersonFields(name=f"w{worker}-{i}", external_id=f"x{seed}"),
                [new_face(seed), new_face(seed + 50)],
            )
            # Read-then-write transactions interleaving with other writers.
            people.update(created.id, {"age": i})
            faces.add(created.id, [new_face(seed + 70)])

    assert _run_threads(work) == []
    page = people.search(PersonFilter(), 0, 1000)
    assert page.total == THREADS * PER_THREAD
    assert {p.name for p in page.items} == {
        f"w{w}-{i}" for w in range(THREADS) for i in range(PER_THREAD)
    }
    assert all(p.face_count == 3 for p in page.items)
    assert faces.count_by_model() == {"model-a": 3 * THREADS * PER_THREAD}
    assert len(set(faces.face_ids("model-a").tolist())) == 3 * THREADS * PER_THREAD


def test_racing_external_ids_have_one_winner(people: PeopleRepository) -> None:
    winners: list[int] = []
    conflicts: list[int] = []

    def work(worker: int) -> None:
        try:
            created, _ = people.create(
                PersonFields(name=f"racer {worker}", external_id="same"), [new_face(worker)]
            )
            winners.append(created.id)
        except ConflictError:
            conflicts.append(worker)

    assert _run_threads(work) == []
    assert len(winners) == 1 and len(conflicts) == THREADS - 1
    assert people.search(PersonFilter(), 0, 10).total == 1


def test_racing_deletes_report_each_face_exactly_once(
    people: PeopleRepository, faces: FaceRepository
) -> None:
    # Per person, one thread deletes the person while another deletes its faces one by one
    # and then adds a face: every face that existed must be reported removed exactly once,
    # so the index and the media store hear about each.
    created = [
        people.create(PersonFields(name=f"p{i}"), [new_face(i * 10 + k) for k in range(4)])
        for i in range(THREADS // 2)
    ]
    removed: list[int] = []
    added: list[int] = []
    lock = threading.Lock()

    def work(worker: int) -> None:
        person, stored = created[worker // 2]
        if worker % 2 == 0:
            try:
                gone = [f.id for f in people.delete(person.id)]
            except NotFoundError:
                gone = []
            with lock:
                removed.extend(gone)
            return
        for face in stored:
            try:
                gone_face = faces.delete(face.id)
            except NotFoundError:
                continue
            with lock:
                removed.append(gone_face.id)
        try:
            extra = faces.add(person.id, [new_face(999)])
        except NotFoundError:
            return  # the person was already gone
        with lock:
            added.extend(f.id for f in extra)  # so the person delete must report it

    assert _run_threads(work) == []
    everything = [f.id for _, stored in created for f in stored] + added
    assert sorted(removed) == sorted(everything)
    assert faces.count_by_model() == {}
