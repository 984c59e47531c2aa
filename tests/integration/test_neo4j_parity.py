"""The same input into the embedded store and Neo4j gives the same tables, aggregates and scores.

The contract suite checks chosen values on each store; this checks the two stores against each
other, whole frames at a time, including what ``queries.scoring`` computes from them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import TYPE_CHECKING, Any

import polars as pl
import pytest

from api.application import MatchGraph
from graph.embedded import EmbeddedStore
from graph.errors import StoreUnavailable
from graph.neo4j_store import Neo4jStore
from graph.settings import Settings
from graph.tables import ARTIFACT_ENDPOINTS, KEYS, GraphDelta, Table, preference_pairs
from queries.scoring import ScoringConfig, compute_scores, score
from queries.stats import artifact_stats
from tests.conftest import SAMPLES_AS_OF, connect_neo4j
from tests.fixtures import killed_at, load_fixture
from tests.integration.own_server import ROOT, Server, own_server

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from graph.store import GraphStore

pytestmark = pytest.mark.integration

AS_OF = date(2026, 1, 5)
EVIL = 'x"}) DETACH DELETE n //'
TIME_COLUMNS = ("ingested_at", "scored_at", "run")


@pytest.fixture
def neo4j(tmp_path: Path) -> Iterator[GraphStore]:
    store = connect_neo4j(tmp_path / "neo4j-home")
    store.clear()
    try:
        yield store
    finally:
        store.clear()
        store.close()


@pytest.fixture
def both(tmp_path: Path, neo4j: GraphStore) -> tuple[GraphStore, GraphStore]:
    """The embedded store and Neo4j, each fed the fixture catalog and logs."""
    embedded = EmbeddedStore(tmp_path / "embedded-home")
    load_fixture([embedded, neo4j], tmp_path)
    return embedded, neo4j


def _sorted(table: Table, frame: pl.DataFrame) -> pl.DataFrame:
    frame = frame.drop([c for c in TIME_COLUMNS if c in frame.columns])
    if "tags" in frame.columns:
        frame = frame.with_columns(pl.col("tags").list.sort())
    return frame.sort([k for k in KEYS[table] if k in frame.columns])


def _assert_scores_equal(left: pl.DataFrame, right: pl.DataFrame) -> None:
    assert left.schema == right.schema
    left, right = left.sort("id"), right.sort("id")
    assert left.get_column("id").to_list() == right.get_column("id").to_list()
    for column, dtype in left.schema.items():
        a, b = left.get_column(column), right.get_column(column)
        if dtype == pl.Float64:
            assert ((a - b).abs() <= 1e-9).all(), column
        elif column == "evidence":
            for x, y in zip(a.to_list(), b.to_list(), strict=True):
                _assert_close(json.loads(x), json.loads(y))
        else:
            assert a.to_list() == b.to_list(), column


def _assert_close(x: Any, y: Any) -> None:
    if isinstance(x, dict):
        assert isinstance(y, dict)
        assert x.keys() == y.keys()
        for key in x:
            _assert_close(x[key], y[key])
    elif isinstance(x, float) or isinstance(y, float):
        assert abs(float(x) - float(y)) <= 1e-9
    else:
        assert x == y


def test_every_table_matches_the_embedded_store(both: tuple[GraphStore, GraphStore]) -> None:
    embedded, neo4j = both
    for table in Table:
        expected = _sorted(table, embedded.table(table))
        actual = _sorted(table, neo4j.table(table))
        assert actual.schema == expected.schema, table
        assert actual.equals(expected), (table, actual, expected)
    for ids in (["flux-1-pro"], ["sdxl", "dalle-3", "nope"]):
        for table in (Table.CO_MATCHED, Table.MATCHED, Table.HAS_CAPABILITY, Table.PREFERRED_OVER, Table.DAILY):
            assert _sorted(table, neo4j.table(table, ids)).equals(_sorted(table, embedded.table(table, ids))), table


def test_reads_together_and_by_capability_match(both: tuple[GraphStore, GraphStore]) -> None:
    """``tables`` is ``table`` per table, read in one query; capability reads match across stores."""
    embedded, neo4j = both
    readable = [t for t in Table if t in ARTIFACT_ENDPOINTS]
    for ids in (["flux-1-pro"], ["sdxl", "dalle-3", "nope"], ["nope"], []):
        for store in both:
            with store.reader() as view:
                frames = view.tables(readable, ids)
            assert list(frames) == readable
            for table in readable:
                expected = _sorted(table, embedded.table(table, ids))
                assert _sorted(table, frames[table]).equals(expected), (store.kind, table, ids)
    capabilities = embedded.table(Table.CAPABILITIES).get_column("id").to_list()
    assert capabilities
    for wanted in (capabilities[:2], [*capabilities[-1:], "no-such-capability"], []):
        for table in (Table.HAS_CAPABILITY, Table.CAPABILITIES):
            by = "capability" if table is Table.HAS_CAPABILITY else "id"
            expected = _sorted(table, embedded.table(table, wanted, by=by))
            assert _sorted(table, neo4j.table(table, wanted, by=by)).equals(expected), (table, wanted)
            assert expected.height == embedded.table(table).filter(
                pl.col("capability" if table is Table.HAS_CAPABILITY else "id").is_in(wanted)).height


def _stats(store: GraphStore) -> pl.DataFrame:
    with store.reader(bulk=True) as view:
        return artifact_stats(view)


def test_artifact_stats_match(both: tuple[GraphStore, GraphStore]) -> None:
    embedded, neo4j = both
    expected = _stats(embedded)
    actual = _stats(neo4j)
    assert actual.schema == expected.schema
    assert actual.equals(expected), (actual, expected)


def test_scores_match(both: tuple[GraphStore, GraphStore]) -> None:
    embedded, neo4j = both
    config = ScoringConfig(as_of=AS_OF)
    expected = compute_scores(embedded, config)
    actual = compute_scores(neo4j, config)
    assert expected.height == 7
    _assert_scores_equal(actual, expected)


def test_written_scores_read_back_the_same(both: tuple[GraphStore, GraphStore]) -> None:
    embedded, neo4j = both
    config = ScoringConfig(as_of=AS_OF)
    for store in both:
        score(store, config)
        score(store, config)  # scores replace; a run that changes no rank adds no history
    _assert_scores_equal(neo4j.table(Table.SCORES), embedded.table(Table.SCORES))
    history = neo4j.table(Table.RANK_HISTORY)
    assert history.height == 7
    assert history.get_column("scored_at").dtype == pl.Datetime("us", "UTC")
    assert _sorted(Table.RANK_HISTORY, history).equals(_sorted(Table.RANK_HISTORY, embedded.table(Table.RANK_HISTORY)))
    # a later scoring without an artifact drops its score row
    neo4j.apply(GraphDelta().set(Table.SCORES, neo4j.table(Table.SCORES).filter(pl.col("id") != "sdxl")))
    assert "sdxl" not in neo4j.table(Table.SCORES).get_column("id").to_list()
    assert neo4j.table(Table.ARTIFACTS, ["sdxl"]).height == 1


def _apps(both: tuple[GraphStore, GraphStore], tmp_path: Path) -> list[MatchGraph]:
    settings = Settings(MATCHGRAPH_HOME=tmp_path / "apps", NEO4J_URI=None)  # type: ignore[call-arg]
    apps = [MatchGraph(settings, store) for store in both]
    for app in apps:
        app.score(AS_OF)
    return apps


def test_every_ordered_answer_matches(both: tuple[GraphStore, GraphStore], tmp_path: Path) -> None:
    """Search hits, alternatives, neighbourhoods and paths, in order, field for field."""
    embedded, neo4j = _apps(both, tmp_path)
    questions = [
        *[lambda q, t=text: q.search(t, limit=10) for text in ("image", "text to image", "comfyui", "sdxl lora")],
        *[lambda q, a=artifact: q.alternatives(a, limit=5) for artifact in ("flux-1-pro", "sdxl", "midjourney")],
        *[lambda q, d=depth: q.neighborhood("dalle-3", depth=d, limit=50) for depth in (1, 2, 3)],
        lambda q: q.neighborhood("sdxl", depth=2, limit=3),
        *[lambda q, a=a, b=b, d=d: q.path(a, b, d) for a, b, d in
          (("sdxl-lora-anime", "dalle-3", 3), ("midjourney", "comfyui", 2), ("comfyui", "flux-1-pro", 3))],
        lambda q: q.compare("dalle-3", "flux-1-pro"),
        lambda q: q.top(None, limit=20),
        lambda q: q.show("flux-1-pro"),
    ]
    for ask in questions:
        expected = embedded.read(ask).model_dump(mode="json")
        assert neo4j.read(ask).model_dump(mode="json") == expected


def test_a_failing_delta_leaves_nothing_behind(neo4j: GraphStore) -> None:
    arts = pl.DataFrame({"id": ["kept-out"], "name": ["Kept out"], "catalogued": [True]})
    bad_daily = pl.DataFrame({"artifact": ["kept-out"], "day": [None], "matched": [1], "clicks": [0]},
                             schema_overrides={"day": pl.Date})
    with pytest.raises(StoreUnavailable):
        neo4j.apply(GraphDelta().set(Table.ARTIFACTS, arts).set(Table.DAILY, bad_daily))
    assert neo4j.table(Table.ARTIFACTS).height == 0
    neo4j.apply(GraphDelta().set(Table.ARTIFACTS, arts))
    assert neo4j.table(Table.ARTIFACTS).get_column("id").to_list() == ["kept-out"]  # read sees the write


def test_provider_moves_with_the_artifact(neo4j: GraphStore) -> None:
    arts = pl.DataFrame({"id": ["m"], "name": ["M"], "catalogued": [True], "provider": ["old-co"]})
    providers = pl.DataFrame({"id": ["old-co", "new-co"], "name": ["Old Co", "New Co"]})
    neo4j.apply(GraphDelta().set(Table.ARTIFACTS, arts).set(Table.PROVIDERS, providers))
    neo4j.apply(GraphDelta().set(Table.ARTIFACTS, arts.with_columns(pl.lit("new-co").alias("provider"))))
    stats = _stats(neo4j).row(0, named=True)
    assert stats["provider_family"] == 1
    assert neo4j.table(Table.ARTIFACTS).row(0, named=True)["provider"] == "new-co"
    assert _provided_by(neo4j) == [("m", "new-co")]


def test_concurrent_writers_add_up_without_duplicates(tmp_path: Path, neo4j: GraphStore) -> None:
    ids = [f"art-{i:02d}" for i in range(30)]
    pairs = [(w, lo) for w in ids for lo in ids if w != lo]
    cells = [(w, lo, wp, 3) for w, lo in pairs for wp in (1, 2)]
    prefs = preference_pairs(pl.DataFrame(cells, schema=["winner", "loser", "winner_pos", "loser_pos"],
                                          orient="row").with_columns(pl.lit(1).alias("count")))
    co = pl.DataFrame({"a": [w for w, lo in pairs if w < lo], "b": [lo for w, lo in pairs if w < lo]}).with_columns(
        pl.lit(1).alias("count"))
    neo4j.apply(GraphDelta().set(Table.ARTIFACTS, pl.DataFrame({"id": ids, "catalogued": [False] * len(ids)})))
    writers = [connect_neo4j(tmp_path / f"writer-{i}") for i in range(4)]
    try:
        with ThreadPoolExecutor(len(writers)) as pool:
            list(pool.map(lambda w: w.apply(GraphDelta().set(Table.PREFERRED_OVER, prefs)), writers))
            list(pool.map(lambda w: w.apply(GraphDelta().set(Table.CO_MATCHED, co)), writers))
    finally:
        for w in writers:
            w.close()
    stored = neo4j.table(Table.PREFERRED_OVER)
    assert stored.height == prefs.height  # each pair once
    assert set(stored.get_column("count").to_list()) == {2 * len(writers)}
    assert {tuple(c) for c in stored.get_column("counts").to_list()} == {(len(writers), len(writers))}
    assert set(neo4j.table(Table.CO_MATCHED).get_column("count").to_list()) == {len(writers)}
    assert neo4j.table(Table.CO_MATCHED).height == co.height


def test_concurrent_cell_writers_create_each_new_cell_once(tmp_path: Path, neo4j: GraphStore) -> None:
    """Overlapping deltas of new intent preference cells at once: each cell becomes one node holding
    the sum. No constraint keys the cells; each writer locks the cells' intents before reading which
    are stored, so the second writer of a cell finds the first one's node and adds to it."""
    ids = [f"art-{i:02d}" for i in range(12)]
    intents = [f"need {k}" for k in range(6)]
    keys = [(q, w, lo, wp, lp) for q in intents for w in ids for lo in ids if w != lo for wp, lp in ((1, 2), (2, 1))]
    deltas = [pl.DataFrame([(*key, k + 1) for n, key in enumerate(keys) if k == 0 or n % (k + 1) != 0],
                           schema=["intent", "winner", "loser", "winner_pos", "loser_pos", "count"], orient="row")
              for k in range(4)]
    _apply_at_once(neo4j, tmp_path, ids, Table.INTENT_PREFERENCES, deltas)
    key = ["intent", "winner", "loser", "winner_pos", "loser_pos"]
    expected = pl.concat(deltas).group_by(key).agg(pl.col("count").sum()).sort(key)
    assert expected.height == len(keys)
    assert neo4j.table(Table.INTENT_PREFERENCES).sort(key).equals(expected)


