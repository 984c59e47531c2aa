"""The Neo4j adapter without a server: a recording fake driver keeps every (query, parameters) pair.

What these pin down: a delta is one write transaction of ``UNWIND`` batches no bigger than the
configured size, nodes go before relationships, relationship rows are sorted by their endpoints,
user text only ever travels as a parameter, and query results become the right polars frames.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import polars as pl
import pytest
from neo4j.exceptions import ServiceUnavailable

from graph import cypher, neo4j_store
from graph.errors import StoreLocked, StoreUnavailable
from graph.neo4j_store import Neo4jStore, plan_delta
from graph.schema import EdgeType, NodeLabel
from graph.settings import Settings
from graph.tables import SCHEMAS, GraphDelta, Table, preference_pairs

if TYPE_CHECKING:
    from pathlib import Path

EVIL = 'x"}) DETACH DELETE n //'

Responder = Callable[[str, dict[str, Any]], list[tuple[Any, ...]]]


# -- the recording fake ---------------------------------------------------------------------------
class FakeResult:
    def __init__(self, records: list[tuple[Any, ...]]) -> None:
        self._records = records

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self._records)

    def single(self, strict: bool = False) -> tuple[Any, ...] | None:
        if strict:
            assert len(self._records) == 1
        return self._records[0] if self._records else None

    def consume(self) -> None:
        return None


class FakeTx:
    def __init__(self, driver: FakeDriver, mode: str) -> None:
        self.driver = driver
        self.mode = mode

    def run(self, query: str, parameters: dict[str, Any] | None = None, **_: Any) -> FakeResult:
        params = dict(parameters or {})
        self.driver.calls.append((self.mode, query, params))
        if self.driver.fail_with is not None:
            raise self.driver.fail_with
        return FakeResult(self.driver.responder(query, params))


class FakeSession:
    def __init__(self, driver: FakeDriver, config: dict[str, Any]) -> None:
        self.driver = driver
        self.config = config

    def __enter__(self) -> FakeSession:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def execute_write(self, work: Callable[..., Any], *args: Any) -> Any:
        self.driver.transactions.append("write")
        return work(FakeTx(self.driver, "write"), *args)

    def execute_read(self, work: Callable[..., Any], *args: Any) -> Any:
        self.driver.transactions.append("read")
        return work(FakeTx(self.driver, "read"), *args)

    def run(self, query: str, parameters: dict[str, Any] | None = None, **_: Any) -> FakeResult:
        self.driver.transactions.append("auto")
        return FakeTx(self.driver, "auto").run(query, parameters)

    def begin_transaction(self, **config: Any) -> FakeExplicitTx:
        self.driver.transactions.append("read")
        self.driver.tx_configs.append(config)
        return FakeExplicitTx(self.driver, "read")


class FakeExplicitTx(FakeTx):
    """What ``session.begin_transaction`` gives: a transaction that is also a context manager."""

    def __enter__(self) -> FakeExplicitTx:
        return self

    def __exit__(self, *_: object) -> None:
        return None


def _empty_answer(query: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """What an empty graph answers: one record with an empty list for ``collect`` reads, else no record.

    Element-id lookups answer each id with itself, so written rows read as the ids they came from.
    """
    if query == cypher.LOCK_ARTIFACTS:
        return [([[i, i] for i in params["ids"]],)]
    if query == cypher.READ_VERSION:
        return [{"token": None, "score_columns": []}]  # type: ignore[list-item]
    if query.startswith("RETURN COLLECT {"):  # several tables read together: one empty list each
        return [tuple([] for _ in range(query.count("COLLECT {")))]
    return [([],)] if "collect(" in query.rsplit("RETURN", 1)[-1] else []


class FakeDriver:
    """Records (mode, query, params); answers reads with ``responder``."""

    def __init__(self, responder: Responder | None = None) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.transactions: list[str] = []
        self.sessions: list[dict[str, Any]] = []
        self.tx_configs: list[dict[str, Any]] = []
        self.responder: Responder = responder or _empty_answer
        self.fail_with: Exception | None = None
        self.closed = False

    def session(self, **config: Any) -> FakeSession:
        self.sessions.append(config)
        return FakeSession(self, config)

    def close(self) -> None:
        self.closed = True


def _settings(tmp_path: Path, batch: int = 100) -> Settings:
    return Settings(MATCHGRAPH_HOME=tmp_path, NEO4J_URI=None, MATCHGRAPH_NEO4J_BATCH=batch)  # type: ignore[call-arg]


@pytest.fixture
def driver() -> FakeDriver:
    return FakeDriver()


@pytest.fixture
def store(driver: FakeDriver, tmp_path: Path) -> Neo4jStore:
    return Neo4jStore(driver, _settings(tmp_path))  # type: ignore[arg-type]


def _co_matched(n: int) -> pl.DataFrame:
    # deliberately out of order: the adapter must sort by endpoints
    ids = [f"art-{(i * 7919) % n:04d}" for i in range(n)]
    return pl.DataFrame({"a": ids, "b": [f"{i}-z" for i in ids], "count": [1] * n})


def _batches(driver: FakeDriver, query: str) -> list[list[dict[str, Any]]]:
    return [p["rows"] for _, q, p in driver.calls if q == query]


def _co_batches(driver: FakeDriver, query: str = cypher.CREATE_CO_MATCHED) -> list[list[dict[str, Any]]]:
    """The co-match batches with each endpoint position replaced by its batch's element id."""
    return [[{"a": p["nodes"][a], "b": p["nodes"][b], "count": count} for a, b, count in p["rows"]]
            for _, q, p in driver.calls if q == query]


def _preference_batches(driver: FakeDriver, query: str = cypher.CREATE_PREFERRED_OVER) -> list[list[dict[str, Any]]]:
    """The preference batches, endpoint positions replaced by element ids (the fake answers each id
    with itself) and each row's total added back, as rows of the table."""
    return [[{"winner": p["nodes"][w], "loser": p["nodes"][lo], "count": sum(counts), "winner_pos": wp,
              "loser_pos": lp, "counts": counts} for w, lo, wp, lp, counts in p["rows"]]
            for _, q, p in driver.calls if q == query]


