"""The answer cache: bounded by entries and bytes, emptied when the graph version moves."""

from __future__ import annotations

from api.cache import AnswerCache, etag


class _Store:
    def __init__(self) -> None:
        self.token = "v1"

    def version(self) -> str:
        return self.token


def test_bounds_drop_the_least_recently_used() -> None:
    cache = AnswerCache(entries=3, check_s=60, max_bytes=10)
    store = _Store()
    v = cache.check(store)  # type: ignore[arg-type]
    for key in ("a", "b", "c"):
        cache.put(v, key, b"xxx")
    assert cache.get(v, "a") == b"xxx"  # a is now the most recent
    cache.put(v, "d", b"xxx")  # 12 bytes > 10: the least recent (b) goes
    assert cache.get(v, "b") is None
    assert (len(cache), cache.bytes) == (3, 9)
    cache.put(v, "e", b"y" * 11)  # larger than the whole budget: not kept, nothing evicted
    assert cache.get(v, "e") is None
    assert len(cache) == 3
    assert cache.hits == 1
    assert cache.misses == 2


def test_a_new_version_empties_the_cache_and_old_puts_are_ignored() -> None:
    cache = AnswerCache(entries=10, check_s=0)
    store = _Store()
    old = cache.check(store)  # type: ignore[arg-type]
    cache.put(old, "k", b"old answer")
    store.token = "v2"
    new = cache.check(store)  # type: ignore[arg-type]
    assert cache.get(new, "k") is None
    cache.put(old, "k", b"computed before the write")  # a slow computation finishing late
    assert cache.get(new, "k") is None
    assert (len(cache), cache.bytes) == (0, 0)
    assert etag(old, "k") != etag(new, "k")
    assert etag(new, "k") == etag(new, "k")


def test_off_when_entries_is_zero() -> None:
    cache = AnswerCache(entries=0, check_s=0)
    v = cache.check(_Store())  # type: ignore[arg-type]
    cache.put(v, "k", b"x")
    assert cache.get(v, "k") is None
    assert cache.fresh_version() is None, "check_s=0: every request asks the store"
