"""The bare baseline of the Neo4j write benchmark: the same rows, written with plain ``UNWIND`` + ``CREATE``.

It is the floor a write path of these rows can hope for over Bolt: every row becomes a ``CREATE`` in
``UNWIND`` batches of 10,000 (a ``totals`` row, which is properties of its artifact, a ``SET``),
relationships find their endpoints with one index seek each, and nothing is looked up, merged or
added to. Every table of the delta is written (an earlier version left out ``intent_preferences``
and ``totals``, over half the rows of a log file, so it was no floor for the same rows). A node it
has already created (a later file naming an intent or artifact again) is not created twice (the
loader remembers the ids it wrote, client side, for free); a relationship row is always created,
so a later file's row becomes a parallel relationship where matchgraph adds to the existing one.
One transaction per write, as the store makes, so commits cost the same.

Used by ``bench/bench_neo4j.py``; also runnable alone on a folder of per-table Parquet files:
``python -m bench.neo4j_bare_load FOLDER`` (the database is not cleared first).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from graph.tables import Table

if TYPE_CHECKING:
    from neo4j import Driver, ManagedTransaction

BATCH = 10_000

NODES: dict[Table, tuple[str, str]] = {
    Table.ARTIFACTS: ("Artifact", "UNWIND $rows AS row CREATE (a:Artifact) SET a = row"),
    Table.PROVIDERS: ("Provider", "UNWIND $rows AS row CREATE (p:Provider) SET p = row"),
    Table.CAPABILITIES: ("Capability", "UNWIND $rows AS row CREATE (c:Capability) SET c = row"),
    Table.INTENTS: ("Intent", "UNWIND $rows AS row CREATE (i:Intent) SET i = row"),
}
"""Node tables keyed by ``id``: label, and the statement creating a batch of them."""

OTHER_NODES: dict[Table, str] = {
    Table.DAILY: "UNWIND $rows AS row CREATE (d:DailyDemand) SET d = row",
    Table.INTENT_PREFERENCES: "UNWIND $rows AS row CREATE (p:IntentPreference) SET p = row",
    Table.LEDGER: "UNWIND $rows AS row CREATE (f:IngestedFile) SET f = row",
}
"""Tables of nodes without an ``id``: each row one node, created with no index on its label (the
floor keeps no key; matchgraph keeps the ones its reads and merges need)."""

PROPERTIES: dict[Table, str] = {
    Table.TOTALS: """UNWIND $rows AS row MATCH (a:Artifact {id: row.artifact})
SET a.times_matched = row.matched, a.clicks = row.clicks, a.comparison_pairs = row.pairs,
    a.comparison_pairs_sq = row.pairs_sq""",
}
"""Tables that are properties of a node the write has made: one seek and a plain ``SET`` per row."""

PROVIDED_BY = """UNWIND $rows AS row
MATCH (a:Artifact {id: row.id}) MATCH (p:Provider {id: row.provider}) CREATE (a)-[:PROVIDED_BY]->(p)"""
"""For the artifacts of a write that names providers (a catalog): the graph has the relationship too."""

RELATIONSHIPS: dict[Table, str] = {
    Table.HAS_CAPABILITY: """UNWIND $rows AS row
MATCH (a:Artifact {id: row.artifact}) MATCH (c:Capability {id: row.capability})
CREATE (a)-[:HAS_CAPABILITY {description: row.description, unique: row.unique,
                             vs_alternatives: row.vs_alternatives, position: row.position}]->(c)""",
    Table.DERIVED_FROM: """UNWIND $rows AS row
MATCH (s:Artifact {id: row.src}) MATCH (d:Artifact {id: row.dst}) CREATE (s)-[:DERIVED_FROM]->(d)""",
    Table.INTEGRATES_WITH: """UNWIND $rows AS row
MATCH (s:Artifact {id: row.src}) MATCH (d:Artifact {id: row.dst}) CREATE (s)-[:INTEGRATES_WITH]->(d)""",
    Table.MATCHED: """UNWIND $rows AS row
MATCH (i:Intent {id: row.intent}) MATCH (a:Artifact {id: row.artifact})
CREATE (i)-[:MATCHED {count: row.count, clicks: row.clicks, position_sum: row.position_sum}]->(a)""",
    Table.CO_MATCHED: """UNWIND $rows AS row
MATCH (a:Artifact {id: row.a}) MATCH (b:Artifact {id: row.b}) CREATE (a)-[:CO_MATCHED {count: row.count}]->(b)""",
    Table.PREFERRED_OVER: """UNWIND $rows AS row