def test_concurrent_co_match_writers_create_each_new_pair_once(tmp_path: Path, neo4j: GraphStore) -> None:
    """Overlapping deltas of new co-matches at once: each pair becomes one relationship holding the
    sum. ``ADD_CO_MATCHED`` looks a pair up once, after locking its endpoints, then creates it."""
    ids = [f"art-{i:02d}" for i in range(40)]
    pairs = [(a, b) for a in ids for b in ids if a < b]
    deltas = [pl.DataFrame([(a, b, k + 1) for n, (a, b) in enumerate(pairs) if n % (k + 2) != 0],
                           schema=["a", "b", "count"], orient="row") for k in range(4)]
    _apply_at_once(neo4j, tmp_path, ids, Table.CO_MATCHED, deltas)
    expected = pl.concat(deltas).group_by("a", "b").agg(pl.col("count").sum()).sort("a", "b")
    assert neo4j.table(Table.CO_MATCHED).sort("a", "b").equals(expected)


def _apply_at_once(neo4j: GraphStore, tmp_path: Path, ids: list[str], table: Table,
                   deltas: list[pl.DataFrame]) -> None:
    """The artifacts ``ids`` stored, then each delta of ``table`` applied by a writer of its own, all at once."""
    neo4j.apply(GraphDelta().set(Table.ARTIFACTS, pl.DataFrame({"id": ids, "catalogued": [False] * len(ids)})))
    writers = [connect_neo4j(tmp_path / f"writer-{i}") for i in range(len(deltas))]
    try:
        with ThreadPoolExecutor(len(writers)) as pool:
            list(pool.map(lambda job: job[0].apply(GraphDelta().set(table, job[1])),
                          zip(writers, deltas, strict=True)))
    finally:
        for w in writers:
            w.close()


