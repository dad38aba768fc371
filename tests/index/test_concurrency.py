"""Searches running beside writers: no exceptions, no torn reads, exact final state."""

from __future__ import annotations

import threading

import faiss
import numpy as np

from facebank.index import GalleryIndex

from .helpers import unit_vectors

DIM = 32
BASE = 2000  # faces 0..1999 present throughout
WRITER_RANGES = (10_000, 20_000)  # each writer owns 8000 ids from here (4000 + replacements)
ROUNDS = 40


def person_of(face_id: int) -> int:
    # A fixed rule lets readers check every hit's face → person pairing mid-write.
    return face_id // 10


def writer_script(start: int, vectors: np.ndarray, index: GalleryIndex | None) -> set[int]:
    """Run (or, with index=None, just simulate) one writer; return its final face ids."""
    present: set[int] = set()
    for r in range(ROUNDS):
        batch = np.arange(start + r * 100, start + r * 100 + 100, dtype=np.int64)
        if index is not None:
            index.add(batch, batch // 10, vectors[batch - start])
        present.update(batch.tolist())
        drop = batch[::3]
        if index is not None:
            index.remove(drop)
        present.difference_update(drop.tolist())
        if r % 5 == 4:
            # Replace some earlier faces (same person, new vector) and drop one person.
            again = np.arange(start + (r - 4) * 100, start + (r - 4) * 100 + 10, dtype=np.int64)
            if index is not None:
                index.add(again, again // 10, vectors[again - start + 4000])
                index.remove_person(person_of(start + r * 100 + 50))
            present.update(again.tolist())
            doomed = person_of(start + r * 100 + 50)
            present = {f for f in present if person_of(f) != doomed}
    return present


def test_searches_during_writes() -> None:
    index = GalleryIndex(DIM, "m")
    base_ids = np.arange(BASE, dtype=np.int64)
    index.add(base_ids, base_ids // 10, unit_vectors(BASE, DIM, 0))
    writer_vectors = [unit_vectors(8000, DIM, 1 + i) for i in range(2)]
    errors: list[BaseException] = []
    done = threading.Event()
    searches = [0] * 8

    def reader(n: int) -> None:
        rng = np.random.default_rng(100 + n)
        try:
            while not done.is_set():
                q = unit_vectors(2, DIM, int(rng.integers(1 << 30)))
                roster = None if n % 2 else set(rng.integers(0, 2500, 50).tolist())
                for row in index.search(q, top_k=5, allowed_people=roster):
                    assert len({h.person_id for h in row}) == len(row)
                    assert all(h.person_id == person_of(h.face_id) for h in row)
                    assert roster is None or all(h.person_id in roster for h in row)
                    assert [h.score for h in row] == sorted((h.score for h in row), reverse=True)
                index.person_scores(q[0], int(rng.integers(0, 2500)))
                searches[n] += 1
        except BaseException as exc:
            errors.append(exc)

    def writer(i: int) -> None:
        try:
            writer_script(WRITER_RANGES[i], writer_vectors[i], index)
        except BaseException as exc:
            errors.append(exc)

    readers = [threading.Thread(target=reader, args=(n,)) for n in range(8)]
    writers = [threading.Thread(target=writer, args=(i,)) for i in range(2)]
    for t in readers + writers:
        t.start()
    for t in writers:
        t.join(120)
    done.set()
    for t in readers:
        t.join(30)
    assert not any(t.is_alive() for t in readers + writers)
    assert errors == []
    assert all(searches), searches  # every reader really ran

    expected = set(base_ids.tolist())
    for i in range(2):
        expected |= writer_script(WRITER_RANGES[i], writer_vectors[i], None)
    assert index.face_ids().tolist() == sorted(expected)
    assert index.size == len(expected)
    assert index.person_count == len({person_of(f) for f in expected})
    # Every surviving face is found by its own final vector.
    for i, start in enumerate(WRITER_RANGES):
        mine = np.array(sorted(f for f in expected if start <= f < start + 5000), np.int64)
        replaced = {f for f in mine.tolist() if (f - start) % 500 < 10}
        vecs = np.stack(
            [writer_vectors[i][f - start + (4000 if f in replaced else 0)] for f in mine.tolist()]
        )
        top = [row[0].face_id for row in index.search(vecs, top_k=1)]
        assert top == mine.tolist()


def test_search_runs_single_threaded_openmp_in_any_thread() -> None:
    """OpenMP's thread count belongs to the calling thread: a search from a fresh thread
    (an inference lane, a camera) must not start a team that spins on the cores."""
    index = GalleryIndex(DIM, "m")
    index.add(np.arange(1, 51), np.arange(1, 51) // 5, unit_vectors(50, DIM, seed=3))
    seen: list[int] = []

    def search_then_look() -> None:
        faiss.omp_set_num_threads(4)  # whatever the thread had before
        index.search(unit_vectors(1, DIM, seed=4), 3)
        seen.append(faiss.omp_get_max_threads())

    worker = threading.Thread(target=search_then_look)
    worker.start()
    worker.join()
    assert seen == [1]