MATCH (w:Artifact {id: row.winner}) MATCH (l:Artifact {id: row.loser})
CREATE (w)-[:PREFERRED_OVER {count: row.count, winner_pos: row.winner_pos, loser_pos: row.loser_pos,
                             counts: row.counts}]->(l)""",
}
ENDPOINTS: dict[Table, tuple[str, ...]] = {
    Table.TOTALS: ("artifact",), Table.HAS_CAPABILITY: ("artifact",),
    Table.DERIVED_FROM: ("src", "dst"), Table.INTEGRATES_WITH: ("src", "dst"),
    Table.MATCHED: ("artifact",), Table.CO_MATCHED: ("a", "b"), Table.PREFERRED_OVER: ("winner", "loser"),
}
"""Artifact columns of each relationship table: an artifact named only there is created first."""


class BareLoader:
    """Writes tables of rows into Neo4j the plainest way; remembers the node ids it created."""

    def __init__(self, driver: Driver, database: str = "neo4j") -> None:
        self.driver = driver
        self.database = database
        self.created: dict[str, set[str]] = {label: set() for label, _ in NODES.values()}

    def setup(self) -> None:
        """The uniqueness constraints the endpoint seeks need (the same ones matchgraph creates)."""
        with self.driver.session(database=self.database) as session:
            for label, _ in NODES.values():
                session.run(f"CREATE CONSTRAINT IF NOT EXISTS FOR (n:{label}) REQUIRE n.id IS UNIQUE").consume()
            session.run("CALL db.awaitIndexes(600)").consume()

    def forget(self) -> None:
        self.created = {label: set() for label in self.created}

    def clear(self) -> None:
        """Delete everything (in bounded transactions) and forget what was created."""
        query = "MATCH (n) WITH n LIMIT 10000 DETACH DELETE n RETURN count(*) AS deleted"
        with self.driver.session(database=self.database) as session:
            while session.execute_write(lambda tx: tx.run(query).single(strict=True)["deleted"]) > 0:
                pass
        self.forget()

    def write(self, tables: dict[Table, pl.DataFrame]) -> float:
        """Write the rows in one transaction; return the seconds it took. The batches are built
        before the clock starts: the floor pays nothing on the client."""
        statements: list[tuple[str, list[dict[str, Any]]]] = []
        artifacts = tables.get(Table.ARTIFACTS, pl.DataFrame({"id": []}, schema={"id": pl.String}))
        named = [tables[t].get_column(c) for t, cs in ENDPOINTS.items() if t in tables for c in cs]
        if named:
            extra = pl.concat(named).unique().to_frame("id").join(artifacts.select("id"), on="id", how="anti")
            artifacts = pl.concat([artifacts, extra.with_columns(pl.col("id").alias("name"))], how="diagonal_relaxed")
        for table, (label, query) in NODES.items():
            frame = artifacts if table is Table.ARTIFACTS else tables.get(table)
            if frame is None or frame.height == 0:
                continue
            done = self.created[label]
            fresh = frame.filter(~pl.col("id").is_in(list(done))) if done else frame
            fresh = fresh.unique("id", keep="first")
            done.update(fresh.get_column("id").to_list())
            statements += [(query, _rows(fresh.slice(i, BATCH))) for i in range(0, fresh.height, BATCH)]
        if Table.PROVIDERS in tables and "provider" in artifacts.columns:
            provided = artifacts.filter(pl.col("provider").is_not_null()).select("id", "provider")
            statements += [(PROVIDED_BY, _rows(provided.slice(i, BATCH))) for i in range(0, provided.height, BATCH)]
        for table, query in (*OTHER_NODES.items(), *PROPERTIES.items(), *RELATIONSHIPS.items()):
            frame = tables.get(table)
            if frame is None:
                continue
            statements += [(query, _rows(frame.slice(i, BATCH))) for i in range(0, frame.height, BATCH)]

        def work(tx: ManagedTransaction) -> None:
            for query, rows in statements:
                tx.run(query, {"rows": rows}).consume()

        start = time.perf_counter()
        with self.driver.session(database=self.database) as session:
            session.execute_write(work)
        return time.perf_counter() - start


def _rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """Row dicts without their nulls (``SET n = row`` would refuse nothing, but stores no null either)."""
    return [{k: v for k, v in row.items() if v is not None} for row in frame.to_dicts()]


def main() -> None:
    from neo4j import GraphDatabase

    from graph.settings import Settings

    settings = Settings()
    folder = Path(sys.argv[1])
    tables = {Table(p.stem): pl.read_parquet(p) for p in sorted(folder.glob("*.parquet"))}
    password = settings.neo4j_password.get_secret_value() if settings.neo4j_password else ""
    with GraphDatabase.driver(settings.neo4j_uri or "", auth=(settings.neo4j_user, password)) as driver:
        loader = BareLoader(driver, settings.neo4j_database)
        loader.setup()
        print(f"bare load of {folder}: {loader.write(tables):.2f} s")


if __name__ == "__main__":
    main()