def _provided_by(store: GraphStore) -> list[tuple[str, str]]:
    """The PROVIDED_BY relationships, read through the driver (no table holds them)."""
    from graph.neo4j_store import Neo4jStore

    assert isinstance(store, Neo4jStore)
    records, _, _ = store.driver.execute_query(
        "MATCH (a:Artifact)-[:PROVIDED_BY]->(p:Provider) RETURN a.id, p.id ORDER BY a.id, p.id",
        database_=store.database,
    )
    return [(r[0], r[1]) for r in records]


def test_the_capability_graph_a_run_writes_reads_back_the_same(both: tuple[GraphStore, GraphStore],
                                                               tmp_path: Path) -> None:
    """Grouping, intent links and boards, computed on each store and written by its scoring run."""
    embedded, neo4j = both
    config = ScoringConfig(as_of=AS_OF)
    for store in both:
        score(store, config)
    for table in (Table.CAPABILITIES, Table.HAS_CAPABILITY, Table.SEEKS, Table.BOARDS):
        expected = _sorted(table, embedded.table(table))
        actual = _sorted(table, neo4j.table(table))
        assert actual.schema == expected.schema, table
        assert expected.height > 0, table
        for column, dtype in expected.schema.items():
            a, b = actual.get_column(column), expected.get_column(column)
            if dtype == pl.Float64:
                assert ((a - b).abs() <= 1e-9).all(), (table, column)
            else:
                assert a.to_list() == b.to_list(), (table, column)
    for need in ("text-to-image", "text to image"):
        assert _sorted(Table.BOARDS, neo4j.table(Table.BOARDS, [need], by="need")).equals(
            _sorted(Table.BOARDS, embedded.table(Table.BOARDS, [need], by="need"))), need
    apps = [MatchGraph(Settings(MATCHGRAPH_HOME=tmp_path / store.kind, NEO4J_URI=None), store)  # type: ignore[call-arg]
            for store in both]
    for ask in (lambda q: q.capabilities(), lambda q: q.capability("text-to-image"), lambda q: q.best("text to image"),
                lambda q: q.search("pictures from a prompt"), lambda q: q.compare("dalle-3", "flux-1-pro")):
        assert apps[1].read(ask).model_dump(mode="json") == apps[0].read(ask).model_dump(mode="json")


