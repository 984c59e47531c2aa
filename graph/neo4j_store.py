"""The Neo4j store: the graph's tables as nodes, relationships and properties in a Neo4j 5 database.

Selected by ``NEO4J_URI``. Every Cypher statement lives in :mod:`graph.cypher`; this module turns
:class:`graph.tables.GraphDelta` frames into parameter batches and query results back into polars
frames, so both stores return the same frames for the same deltas (the contract suite checks it).

Transactions and routing
    ``apply`` runs the whole delta in ONE managed write transaction (``session.execute_write``):
    Neo4j commits it or none of it, and the driver retries it whole on transient errors (leader
    switch, deadlock). Reads use managed read transactions. Routing URIs (``neo4j://``,
    ``neo4j+s://``) work unchanged: write transactions go to the cluster leader, read transactions
    may go to followers. A read after a write in the same store still sees the write because every
    session of a store shares one bookmark manager (causal consistency), on ``bolt://`` as on a
    cluster.

Memory
    A delta is one transaction, and Neo4j holds a transaction's changes in heap until commit, so
    the server's heap (``db.memory.transaction.total.max``) bounds the largest delta. Rows travel as
    ``UNWIND $rows`` batches of ``neo4j_batch_size``, which bounds each message, not the transaction.
"""

from __future__ import annotations

import re
import secrets
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import polars as pl
from neo4j import GraphDatabase, unit_of_work
from neo4j.exceptions import AuthError, DriverError, Neo4jError

