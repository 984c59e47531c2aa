"""Neo4j when things go wrong: a writer whose lease lapses, and a server that stops or freezes.

These tests run their own Neo4j server (``matchgraph neo4j start`` on free ports, under a
temporary home), because they stop it, freeze it with SIGSTOP and thaw it with SIGCONT. The bound
of 5 s on the time to a 503 is the behaviour users rely on (a load balancer takes the instance out
of rotation, a page says "try again"), not a benchmark: the settings promise ~3 s.
"""

from __future__ import annotations

import os
import signal
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import polars as pl
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from graph.errors import StoreLocked
from graph.neo4j_store import Neo4jStore
from graph.tables import GraphDelta, Table
from queries.scoring import ScoringConfig, score
from tests.fixtures import load_fixture
from tests.integration.own_server import Server, own_server

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

pytestmark = [pytest.mark.integration, pytest.mark.reliability]
BOUND_S = 5.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from own_server(tmp_path_factory, "reliability")


def _until(condition: Callable[[], bool], within_s: float, what: str) -> float:
    """Seconds until ``condition`` held (polled), failing after ``within_s``."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < within_s, f"{what} did not happen within {within_s:.0f} s"
        time.sleep(0.2)
    return time.monotonic() - start


def _matched(count: int, run: str) -> GraphDelta:
    """One search's worth of a match, with a ledger row: what one run writes for one file."""
    ledger = pl.DataFrame({"sha256": [f"{run}-file"], "source": [f"{run}.jsonl"], "kind": ["logs"], "size": [1],
                           "rows": [1], "ingested_at": [datetime(2026, 1, 1, tzinfo=UTC)]})
    return (GraphDelta()
            .set(Table.INTENTS, pl.DataFrame({"id": ["text to image"], "searches": [count]}))
            .set(Table.MATCHED, pl.DataFrame({"intent": ["text to image"], "artifact": ["flux-1-pro"],
                                              "count": [count], "clicks": [0], "position_sum": [count]}))
            .set(Table.LEDGER, ledger))


def _match_count(store: Neo4jStore) -> int:
    return int(store.table(Table.MATCHED).get_column("count").sum())


# -- the writer lease -----------------------------------------------------------------------------
def test_a_writer_whose_heartbeat_froze_loses_the_lease_and_cannot_commit(server: Server, tmp_path: Path) -> None:
    first = Neo4jStore.connect(server.settings(tmp_path / "a"))
    second = Neo4jStore.connect(server.settings(tmp_path / "b"))
    try:
        first.clear()
        with first.run_lock("writer", 2.0):
            first.apply(_matched(1, "first"))
            first._renew = lambda _lease: True  # type: ignore[method-assign]  # the heartbeat freezes
            taken: list[Any] = []

            def second_takes_over() -> bool:
                try:
                    taken.append(second.run_lock("writer", 60.0))
                    taken[-1].__enter__()
                except StoreLocked:
                    taken.clear()
                    return False
                return True

            _until(second_takes_over, 30, "the second writer taking the lapsed lease")
            second.apply(_matched(5, "second"))
            with pytest.raises(StoreLocked, match="the writer lease was lost"):
                first.apply(_matched(100, "first-again"))  # what the first run was about to write
            taken[0].__exit__(None, None, None)
        assert _match_count(second) == 1 + 5  # the first run's late write never landed
        assert sorted(second.table(Table.LEDGER).get_column("sha256").to_list()) == ["first-file", "second-file"]
    finally:
        first.clear()
        first.close()
        second.close()


def test_a_long_run_keeps_its_lease_past_many_ttls(server: Server, tmp_path: Path) -> None:
    holder = Neo4jStore.connect(server.settings(tmp_path / "a"))
    other = Neo4jStore.connect(server.settings(tmp_path / "b"))
    try:
        holder.clear()
        refused = 0
        with holder.run_lock("writer", 1.5):
            started = time.monotonic()
            while time.monotonic() - started < 6.0:  # four TTLs
                with pytest.raises(StoreLocked, match="already in progress"), other.run_lock("writer", 60.0):
                    pass
                refused += 1
                holder.apply(_matched(1, f"run-{refused}"))
                time.sleep(0.4)
        assert refused >= 6
        assert _match_count(holder) == refused  # every write of the holder committed
        with other.run_lock("writer", 60.0):  # released at the end of the run: free at once
            pass
    finally:
        holder.clear()
        holder.close()
        other.close()


# -- failing fast, recovering alone ---------------------------------------------------------------
@pytest.fixture(scope="module")
def client(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The API over the module's server with the answer cache off: every request asks Neo4j."""
    home = tmp_path_factory.mktemp("api")
    settings = server.settings(home, MATCHGRAPH_CACHE_ENTRIES=0, MATCHGRAPH_VERSION_CHECK_S=0)
    store = Neo4jStore.connect(settings)
    store.clear()
    load_fixture([store], home)
    score(store, ScoringConfig(as_of=datetime(2026, 1, 5, tzinfo=UTC).date()))
    store.close()
    with TestClient(create_app(settings)) as c:
        yield c


ROUTES = ("/ready", "/v1/compare/dalle-3/flux-1-pro", "/v1/artifacts/flux-1-pro")


def _seconds_to(client: TestClient, route: str, status: int) -> float:
    start = time.monotonic()
    response = client.get(route)
    elapsed = time.monotonic() - start
    assert response.status_code == status, (route, response.status_code, response.text)
    if status == 503:
        assert response.headers["retry-after"]
        assert response.headers["content-type"].startswith("application/problem+json")
    return elapsed


def test_a_frozen_server_gives_503_within_the_bound_and_recovers(server: Server, client: TestClient) -> None:
    for route in ROUTES:
        assert client.get(route).status_code == 200
    os.kill(server.pid, signal.SIGSTOP)
    try:
        waits = {route: _seconds_to(client, route, 503) for route in ROUTES}
    finally:
        os.kill(server.pid, signal.SIGCONT)
    print(f"seconds to 503 with the server frozen: {waits}")
    assert max(waits.values()) < BOUND_S, waits
    _until(lambda: client.get("/ready").status_code == 200, 60, "recovery after SIGCONT")
    for route in ROUTES:
        assert client.get(route).status_code == 200


def test_a_stopped_server_gives_503_within_the_bound_and_a_restart_recovers(server: Server,
                                                                            client: TestClient) -> None:
    assert client.get("/ready").status_code == 200
    server.stop()
    try:
        waits = {route: _seconds_to(client, route, 503) for route in ROUTES}
    finally:
        server.start()
    print(f"seconds to 503 with the server stopped: {waits}")
    assert max(waits.values()) < BOUND_S, waits
    _until(lambda: client.get("/ready").status_code == 200, 120, "recovery after the restart")
    for route in ROUTES:
        assert client.get(route).status_code == 200
    assert client.get("/v1/artifacts/flux-1-pro").json()["id"] == "flux-1-pro"
