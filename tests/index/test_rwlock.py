from __future__ import annotations

import threading
import time

from facebank.index import RWLock
from tests.waiting import wait_until


def test_readers_share_the_lock() -> None:
    lock = RWLock()
    inside = threading.Barrier(3, timeout=5)

    def reader() -> None:
        with lock.read():
            inside.wait()  # all three readers are inside at once, or this times out

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert not inside.broken


def test_writer_is_exclusive() -> None:
    lock = RWLock()
    writers = 0
    readers = 0
    violations: list[str] = []
    guard = threading.Lock()

    def writer() -> None:
        nonlocal writers
        for _ in range(200):
            with lock.write():
                with guard:
                    if writers or readers:
                        violations.append(f"writer with {writers} writers, {readers} readers")
                    writers += 1
                time.sleep(0)  # give others a chance to break in
                with guard:
                    writers -= 1

    def reader() -> None:
        nonlocal readers
        for _ in range(200):
            with lock.read():
                with guard:
                    if writers:
                        violations.append("reader beside a writer")
                    readers += 1
                time.sleep(0)
                with guard:
                    readers -= 1

    threads = [threading.Thread(target=writer) for _ in range(3)]
    threads += [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert not any(t.is_alive() for t in threads)
    assert violations == []


def test_waiting_writer_blocks_new_readers() -> None:
    lock = RWLock()
    order: list[str] = []
    first_reader_in = threading.Event()
    release_first = threading.Event()

    def first_reader() -> None:
        with lock.read():
            first_reader_in.set()
            release_first.wait(5)
        order.append("reader1-out")

    def writer() -> None:
        with lock.write():
            order.append("writer")

    def late_reader() -> None:
        with lock.read():
            order.append("reader2")

    t1 = threading.Thread(target=first_reader)
    t1.start()
    assert first_reader_in.wait(5)
    tw = threading.Thread(target=writer)
    tw.start()
    wait_until(lambda: lock.queued() == (1, 0), what="the writer to queue")
    t2 = threading.Thread(target=late_reader)
    t2.start()
    wait_until(lambda: lock.queued() == (1, 1), what="the late reader to queue")
    assert order == []  # the late reader queues behind the writer, not beside reader 1
    release_first.set()
    for t in (t1, tw, t2):
        t.join(5)
    assert order.index("writer") < order.index("reader2")


def test_lock_released_on_exception() -> None:
    lock = RWLock()
    for ctx in (lock.read, lock.write):
        try:
            with ctx():
                raise KeyError("boom")
        except KeyError:
            pass
    with lock.write():  # would hang if either was left held
        pass