def test_a_file_written_in_parts_survives_a_crash_between_parts(tmp_path: Path, neo4j: GraphStore) -> None:
    """A file too big for one transaction goes in key-disjoint parts; killed after some of them, the
    rerun writes only the rest, and the graph is what the embedded store holds for the file."""
    from ingest.pipeline import ingest_catalogs, ingest_logs
    from ingest.synth import write_synth

    catalog, log = write_synth(tmp_path / "data", n_artifacts=300, n_searches=3_000, seed=11, per_file=3_000)
    settings = Settings(MATCHGRAPH_HOME=tmp_path / "home", NEO4J_URI=None)  # type: ignore[call-arg]
    reference = EmbeddedStore(tmp_path / "reference")
    ingest_catalogs(reference, [catalog], settings)
    ingest_logs(reference, [log], settings)

    assert isinstance(neo4j, Neo4jStore)
    neo4j.settings = neo4j.settings.model_copy(update={"neo4j_rows_per_write": 1_000})
    ingest_catalogs(neo4j, [catalog], settings)
    with killed_at(neo4j, "_write", 4), pytest.raises(RuntimeError, match="killed"):
        ingest_logs(neo4j, [log], settings)
    parts = neo4j.table(Table.LEDGER).filter(pl.col("kind") == "logs-part").get_column("sha256").to_list()
    assert len(parts) == 3
    total = int(parts[0].rsplit("/", 1)[1])
    assert total > 4

    assert ingest_logs(neo4j, [log], settings).ingested == 3_000
    ledger = neo4j.table(Table.LEDGER)
    assert ledger.filter(pl.col("kind") == "logs-part").height == total - 1
    assert ledger.filter(pl.col("kind") == "logs").height == 1
    for table in (Table.INTENTS, Table.MATCHED, Table.CO_MATCHED, Table.PREFERRED_OVER, Table.DAILY, Table.ARTIFACTS):
        assert _sorted(table, neo4j.table(table)).equals(_sorted(table, reference.table(table))), table
    assert ingest_logs(neo4j, [log], settings).files[0].status == "skipped: already ingested"