# -- apply ----------------------------------------------------------------------------------------
def test_apply_is_one_write_transaction_of_bounded_unwind_batches(store: Neo4jStore, driver: FakeDriver) -> None:
    stubs = pl.DataFrame({"id": [f"art-{i:04d}" for i in range(250)], "catalogued": [False] * 250})
    store.apply(GraphDelta().set(Table.ARTIFACTS, stubs).set(Table.CO_MATCHED, _co_matched(250)))

    assert driver.transactions == ["write"]
    assert {mode for mode, _, _ in driver.calls} == {"write"}
    batches = _co_batches(driver)
    assert [len(b) for b in batches] == [100, 100, 50]
    for _, query, params in driver.calls:
        if query == cypher.BUMP_VERSION:  # the one statement without a batch, and the last
            continue
        assert query.lstrip().startswith(("UNWIND $rows AS row", "UNWIND $ids AS id", "UNWIND range(0, size($nodes)"))
        for key in ("rows", "ids"):
            assert len(params.get(key, [])) <= 100
        assert len(params.get("nodes", [])) <= 2 * 100  # two endpoints per row at most
    assert [q for _, q, _ in driver.calls][-1] == cypher.BUMP_VERSION
    assert sum(row["count"] for b in batches for row in b) == 250


def test_nodes_go_before_relationships(store: Neo4jStore, driver: FakeDriver) -> None:
    delta = (
        GraphDelta()
        .set(Table.CO_MATCHED, _co_matched(5))
        .set(Table.MATCHED, pl.DataFrame({"intent": ["q"], "artifact": ["art-0001"], "count": [1], "clicks": [0],
                                          "position_sum": [1]}))
        .set(Table.INTENTS, pl.DataFrame({"id": ["q"], "searches": [1]}))
        .set(Table.ARTIFACTS, pl.DataFrame({"id": ["art-0001"], "name": ["One"], "catalogued": [True],
                                            "provider": ["acme"]}))
        .set(Table.PROVIDERS, pl.DataFrame({"id": ["acme"], "name": ["Acme"]}))
    )
    store.apply(delta)
    order = [q for _, q, _ in driver.calls]
    node_writes = {cypher.UPSERT_ARTIFACTS, cypher.ENSURE_ARTIFACTS, cypher.ADD_INTENTS, cypher.UPSERT_PROVIDERS}
    relationship_writes = {cypher.CREATE_CO_MATCHED, cypher.CREATE_MATCHED, cypher.SYNC_PROVIDED_BY_FOR_ARTIFACTS,
                           cypher.SYNC_PROVIDED_BY_FOR_PROVIDERS}
    assert node_writes <= set(order)
    assert relationship_writes <= set(order)
    last_node = max(i for i, q in enumerate(order) if q in node_writes)
    first_rel = min(i for i, q in enumerate(order) if q in relationship_writes)
    assert last_node < first_rel
    # the endpoints the co-matches name but the delta does not carry become stubs first
    ensured = next(p["ids"] for _, q, p in driver.calls if q == cypher.ENSURE_ARTIFACTS)
    assert "art-0001" not in ensured  # carried by the artifacts table itself
    assert "art-0002-z" in ensured
    assert cypher.ENSURE_INTENTS not in order  # the intents table writes "q" anyway
    # nothing takes counts back, so no statement checks for rows at zero
    assert not {cypher.ADD_MATCHED_OR_DROP, cypher.ADD_CO_MATCHED_OR_DROP, cypher.DROP_EMPTY_INTENTS} & set(order)


def test_relationship_rows_are_sorted_by_endpoints(store: Neo4jStore, driver: FakeDriver) -> None:
    prefs = preference_pairs(pl.DataFrame({"winner": ["c", "a", "b", "a"], "loser": ["a", "c", "a", "b"],
                                           "winner_pos": [1, 2, 1, 1], "loser_pos": [2, 1, 3, 2],
                                           "count": [1, 1, 1, 1]})).sample(fraction=1.0, shuffle=True, seed=3)
    store.apply(GraphDelta().set(Table.CO_MATCHED, _co_matched(250)).set(Table.PREFERRED_OVER, prefs))
    co_rows = [row for batch in _co_batches(driver) for row in batch]
    assert [(r["a"], r["b"]) for r in co_rows] == sorted((r["a"], r["b"]) for r in co_rows)
    pref_rows = [row for batch in _preference_batches(driver) for row in batch]
    assert [(r["winner"], r["loser"]) for r in pref_rows] == [("a", "b"), ("a", "c"), ("b", "a"), ("c", "a")]


def test_preferences_go_out_one_row_per_pair(store: Neo4jStore, driver: FakeDriver) -> None:
    cells = pl.DataFrame({"winner": ["a", "a", "a", "b"], "loser": ["b", "b", "b", "a"],
                          "winner_pos": [2, 1, 1, 1], "loser_pos": [1, 3, 3, 2], "count": [1, 2, 5, 1]})
    # two deltas' worth of the same pair in one: combined cell by cell before anything is sent
    prefs = pl.concat([preference_pairs(cells.head(2)), preference_pairs(cells.tail(2))])
    store.apply(GraphDelta().set(Table.PREFERRED_OVER, prefs))
    assert _preference_batches(driver) == [[
        {"winner": "a", "loser": "b", "count": 8, "winner_pos": [1, 2], "loser_pos": [3, 1], "counts": [7, 1]},
        {"winner": "b", "loser": "a", "count": 1, "winner_pos": [1], "loser_pos": [2], "counts": [1]},
    ]]


