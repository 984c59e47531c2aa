"""The Neo4j store: the graph's tables as nodes, relationships and properties in a Neo4j 5 database.

Selected by ``NEO4J_URI``. Every Cypher statement lives in :mod:`graph.cypher`; this module turns
:class:`graph.tables.GraphDelta` frames into parameter batches and query results back into polars
frames, so both stores return the same frames for the same deltas (the contract suite checks it).

Transactions and routing
    A write runs in ONE managed write transaction (``session.execute_write``): Neo4j commits it or
    none of it, and the driver retries it whole on transient errors (leader switch, deadlock).
    Reads use read transactions. Routing URIs (``neo4j://``, ``neo4j+s://``) work unchanged: write
    transactions go to the cluster leader, read transactions may go to followers. A read after a
    write in the same store still sees the write because every session of a store shares one
    bookmark manager (causal consistency), on ``bolt://`` as on a cluster.

Size of a write
    Neo4j builds a transaction's commit in its heap, so the heap bounds the largest write (a 1 GB
    heap fails at commit on the ~900k rows of 100k searches over 100k artifacts).
    ``apply`` of a delta that carries ONE ledger row (one input file) and more than
    ``neo4j_rows_per_write`` rows is therefore written in parts: the rows are split by key, so no
    key goes out twice and every part is a key-disjoint slice of every table, and each part is one
    transaction carrying its own ledger row (``<sha256>:<part>/<parts>``, kind ``<kind>-part``); the
    file's own row goes with the last. After a crash, applying the same delta again (the pipeline
    re-reads the file, whose aggregate is the same) skips the parts the ledger holds, so nothing is
    counted twice or lost. A delta without a ledger row (scores, tests) stays one transaction.
    Rows travel as ``UNWIND`` batches of ``neo4j_batch_size``, which bounds each message.

New keys and stored keys
    The additive tables (matches, co-matches, preferences, intent preference cells) do not
    ``MERGE`` row by row: the transaction first reads which of its keys are stored (one read per
    batch of intents or winners, :class:`Known`), creates the new ones with plain ``CREATE`` as a
    bulk load does (all of them on a fresh database, most of them on a growing one) and adds the
    others with the ``MERGE`` statement, which also settles a pair deleted meanwhile. Relationships
    are read after their ends are locked, and intent preference cells after their intent is, so no
    other writer can add one in between.

The writer lease
    ``run_lock`` hands out a lease on a ``(:RunLock)`` node that expires after ``ttl_s`` unless its
    holder renews it: a heartbeat thread does so every ``ttl_s / 3`` while the run lasts. Every
    lease carries a fencing token, one higher at each acquisition, and the store remembers the
    leases it holds: each write made while holding one checks, inside its transaction and just
    before it commits, that the lock node still names this holder and token (``CHECK_RUN_LOCK``),
    and aborts with ``StoreLocked`` otherwise. A holder whose heartbeat stalled (a frozen process,
    a network partition) may lose its lease to another run, but can never commit after it did.

Failing fast
    Connections are opened within ``neo4j_connect_timeout_s``, a transaction gets its connection
    within ``neo4j_acquire_timeout_s``, and a pooled connection idle for
    ``neo4j_liveness_check_s`` must answer a round trip before it is used. So when Neo4j stops or
    freezes, a new request fails with ``StoreUnavailable`` (503) within seconds instead of waiting
    on a dead socket, and the pool reconnects by itself once the server is back.
"""

from __future__ import annotations

import logging
import math
import re
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import polars as pl
from neo4j import GraphDatabase
from neo4j.exceptions import AuthError, DriverError, Neo4jError