# -- matchgraph neo4j import ----------------------------------------------------------------------
VARYING = {"ingested_at", "scored_at", "run", "started_at", "ended_at", "duration_s", "rejects", "token", "at",
           "source"}
"""Properties that differ between two ingestions of the same files (times, run ids, paths)."""


def _graph_dump(store: Neo4jStore) -> tuple[list[Any], list[Any]]:
    """Every node (labels, properties) and relationship (type, end ids, properties), canonically
    ordered, without the properties that name when or where a run happened."""
    def kept(props: dict[str, Any]) -> list[tuple[str, str]]:
        return sorted((k, repr(v)) for k, v in props.items() if k not in VARYING)

    nodes = store.driver.execute_query(
        "MATCH (n) WHERE NOT n:RunLock RETURN labels(n) AS labels, properties(n) AS props",
        database_=store.database).records
    rels = store.driver.execute_query(
        "MATCH (a)-[r]->(b) RETURN type(r) AS type, properties(a) AS a, properties(b) AS b, properties(r) AS props",
        database_=store.database).records
    node_keys = sorted((sorted(r["labels"]), kept(r["props"])) for r in nodes)
    rel_keys = sorted((r["type"], r["a"].get("id", r["a"].get("sha256")), r["b"].get("id"), kept(r["props"]))
                      for r in rels)
    return node_keys, rel_keys


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from own_server(tmp_path_factory, "import")