def test_duplicate_keys_in_a_delta_are_combined_like_the_embedded_store(store: Neo4jStore,
                                                                        driver: FakeDriver) -> None:
    co = pl.DataFrame({"a": ["x", "x", "x"], "b": ["y", "y", "z"], "count": [2, 3, 1]})
    intents = pl.DataFrame({"id": ["q", "q"], "searches": [1, 2]})
    store.apply(GraphDelta().set(Table.CO_MATCHED, co).set(Table.INTENTS, intents))
    assert _co_batches(driver) == [[{"a": "x", "b": "y", "count": 5}, {"a": "x", "b": "z", "count": 1}]]
    assert _batches(driver, cypher.ADD_INTENTS) == [[{"id": "q", "searches": 3}]]


def test_catalogued_rows_drop_nulls_and_stubs_only_insert(store: Neo4jStore, driver: FakeDriver) -> None:
    arts = pl.DataFrame({"id": ["a", "b"], "name": ["A", "b"], "catalogued": [True, False],
                         "likes": [5.0, None], "released": [date(2024, 1, 2), None]})
    store.apply(GraphDelta().set(Table.ARTIFACTS, arts))
    [[catalogued]] = _batches(driver, cypher.UPSERT_ARTIFACTS)
    assert catalogued == {"id": "a", "name": "A", "catalogued": True, "likes": 5.0, "released": date(2024, 1, 2)}
    [[stub]] = _batches(driver, cypher.INSERT_STUB_ARTIFACTS)
    assert stub["id"] == "b"
    assert stub["catalogued"] is False
    assert "ON CREATE SET a += row" in cypher.INSERT_STUB_ARTIFACTS
    # no provider named: PROVIDED_BY is left alone
    assert cypher.SYNC_PROVIDED_BY_FOR_ARTIFACTS not in [q for _, q, _ in driver.calls]


def test_capability_lists_are_replaced_and_scores_cleared_first(store: Neo4jStore, driver: FakeDriver) -> None:
    has_cap = pl.DataFrame({"artifact": ["a", "a"], "capability": ["x", "y"], "position": [1, 2]})
    scores = pl.DataFrame({"id": ["a"], "rank": [70], "low_confidence": [True], "adoption": [12.5]})
    store.apply(GraphDelta().set(Table.HAS_CAPABILITY, has_cap).set(Table.SCORES, scores))
    order = [q for _, q, _ in driver.calls]
    assert order.index(cypher.DELETE_HAS_CAPABILITY) < order.index(cypher.CREATE_HAS_CAPABILITY)
    assert order.index(cypher.CLEAR_SCORES) < order.index(cypher.SET_SCORES) < order.index(cypher.SET_SCORE_COLUMNS)
    cleared = next(p for _, q, p in driver.calls if q == cypher.CLEAR_SCORES)["cleared"]
    assert cleared == dict.fromkeys([c for c in SCHEMAS[Table.SCORES] if c != "id"] + ["adoption"])
    assert next(p for _, q, p in driver.calls if q == cypher.SET_SCORE_COLUMNS) == {"columns": ["adoption"]}
    [[row]] = _batches(driver, cypher.SET_SCORES)
    assert row["adoption"] == 12.5
    assert next(p for _, q, p in driver.calls if q == cypher.DELETE_HAS_CAPABILITY) == {"ids": ["a"]}
    assert next(p for _, q, p in driver.calls if q == cypher.ENSURE_CAPABILITIES) == {"ids": ["x", "y"]}


def test_user_text_only_travels_as_parameters(store: Neo4jStore, driver: FakeDriver) -> None:
    arts = pl.DataFrame({"id": [EVIL], "name": [EVIL], "description": [EVIL], "catalogued": [True],
                         "provider": [EVIL]})
    co = pl.DataFrame({"a": [EVIL], "b": ["other"], "count": [1]})
    store.apply(GraphDelta().set(Table.ARTIFACTS, arts).set(Table.CO_MATCHED, co))
    store.table(Table.CO_MATCHED, [EVIL])
    store.table(Table.MATCHED, [EVIL], by="intent")
    with store.reader() as view:
        view.tables((Table.ARTIFACTS, Table.SCORES), [EVIL])
    assert driver.calls
    assert all("DETACH DELETE" not in q for _, q, _ in driver.calls)
    assert all(EVIL not in q for _, q, _ in driver.calls)
    assert any(EVIL in repr(p) for _, _, p in driver.calls)


def test_every_label_and_relationship_type_comes_from_the_enums() -> None:
    allowed = {v.value for v in NodeLabel} | {v.value for v in EdgeType} | {v.value for v in cypher.StoreLabel}
    texts = [v for k, v in vars(cypher).items() if k.isupper() and isinstance(v, str)]
    texts += [q for k, v in vars(cypher).items() if k.isupper() and isinstance(v, tuple) for q in v
              if isinstance(q, str)]
    used = {m for text in texts for m in re.findall(r"[:|]([A-Z][A-Za-z_]*)\b", text)}
    assert used
    assert used <= allowed, used - allowed


def test_every_fixed_score_column_is_read_back_and_open_ones_by_name() -> None:
    for column in SCHEMAS[Table.SCORES]:
        assert f"a.{column}" in cypher.READ_SCORES_BY_ID
    assert "[c IN $score_columns | a[c]]" in cypher.READ_SCORES_BY_ID
    assert "SET a += $cleared" in cypher.CLEAR_SCORES