from graph import cypher
from graph.errors import MatchGraphError, StoreLocked, StoreUnavailable
from graph.store import lock_owner, owner_is_dead
from graph.tables import (
    ADDITIVE,
    ARTIFACT_ENDPOINTS,
    KEYS,
    OPEN_COLUMNS,
    SCHEMAS,
    GraphDelta,
    Table,
    check_read,
    empty,
    extra_columns,
    merge_additive,
    with_columns_of,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence

    from neo4j import BookmarkManager, Driver, ManagedTransaction, Session, Transaction

    from graph.settings import Settings

log = logging.getLogger("matchgraph.neo4j")

_SCHEMES = frozenset({"bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc"})
"""Bolt only: the driver's HTTP Query API (a preview) has no managed transactions to retry."""
_AWAIT_INDEXES_S = 600
"""How long ``connect`` waits for indexes to come online: a full-text index created over an
existing graph of 100k artifacts populates in the background and can take minutes."""

# Relationship tables in write order: the query for batches that only add, the one for batches
# that take counts back (None: not additive), and the endpoint columns the rows are sorted by
# (writers that lock nodes in the same order cannot deadlock each other).
_RELATIONSHIP_WRITES: tuple[tuple[Table, str, str | None, tuple[str, ...]], ...] = (
    (Table.DERIVED_FROM, cypher.MERGE_DERIVED_FROM, None, ("src", "dst")),
    (Table.INTEGRATES_WITH, cypher.MERGE_INTEGRATES_WITH, None, ("src", "dst")),
    (Table.MATCHED, cypher.ADD_MATCHED, cypher.ADD_MATCHED_OR_DROP, ("intent", "artifact")),
    (Table.CO_MATCHED, cypher.ADD_CO_MATCHED, cypher.ADD_CO_MATCHED_OR_DROP, ("a", "b")),
    (Table.PREFERRED_OVER, cypher.ADD_PREFERRED_OVER, cypher.ADD_PREFERRED_OVER_OR_DROP, ("winner", "loser")),
)
_LOCATED: dict[Table, tuple[str, ...]] = {
    Table.CO_MATCHED: ("a", "b", "count"),
    Table.PREFERRED_OVER: ("winner", "loser", "winner_pos", "loser_pos", "counts"),
}
"""Relationship tables whose endpoints are locked and located once per transaction, and the
columns their rows carry (endpoints first, sent as positions in the batch's ``$nodes``)."""

_PART_GROUPS: dict[Table, tuple[str, str]] = {
    Table.ARTIFACTS: ("id", "artifact"),
    Table.HAS_CAPABILITY: ("artifact", "artifact"),
    Table.DERIVED_FROM: ("src", "derived_from"),
    Table.INTEGRATES_WITH: ("src", "integrates_with"),
    Table.INTENTS: ("id", "intent"),
    Table.MATCHED: ("intent", "intent"),
    Table.DAILY: ("artifact", "daily"),
    Table.CO_MATCHED: ("a", "co_matched"),
    Table.PREFERRED_OVER: ("winner", "preferred_over"),
    Table.INTENT_PREFERENCES: ("intent", "intent"),
    Table.TOTALS: ("artifact", "totals"),
    Table.BENCHMARKS: ("artifact", "artifact"),
}
"""How a delta splits into parts: each table by one column, tables sharing a domain alike. An
intent's searches and its matches go in the same part (an intent whose searches are taken back
is deleted with its matches), and so do an artifact's row and its whole capability list (which
replaces the stored one). Tables not named here (providers, capabilities, scores, ...) go with the
first part, so nodes that later parts link to exist before them."""
_PART_KEY = re.compile(r":(\d+)/(\d+)")


def bolt_answers(uri: str, user: str, password: str, timeout_s: float = 2.0) -> bool | None:
    """True: Bolt accepts the credentials; False: it rejects them; None: not reachable (yet).

    The readiness probe of :mod:`ops.neo4j_local`, here so that only this module imports the driver.
    """
    try:
        with GraphDatabase.driver(uri, auth=(user, password), connection_timeout=timeout_s) as driver:
            driver.verify_connectivity()
    except AuthError:
        return False
    except (DriverError, Neo4jError, OSError):
        return None
    return True


@dataclass(frozen=True)
class Known:
    """How an additive statement's rows split, inside its transaction, into keys already stored and
    new ones: the new rows are created in bulk (no look-up, no merge: on a fresh or growing graph,
    most rows), the stored ones added to by the statement's own query.

    ``read`` takes ``$ids``, the distinct values of column ``by``, and returns the stored keys
    (``keys``, in order) as one collected list. Rows are new when their key is not among them and
    has no null (a null key keeps the statement's own behaviour); ``kept`` (None: all) picks the new
    rows worth creating (the query would drop the others at once). ``located``: the read also
    returns each stored key's element id, after its key, and the stored rows carry it to the query
    as ``eid`` (a node found by element id is not looked up by its key again; a row with a null key
    has no element id, so the query finds no node for it and skips it).
    """

    read: str
    by: str
    keys: tuple[str, ...]
    create: str
    kept: pl.Expr | None = None
    located: bool = False


@dataclass(frozen=True)
class Statement:
    """One write step of a delta: a query and the parameter batches it runs with.

    ``frame`` rows go out as ``$rows`` (dicts), ``ids`` as ``$ids``; ``prepare`` adapts a batch of
    row dicts (catalogued artifacts drop their nulls). Batches are built on each transaction
    attempt, so a retried transaction replays exactly the same statements.
    """

    query: str
    frame: pl.DataFrame | None = None
    ids: Sequence[str] | None = None
    prepare: Callable[[list[dict[str, Any]]], list[dict[str, Any]]] | None = None
    endpoints: tuple[str, ...] = ()
    """Columns of artifact ids whose nodes are locked and looked up once per transaction
    (``LOCK_ARTIFACTS``): each batch then carries ``$nodes``, the element ids of its distinct
    endpoints, and rows as lists whose endpoint columns are positions in ``$nodes``."""
    located: pl.DataFrame | None = None
    """``id`` -> ``eid`` for every endpoint, once the transaction has locked them."""
    params: dict[str, Any] | None = None
    """Parameters of a statement that runs once (no ``frame``, no ``ids``)."""
    known: Known | None = None
    """Rows to split between ``known.create`` and ``query`` once the transaction has read which
    keys are stored (:meth:`split`)."""

    def resolved(self, tx: ManagedTransaction, located: pl.DataFrame | None) -> Statement:
        """This statement as it runs in ``tx``: with the endpoints the transaction has located,
        and a scores reset that also clears the open columns the last scoring run wrote."""
        if self.query == cypher.CLEAR_SCORES:
            before = tx.run(cypher.READ_VERSION).single(strict=True)["score_columns"]
            cleared = {**dict.fromkeys(before), **(self.params or {}).get("cleared", {})}
            return replace(self, params={"cleared": cleared})
        if not self.endpoints or self.frame is None or self.frame.height == 0:
            return self
        return replace(self, located=located)

    def split(self, tx: ManagedTransaction, size: int) -> list[Statement]:
        """The statement as the two that run in ``tx``: ``known.create`` for the rows whose key is
        not stored, then ``query`` for the others (each keeps the rows' order)."""
        known, frame = self.known, self.frame
        if known is None or frame is None or frame.height == 0:
            return [replace(self, known=None)]
        ids = frame.get_column(known.by).drop_nulls().unique().sort().to_list()
        stored: list[Any] = []
        for start in range(0, len(ids), size):
            stored.extend(_collected(tx, known.read, {"ids": ids[start:start + size]}))
        keys = list(known.keys)
        schema = {k: frame.schema[k] for k in keys} | ({"eid": pl.String()} if known.located else {})
        found = pl.DataFrame(stored, schema=schema, orient="row", strict=False).unique(keys)
        marked = frame.join(found.with_columns(pl.lit(True).alias("_stored")), on=keys, how="left",
                            maintain_order="left")
        new = pl.col("_stored").is_null() & pl.all_horizontal(pl.col(k).is_not_null() for k in keys)
        fresh = marked.filter(new if known.kept is None else new & known.kept).drop("_stored", "eid", strict=False)
        return [replace(self, query=known.create, frame=fresh, known=None),
                replace(self, frame=marked.filter(~new).drop("_stored"), known=None)]

    def batches(self, size: int) -> Iterable[dict[str, Any]]:
        if self.ids is not None:
            for start in range(0, len(self.ids), size):
                yield {"ids": list(self.ids[start:start + size])}
            return
        if self.frame is None:
            yield dict(self.params or {})
            return
        if self.endpoints and self.frame.height > 0 and self.located is None:
            raise ValueError("resolve the statement in its transaction first")
        for start in range(0, self.frame.height, size):
            part = self.frame.slice(start, size)
            if self.located is not None:
                yield _by_position(part, self.endpoints, self.located)
                continue
            rows = part.to_dicts()
            yield {"rows": self.prepare(rows) if self.prepare else rows}


def _by_position(part: pl.DataFrame, endpoints: tuple[str, ...], located: pl.DataFrame) -> dict[str, Any]:
    """A batch whose endpoint columns are positions in its own ``nodes`` list of element ids.

    A node missing from ``located`` (none is: ``ENSURE_ARTIFACTS`` ran first) gets a null element
    id, so the query finds no node there and skips its rows.
    """
    ids = pl.concat([part.get_column(c) for c in endpoints]).unique().sort()
    nodes = ids.to_frame("id").join(located, on="id", how="left", maintain_order="left").get_column("eid")
    rows = part.with_columns(ids.search_sorted(part.get_column(c)).cast(pl.Int64).alias(c) for c in endpoints)
    return {"nodes": nodes.to_list(), "rows": rows.rows()}


def _lock_artifacts(tx: ManagedTransaction, ids: list[str], size: int) -> pl.DataFrame:
    """Take the write locks of these artifacts, in id order, and return their element ids: two
    writers then queue on their first shared artifact instead of deadlocking (a deadlock with
    another kind of writer is still possible; Neo4j detects it and the driver retries)."""
    pairs: list[Any] = []
    for start in range(0, len(ids), size):
        pairs.extend(_collected(tx, cypher.LOCK_ARTIFACTS, {"ids": ids[start:start + size]}))
    return pl.DataFrame(pairs, schema={"id": pl.String, "eid": pl.String}, orient="row")


def _prefetched(batches: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The batches, each built in a worker thread while the server runs the one before.

    ``tx.run`` of a write returns only once the server has executed it, so without this the client
    builds every batch while the server idles (~0.3 s of 4 s for 200k co-matches). Only polars and
    plain Python run in the thread; the driver stays on the caller's.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="matchgraph-batches") as pool:
        source = iter(batches)
        upcoming = pool.submit(next, source, None)
        while (batch := upcoming.result()) is not None:
            upcoming = pool.submit(next, source, None)
            yield batch


def _drop_nulls(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Catalogued rows without their nulls: ``SET a += row`` then keeps what the catalog omits."""
    return [{k: v for k, v in row.items() if v is not None} for row in rows]


def _unique_ids(frames: Iterable[pl.Series]) -> list[str]:
    series = [s.cast(pl.String) for s in frames]
    if not series:
        return []
    return pl.concat(series).drop_nulls().unique().sort().to_list()


def _takes_back(table: Table, frame: pl.DataFrame) -> bool:
    """Whether any measure of these rows is negative: only then can a stored row reach zero and
    have to go, so only then does the write pay for the check."""
    if table is Table.PREFERRED_OVER:
        return bool((frame.get_column("counts").explode() < 0).any())
    return any(bool((frame.get_column(column) < 0).any()) for column in ADDITIVE[table])


_KNOWN_CELLS = Known(cypher.READ_INTENT_PREFERENCE_KEYS, "intent", KEYS[Table.INTENT_PREFERENCES],
                     cypher.CREATE_INTENT_PREFERENCES, kept=pl.col("count") != 0, located=True)
"""Intent preference cells: a new cell at zero is never created; a stored one is added to through its
element id (``ADD_INTENT_PREFERENCES``)."""
_KNOWN_RELATIONSHIPS: dict[Table, Known] = {
    Table.MATCHED: Known(cypher.LOCK_MATCHED_KEYS, "intent", KEYS[Table.MATCHED], cypher.CREATE_MATCHED),
    Table.CO_MATCHED: Known(cypher.READ_CO_MATCHED_KEYS, "a", KEYS[Table.CO_MATCHED], cypher.CREATE_CO_MATCHED),
    Table.PREFERRED_OVER: Known(cypher.READ_PREFERRED_OVER_KEYS, "winner", KEYS[Table.PREFERRED_OVER],
                                cypher.CREATE_PREFERRED_OVER),
}
"""The additive relationships: each read finds the stored pairs of rows whose ends no other writer
can touch until the transaction ends (the intents locked by the read itself, the artifacts of
co-matches and preferences by ``LOCK_ARTIFACTS``), so new pairs are created without ``MERGE``."""

_APPEND_WRITES: tuple[tuple[Table, str, Callable[[list[dict[str, Any]]], list[dict[str, Any]]] | None], ...] = (
    (Table.RANK_HISTORY, cypher.APPEND_RANK_HISTORY, None),
    (Table.LEDGER, cypher.APPEND_LEDGER, None),
    (Table.RUNS, cypher.APPEND_RUNS, _drop_nulls),
)
"""Append-only tables: the first row per key wins, rows sorted by key."""


def plan_delta(delta: GraphDelta) -> list[Statement]:
    """The ordered write statements of a delta, with the merge semantics of ``GraphDelta``.

    Duplicate keys inside the delta are combined here, as the embedded store combines them, so
    every statement sees each key once. Order: node upserts, then the nodes that relationships
    reference, then node-only tables and scores, then relationships sorted by their endpoints.
    Nothing is looked up twice: a node the delta writes anyway is not also "ensured", and the
    checks for rows that reach zero run only for tables whose rows take counts back.
    """
    t = delta.tables
    steps: list[Statement] = []

    # -- nodes ---------------------------------------------------------------------------------
    in_delta: list[str] = []
    provided: list[str] = []
    if Table.ARTIFACTS in t:
        rows = t[Table.ARTIFACTS].filter(pl.col("id").is_not_null()).unique("id", keep="last", maintain_order=True)
        catalogued = rows.filter(pl.col("catalogued")).sort("id")
        stubs = rows.filter(~pl.col("catalogued")).sort("id")
        steps.append(Statement(cypher.UPSERT_ARTIFACTS, frame=catalogued, prepare=_drop_nulls))
        steps.append(Statement(cypher.INSERT_STUB_ARTIFACTS, frame=stubs))
        in_delta = _unique_ids([catalogued.get_column("id"), stubs.get_column("id")])
        # only a row naming a provider can change PROVIDED_BY (a null provider keeps the old one)
        provided = _unique_ids([pl.concat([catalogued, stubs]).filter(pl.col("provider").is_not_null())
                                .get_column("id")])
    if Table.PROVIDERS in t:
        providers = t[Table.PROVIDERS].filter(pl.col("id").is_not_null()).unique("id", keep="last").sort("id")
        steps.append(Statement(cypher.UPSERT_PROVIDERS, frame=providers))
    if Table.CAPABILITIES in t:
        caps = t[Table.CAPABILITIES].filter(pl.col("id").is_not_null()).unique("id", keep="last").sort("id")
        steps.append(Statement(cypher.UPSERT_CAPABILITIES, frame=caps))
    intents: list[str] = []
    if Table.INTENTS in t:
        added = _combined(Table.INTENTS, t[Table.INTENTS].filter(pl.col("id").is_not_null()))
        steps.append(Statement(cypher.ADD_INTENTS, frame=added))
        intents = _unique_ids([added.get_column("id")])

    # every artifact a row names becomes a node, which also lets reads page by artifact
    referenced = _unique_ids(
        t[table].get_column(column)
        for table, columns in ARTIFACT_ENDPOINTS.items()
        if table in t and table is not Table.ARTIFACTS
        for column in columns
    )
    steps.append(Statement(cypher.ENSURE_ARTIFACTS, ids=sorted(set(referenced).difference(in_delta))))
    if Table.HAS_CAPABILITY in t:
        steps.append(Statement(cypher.ENSURE_CAPABILITIES, ids=_unique_ids([t[Table.HAS_CAPABILITY]
                                                                            .get_column("capability")])))
    # the intents of matches and cells become nodes: a cell's intent node is the lock its writers take
    named = _unique_ids([t[table].get_column("intent") for table in (Table.MATCHED, Table.INTENT_PREFERENCES)
                         if table in t])
    if named:
        steps.append(Statement(cypher.ENSURE_INTENTS, ids=sorted(set(named).difference(intents))))

    if Table.DAILY in t:
        daily = _combined(Table.DAILY, t[Table.DAILY])
        steps.append(Statement(cypher.ADD_DAILY_OR_DROP if _takes_back(Table.DAILY, daily) else cypher.ADD_DAILY,
                               frame=daily))
    if Table.INTENT_PREFERENCES in t:
        cells = _combined(Table.INTENT_PREFERENCES, t[Table.INTENT_PREFERENCES])
        steps.append(Statement(cypher.ADD_INTENT_PREFERENCES, frame=cells.sort(list(KEYS[Table.INTENT_PREFERENCES])),
                               known=_KNOWN_CELLS))
    if Table.TOTALS in t:
        steps.append(Statement(cypher.ADD_TOTALS, frame=_combined(Table.TOTALS, t[Table.TOTALS]).sort("artifact")))
    for table, query, prepare in _APPEND_WRITES:
        if table in t:
            keys = list(KEYS[table])
            rows = t[table].unique(keys, keep="first", maintain_order=True).sort(keys)
            steps.append(Statement(query, frame=rows, prepare=prepare))
    if Table.BENCHMARKS in t:
        benchmarks = (t[Table.BENCHMARKS].drop_nulls(["artifact", "benchmark"])
                      .unique(KEYS[Table.BENCHMARKS], keep="last").sort(list(KEYS[Table.BENCHMARKS]))
                      .group_by("artifact", maintain_order=True)
                      .agg(pl.col("benchmark").alias("names"), pl.col("score").alias("scores")))
        steps.append(Statement(cypher.SET_BENCHMARKS, frame=benchmarks))
    if Table.SCORES in t:
        scores = t[Table.SCORES].filter(pl.col("id").is_not_null()).unique("id", keep="last").sort("id")
        extras = extra_columns(Table.SCORES, scores.columns)
        cleared = dict.fromkeys([c for c in SCHEMAS[Table.SCORES] if c != "id"] + extras)
        steps.append(Statement(cypher.CLEAR_SCORES, params={"cleared": cleared}))
        steps.append(Statement(cypher.SET_SCORES, frame=scores))
        steps.append(Statement(cypher.SET_SCORE_COLUMNS, params={"columns": extras}))

    # -- relationships -------------------------------------------------------------------------
    steps.append(Statement(cypher.SYNC_PROVIDED_BY_FOR_ARTIFACTS, ids=provided))
    if Table.PROVIDERS in t:
        steps.append(Statement(cypher.SYNC_PROVIDED_BY_FOR_PROVIDERS,
                               ids=_unique_ids([t[Table.PROVIDERS].get_column("id")])))
    if Table.HAS_CAPABILITY in t:
        has_cap = (
            t[Table.HAS_CAPABILITY]
            .drop_nulls(["artifact", "capability"])
            .unique(KEYS[Table.HAS_CAPABILITY], keep="last", maintain_order=True)
            .sort("artifact", "capability")
        )
        owners = _unique_ids([t[Table.HAS_CAPABILITY].get_column("artifact")])
        steps.append(Statement(cypher.DELETE_HAS_CAPABILITY, ids=owners))
        steps.append(Statement(cypher.CREATE_HAS_CAPABILITY, frame=has_cap))
    steps.extend(_capability_graph_writes(t))
    for table, query, dropping, endpoints in _RELATIONSHIP_WRITES:
        if table not in t:
            continue
        frame = t[table].drop_nulls(list(KEYS[table]))
        frame = _combined(table, frame) if table in ADDITIVE else frame.unique(KEYS[table])
        if dropping is not None and _takes_back(table, frame):
            query = dropping
        frame = frame.sort(list(endpoints))
        known = _KNOWN_RELATIONSHIPS.get(table)
        if known is not None and query == dropping:  # a new row that comes to zero is not created
            known = replace(known, kept=pl.any_horizontal(pl.col(ADDITIVE[table]) != 0)
                            if table is not Table.PREFERRED_OVER else pl.col("counts").list.len() > 0)
        if table in _LOCATED:
            steps.append(Statement(query, frame=frame.select(_LOCATED[table]), endpoints=endpoints, known=known))
        else:
            steps.append(Statement(query, frame=frame, known=known))
    if Table.INTENTS in t and _takes_back(Table.INTENTS, t[Table.INTENTS]):
        steps.append(Statement(cypher.DROP_EMPTY_INTENTS, ids=intents))
    for table, query in ((Table.LEDGER, cypher.REMOVE_LEDGER_ENTRIES), (Table.ARTIFACTS, cypher.REMOVE_STUB_ARTIFACTS),
                         (Table.CAPABILITIES, cypher.REMOVE_CAPABILITIES)):
        if table in delta.removals:
            steps.append(Statement(query, ids=delta.removals[table]))
    return [s for s in steps if s.ids is None or len(s.ids) > 0]


def _capability_graph_writes(t: dict[Table, pl.DataFrame]) -> list[Statement]:
    """The links a scoring run replaces: intents to the capabilities they seek, and the boards
    (``BEST_FOR`` to a capability or to an intent, by the row's ``kind``). Each table in a delta
    replaces the whole previous one, as on the embedded store."""
    steps: list[Statement] = []
    if Table.SEEKS in t:
        seeks = t[Table.SEEKS].drop_nulls(["intent", "capability"]).unique(KEYS[Table.SEEKS], keep="last")
        steps.append(Statement(cypher.CLEAR_SEEKS, params={}))
        steps.append(Statement(cypher.CREATE_SEEKS, frame=seeks.sort("intent", "capability")))
    if Table.BOARDS in t:
        boards = t[Table.BOARDS].drop_nulls(["kind", "need", "artifact"]).unique(KEYS[Table.BOARDS], keep="last")
        steps.append(Statement(cypher.CLEAR_BOARDS, params={}))
        for kind, query in (("capability", cypher.CREATE_CAPABILITY_BOARDS), ("intent", cypher.CREATE_INTENT_BOARDS)):
            rows = boards.filter(pl.col("kind") == kind).drop("kind").sort("need", "place", "artifact")
            steps.append(Statement(query, frame=rows))
    return steps


def _combined(table: Table, frame: pl.DataFrame) -> pl.DataFrame:
    """Rows of an additive table with duplicate keys combined, as the embedded store combines them."""
    return merge_additive(table, empty(table), frame)


def part_count(delta: GraphDelta, rows_per_write: int) -> int:
    """How many parts a delta is written in: enough that none carries more than ``rows_per_write``
    rows of the tables that split."""
    rows = sum(frame.height for table, frame in delta.tables.items() if table in _PART_GROUPS)
    return max(1, math.ceil(rows / rows_per_write))


def split_delta(delta: GraphDelta, parts: int) -> list[GraphDelta]:
    """``delta`` as ``parts`` key-disjoint deltas whose union is ``delta`` (ledger rows left out).

    Each domain of ``_PART_GROUPS`` is cut into ``parts`` runs of consecutive keys holding about
    the same number of rows, so every part carries about the same share of every table. The cut
    depends only on the rows, not their order: the same delta always splits the same way, which
    is what lets a rerun after a crash skip exactly the parts already written.
    """
    if parts <= 1:
        return [GraphDelta({t: f for t, f in delta.tables.items() if t is not Table.LEDGER}, dict(delta.removals))]
    domains: dict[str, list[pl.Series]] = {}
    for table, (column, domain) in _PART_GROUPS.items():
        if table in delta.tables:
            domains.setdefault(domain, []).append(delta.tables[table].get_column(column).cast(pl.String).alias("key"))
    cuts: dict[str, pl.DataFrame] = {}
    for domain, keys in domains.items():
        weights = pl.concat(keys).drop_nulls().value_counts(name="rows").sort("key")
        before = weights.get_column("rows").cum_sum() - weights.get_column("rows")
        total = max(int(weights.get_column("rows").sum()), 1)
        cuts[domain] = weights.select("key", (before * parts // total).cast(pl.Int64).alias("part"))
    out = [GraphDelta() for _ in range(parts)]
    out[-1].removals = dict(delta.removals)  # what goes, goes last
    for table, frame in delta.tables.items():
        if table is Table.LEDGER:
            continue
        if table not in _PART_GROUPS:
            out[0].tables[table] = frame
            continue
        column, domain = _PART_GROUPS[table]
        cut = cuts[domain].rename({"key": "_key"})
        placed = frame.with_columns(pl.col(column).cast(pl.String).alias("_key")).join(
            cut, on="_key", how="left", maintain_order="left").with_columns(pl.col("part").fill_null(0))
        for (part,), rows in placed.partition_by("part", as_dict=True, maintain_order=True).items():
            out[int(part)].tables[table] = rows.drop("_key", "part")
    return out


def _frame(table: Table, rows: Sequence[Sequence[Any]], extras: Sequence[str] = ()) -> pl.DataFrame:
    """A table's frame from row lists in ``SCHEMAS`` column order (dates ISO text, datetimes epoch µs).

    Rows are transposed by ``zip`` in C and each column is built and cast by polars in one go, so
    no Python code runs per value. A property of the wrong type (say, edited by hand in the Neo4j
    Browser) reads as null instead of failing every read of the table. Each column is built in its
    schema type, so the frame needs no ``conform`` (a select that costs ~0.2 ms per small read).
    """
    columns = {**SCHEMAS[table], **dict.fromkeys(extras, OPEN_COLUMNS.get(table, pl.Float64()))}
    if not rows:
        return pl.DataFrame(schema=columns)
    series: list[pl.Series] = []
    for (name, dtype), values in zip(columns.items(), zip(*rows, strict=True), strict=True):
        if isinstance(dtype, pl.Date):
            column = pl.Series(name, values, dtype=pl.String).str.to_date("%Y-%m-%d")
        elif isinstance(dtype, pl.Datetime):
            column = pl.Series(name, values, dtype=pl.Int64).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
        else:
            column = pl.Series(name, values, dtype=dtype, strict=False)
        series.append(column)
    return pl.DataFrame(series)


def _collected(tx: ManagedTransaction | Transaction, query: str, params: dict[str, Any] | None = None) -> list[Any]:
    """The one value of a query that returns ``collect(...)``: decoding one big list is ~10x
    faster in the Python driver than decoding as many records."""
    record = tx.run(query, params or {}).single(strict=True)
    return list(record[0])


@dataclass
class _Lease:
    """A run lock this store holds: what the fence checks, and the heartbeat that renews it."""

    name: str
    owner: str
    token: int
    ttl_s: float
    stop: threading.Event = field(default_factory=threading.Event)
    lost: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None


class Neo4jStore:
    """A :class:`graph.store.GraphStore` on Neo4j 5; give it a driver, or use :meth:`connect`.

    The driver is injected so tests can record the (query, parameters) pairs without a server.
    """

    kind = "neo4j"
    one_file_per_write: bool = True
    """No limit in searches: a file's whole aggregate goes to ``apply``, which splits it by rows."""

    def __init__(self, driver: Driver, settings: Settings, *, bookmarks: BookmarkManager | None = None) -> None:
        self.driver = driver
        self.settings = settings
        self.database = settings.neo4j_database
        self._bookmarks = bookmarks if bookmarks is not None else GraphDatabase.bookmark_manager()
        self._leases: dict[str, _Lease] = {}
        self._leases_lock = threading.Lock()

    # -- connection ------------------------------------------------------------------------------
    @classmethod
    def connect(cls, settings: Settings, *, migrate: bool = True) -> Neo4jStore:
        """Connect, verify the server answers and accepts the credentials, and run the migrations
        (unless ``migrate`` is false: a caller that only looks before replacing the database)."""
        uri = settings.neo4j_uri
        if not uri:
            raise StoreUnavailable("NEO4J_URI is not set", hint="set it to e.g. bolt://localhost:7687")
        if uri.split("://", 1)[0] not in _SCHEMES:
            raise StoreUnavailable(f"NEO4J_URI {uri!r} is not a Bolt URI",
                                   hint=f"use one of the schemes {', '.join(sorted(_SCHEMES))}")
        password = settings.neo4j_password
        auth = (settings.neo4j_user, password.get_secret_value()) if password is not None else None
        try:
            driver = GraphDatabase.driver(
                uri,
                auth=auth,
                connection_timeout=settings.neo4j_connect_timeout_s,
                connection_acquisition_timeout=max(settings.neo4j_acquire_timeout_s, settings.neo4j_connect_timeout_s),
                liveness_check_timeout=settings.neo4j_liveness_check_s,
                max_transaction_retry_time=settings.neo4j_write_retry_s,
                # server notifications go to the ``neo4j.notifications`` logger, never to warnings;
                # reads project optional properties on purpose, so "property key does not exist"
                # (UNRECOGNIZED) would be noise on every query of a fresh database
                warn_notification_severity="OFF",
                notifications_disabled_classifications=["UNRECOGNIZED"],
                user_agent="matchgraph",
            )
        except (DriverError, ValueError) as e:
            raise StoreUnavailable(f"cannot use NEO4J_URI {uri!r}: {e}") from e
        try:
            driver.verify_connectivity()
        except AuthError as e:
            driver.close()
            raise StoreUnavailable(
                f"Neo4j at {uri} refused the credentials of user {settings.neo4j_user!r}",
                hint="check NEO4J_USER and NEO4J_PASSWORD",
            ) from e
        except (DriverError, Neo4jError, OSError) as e:
            driver.close()
            raise StoreUnavailable(f"Neo4j at {uri} is not reachable: {e}",
                                   hint="is the server running, and is the URI right?") from e
        store = cls(driver, settings)
        if not migrate:
            return store
        try:
            store.migrate()
        except StoreUnavailable:
            store.close()
            raise
        return store

    def _session(self, **config: Any) -> Session:
        return self.driver.session(database=self.database, bookmark_manager=self._bookmarks, **config)

    def _wrap(self, what: str, error: Exception) -> StoreUnavailable:
        code = getattr(error, "code", None)
        detail = f"{code}: {error}" if code else str(error)
        return StoreUnavailable(f"Neo4j {what} failed on database {self.database!r}: {detail}")

    def migrate(self) -> None:
        """Create the constraints and indexes (idempotent) and wait until every index is online.

        Schema statements never share a transaction with data writes (Neo4j refuses that). The
        plain indexes come first, in one transaction: the server fills them from one scan of each
        label, in the background, while the constraints (which block until built) are created.
        The indexes an earlier schema kept and nothing reads any more are dropped in the same
        transaction.
        """
        try:
            with self._session() as session:
                with session.begin_transaction() as tx:
                    for statement in cypher.INDEXES:
                        tx.run(statement).consume()
                    tx.commit()
                for statement in cypher.CONSTRAINTS:
                    session.run(statement).consume()
                session.run(cypher.AWAIT_INDEXES, {"timeout_s": _AWAIT_INDEXES_S}).consume()
        except (DriverError, Neo4jError) as e:
            raise self._wrap("migration", e) from e

    # -- writes ----------------------------------------------------------------------------------
    def apply(self, delta: GraphDelta) -> None:
        """Apply the delta: one write transaction, or key-disjoint parts of one input file (see
        the module docstring).

        No client-side timeout: a nightly write of many rows legitimately runs for minutes; the
        server's ``db.transaction.timeout`` still bounds it.
        """
        ledger = delta.tables.get(Table.LEDGER)
        if ledger is None or ledger.height != 1:
            self._write(delta)
            return
        parts = part_count(delta, self.settings.neo4j_rows_per_write)
        sha = str(ledger.item(0, "sha256"))
        written = self._parts_written(sha)
        if written:
            parts = next(iter(written.values()))  # a rerun cuts the file as the first attempt did
        if parts == 1:
            self._write(delta)
            return
        kind = str(ledger.item(0, "kind"))
        for number, part in enumerate(split_delta(delta, parts)):
            if number == parts - 1:
                self._write(part.set(Table.LEDGER, ledger))
            elif number not in written:
                rows = sum(frame.height for frame in part.tables.values())
                row = ledger.with_columns(pl.lit(f"{sha}:{number}/{parts}").alias("sha256"),
                                          pl.lit(f"{kind}-part").alias("kind"), pl.lit(rows).alias("rows"))
                self._write(part.set(Table.LEDGER, row))

    def _parts_written(self, sha: str) -> dict[int, int]:
        """The parts of file ``sha`` already written, ``{part: parts}``."""
        try:
            with self._session() as session:
                keys = session.execute_read(lambda tx: _collected(tx, cypher.READ_LEDGER_PARTS, {"prefix": f"{sha}:"}))
        except (DriverError, Neo4jError) as e:
            raise self._wrap("read", e) from e
        written: dict[int, int] = {}
        for key in keys:  # parts the pipeline cut itself (``<sha256>:<n>``) are none of these
            match = _PART_KEY.fullmatch(str(key)[len(sha):])
            if match is not None:
                written[int(match[1])] = int(match[2])
        if len(set(written.values())) > 1:
            raise MatchGraphError(f"the ledger holds parts of file {sha} cut in different ways: {sorted(keys)}")
        return written

    def _write(self, delta: GraphDelta) -> None:
        """One write transaction: the planned statements, the fence of every lease this store
        holds, then the version bump."""
        statements = plan_delta(delta)
        if not statements:
            return
        size = self.settings.neo4j_batch_size
        leases = self._held_leases()
        lock_ids = _unique_ids(s.frame.get_column(c) for s in statements
                               if s.endpoints and s.frame is not None for c in s.endpoints)

        def work(tx: ManagedTransaction) -> None:
            located: pl.DataFrame | None = None
            for planned in statements:
                if planned.endpoints and located is None:
                    located = _lock_artifacts(tx, lock_ids, size)
                for part in planned.split(tx, size) if planned.known else [planned]:
                    statement = part.resolved(tx, located)
                    for params in _prefetched(statement.batches(size)):
                        tx.run(statement.query, params).consume()
            for lease in leases:
                self._fence(tx, lease)
            tx.run(cypher.BUMP_VERSION, {"token": secrets.token_hex(8)}).consume()

        self._execute_write(work)

    def _execute_write(self, work: Callable[[ManagedTransaction], None]) -> None:
        """``work`` in one managed write transaction (retried on transient errors); driver and
        server errors become ``StoreUnavailable``."""
        try:
            with self._session() as session:
                session.execute_write(work)
        except (DriverError, Neo4jError) as e:
            raise self._wrap("write", e) from e

    # -- the writer lease ------------------------------------------------------------------------
    def _held_leases(self) -> list[_Lease]:
        """The leases this store holds; a write under one already known to be lost stops here."""
        with self._leases_lock:
            leases = list(self._leases.values())
        for lease in leases:
            if lease.lost.is_set():
                raise self._lost(lease)
        return leases

    def _lost(self, lease: _Lease) -> StoreLocked:
        return StoreLocked(f"the {lease.name} lease was lost to another run; this write was not committed",
                           hint=f"its holder did not renew it within {lease.ttl_s:.0f} s; the run must start again")

    def _fence(self, tx: ManagedTransaction, lease: _Lease) -> None:
        record = tx.run(cypher.CHECK_RUN_LOCK, {"name": lease.name, "owner": lease.owner,
                                                "token": lease.token}).single()
        if record is None or not record["held"]:
            lease.lost.set()
            raise self._lost(lease)

    @contextmanager
    def run_lock(self, name: str, ttl_s: float) -> Iterator[None]:
        """A lease on a ``(:RunLock {name})`` node for the length of a run: taken in a write
        transaction, renewed by a heartbeat every ``ttl_s / 3``, expiring ``ttl_s`` after the last
        renewal if its holder dies (at once if it was a local process that no longer exists)."""
        owner = lock_owner()
        ttl_ms = max(1, round(ttl_s * 1000))

        def take(tx: ManagedTransaction) -> tuple[str | None, int]:
            record = tx.run(cypher.TAKE_RUN_LOCK, {"name": name}).single(strict=True)
            holder = record["owner"]
            if holder and holder != owner and record["live"] and not owner_is_dead(holder):
                return str(holder), 0
            token = tx.run(cypher.SET_RUN_LOCK, {"name": name, "owner": owner, "ttl_ms": ttl_ms}).single(strict=True)
            return None, int(token["token"])

        try:
            with self._session() as session:
                holder, token = session.execute_write(take)
        except (DriverError, Neo4jError) as e:
            raise self._wrap("lock", e) from e
        if holder is not None:
            raise StoreLocked(f"a {name} run is already in progress ({holder})",
                              hint=f"wait for it to finish; a run that dies frees the lock within {ttl_s:.0f} s")
        lease = _Lease(name, owner, token, ttl_s)
        lease.thread = threading.Thread(target=self._heartbeat, args=(lease,), name=f"matchgraph-lease-{name}",
                                        daemon=True)
        with self._leases_lock:
            self._leases[name] = lease
        lease.thread.start()
        try:
            yield
        finally:
            lease.stop.set()
            lease.thread.join()
            with self._leases_lock:
                if self._leases.get(name) is lease:
                    del self._leases[name]
            try:
                with self._session() as session:
                    session.execute_write(lambda tx: tx.run(cypher.RELEASE_RUN_LOCK, {
                        "name": name, "owner": owner, "token": token}).consume())
            except (DriverError, Neo4jError):
                pass  # the lease expires by itself

    def _heartbeat(self, lease: _Lease) -> None:
        """Renew ``lease`` every third of its time to live until the run ends or the lease is lost.
        A renewal that fails (Neo4j unreachable) is retried at the next beat; if the lease expires
        meanwhile and another run takes it, the fence stops this run's next write."""
        while not lease.stop.wait(lease.ttl_s / 3):
            try:
                held = self._renew(lease)
            except (DriverError, Neo4jError, StoreUnavailable) as e:
                log.warning("renewing the %s lease failed (retrying): %s", lease.name, e)
                continue
            if not held:
                lease.lost.set()
                log.error("the %s lease was taken by another run", lease.name)
                return

    def _renew(self, lease: _Lease) -> bool:
        """Push the lease's expiry ``ttl_s`` ahead; False when it is no longer ours."""
        params = {"name": lease.name, "owner": lease.owner, "token": lease.token,
                  "ttl_ms": max(1, round(lease.ttl_s * 1000))}
        with self._session(max_transaction_retry_time=lease.ttl_s / 3) as session:
            record = session.execute_write(lambda tx: tx.run(cypher.RENEW_RUN_LOCK, params).single(strict=True))
        return bool(record["held"])

    def holds_data(self) -> bool:
        """Whether any node of the graph is stored (``matchgraph neo4j import`` needs none)."""
        try:
            with self._session() as session:
                return bool(session.execute_read(lambda tx: tx.run(cypher.HOLDS_DATA).single(strict=True)["found"]))
        except (DriverError, Neo4jError) as e:
            raise self._wrap("read", e) from e

    def complete_import(self, capabilities: pl.DataFrame, score_columns: Sequence[str],
                        benchmarks: pl.DataFrame | None = None) -> None:
        """After ``neo4j-admin database import`` (see :mod:`graph.neo4j_import`): what the importer
        cannot write, as ``apply`` writes it (capabilities' tags and aliases, benchmark results, the
        open score columns), and a new version token, in one write transaction. The migrations ran
        when the store connected."""
        size = self.settings.neo4j_batch_size

        def work(tx: ManagedTransaction) -> None:
            for query, frame in ((cypher.UPSERT_CAPABILITIES, capabilities), (cypher.SET_BENCHMARKS, benchmarks)):
                rows = frame.to_dicts() if frame is not None and frame.height else []
                for start in range(0, len(rows), size):
                    tx.run(query, {"rows": rows[start:start + size]}).consume()
            tx.run(cypher.SET_SCORE_COLUMNS, {"columns": list(score_columns)}).consume()
            tx.run(cypher.BUMP_VERSION, {"token": secrets.token_hex(8)}).consume()

        self._execute_write(work)

    def clear(self) -> None:
        """Delete every node and relationship in bounded write transactions; the schema stays."""
        batch = self.settings.neo4j_batch_size

        def work(tx: ManagedTransaction, query: str) -> int:
            record = tx.run(query, {"batch": batch}).single()
            return int(record[0]) if record is not None else 0

        try:
            with self._session() as session:
                for query in (cypher.DELETE_RELATIONSHIP_BATCH, cypher.DELETE_BATCH):
                    while session.execute_write(work, query) > 0:
                        pass
                session.execute_write(lambda tx: tx.run(cypher.BUMP_VERSION,
                                                        {"token": secrets.token_hex(8)}).consume())
        except (DriverError, Neo4jError) as e:
            raise self._wrap("clear", e) from e

    def close(self) -> None:
        self.driver.close()

    def version(self) -> str:
        """The token the last write set (see ``cypher.BUMP_VERSION``); ``""`` before any write."""
        with self.reader() as view:
            return view.version

    # -- reads -----------------------------------------------------------------------------------
    @contextmanager
    def reader(self, *, bulk: bool = False) -> Iterator[Neo4jReader]:
        """A read transaction: every read through the view sees one committed state of the graph.

        Interactive reads get ``neo4j_timeout_s``; ``bulk`` reads of whole tables (scoring,
        ingest) only the server's ``db.transaction.timeout``, since millions of rows take longer.
        """
        timeout = None if bulk else self.settings.neo4j_timeout_s
        try:
            with self._session() as session, session.begin_transaction(timeout=timeout) as tx:
                yield Neo4jReader(tx, self.settings.neo4j_batch_size)
        except (DriverError, Neo4jError) as e:
            raise self._wrap("read", e) from e

    def table(self, table: Table, ids: Sequence[str] | None = None, *, by: str | None = None,
              columns: Sequence[str] | None = None) -> pl.DataFrame:
        with self.reader(bulk=ids is None) as view:
            return view.table(table, ids, by=by, columns=columns)


class Neo4jReader:
    """A :class:`graph.store.Reader` over one read transaction."""

    def __init__(self, tx: Transaction, page_size: int) -> None:
        self.tx = tx
        self.page_size = page_size
        self._version: tuple[str, list[str]] | None = None

    def _meta(self) -> tuple[str, list[str]]:
        if self._version is None:
            record = self.tx.run(cypher.READ_VERSION).single(strict=True)
            self._version = (str(record["token"] or ""), [str(c) for c in record["score_columns"]])
        return self._version

    @property
    def version(self) -> str:
        return self._meta()[0]

    def _params(self, table: Table, params: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """The query's parameters, with the open score columns where the scores table is read."""
        extras = self._meta()[1] if table is Table.SCORES else []
        return ({**params, "score_columns": extras} if table is Table.SCORES else params), extras

    def _read(self, table: Table, query: str, params: dict[str, Any]) -> pl.DataFrame:
        full, extras = self._params(table, params)
        return _frame(table, _collected(self.tx, query, full), extras)

    def table(self, table: Table, ids: Sequence[str] | None = None, *, by: str | None = None,
              columns: Sequence[str] | None = None) -> pl.DataFrame:
        check_read(table, ids, by, columns)
        read = cypher.TABLE_READS[table]
        if ids is not None:
            wanted = sorted({str(i) for i in ids})
            query = read.lookup(by) if by is not None else read.by_ids
            frame = self._read(table, query, {"ids": wanted}) if wanted and query else empty(table)
        elif read.whole is not None:
            frame = self._read(table, read.whole, {})
        else:
            frame = self._paged(table, read)
        return with_columns_of(table, frame, columns) if columns is not None else frame

    def tables(self, tables: Sequence[Table], ids: Sequence[str]) -> dict[Table, pl.DataFrame]:
        """Several tables by artifact id in one query (``cypher.read_together``): one round trip
        where reading them one by one costs one each (~2 ms apiece here)."""
        order = tuple(dict.fromkeys(tables))
        for table in order:
            check_read(table, ids, None, None)
        wanted = sorted({str(i) for i in ids})
        if not wanted or not order:
            return {table: empty(table) for table in order}
        extras = self._meta()[1] if Table.SCORES in order else []
        record = self.tx.run(cypher.read_together(order), {"ids": wanted, "score_columns": extras}).single(strict=True)
        return {table: _frame(table, list(record[n]), extras if table is Table.SCORES else ())
                for n, table in enumerate(order)}

    def _paged(self, table: Table, read: cypher.TableRead) -> pl.DataFrame:
        """A big table page by page of anchor ids (keyset pagination), in this one transaction."""
        if read.anchors is None or read.page is None:
            raise ValueError(f"table {table.value} has no paged read")
        frames: list[pl.DataFrame] = []
        after = ""
        while True:
            anchors = _collected(self.tx, read.anchors, {"after": after, "page": self.page_size})
            if not anchors:
                break
            frames.append(self._read(table, read.page, {"ids": anchors}))
            if len(anchors) < self.page_size:
                break
            after = max(anchors)
        return pl.concat(frames, how="vertical") if frames else empty(table)