def test_import_builds_the_graph_apply_builds(own: Server, sample_home: Path, tmp_path: Path) -> None:
    """The samples through the pipeline into Neo4j, then the same samples' embedded store through
    ``matchgraph neo4j import`` into the same (cleared) database: the same nodes, relationships and
    properties; every table equal to the embedded store's, times included; the indexes online."""
    settings = own.settings(tmp_path / "home")
    applied = Neo4jStore.connect(settings)
    try:
        applied.clear()
        MatchGraph(settings, applied).nightly(sample_home.parent / "catalog", sample_home.parent / "logs",
                                              say=lambda _line: None, as_of=SAMPLES_AS_OF)
        by_apply = _graph_dump(applied)
        applied.clear()
        assert not applied.holds_data()  # the version node that clearing leaves is not data
    finally:
        applied.close()

    out = own.import_from(sample_home)
    assert "neo4j-admin imported" in out
    imported = Neo4jStore.connect(own.settings(tmp_path / "home"))
    try:
        dumped = _graph_dump(imported)
        for got, want in zip(dumped, by_apply, strict=True):  # nodes, then relationships
            if got != want:  # name the first differences; pytest's own diff of such lists takes hours
                extra, missing = Counter(map(repr, got)), Counter(map(repr, want))
                assert (sorted(extra - missing)[:3], sorted(missing - extra)[:3]) == ([], [])
        embedded = EmbeddedStore(sample_home)
        for table in Table:
            expected = embedded.table(table)
            actual = imported.table(table).select(expected.columns)
            if "tags" in expected.columns:
                expected, actual = (f.with_columns(pl.col("tags").list.sort()) for f in (expected, actual))
            keys = list(KEYS[table])
            assert actual.sort(keys).equals(expected.sort(keys)), table
        assert imported.version() not in ("", embedded.version())
        states = imported.driver.execute_query("SHOW INDEXES YIELD name, state", database_=imported.database).records
        names = {r["name"]: r["state"] for r in states}
        assert {"artifact_id", "intent_id", "ingested_file_sha256", "daily_demand_artifact"} <= set(names)
        assert set(names.values()) == {"ONLINE"}
        assert imported.holds_data()
    finally:
        imported.close()

    again = subprocess.run([sys.executable, "-m", "api.cli", "neo4j", "import", "--from", str(sample_home),
                            "--home", str(own.home)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert again.returncode != 0
    assert "is not empty" in again.stdout + again.stderr


def _operators(plan: Any) -> list[str]:
    found = [f"{plan['operatorType'].split('@')[0]} {plan.get('args', {}).get('Details', '')}"]
    for child in plan.get("children", []):
        found += _operators(child)
    return found


@pytest.mark.integration
def test_cells_are_read_through_their_intent_index_alone(tmp_path: Path) -> None:
    """Intent preference cells keep one index, on the intent, and no key constraint (their intent's
    lock keeps them unique): every read of them (the write path's stored-key check, the lookup by
    intent, the paged whole read and the read by artifact, through the intents that matched it) is a
    seek of that index, never a scan."""
    from graph import cypher

    store = connect_neo4j(tmp_path)
    assert isinstance(store, Neo4jStore)
    try:
        for query in (cypher.READ_INTENT_PREFERENCE_KEYS, cypher.READ_INTENT_PREFERENCES_BY_INTENT,
                      cypher.READ_INTENT_PREFERENCES_BY_ID):
            summary = store.driver.execute_query("EXPLAIN " + query, ids=["x", "y"], database_=store.database).summary
            operators = _operators(summary.plan)
            assert any(op.startswith("NodeIndexSeek RANGE INDEX p:IntentPreference(intent) WHERE intent ")
                       for op in operators), operators
            assert not any("Scan" in op for op in operators), operators
        names = {r["name"] for r in store.driver.execute_query("SHOW INDEXES YIELD name",
                                                                database_=store.database).records}
        assert "intent_preference_intent" in names
        assert not {"intent_preference_cell", "intent_preference_winner", "intent_preference_loser"} & names
    finally:
        store.close()


@pytest.mark.integration
def test_reads_by_artifact_seek_their_index_even_when_one_artifact_holds_every_row(tmp_path: Path) -> None:
    """The reads that go through a plain index (daily demand, rank history, the provider sync) are
    seeks of that index, and cells are read by artifact through the intents that matched it, on a
    graph whose statistics make a seek look no better than a scan: every row names the same artifact."""
    from graph import cypher

    store = connect_neo4j(tmp_path)
    assert isinstance(store, Neo4jStore)
    store.clear()
    db = store.database
    run = store.driver.execute_query
    seek = "NodeIndexSeek RANGE INDEX "
    try:
        run("UNWIND range(1, 3000) AS i CREATE (:DailyDemand {artifact: 'x', matched: 1, clicks: 0, sessions: 1, "
            "day: date('2026-01-01') + duration({days: i})})", database_=db)
        run("CREATE (:Artifact {id: 'x'}), (:Artifact {id: 'y'}), (:Artifact {id: 'w'})", database_=db)
        run("MATCH (x:Artifact {id: 'x'}), (y:Artifact {id: 'y'}), (w:Artifact {id: 'w'}) "
            "UNWIND range(1, 3000) AS i CREATE (n:Intent {id: 'i' + i}), (n)-[:MATCHED {count: 2}]->(x), "
            "(n)-[:MATCHED {count: 2}]->(y), (n)-[:MATCHED {count: 1}]->(w) "
            "CREATE (:IntentPreference {intent: 'i' + i, winner: 'x', loser: 'y', winner_pos: 1, loser_pos: 2, "
            "count: 1}), (:IntentPreference {intent: 'i' + i, winner: 'y', loser: 'x', winner_pos: 1, loser_pos: 2, "
            "count: 1})", database_=db)
        run("UNWIND range(1, 3000) AS i CREATE (:RankHistory {run: 'r' + i, id: 'x', rank: 1.0})", database_=db)
        run("UNWIND range(1, 3000) AS i CREATE (:Artifact {id: 'a' + i, provider: 'p'})", database_=db)
        run("CALL db.prepareForReplanning()", database_=db)
        expected = {
            cypher.READ_INTENT_PREFERENCES_BY_ID: ["NodeUniqueIndexSeek UNIQUE a:Artifact(id) WHERE id = id",
                                                   seek + "p:IntentPreference(intent) WHERE intent = intent"],
            cypher.READ_DAILY_BY_ID: [seek + "d:DailyDemand(artifact) WHERE artifact = id"],
            cypher.READ_RANK_HISTORY_BY_ID: [seek + "h:RankHistory(id) WHERE id = id"],
            cypher.SYNC_PROVIDED_BY_FOR_PROVIDERS: [seek + "a:Artifact(provider) WHERE provider = id"],
        }
        for query, seeks in expected.items():
            operators = _operators(run("EXPLAIN " + query, ids=["x", "p"], database_=db).summary.plan)
            for wanted in seeks:
                assert any(op.startswith(wanted) for op in operators), (wanted, operators)
            assert not any("Scan" in op for op in operators), operators
        # and the reads answer: every row of the one artifact, none of another
        assert len(store.table(Table.DAILY, ["x"])) == 3000
        assert len(store.table(Table.INTENT_PREFERENCES, ["y"])) == 6000
        assert len(store.table(Table.INTENT_PREFERENCES, ["x", "y"])) == 6000  # each cell once
        assert store.table(Table.INTENT_PREFERENCES, ["w"]).height == 0  # matched, in no cell
        assert store.table(Table.INTENT_PREFERENCES, ["z"]).height == 0
        assert len(store.table(Table.RANK_HISTORY, ["x"])) == 3000
    finally:
        store.clear()
        store.close()