# -- reads ----------------------------------------------------------------------------------------
def test_table_pages_through_anchors_and_builds_the_frame(tmp_path: Path) -> None:
    pages = {"": ["a", "b"], "b": ["c"]}

    def respond(query: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        if query == cypher.ARTIFACT_ID_PAGE:
            assert params["page"] == 2
            return [(pages.get(params["after"], []),)]
        if query == cypher.READ_CO_MATCHED_BY_SOURCE:
            rows = {"a": [["a", "b", 4]], "b": [["b", "c", 1]], "c": []}
            return [([row for i in params["ids"] for row in rows[i]],)]
        raise AssertionError(query)

    driver = FakeDriver(respond)
    store = Neo4jStore(driver, _settings(tmp_path, batch=100))  # type: ignore[arg-type]
    store.settings.neo4j_batch_size = 2  # smaller pages than Settings allows, to see the paging
    frame = store.table(Table.CO_MATCHED)
    assert frame.schema == pl.Schema(SCHEMAS[Table.CO_MATCHED])
    assert frame.to_dicts() == [{"a": "a", "b": "b", "count": 4}, {"a": "b", "b": "c", "count": 1}]
    assert driver.transactions == ["read"]  # every page in one read transaction
    assert [p for _, q, p in driver.calls if q == cypher.ARTIFACT_ID_PAGE] == [
        {"after": "", "page": 2}, {"after": "b", "page": 2}]


def test_table_converts_dates_datetimes_lists_and_nulls(tmp_path: Path) -> None:
    at = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    epoch_us = int(at.timestamp()) * 1_000_000 + at.microsecond

    def respond(query: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        if query == cypher.READ_LEDGER:
            return [([["abc", "logs.jsonl", "logs", 10, 4, epoch_us]],)]
        if query == cypher.READ_DAILY_BY_ID:
            assert params == {"ids": ["a", "b"]}
            return [([["a", "2026-01-03", 2, 1, 1], ["b", None, 1, 0, None]],)]
        if query == cypher.READ_CAPABILITIES:
            return [([["x", "X", ["image", "edit"], ["Y"], 2, 1], ["y", None, None, None, None, None]],)]
        raise AssertionError(query)

    store = Neo4jStore(FakeDriver(respond), _settings(tmp_path))  # type: ignore[arg-type]
    ledger = store.table(Table.LEDGER)
    assert ledger.schema == pl.Schema(SCHEMAS[Table.LEDGER])
    assert ledger.row(0, named=True)["ingested_at"] == at
    daily = store.table(Table.DAILY, ["b", "a", "a"])
    assert daily.schema == pl.Schema(SCHEMAS[Table.DAILY])
    assert daily.get_column("day").to_list() == [date(2026, 1, 3), None]
    caps = store.table(Table.CAPABILITIES)
    assert caps.to_dicts() == [
        {"id": "x", "name": "X", "tags": ["image", "edit"], "aliases": ["Y"], "statements": 2, "artifacts": 1},
        {"id": "y", "name": None, "tags": None, "aliases": None, "statements": None, "artifacts": None},
    ]
    with pytest.raises(ValueError, match="no artifact column"):
        store.table(Table.LEDGER, ["a"])
    assert store.table(Table.DAILY, []).height == 0


def test_tables_reads_several_tables_in_one_query(tmp_path: Path) -> None:
    wanted = (Table.ARTIFACTS, Table.SCORES, Table.CO_MATCHED)

    def respond(query: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        if query == cypher.READ_VERSION:
            return [{"token": "v1", "score_columns": ["adoption"]}]  # type: ignore[list-item]
        assert query == cypher.read_together(wanted)
        assert params == {"ids": ["a", "b"], "score_columns": ["adoption"]}
        artifact = ["a", "A", "model", None, None, None, None, None, "2024-01-02", True, *[None] * 8]
        score = ["a", 70, 0.5, 0.1, 0.9, 12, False, "{}", 33.5]
        return [([artifact], [score], [["a", "b", 3]])]

    driver = FakeDriver(respond)
    store = Neo4jStore(driver, _settings(tmp_path))  # type: ignore[arg-type]
    with store.reader() as view:
        frames = view.tables(wanted, ["b", "a", "a"])
        assert view.version == "v1"
    assert driver.transactions == ["read"]
    assert [q for _, q, _ in driver.calls] == [cypher.READ_VERSION, cypher.read_together(wanted)]
    assert list(frames) == list(wanted)
    assert frames[Table.ARTIFACTS].schema == pl.Schema(SCHEMAS[Table.ARTIFACTS])
    assert frames[Table.SCORES].schema == pl.Schema({**SCHEMAS[Table.SCORES], "adoption": pl.Float64})
    assert frames[Table.ARTIFACTS].row(0, named=True)["released"] == date(2024, 1, 2)
    assert frames[Table.SCORES].row(0, named=True)["adoption"] == 33.5
    assert frames[Table.CO_MATCHED].to_dicts() == [{"a": "a", "b": "b", "count": 3}]
    with store.reader() as view:
        assert all(f.height == 0 for f in view.tables(wanted, []).values())
        with pytest.raises(ValueError, match="no artifact column"):
            view.tables((Table.LEDGER,), ["a"])
    assert len(driver.calls) == 2  # no ids: no round trip


def test_every_artifact_read_has_a_combined_form() -> None:
    readable = tuple(t for t, read in cypher.TABLE_READS.items() if read.by_ids is not None)
    query = cypher.read_together(readable)
    assert query.count("COLLECT {") == len(readable)
    assert "collect(" not in query  # every per-table collect became a row per record
    assert all(f"AS t{n}" in query for n in range(len(readable)))
    with pytest.raises(ValueError, match="no read by artifact ids"):
        cypher.read_together((Table.PROVIDERS,))


def test_capability_filtered_reads(tmp_path: Path) -> None:
    def respond(query: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        assert params == {"ids": ["edit", "inpaint"]}
        if query == cypher.READ_HAS_CAPABILITY_BY_CAPABILITY:
            return [([["a", "edit", None, None, None, 1, "Editing"]],)]
        assert query == cypher.READ_CAPABILITIES_BY_CAPABILITY
        return [([["edit", "Edit", ["image"], [], 1, 1]],)]

    driver = FakeDriver(respond)
    store = Neo4jStore(driver, _settings(tmp_path))  # type: ignore[arg-type]
    has = store.table(Table.HAS_CAPABILITY, ["inpaint", "edit", "edit"], by="capability")
    assert has.get_column("artifact").to_list() == ["a"]
    caps = store.table(Table.CAPABILITIES, ["inpaint", "edit"], by="id")
    assert caps.to_dicts() == [{"id": "edit", "name": "Edit", "tags": ["image"], "aliases": [], "statements": 1,
                                "artifacts": 1}]
    assert store.table(Table.CAPABILITIES, [], by="id").height == 0
    assert driver.transactions == ["read", "read", "read"]
    with pytest.raises(ValueError, match="cannot be filtered on 'capability'"):
        store.table(Table.CO_MATCHED, ["a"], by="capability")
    with pytest.raises(ValueError, match="needs the values"):
        store.table(Table.HAS_CAPABILITY, None, by="capability")


def test_sessions_share_the_database_and_one_bookmark_manager(store: Neo4jStore, driver: FakeDriver) -> None:
    store.apply(GraphDelta().set(Table.CO_MATCHED, _co_matched(3)))
    store.table(Table.PROVIDERS)
    assert len(driver.sessions) == 2
    assert {s["database"] for s in driver.sessions} == {"neo4j"}
    managers = {id(s["bookmark_manager"]) for s in driver.sessions}
    assert len(managers) == 1


def test_driver_errors_become_store_unavailable(store: Neo4jStore, driver: FakeDriver) -> None:
    driver.fail_with = ServiceUnavailable("connection lost")
    with pytest.raises(StoreUnavailable, match="connection lost") as caught:
        store.apply(GraphDelta().set(Table.CO_MATCHED, _co_matched(3)))
    assert isinstance(caught.value.__cause__, ServiceUnavailable)
    with pytest.raises(StoreUnavailable):
        store.table(Table.PROVIDERS)


def test_connect_fails_clearly_when_nothing_listens(tmp_path: Path) -> None:
    settings = Settings(MATCHGRAPH_HOME=tmp_path, NEO4J_URI="bolt://127.0.0.1:9",  # type: ignore[call-arg]
                        MATCHGRAPH_NEO4J_TIMEOUT_S=2)
    with pytest.raises(StoreUnavailable, match="not reachable"):
        Neo4jStore.connect(settings)
    bad = Settings(MATCHGRAPH_HOME=tmp_path, NEO4J_URI="http://127.0.0.1:9")  # type: ignore[call-arg]
    with pytest.raises(StoreUnavailable, match="NEO4J_URI"):
        Neo4jStore.connect(bad)


def test_plan_of_an_empty_delta_is_empty() -> None:
    assert plan_delta(GraphDelta()) == []


def test_co_match_endpoints_are_locked_once_and_sent_as_positions(tmp_path: Path) -> None:
    """Endpoints are locked and looked up once per transaction, in id order; each batch names its
    distinct endpoints once (element ids) and its rows point into that list."""
    def respond(query: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        if query == cypher.LOCK_ARTIFACTS:
            return [([[i, f"4:db:{n}"] for n, i in enumerate(params["ids"])],)]
        return _empty_answer(query, params)

    driver = FakeDriver(respond)
    store = Neo4jStore(driver, _settings(tmp_path))  # type: ignore[arg-type]
    co = pl.DataFrame({"a": ["x", EVIL, "x"], "b": ["y", "y", "w"], "count": [2, 1, 4]})
    store.apply(GraphDelta().set(Table.CO_MATCHED, co))
    assert driver.transactions == ["write"]
    locks = [p["ids"] for _, q, p in driver.calls if q == cypher.LOCK_ARTIFACTS]
    everyone = sorted(["w", "x", "y", EVIL])
    assert locks == [everyone]
    element = {i: f"4:db:{n}" for n, i in enumerate(everyone)}
    [batch] = [p for _, q, p in driver.calls if q == cypher.CREATE_CO_MATCHED]
    assert batch["nodes"] == [element[i] for i in everyone]  # each endpoint once, in id order
    assert batch["rows"] == [(everyone.index("x"), everyone.index("w"), 4),  # sorted by ids: "x" < EVIL
                             (everyone.index("x"), everyone.index("y"), 2),
                             (everyone.index(EVIL), everyone.index("y"), 1)]
    order = [q for _, q, _ in driver.calls]
    assert order.index(cypher.ENSURE_ARTIFACTS) < order.index(cypher.LOCK_ARTIFACTS) < order.index(
        cypher.CREATE_CO_MATCHED)


def test_a_batch_built_ahead_fails_the_transaction(store: Neo4jStore, driver: FakeDriver,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches are built in a worker thread; an error there still ends ``apply`` before the commit."""
    def broken(*_: Any) -> dict[str, Any]:
        raise RuntimeError("batch failed")

    monkeypatch.setattr(neo4j_store, "_by_position", broken)
    with pytest.raises(RuntimeError, match="batch failed"):
        store.apply(GraphDelta().set(Table.CO_MATCHED, _co_matched(3)))
    queries = [q for _, q, _ in driver.calls]
    assert cypher.LOCK_ARTIFACTS in queries
    assert cypher.CREATE_CO_MATCHED not in queries
    assert cypher.BUMP_VERSION not in queries
    with pytest.raises(ValueError, match="resolve the statement"):  # never sent unlocated
        list(plan_delta(GraphDelta().set(Table.CO_MATCHED, _co_matched(3)))[-1].batches(100))


# -- a file in parts ------------------------------------------------------------------------------
def _file_delta(n_intents: int = 300, per_intent: int = 4) -> GraphDelta:
    """A log file's aggregate: intents, their matches, co-matches and preferences, and its ledger row."""
    intents = [f"query {i:04d}" for i in range(n_intents)]
    artifacts = [f"art-{(i * 7 + k) % 50:02d}" for i in range(n_intents) for k in range(per_intent)]
    matched = pl.DataFrame({"intent": [q for q in intents for _ in range(per_intent)], "artifact": artifacts,
                            "count": 2, "clicks": 1, "position_sum": 3})
    co = _co_matched(400)
    prefs = preference_pairs(pl.DataFrame({"winner": [f"art-{i % 50:02d}" for i in range(300)],
                                           "loser": [f"art-{(i * 3 + 1) % 50:02d}" for i in range(300)],
                                           "winner_pos": 1, "loser_pos": 2, "count": 1})
                             .filter(pl.col("winner") != pl.col("loser")))
    ledger = pl.DataFrame({"sha256": ["f" * 64], "source": ["logs.jsonl"], "kind": ["logs"], "size": [10],
                           "rows": [n_intents], "ingested_at": [datetime(2026, 1, 1, tzinfo=UTC)]})
    return (GraphDelta().set(Table.INTENTS, pl.DataFrame({"id": intents, "searches": [3] * n_intents}))
            .set(Table.MATCHED, matched).set(Table.CO_MATCHED, co).set(Table.PREFERRED_OVER, prefs)
            .set(Table.LEDGER, ledger))


def _transactions(driver: FakeDriver) -> list[list[tuple[str, dict[str, Any]]]]:
    """The write calls cut into transactions (each write transaction ends with the version bump)."""
    out: list[list[tuple[str, dict[str, Any]]]] = [[]]
    for mode, query, params in driver.calls:
        if mode != "write":
            continue
        out[-1].append((query, {} if query == cypher.BUMP_VERSION else params))  # the token is random
        if query == cypher.BUMP_VERSION:
            out.append([])
    return out[:-1]


def test_a_big_file_is_written_in_key_disjoint_parts_each_with_its_ledger_row(tmp_path: Path) -> None:
    delta = _file_delta()
    rows = sum(f.height for t, f in delta.tables.items() if t is not Table.LEDGER)
    driver = FakeDriver()
    store = Neo4jStore(driver, Settings(MATCHGRAPH_HOME=tmp_path, NEO4J_URI=None,  # type: ignore[call-arg]
                                        MATCHGRAPH_NEO4J_ROWS_PER_WRITE=1000))
    store.apply(delta)
    parts = neo4j_store.part_count(delta, 1000)
    assert parts == -(-rows // 1000) > 1
    transactions = _transactions(driver)
    assert len(transactions) == parts
    ledgers = [[r for q, p in tx if q == cypher.APPEND_LEDGER for r in p["rows"]] for tx in transactions]
    assert [[r["sha256"] for r in rows_] for rows_ in ledgers] == (
        [[f"{'f' * 64}:{n}/{parts}"] for n in range(parts - 1)] + [["f" * 64]])
    assert [r[0]["kind"] for r in ledgers] == ["logs-part"] * (parts - 1) + ["logs"]
    # every key goes out once, in one transaction, and an intent goes with its matches
    seen_matches = [(r["intent"], r["artifact"]) for tx in transactions for q, p in tx if q == cypher.CREATE_MATCHED
                    for r in p["rows"]]
    assert sorted(seen_matches) == sorted(delta.get(Table.MATCHED).select("intent", "artifact").rows())
    seen_co = [(p["nodes"][a], p["nodes"][b]) for tx in transactions for q, p in tx if q == cypher.CREATE_CO_MATCHED
               for a, b, _ in p["rows"]]
    assert sorted(seen_co) == sorted(delta.get(Table.CO_MATCHED).select("a", "b").rows())
    seen_prefs = [(p["nodes"][w], p["nodes"][lo]) for tx in transactions for q, p in tx
                  if q == cypher.CREATE_PREFERRED_OVER for w, lo, *_ in p["rows"]]
    assert sorted(seen_prefs) == sorted(delta.get(Table.PREFERRED_OVER).select("winner", "loser").rows())
    for tx in transactions:
        searched = {r["id"] for q, p in tx if q == cypher.ADD_INTENTS for r in p["rows"]}
        matched = {r["intent"] for q, p in tx if q == cypher.CREATE_MATCHED for r in p["rows"]}
        assert matched == searched
        assert all(q != cypher.ENSURE_INTENTS for q, _ in tx)
        assert sum(len(p["rows"]) for q, p in tx if "rows" in p and q != cypher.APPEND_LEDGER) <= 1000


def test_a_rerun_writes_only_the_parts_the_ledger_lacks(tmp_path: Path) -> None:
    """After a crash the same file comes again: the parts already written are skipped, and the file
    is cut as the first attempt cut it even if the limit changed since."""
    delta = _file_delta()
    first = FakeDriver()
    Neo4jStore(first, Settings(MATCHGRAPH_HOME=tmp_path, NEO4J_URI=None,  # type: ignore[call-arg]
                               MATCHGRAPH_NEO4J_ROWS_PER_WRITE=1000)).apply(delta)
    all_parts = _transactions(first)
    parts = len(all_parts)
    done = [f"{'f' * 64}:0/{parts}", f"{'f' * 64}:2/{parts}", f"{'f' * 64}:7"]  # the last: a pipeline's own part

    def respond(query: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        if query == cypher.READ_LEDGER_PARTS:
            assert params["prefix"] == "f" * 64 + ":"
            return [(done,)]
        return _empty_answer(query, params)

    again = FakeDriver(respond)
    Neo4jStore(again, Settings(MATCHGRAPH_HOME=tmp_path, NEO4J_URI=None,  # type: ignore[call-arg]
                               MATCHGRAPH_NEO4J_ROWS_PER_WRITE=50_000)).apply(delta)
    assert _transactions(again) == [tx for n, tx in enumerate(all_parts) if n not in (0, 2)]


def test_the_same_rows_in_any_order_split_the_same_way() -> None:
    delta = _file_delta()
    shuffled = GraphDelta({t: f.sample(fraction=1.0, shuffle=True, seed=7) for t, f in delta.tables.items()})
    for left, right in zip(neo4j_store.split_delta(delta, 4), neo4j_store.split_delta(shuffled, 4), strict=True):
        assert set(left.tables) == set(right.tables)
        for table, frame in left.tables.items():
            keys = [c for c in frame.columns if frame.schema[c] != pl.List]
            assert frame.sort(keys).equals(right.tables[table].sort(keys)), table
    whole = neo4j_store.split_delta(delta, 4)
    for table in (Table.INTENTS, Table.MATCHED, Table.CO_MATCHED, Table.PREFERRED_OVER):
        assert pl.concat([p.get(table) for p in whole]).sort(pl.all()).equals(delta.get(table).sort(pl.all()))
    assert all(Table.LEDGER not in p.tables for p in whole)


def test_rows_that_take_counts_back_use_the_dropping_statements(tmp_path: Path) -> None:
    def respond(query: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        if query == cypher.LOCK_MATCHED_KEYS:  # q's match is stored, r's is new
            return [([["q", "a"]],)]
        if query == cypher.READ_PREFERRED_OVER_KEYS:
            return [([["a", "b"]],)]
        return _empty_answer(query, params)

    driver = FakeDriver(respond)
    store = Neo4jStore(driver, _settings(tmp_path))
    matched = pl.DataFrame({"intent": ["q", "r"], "artifact": ["a", "b"], "count": [-1, 2], "clicks": [0, 0],
                            "position_sum": [-1, 2]})
    prefs = preference_pairs(pl.DataFrame({"winner": ["a"], "loser": ["b"], "winner_pos": [1], "loser_pos": [2],
                                           "count": [-1]}))
    store.apply(GraphDelta().set(Table.MATCHED, matched).set(Table.PREFERRED_OVER, prefs)
                .set(Table.CO_MATCHED, _co_matched(3))
                .set(Table.INTENTS, pl.DataFrame({"id": ["q", "r"], "searches": [-1, 1]})))
    order = [q for _, q, _ in driver.calls]
    assert {cypher.ADD_MATCHED_OR_DROP, cypher.ADD_PREFERRED_OVER_OR_DROP, cypher.DROP_EMPTY_INTENTS} <= set(order)
    assert cypher.CREATE_CO_MATCHED in order  # its rows only add, and none is stored
    assert not {cypher.ADD_MATCHED, cypher.ADD_PREFERRED_OVER, cypher.ADD_CO_MATCHED_OR_DROP} & set(order)
    assert _preference_batches(driver, cypher.ADD_PREFERRED_OVER_OR_DROP) == [[
        {"winner": "a", "loser": "b", "count": -1, "winner_pos": [1], "loser_pos": [2], "counts": [-1]}]]
    assert _batches(driver, cypher.ADD_MATCHED_OR_DROP) == [[matched.row(0, named=True)]]
    assert _batches(driver, cypher.CREATE_MATCHED) == [[matched.row(1, named=True)]]


def test_rows_of_stored_keys_are_added_and_new_ones_created(tmp_path: Path) -> None:
    """Inside the write, one read per batch of distinct intents finds the stored keys: their rows go
    through the adding statement (cells by the element id the read found), the others are created
    in bulk, as ``MERGE`` would create them."""
    def respond(query: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        if query == cypher.READ_INTENT_PREFERENCE_KEYS:
            return [([["q", "a", "b", 1, 2, "4:cell:7"]] if "q" in params["ids"] else [],)]
        if query == cypher.LOCK_MATCHED_KEYS:
            return [([["r", "a"]] if "r" in params["ids"] else [],)]
        return _empty_answer(query, params)

    driver = FakeDriver(respond)
    store = Neo4jStore(driver, _settings(tmp_path))
    cells = pl.DataFrame({"intent": ["q", "q", "r", "s"], "winner": ["a", "a", "a", "b"], "loser": ["b", "b", "b", "a"],
                          "winner_pos": [1, 2, 1, 1], "loser_pos": [2, 1, 2, 2], "count": [3, 1, 2, -1]})
    matched = pl.DataFrame({"intent": ["q", "r", "r"], "artifact": ["a", "a", "b"], "count": [1, 2, 3],
                            "clicks": [0, 1, 0], "position_sum": [1, 2, 3]})
    store.apply(GraphDelta().set(Table.INTENT_PREFERENCES, cells).set(Table.MATCHED, matched))
    assert [p["ids"] for _, q, p in driver.calls if q == cypher.READ_INTENT_PREFERENCE_KEYS] == [["q", "r", "s"]]
    assert _batches(driver, cypher.ADD_INTENT_PREFERENCES) == [[cells.row(0, named=True) | {"eid": "4:cell:7"}]]
    assert _batches(driver, cypher.CREATE_INTENT_PREFERENCES) == [cells.slice(1).to_dicts()]
    order = [q for _, q, _ in driver.calls]
    assert order.index(cypher.LOCK_MATCHED_KEYS) < order.index(cypher.CREATE_MATCHED) < order.index(
        cypher.ADD_MATCHED)
    assert _batches(driver, cypher.CREATE_MATCHED) == [[matched.row(0, named=True), matched.row(2, named=True)]]
    assert _batches(driver, cypher.ADD_MATCHED) == [[matched.row(1, named=True)]]


# -- the writer lease -----------------------------------------------------------------------------
class LockServer:
    """Answers the lease statements the way one lock node would, for one store at a time."""

    def __init__(self, holder: str | None = None, live: bool = False) -> None:
        self.holder, self.live, self.token = holder, live, 41
        self.held_by_us = True
        self.renewals = 0

    def __call__(self, query: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        if query == cypher.TAKE_RUN_LOCK:
            return [{"owner": self.holder, "live": self.live}]  # type: ignore[list-item]
        if query == cypher.SET_RUN_LOCK:
            self.token += 1
            self.holder = params["owner"]
            return [{"token": self.token}]  # type: ignore[list-item]
        if query == cypher.RENEW_RUN_LOCK:
            self.renewals += 1
            return [{"held": int(self.held_by_us)}]  # type: ignore[list-item]
        if query == cypher.CHECK_RUN_LOCK:
            held = self.held_by_us and params["owner"] == self.holder and params["token"] == self.token
            return [{"held": held}]  # type: ignore[list-item]
        return _empty_answer(query, params)


def _until(condition: Callable[[], bool]) -> None:
    import time

    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "the condition never came true"
        time.sleep(0.01)


def test_every_write_under_a_lease_is_fenced_by_its_token(tmp_path: Path) -> None:
    server = LockServer()
    driver = FakeDriver(server)
    store = Neo4jStore(driver, _settings(tmp_path))  # type: ignore[arg-type]
    with store.run_lock("writer", 60):
        store.apply(GraphDelta().set(Table.CO_MATCHED, _co_matched(3)))
        [check] = [p for _, q, p in driver.calls if q == cypher.CHECK_RUN_LOCK]
        assert check["token"] == 42
        assert check["owner"] == server.holder
        order = [q for _, q, _ in driver.calls]
        assert order.index(cypher.CREATE_CO_MATCHED) < order.index(cypher.CHECK_RUN_LOCK) < order.index(
            cypher.BUMP_VERSION)  # checked last, just before the commit

        server.holder = "elsewhere:1:abcd"  # another run took the lease over
        before = len(driver.calls)
        with pytest.raises(StoreLocked, match="the writer lease was lost"):
            store.apply(GraphDelta().set(Table.CO_MATCHED, _co_matched(3)))
        assert cypher.BUMP_VERSION not in [q for _, q, _ in driver.calls[before:]]
        with pytest.raises(StoreLocked, match="lease was lost"):  # known lost: nothing is even sent
            store.apply(GraphDelta().set(Table.CO_MATCHED, _co_matched(3)))
    release = [p for _, q, p in driver.calls if q == cypher.RELEASE_RUN_LOCK]
    assert release == [{"name": "writer", "owner": check["owner"], "token": 42}]
    store.apply(GraphDelta().set(Table.CO_MATCHED, _co_matched(3)))  # no lease held: no fence
    assert len([q for _, q, _ in driver.calls if q == cypher.CHECK_RUN_LOCK]) == 2


def test_a_live_lease_of_another_run_refuses_the_lock(tmp_path: Path) -> None:
    driver = FakeDriver(LockServer(holder="elsewhere:1:abcd", live=True))
    store = Neo4jStore(driver, _settings(tmp_path))  # type: ignore[arg-type]
    with pytest.raises(StoreLocked, match=r"already in progress \(elsewhere:1:abcd\)"), store.run_lock("writer", 60):
        pass
    assert cypher.SET_RUN_LOCK not in [q for _, q, _ in driver.calls]
    expired = FakeDriver(LockServer(holder="elsewhere:1:abcd", live=False))
    with Neo4jStore(expired, _settings(tmp_path)).run_lock("writer", 60):  # type: ignore[arg-type]
        pass
    assert [p["ttl_ms"] for _, q, p in expired.calls if q == cypher.SET_RUN_LOCK] == [60_000]


def test_the_heartbeat_renews_the_lease_and_notices_when_it_is_gone(tmp_path: Path) -> None:
    server = LockServer()
    driver = FakeDriver(server)
    store = Neo4jStore(driver, _settings(tmp_path))  # type: ignore[arg-type]
    with store.run_lock("writer", 0.3):
        _until(lambda: server.renewals >= 3)
        renewals = [p for _, q, p in driver.calls if q == cypher.RENEW_RUN_LOCK]
        assert {(p["owner"], p["token"], p["ttl_ms"]) for p in renewals} == {(server.holder, 42, 300)}
        server.held_by_us = False
        _until(lambda: store._leases["writer"].lost.is_set())
        sent = len(driver.calls)
        with pytest.raises(StoreLocked, match="lease was lost"):
            store.apply(GraphDelta().set(Table.CO_MATCHED, _co_matched(3)))
        assert len(driver.calls) == sent


# -- import files ---------------------------------------------------------------------------------
def test_import_files_carry_every_row_typed_as_apply_writes_it(tmp_path: Path) -> None:
    """The CSV files ``matchgraph neo4j import`` hands to neo4j-admin: typed headers, nulls as empty
    fields (no property), empty strings quoted (kept), line breaks only in files read as multi-line,
    stubs for ids a row names, and a command whose database name comes before the file lists."""
    from graph.embedded import EmbeddedStore
    from graph.neo4j_import import write_import_files

    store = EmbeddedStore(tmp_path / "home")
    arts = pl.DataFrame({"id": ["a", "b"], "name": ["A\nline two", ""], "catalogued": [True, True],
                         "stars": [float("inf"), None], "released": [date(2024, 8, 1), None]})
    store.apply(GraphDelta().set(Table.ARTIFACTS, arts)
                .set(Table.CAPABILITIES, pl.DataFrame({"id": ["c"], "name": ["C"], "tags": [[]]},
                                                      schema={"id": pl.String, "name": pl.String,
                                                              "tags": pl.List(pl.String)}))
                .set(Table.PREFERRED_OVER, preference_pairs(pl.DataFrame({
                    "winner": ["a", "a"], "loser": ["ghost", "ghost"], "winner_pos": [1, 2], "loser_pos": [3, 4],
                    "count": [2, 5]}))))
    with store.reader() as snapshot:
        files = write_import_files(snapshot, tmp_path / "files")
    by_label = dict(files.nodes)
    artifacts = by_label["Artifact"].read_text()
    assert artifacts.splitlines()[0].startswith("id:ID(Artifact),name,type,provider")
    assert ",released:date," in artifacts.splitlines()[0]
    assert ",stars:double," in artifacts.splitlines()[0]
    assert '"A\nline two"' in artifacts
    assert "2024-08-01" in artifacts
    assert "Infinity" in artifacts
    assert '\nb,"",' in artifacts  # the empty name stays a property
    assert "\nghost,ghost,," in artifacts  # the named id becomes a stub (name = id, not catalogued)
    assert files.multiline == [by_label["Artifact"]]
    prefs = dict(files.relationships)["PREFERRED_OVER"].read_text().splitlines()
    assert prefs == [":START_ID(Artifact),:END_ID(Artifact),count:long,winner_pos:long[],loser_pos:long[],"
                     "counts:long[]", "a,ghost,7,1;2,3;4,2;5"]
    assert files.capabilities.to_dicts() == [{"id": "c", "name": "C", "tags": [], "aliases": None, "statements": None,
                                             "artifacts": None}]  # set after the import
    assert "tags" not in by_label["Capability"].read_text()
    command = files.command("java", tmp_path / "lib")
    assert command[command.index("full") + 1] == "neo4j"
    assert f"--nodes=Artifact={by_label['Artifact']}" in command
    assert f"--multiline-fields={by_label['Artifact']}" in command