from graph import cypher
from graph.errors import InvalidInput, StoreLocked, StoreUnavailable
from graph.store import STATS_COLUMNS, GraphEdge, GraphNode, Subgraph, grow_neighborhood, lock_owner, owner_is_dead
from graph.tables import (
    ADDITIVE,
    ARTIFACT_ENDPOINTS,
    KEYS,
    SCHEMAS,
    GraphDelta,
    Table,
    empty,
    merge_additive,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence

    from neo4j import BookmarkManager, Driver, ManagedTransaction, Session

    from graph.settings import Settings

_LUCENE_SPECIAL = re.compile(r'([+\-&|!(){}\[\]^"~*?:\\/])')
_PLAIN_TERM = re.compile(r"^[a-z0-9]+$")
_SEARCH_HITS = 1_000
_SEARCH_WEIGHTS = {"artifact_weight": 1.0, "capability_weight": 0.5, "intent_weight": 0.5}
_EXACT_BOOST = 1_000.0
_SCHEMES = frozenset({"bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc"})
"""Bolt only: the driver's HTTP Query API (a preview) has no managed transactions to retry."""
_AWAIT_INDEXES_S = 600
"""How long ``connect`` waits for indexes to come online: a full-text index created over an
existing graph of 100k artifacts populates in the background and can take minutes."""

# Relationship tables in write order, each with its Cypher and the endpoint columns its batches
# are sorted by (writers that lock nodes in the same order cannot deadlock each other).
_RELATIONSHIP_WRITES: tuple[tuple[Table, str, tuple[str, ...]], ...] = (
    (Table.DERIVED_FROM, cypher.MERGE_DERIVED_FROM, ("src", "dst")),
    (Table.INTEGRATES_WITH, cypher.MERGE_INTEGRATES_WITH, ("src", "dst")),
    (Table.MATCHED, cypher.ADD_MATCHED, ("intent", "artifact")),
    (Table.CO_MATCHED, cypher.ADD_CO_MATCHED, ("a", "b")),
    (Table.PREFERRED_OVER, cypher.ADD_PREFERRED_OVER, ("winner", "loser")),
)


def bolt_answers(uri: str, user: str, password: str, timeout_s: float = 2.0) -> bool | None:
    """True: Bolt accepts the credentials; False: it rejects them; None: not reachable (yet).

    The readiness probe of :mod:`graph.server`, here so that only this module imports the driver.
    """
    try:
        with GraphDatabase.driver(uri, auth=(user, password), connection_timeout=timeout_s) as driver:
            driver.verify_connectivity()
    except AuthError:
        return False
    except (DriverError, Neo4jError, OSError):
        return None
    return True


def lucene_query(text: str) -> str | None:
    """A full-text query for free text: every term escaped, plain terms (3+ chars) also as prefixes.

    User text never reaches Lucene's query syntax unescaped, so ``a:b``, ``"`` or ``(`` search for
    themselves instead of breaking the parser. None when the text has no term at all.
    """
    terms = [t for t in text.casefold().split() if t]
    clauses: list[str] = []
    for term in terms:
        escaped = _LUCENE_SPECIAL.sub(r"\\\1", term)
        clauses.append(escaped)
        if len(term) >= 3 and _PLAIN_TERM.match(term):
            clauses.append(f"{escaped}*")
    return " OR ".join(clauses) if clauses else None


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
    """``id`` -> ``eid`` for every endpoint, once ``resolved`` has run in the transaction."""

    def resolved(self, tx: ManagedTransaction, size: int) -> Statement:
        """This statement with its endpoints locked and located, in id order: two writers of
        co-matches then queue on their first shared artifact instead of deadlocking (a deadlock
        with another kind of writer is still possible; Neo4j detects it and the driver retries)."""
        if not self.endpoints or self.frame is None or self.frame.height == 0:
            return self
        ids = _unique_ids(self.frame.get_column(c) for c in self.endpoints)
        pairs: list[Any] = []
        for start in range(0, len(ids), size):
            pairs.extend(_collected(tx, cypher.LOCK_ARTIFACTS, {"ids": ids[start:start + size]}))
        located = pl.DataFrame(pairs, schema={"id": pl.String, "eid": pl.String}, orient="row")
        return replace(self, located=located)

    def batches(self, size: int) -> Iterable[dict[str, Any]]:
        if self.ids is not None:
            for start in range(0, len(self.ids), size):
                yield {"ids": list(self.ids[start:start + size])}
            return
        if self.frame is None:
            yield {}
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
    if Table.INTENTS in t:
        steps.append(Statement(cypher.ADD_INTENTS, frame=_combined(Table.INTENTS, t[Table.INTENTS])))

    # every artifact a row names becomes a node, which also lets reads page by artifact
    referenced = _unique_ids(
        t[table].get_column(column)
        for table, columns in ARTIFACT_ENDPOINTS.items()
        if table in t and table is not Table.ARTIFACTS
        for column in columns
    )
    missing = sorted(set(referenced).difference(in_delta))
    steps.append(Statement(cypher.ENSURE_ARTIFACTS, ids=missing))
    for table, column, query in ((Table.HAS_CAPABILITY, "capability", cypher.ENSURE_CAPABILITIES),
                                 (Table.MATCHED, "intent", cypher.ENSURE_INTENTS)):
        if table in t:
            steps.append(Statement(query, ids=_unique_ids([t[table].get_column(column)])))

    if Table.DAILY in t:
        steps.append(Statement(cypher.ADD_DAILY, frame=_combined(Table.DAILY, t[Table.DAILY])))
    for table, query, prepare in _APPEND_WRITES:
        if table in t:
            keys = list(KEYS[table])
            rows = t[table].unique(keys, keep="first", maintain_order=True).sort(keys)
            steps.append(Statement(query, frame=rows, prepare=prepare))
    if Table.SCORES in t:
        scores = t[Table.SCORES].filter(pl.col("id").is_not_null()).unique("id", keep="last").sort("id")
        steps.append(Statement(cypher.CLEAR_SCORES))
        steps.append(Statement(cypher.SET_SCORES, frame=scores))

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
    for table, query, endpoints in _RELATIONSHIP_WRITES:
        if table not in t:
            continue
        frame = t[table].drop_nulls(list(KEYS[table]))
        frame = _combined(table, frame) if table in ADDITIVE else frame.unique(KEYS[table])
        if table is Table.PREFERRED_OVER:
            frame = frame.group_by("winner", "loser").agg(
                pl.struct("winner_pos", "loser_pos", "count").sort_by("winner_pos", "loser_pos").alias("cells")
            )
        located = endpoints if table is Table.CO_MATCHED else ()
        steps.append(Statement(query, frame=frame.sort(list(endpoints)), endpoints=located))
    return [s for s in steps if s.ids is None or len(s.ids) > 0]


def _combined(table: Table, frame: pl.DataFrame) -> pl.DataFrame:
    """Rows of an additive table with duplicate keys combined (summed, or max), as the embedded store does."""
    return merge_additive(table, empty(table), frame)


def _frame(table: Table, rows: Sequence[Sequence[Any]]) -> pl.DataFrame:
    """A table's frame from row lists in ``SCHEMAS`` column order (dates ISO text, datetimes epoch µs).

    Rows are transposed by ``zip`` in C and each column is built and cast by polars in one go, so
    no Python code runs per value. A property of the wrong type (say, edited by hand in the Neo4j
    Browser) reads as null instead of failing every read of the table. Each column is built in its
    schema type, so the frame needs no ``conform`` (a select that costs ~0.2 ms per small read).
    """
    if not rows:
        return empty(table)
    series: list[pl.Series] = []
    for (name, dtype), values in zip(SCHEMAS[table].items(), zip(*rows, strict=True), strict=True):
        if isinstance(dtype, pl.Date):
            column = pl.Series(name, values, dtype=pl.String).str.to_date("%Y-%m-%d")
        elif isinstance(dtype, pl.Datetime):
            column = pl.Series(name, values, dtype=pl.Int64).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
        else:
            column = pl.Series(name, values, dtype=dtype, strict=False)
        series.append(column)
    return pl.DataFrame(series)


def _collected(tx: ManagedTransaction, query: str, params: dict[str, Any] | None = None) -> list[Any]:
    """The one value of a query that returns ``collect(...)``: decoding one big list is ~10x
    faster in the Python driver than decoding as many records."""
    record = tx.run(query, params or {}).single(strict=True)
    return list(record[0])


class Neo4jStore:
    """A :class:`graph.store.GraphStore` on Neo4j 5; give it a driver, or use :meth:`connect`.

    The driver is injected so tests can record the (query, parameters) pairs without a server.
    """

    kind = "neo4j"

    def __init__(self, driver: Driver, settings: Settings, *, bookmarks: BookmarkManager | None = None) -> None:
        self.driver = driver
        self.settings = settings
        self.max_searches_per_write: int | None = settings.neo4j_searches_per_write
        self.database = settings.neo4j_database
        self._bookmarks = bookmarks if bookmarks is not None else GraphDatabase.bookmark_manager()

    # -- connection ------------------------------------------------------------------------------
    @classmethod
    def connect(cls, settings: Settings) -> Neo4jStore:
        """Connect, verify the server answers and accepts the credentials, and run the migrations."""
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
                connection_timeout=settings.neo4j_timeout_s,
                connection_acquisition_timeout=settings.neo4j_timeout_s,
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
        try:
            store.migrate()
        except StoreUnavailable:
            store.close()
            raise
        return store

    def _session(self) -> Session:
        return self.driver.session(database=self.database, bookmark_manager=self._bookmarks)

    def _wrap(self, what: str, error: Exception) -> StoreUnavailable:
        code = getattr(error, "code", None)
        detail = f"{code}: {error}" if code else str(error)
        return StoreUnavailable(f"Neo4j {what} failed on database {self.database!r}: {detail}")

    def migrate(self) -> None:
        """Create the constraints and indexes (idempotent) and wait until every index is online.

        Schema statements run as auto-commit queries: Neo4j refuses them inside a transaction
        that also writes data.
        """
        try:
            with self._session() as session:
                for statement in (*cypher.CONSTRAINTS, *cypher.INDEXES):
                    session.run(statement).consume()
                session.run(cypher.AWAIT_INDEXES, {"timeout_s": _AWAIT_INDEXES_S}).consume()
        except (DriverError, Neo4jError) as e:
            raise self._wrap("migration", e) from e

    def _read(self, work: Callable[[ManagedTransaction], Any], *, bulk: bool = False) -> Any:
        """Run ``work`` in a managed read transaction.

        Reads whose size a user controls (filtered tables, search, traversals) get
        ``neo4j_timeout_s``; bulk reads of whole tables (scoring, ingest) only the server's
        ``db.transaction.timeout``, since millions of rows legitimately take longer.
        """
        if not bulk:
            work = unit_of_work(timeout=self.settings.neo4j_timeout_s)(work)
        try:
            with self._session() as session:
                return session.execute_read(work)
        except (DriverError, Neo4jError) as e:
            raise self._wrap("read", e) from e

    # -- writes ----------------------------------------------------------------------------------
    def apply(self, delta: GraphDelta) -> None:
        """Apply the delta in one write transaction (see the module docstring).

        No client-side timeout: a nightly delta of millions of rows legitimately runs for minutes;
        the server's ``db.transaction.timeout`` still bounds it.
        """
        statements = plan_delta(delta)
        if not statements:
            return
        size = self.settings.neo4j_batch_size

        def work(tx: ManagedTransaction) -> None:
            for planned in statements:
                statement = planned.resolved(tx, size)
                for params in _prefetched(statement.batches(size)):
                    tx.run(statement.query, params).consume()
            tx.run(cypher.BUMP_VERSION, {"token": secrets.token_hex(8)}).consume()

        try:
            with self._session() as session:
                session.execute_write(work)
        except (DriverError, Neo4jError) as e:
            raise self._wrap("write", e) from e

    @contextmanager
    def run_lock(self, name: str, ttl_s: float) -> Iterator[None]:
        """A lease on a ``(:RunLock {name})`` node: taken in a write transaction, expiring after
        ``ttl_s`` so a holder that died cannot keep it forever (at once if it was a local process)."""
        owner = lock_owner()

        def take(tx: ManagedTransaction) -> str | None:
            now = datetime.now(UTC)
            record = tx.run(cypher.TAKE_RUN_LOCK, {"name": name, "now": now}).single(strict=True)
            holder, expires = record["owner"], record["expires"]
            if holder and holder != owner and expires is not None and expires.to_native() > now \
                    and not owner_is_dead(holder):
                return str(holder)
            tx.run(cypher.SET_RUN_LOCK, {"name": name, "owner": owner, "now": now,
                                        "expires": now + timedelta(seconds=ttl_s)}).consume()
            return None

        try:
            with self._session() as session:
                holder = session.execute_write(take)
        except (DriverError, Neo4jError) as e:
            raise self._wrap("lock", e) from e
        if holder is not None:
            raise StoreLocked(f"a {name} run is already in progress ({holder})",
                              hint=f"wait for it to finish; a run that dies frees the lock within {ttl_s:.0f} s")
        try:
            yield
        finally:
            try:
                with self._session() as session:
                    session.execute_write(lambda tx: tx.run(cypher.RELEASE_RUN_LOCK,
                                                            {"name": name, "owner": owner}).consume())
            except (DriverError, Neo4jError):
                pass  # the lease expires by itself

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

        def work(tx: ManagedTransaction) -> str:
            record = tx.run(cypher.READ_VERSION).single(strict=True)
            return str(record["token"] or "")

        return str(self._read(work))

    # -- reads -----------------------------------------------------------------------------------
    def table(self, table: Table, ids: Sequence[str] | None = None, *,
              capabilities: Sequence[str] | None = None) -> pl.DataFrame:
        read = cypher.TABLE_READS[table]
        if capabilities is not None:
            if read.by_capabilities is None or ids is not None:
                raise ValueError(f"table {table.value} cannot be filtered on capabilities here")
            wanted = sorted({str(c) for c in capabilities})
            if not wanted:
                return empty(table)
            query, params = read.by_capabilities, {"ids": wanted}
        elif ids is not None:
            if read.by_ids is None or table not in ARTIFACT_ENDPOINTS:
                raise ValueError(f"table {table.value} has no artifact column to filter on")
            wanted = sorted({str(i) for i in ids})
            if not wanted:
                return empty(table)
            query, params = read.by_ids, {"ids": wanted}
        elif read.whole is not None:
            query, params = read.whole, {}
        else:
            return self._paged(table, read)

        def work(tx: ManagedTransaction) -> pl.DataFrame:
            return _frame(table, _collected(tx, query, params))

        result: pl.DataFrame = self._read(work, bulk=ids is None and capabilities is None)
        return result

    def tables(self, tables: Sequence[Table], ids: Sequence[str]) -> dict[Table, pl.DataFrame]:
        """Several tables by artifact id in one query (``cypher.read_together``): one round trip
        where reading them one by one costs one each (~2 ms apiece here)."""
        order = tuple(dict.fromkeys(tables))
        for table in order:
            if cypher.TABLE_READS[table].by_ids is None or table not in ARTIFACT_ENDPOINTS:
                raise ValueError(f"table {table.value} has no artifact column to filter on")
        wanted = sorted({str(i) for i in ids})
        if not wanted or not order:
            return {table: empty(table) for table in order}
        query = cypher.read_together(order)

        def work(tx: ManagedTransaction) -> dict[Table, pl.DataFrame]:
            record = tx.run(query, {"ids": wanted}).single(strict=True)
            return {table: _frame(table, list(record[n])) for n, table in enumerate(order)}

        result: dict[Table, pl.DataFrame] = self._read(work)
        return result

    def _paged(self, table: Table, read: cypher.TableRead) -> pl.DataFrame:
        """A big table page by page of anchor ids (keyset pagination), all in one read transaction."""
        if read.anchors is None or read.page is None:
            raise ValueError(f"table {table.value} has no paged read")
        anchors_query, page_query = read.anchors, read.page
        page_size = self.settings.neo4j_batch_size

        def work(tx: ManagedTransaction) -> pl.DataFrame:
            frames: list[pl.DataFrame] = []
            after = ""
            while True:
                anchors = _collected(tx, anchors_query, {"after": after, "page": page_size})
                if not anchors:
                    break
                frames.append(_frame(table, _collected(tx, page_query, {"ids": anchors})))
                if len(anchors) < page_size:
                    break
                after = max(anchors)
            return pl.concat(frames, how="vertical") if frames else empty(table)

        result: pl.DataFrame = self._read(work, bulk=True)
        return result

    def artifact_stats(self) -> pl.DataFrame:
        """Per-artifact aggregates by Cypher (one consistent read transaction), joined in polars.

        Each query is one aggregate over one relationship type; joining a dozen small frames in
        polars is faster than one Cypher query chaining a dozen OPTIONAL MATCHes.
        """
        text = {"id", "provider", "last_matched"}
        queries = {
            "artifacts": (cypher.STATS_ARTIFACTS, ("id", "provider")),
            "family": (cypher.STATS_PROVIDER_FAMILY, ("provider", "provider_family")),
            "matched": (cypher.STATS_MATCHED, ("id", "times_matched", "clicks", "intents")),
            "co": (cypher.STATS_CO_MATCHED, ("id", "co_matched_degree", "co_matched_weight")),
            "derived": (cypher.STATS_DERIVED_WORKS, ("id", "derived_works")),
            "integrations": (cypher.STATS_INTEGRATIONS, ("id", "integrations")),
            "capabilities": (cypher.STATS_CAPABILITIES, ("id", "capabilities")),
            "peers": (cypher.STATS_CAPABILITY_PEERS, ("id", "capability_peers")),
            "wins": (cypher.STATS_WINS, ("id", "wins")),
            "losses": (cypher.STATS_LOSSES, ("id", "losses")),
            "last": (cypher.STATS_LAST_MATCHED, ("id", "last_matched")),
        }

        def work(tx: ManagedTransaction) -> dict[str, pl.DataFrame]:
            return {
                key: pl.DataFrame(
                    _collected(tx, query),
                    schema={name: pl.String if name in text else pl.Int64 for name in names},
                    orient="row",
                )
                for key, (query, names) in queries.items()
            }

        parts: dict[str, pl.DataFrame] = self._read(work, bulk=True)
        out = parts["artifacts"]
        for key in ("matched", "co", "derived", "integrations", "capabilities", "peers", "wins", "losses", "last"):
            out = out.join(parts[key], on="id", how="left")
        out = out.join(parts["family"], on="provider", how="left")
        counts = [c for c in STATS_COLUMNS if c not in ("id", "last_matched")]
        return (
            out.with_columns([pl.col(c).fill_null(0).cast(pl.Int64) for c in counts])
            .with_columns(
                pl.col("provider_family").clip(lower_bound=1),
                pl.col("last_matched").str.to_date("%Y-%m-%d"),
            )
            .select(list(STATS_COLUMNS))
            .sort("id")
        )

    def search_text(self, text: str, limit: int) -> pl.DataFrame:
        schema = {"id": pl.String, "score": pl.Float64}
        query = lucene_query(text)
        if query is None or limit < 1:
            return pl.DataFrame(schema=schema)
        params: dict[str, Any] = {
            "index": cypher.FULLTEXT_INDEX,
            "query": query,
            "hits": max(_SEARCH_HITS, limit),
            "exact": text.casefold().strip(),
            "exact_boost": _EXACT_BOOST,
            "limit": int(limit),
            **_SEARCH_WEIGHTS,
        }

        def work(tx: ManagedTransaction) -> list[tuple[str, float]]:
            return [(record[0], record[1]) for record in tx.run(cypher.SEARCH_TEXT, params)]

        rows: list[tuple[str, float]] = self._read(work)
        return pl.DataFrame(rows, schema=schema, orient="row")

    # -- traversals ------------------------------------------------------------------------------
    def _expand(self, tx: ManagedTransaction, frontier: set[str], per_node: int) -> pl.DataFrame:
        """The frontier's strongest edges, ordered and capped per node as the embedded store does."""
        rows = [tuple(r) for r in tx.run(cypher.NEIGHBOR_EDGES, {"ids": sorted(frontier), "per_node": per_node})]
        edges = pl.DataFrame(
            rows, schema={"src": pl.String, "dst": pl.String, "type": pl.String, "weight": pl.Float64}, orient="row"
        )
        return (
            edges.sort(["weight", "dst", "src", "type"], descending=[True, False, False, False])
            .group_by("src", maintain_order=True)
            .head(per_node)
        )

    def neighborhood(self, artifact_id: str, depth: int, limit: int) -> Subgraph:
        def work(tx: ManagedTransaction) -> Subgraph:
            graph = grow_neighborhood(artifact_id, depth, limit,
                                      lambda frontier: self._expand(tx, frontier, per_node=limit))
            ids = list(graph.nodes)
            info = {row[0]: row for row in tx.run(cypher.NODE_INFO, {"ids": ids})}
            nodes = [
                GraphNode(
                    id=node,
                    label="Artifact",
                    name=(info[node][1] or node) if node in info else node,
                    type=info[node][2] if node in info else None,
                    rank=info[node][3] if node in info else None,
                )
                for node in ids
            ]
            edges = [
                GraphEdge(source=u, target=v, type=data["type"], weight=data["weight"])
                for u, v, data in graph.edges(data=True)
            ]
            return Subgraph(center=artifact_id, nodes=nodes, edges=edges)

        result: Subgraph = self._read(work)
        return result

    def path(self, a: str, b: str, max_depth: int) -> list[str]:
        """The fewest-hop chain by ``shortestPath``, bounded by ``max_depth`` (at most ``MATCHGRAPH_MAX_DEPTH``)."""
        if a == b:
            return [a]
        if type(max_depth) is not int:
            raise InvalidInput(f"max_depth must be an integer, got {max_depth!r}")
        if max_depth < 1:
            return []
        ceiling = min(self.settings.max_depth, cypher.MAX_PATH_HOPS)
        if max_depth > ceiling:
            raise InvalidInput(f"max_depth must be at most {ceiling}, got {max_depth}")
        query = cypher.shortest_path_query(max_depth)

        def work(tx: ManagedTransaction) -> list[str]:
            record = tx.run(query, {"a": a, "b": b}).single()
            return list(record[0]) if record is not None else []

        result: list[str] = self._read(work)
        return result

