"""The credential cache: entries expire, size is bounded."""

from __future__ import annotations

from facebank.auth.ttl_cache import TTLCache


def test_entries_expire() -> None:
    now = [0.0]
    cache: TTLCache[str, int] = TTLCache(5.0, 10, monotonic=lambda: now[0])
    cache.put("a", 1)
    now[0] = 4.9
    assert cache.get("a") == 1
    now[0] = 5.0
    assert cache.get("a") is None


def test_oldest_entries_are_evicted_and_clear_empties() -> None:
    cache: TTLCache[int, int] = TTLCache(60.0, 3)
    for i in range(5):
        cache.put(i, i)
    assert [cache.get(i) for i in range(5)] == [None, None, 2, 3, 4]
    cache.clear()
    assert cache.get(4) is None


def test_zero_ttl_caches_nothing() -> None:
    cache: TTLCache[int, int] = TTLCache(0.0, 3)
    cache.put(1, 1)
    assert cache.get(1) is None
