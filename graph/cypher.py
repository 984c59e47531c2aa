"""Every Cypher statement the Neo4j store sends, as named constants with ``$parameters``.

Nothing user-supplied is ever formatted into these strings: ids, names, search text and limits
travel as parameters. Labels and relationship types are the fixed vocabulary of
:class:`graph.schema.NodeLabel`, :class:`graph.schema.EdgeType` and :class:`StoreLabel` below (a unit
test checks every constant against them). The one statement that cannot take a parameter, the hop
bound of ``shortestPath``, is built by :func:`shortest_path_query` from a validated ``int`` only.

Graph model (what the Neo4j Browser shows)::

    (:Artifact {id, name, type, ..., rank, adoption, ...})-[:PROVIDED_BY]->(:Provider {id, name})
    (:Artifact)-[:HAS_CAPABILITY {description, unique, vs_alternatives, position, name}]->(:Capability
                                   {id, name, tags, aliases, statements, artifacts})
    (:Intent)-[:SEEKS {confidence, similarity, chosen, clicks}]->(:Capability)
    (:Artifact)-[:BEST_FOR {place, rating, lo, hi, comparisons, overall}]->(:Capability or :Intent)  boards
    (:Artifact)-[:DERIVED_FROM]->(:Artifact), (:Artifact)-[:INTEGRATES_WITH]->(:Artifact)
    (:Intent {id, searches})-[:MATCHED {count, clicks, position_sum}]->(:Artifact)
    (:Artifact)-[:CO_MATCHED {count}]->(:Artifact)
    (:Artifact)-[:PREFERRED_OVER {count, winner_pos: [..], loser_pos: [..], counts: [..]}]->(:Artifact)
    (:IntentPreference {intent, winner, loser, winner_pos, loser_pos, count})
    (:Artifact {times_matched, clicks, comparison_pairs, comparison_pairs_sq})   the totals table
    (:DailyDemand {artifact, day, matched, clicks, sessions}), (:RankHistory {run, id, scored_at, rank, as_of}),
    (:Artifact {benchmark_names: [..], benchmark_scores: [..]})   the benchmarks table
    (:IngestedFile {sha256, source, kind, size, rows, ingested_at})

Scores live as properties of ``Artifact`` so the Browser shows them next to the evidence; an
artifact without ``rank`` has no score row. Reads return dates as ISO strings and datetimes as
epoch microseconds so the adapter builds polars columns with one vectorized cast each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Final

from graph.schema import NodeLabel
from graph.tables import Table


class StoreLabel(StrEnum):
    """Node labels that exist only in Neo4j, for the tables the embedded store keeps as plain rows."""

    DAILY_DEMAND = "DailyDemand"
    INTENT_PREFERENCE = "IntentPreference"
    RANK_HISTORY = "RankHistory"
    INGESTED_FILE = "IngestedFile"
    RUN = "Run"
    RUN_LOCK = "RunLock"
    GRAPH_VERSION = "GraphVersion"


# -- migrations -----------------------------------------------------------------------------------
# Schema statements cannot share a transaction with data writes. Every one is idempotent (``IF NOT
# EXISTS``), so connecting twice or from two processes is harmless; the plain indexes are created
# together in one transaction before the constraints (see ``Neo4jStore.migrate``).
CONSTRAINTS: Final = (
    "CREATE CONSTRAINT artifact_id IF NOT EXISTS FOR (n:Artifact) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT provider_id IF NOT EXISTS FOR (n:Provider) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT capability_id IF NOT EXISTS FOR (n:Capability) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT intent_id IF NOT EXISTS FOR (n:Intent) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT daily_demand_key IF NOT EXISTS FOR (n:DailyDemand) REQUIRE (n.artifact, n.day) IS UNIQUE",
    # earlier schemas keyed intent preferences by pair, then by cell; a cell is unique now because
    # its intent is locked before its cells are read (READ_INTENT_PREFERENCE_KEYS), as a
    # relationship is unique because its ends are, so no constraint has to be built over every cell
    "DROP CONSTRAINT intent_preference_key IF EXISTS",
    "DROP CONSTRAINT intent_preference_cell IF EXISTS",
    "CREATE CONSTRAINT rank_history_key IF NOT EXISTS FOR (n:RankHistory) REQUIRE (n.run, n.id) IS UNIQUE",
    "CREATE CONSTRAINT ingested_file_sha256 IF NOT EXISTS FOR (n:IngestedFile) REQUIRE n.sha256 IS UNIQUE",
    "CREATE CONSTRAINT run_id IF NOT EXISTS FOR (n:Run) REQUIRE n.run IS UNIQUE",
    "CREATE CONSTRAINT run_lock_name IF NOT EXISTS FOR (n:RunLock) REQUIRE n.name IS UNIQUE",
    "CREATE CONSTRAINT graph_version_name IF NOT EXISTS FOR (n:GraphVersion) REQUIRE n.name IS UNIQUE",
)
INDEXES: Final = (
    # provider_family and the PROVIDED_BY sync look artifacts up by provider id
    "CREATE INDEX artifact_provider IF NOT EXISTS FOR (n:Artifact) ON (n.provider)",
    # replacing the scores clears the score properties of every scored artifact
    "CREATE INDEX artifact_rank IF NOT EXISTS FOR (n:Artifact) ON (n.rank)",
    # table(daily / rank_history, ids=...) filter on the artifact id alone
    "CREATE INDEX daily_demand_artifact IF NOT EXISTS FOR (n:DailyDemand) ON (n.artifact)",
    "CREATE INDEX rank_history_id IF NOT EXISTS FOR (n:RankHistory) ON (n.id)",
    # cells are read by intent, and by artifact through the intents that matched the artifact
    # (READ_INTENT_PREFERENCES_BY_ID): the one index they keep is on the intent
    "CREATE INDEX intent_preference_intent IF NOT EXISTS FOR (n:IntentPreference) ON (n.intent)",
    "DROP INDEX intent_preference_winner IF EXISTS",
    "DROP INDEX intent_preference_loser IF EXISTS",
    # an earlier schema kept a full-text index that nothing reads any more: it only slowed writes
    "DROP INDEX matchgraph_text IF EXISTS",
)
AWAIT_INDEXES: Final = "CALL db.awaitIndexes($timeout_s)"

# -- writes: nodes --------------------------------------------------------------------------------
UPSERT_ARTIFACTS: Final = """
UNWIND $rows AS row
MERGE (a:Artifact {id: row.id})
SET a += row
"""
"""Catalogued rows; the adapter drops their null fields first, so what a catalog omits is kept."""

INSERT_STUB_ARTIFACTS: Final = """
UNWIND $rows AS row
OPTIONAL MATCH (known:Artifact {id: row.id})
WITH row WHERE known IS NULL
MERGE (a:Artifact {id: row.id})
ON CREATE SET a += row
"""
"""Stub rows only fill ids not yet known: a stub never overwrites a catalogued artifact. The
lock-free ``OPTIONAL MATCH`` skips the ids that exist (most of them, for every log file) so only
new ids pay for ``MERGE``'s lock; ``MERGE`` still settles a race between two writers."""

ENSURE_ARTIFACTS: Final = """
UNWIND $ids AS id
OPTIONAL MATCH (known:Artifact {id: id})
WITH id WHERE known IS NULL
MERGE (a:Artifact {id: id})
ON CREATE SET a.name = id, a.catalogued = false
"""
"""Every artifact id a relationship or score names becomes a node (a stub, as the ingest makes)."""

ENSURE_CAPABILITIES: Final = """
UNWIND $ids AS id
OPTIONAL MATCH (known:Capability {id: id})
WITH id WHERE known IS NULL
MERGE (:Capability {id: id})
"""
ENSURE_INTENTS: Final = """
UNWIND $ids AS id
OPTIONAL MATCH (known:Intent {id: id})
WITH id WHERE known IS NULL
MERGE (:Intent {id: id})
"""

UPSERT_PROVIDERS: Final = """
UNWIND $rows AS row
MERGE (p:Provider {id: row.id})
SET p.name = row.name
"""

UPSERT_CAPABILITIES: Final = """
UNWIND $rows AS row
MERGE (c:Capability {id: row.id})
SET c.name = row.name, c.tags = row.tags, c.aliases = row.aliases, c.statements = row.statements,
    c.artifacts = row.artifacts
"""
"""A row replaces the node's properties, as the embedded store replaces the row (a null removes one)."""

ADD_INTENTS: Final = """
UNWIND $rows AS row
MERGE (i:Intent {id: row.id})
ON CREATE SET i.searches = row.searches
ON MATCH SET i.searches = coalesce(i.searches, 0) + row.searches
"""
"""Searches add up."""

DROP_EMPTY_INTENTS: Final = """
UNWIND $ids AS id
MATCH (i:Intent {id: id}) WHERE i.searches = 0
DETACH DELETE i
"""
"""An intent whose searches were all taken back (``graph.tables.negated``) goes, last in the write,
after its matches (which then count zero too) were updated."""

ADD_DAILY: Final = """
UNWIND $rows AS row
MERGE (d:DailyDemand {artifact: row.artifact, day: row.day})
ON CREATE SET d.matched = row.matched, d.clicks = row.clicks, d.sessions = row.sessions
ON MATCH SET d.matched = coalesce(d.matched, 0) + row.matched, d.clicks = coalesce(d.clicks, 0) + row.clicks,
             d.sessions = coalesce(d.sessions, 0) + coalesce(row.sessions, 0)
"""
"""Counts add up. For batches without a negative count: no day can reach zero, so none is checked."""

ADD_DAILY_OR_DROP: Final = ADD_DAILY + """WITH d WHERE d.matched = 0 AND d.clicks = 0 AND coalesce(d.sessions, 0) = 0
DELETE d
"""
"""Counts add up; a day whose counts were all taken back goes, as the embedded store drops its row."""

APPEND_RANK_HISTORY: Final = """
UNWIND $rows AS row
MERGE (h:RankHistory {run: row.run, id: row.id})
ON CREATE SET h.scored_at = row.scored_at, h.rank = row.rank, h.as_of = row.as_of
"""

SET_BENCHMARKS: Final = """
UNWIND $rows AS row
MATCH (a:Artifact {id: row.artifact})
SET a.benchmark_names = row.names, a.benchmark_scores = row.scores
"""
"""An artifact's benchmark results, as two lists in step (a property cannot hold a map): a catalog
that gives them replaces the artifact's whole list, as it replaces its capabilities."""

APPEND_LEDGER: Final = """
UNWIND $rows AS row
MERGE (f:IngestedFile {sha256: row.sha256})
ON CREATE SET f += row
"""

APPEND_RUNS: Final = """
UNWIND $rows AS row
MERGE (r:Run {run: row.run})
ON CREATE SET r += row
"""

TAKE_RUN_LOCK: Final = """
MERGE (l:RunLock {name: $name})
SET l.touched = datetime.realtime()
RETURN l.owner AS owner, coalesce(l.expires > datetime.realtime(), false) AS live
"""
"""Creating or touching the lock node takes its write lock, so two runs asking at once queue up
and the second sees the first one's owner. Times are the server's clock: every holder of a lease,
on whatever machine, measures it by the same clock."""

SET_RUN_LOCK: Final = """
MATCH (l:RunLock {name: $name})
SET l.owner = $owner, l.token = coalesce(l.token, 0) + 1, l.since = datetime.realtime(),
    l.expires = datetime.realtime() + duration({milliseconds: $ttl_ms})
RETURN l.token AS token
"""
"""A new lease, with a fencing token one higher than any lease this lock ever gave."""

RENEW_RUN_LOCK: Final = """
MATCH (l:RunLock {name: $name}) WHERE l.owner = $owner AND l.token = $token
SET l.expires = datetime.realtime() + duration({milliseconds: $ttl_ms})
RETURN count(l) AS held
"""
"""The holder's heartbeat; ``held`` 0 means another run has taken the lease."""

CHECK_RUN_LOCK: Final = """
MATCH (l:RunLock {name: $name})
SET l.fenced = $token
RETURN l.owner = $owner AND l.token = $token AS held
"""
"""The fence of every write made under a lease, run inside the write's transaction just before it
commits. The ``SET`` takes the lock node's write lock first, so the owner read after it is the
latest, and a run trying to take the lease waits until this write has committed or rolled back:
a lease can change hands between two writes, never during one."""

RELEASE_RUN_LOCK: Final = """
MATCH (l:RunLock {name: $name}) WHERE l.owner = $owner AND l.token = $token
SET l.owner = null, l.expires = null
"""

READ_LEDGER_PARTS: Final = """
MATCH (f:IngestedFile) WHERE f.sha256 STARTS WITH $prefix
RETURN collect(f.sha256)
"""
"""The part rows of one file's ledger entry (``<sha256>:<part>/<parts>``), through the
``ingested_file_sha256`` index."""

BUMP_VERSION: Final = """
MERGE (v:GraphVersion {name: 'graph'})
SET v.token = $token, v.at = datetime()
"""
"""The last statement of every write: readers cache answers under the token, so it must change in
the same transaction as the data. Taken last, its lock is held only for the commit."""

HOLDS_DATA: Final = """
OPTIONAL MATCH (n) WHERE NOT (n:GraphVersion OR n:RunLock)
WITH n LIMIT 1
RETURN n IS NOT NULL AS found
"""
"""Whether the database holds any of the graph (a cleared one keeps its version and lock nodes)."""

READ_VERSION: Final = """
OPTIONAL MATCH (v:GraphVersion {name: 'graph'})
RETURN v.token AS token, coalesce(v.score_columns, []) AS score_columns
"""
"""The version token, and the open columns of the scores table (``graph.tables.OPEN_COLUMNS``)
that the last scoring run wrote: reads of scores project exactly those properties."""

CLEAR_SCORES: Final = """
MATCH (a:Artifact) WHERE a.rank IS NOT NULL
SET a += $cleared
"""
"""Scores replace the previous ones: every score property (``$cleared`` maps each to null, which
removes it) is cleared, then the new ones set, in the same transaction."""

SET_SCORES: Final = """
UNWIND $rows AS row
MATCH (a:Artifact {id: row.id})
SET a += row
"""

SET_SCORE_COLUMNS: Final = """
MERGE (v:GraphVersion {name: 'graph'})
SET v.score_columns = $columns
"""

# -- writes: relationships ------------------------------------------------------------------------
SYNC_PROVIDED_BY_FOR_ARTIFACTS: Final = """
UNWIND $ids AS id
MATCH (a:Artifact {id: id})
OPTIONAL MATCH (a)-[old:PROVIDED_BY]->(p0:Provider)
WHERE a.provider IS NULL OR p0.id <> a.provider
DELETE old
WITH DISTINCT a
MATCH (p:Provider {id: a.provider})
MERGE (a)-[:PROVIDED_BY]->(p)
"""
"""PROVIDED_BY mirrors ``Artifact.provider``: a changed provider moves the relationship."""

SYNC_PROVIDED_BY_FOR_PROVIDERS: Final = """
UNWIND $ids AS id
MATCH (p:Provider {id: id})
MATCH (a:Artifact {provider: id}) USING INDEX SEEK a:Artifact(provider)
MERGE (a)-[:PROVIDED_BY]->(p)
"""
"""A provider row arriving after its artifacts links them too."""

DELETE_HAS_CAPABILITY: Final = """
UNWIND $ids AS id
MATCH (:Artifact {id: id})-[r:HAS_CAPABILITY]->()
DELETE r
"""
"""An artifact's capability list is replaced as a whole, so drop the old list first."""

CREATE_HAS_CAPABILITY: Final = """
UNWIND $rows AS row
MATCH (a:Artifact {id: row.artifact})
MATCH (c:Capability {id: row.capability})
CREATE (a)-[:HAS_CAPABILITY {description: row.description, unique: row.unique,
                             vs_alternatives: row.vs_alternatives, position: row.position, name: row.name}]->(c)
"""
"""One relationship per statement: two statements of an artifact may name one capability."""

MERGE_DERIVED_FROM: Final = """
UNWIND $rows AS row
MATCH (s:Artifact {id: row.src})
MATCH (d:Artifact {id: row.dst})
MERGE (s)-[:DERIVED_FROM]->(d)
"""

MERGE_INTEGRATES_WITH: Final = """
UNWIND $rows AS row
MATCH (s:Artifact {id: row.src})
MATCH (d:Artifact {id: row.dst})
MERGE (s)-[:INTEGRATES_WITH]->(d)
"""

ADD_MATCHED: Final = """
UNWIND $rows AS row
MATCH (i:Intent {id: row.intent})
MATCH (a:Artifact {id: row.artifact})
MERGE (i)-[r:MATCHED]->(a)
ON CREATE SET r.count = row.count, r.clicks = row.clicks, r.position_sum = row.position_sum
ON MATCH SET r.count = r.count + row.count, r.clicks = r.clicks + row.clicks,
             r.position_sum = r.position_sum + row.position_sum
"""
"""Counts add up (a batch without negative counts: nothing can reach zero)."""

ADD_MATCHED_OR_DROP: Final = ADD_MATCHED + """WITH r WHERE r.count = 0 AND r.clicks = 0 AND r.position_sum = 0
DELETE r
"""
"""Counts add up; a match whose counts were all taken back goes."""

LOCK_MATCHED_KEYS: Final = """
UNWIND $ids AS id
MATCH (i:Intent {id: id})
SET i.id = i.id
WITH i
MATCH (i)-[:MATCHED]->(a:Artifact)
RETURN collect([i.id, a.id])
"""
"""The stored matches of the intents ``$ids``, each intent's write lock taken first (a ``SET`` that
changes nothing): no other writer can then add a match of these intents until this transaction
ends (``MERGE`` and ``CREATE`` of a relationship lock both its ends), so the rows not found here
can be created without a second look-up."""

CREATE_MATCHED: Final = """
UNWIND $rows AS row
MATCH (i:Intent {id: row.intent})
MATCH (a:Artifact {id: row.artifact})
CREATE (i)-[:MATCHED {count: row.count, clicks: row.clicks, position_sum: row.position_sum}]->(a)
"""
"""Matches ``LOCK_MATCHED_KEYS`` found unstored, created as a bulk load creates them; the others go
through ``ADD_MATCHED``."""

LOCK_ARTIFACTS: Final = """
UNWIND $ids AS id
MATCH (a:Artifact {id: id})
SET a.id = a.id
RETURN collect([id, elementId(a)])
"""
"""Artifact ids to element ids, with each artifact's write lock taken (in ``$ids`` order, which is
sorted) by a ``SET`` that changes nothing. Element ids are only stable within a transaction, which
is all the statement that uses them needs. Holding both endpoints' locks is what lets
``ADD_CO_MATCHED`` look a relationship up and create it when missing without ``MERGE``'s second,
locked look-up: no other writer can create or delete a relationship at a locked node (``MERGE``
locks both ends before it creates, and ``CREATE`` locks them at commit). Used by ``ADD_CO_MATCHED``
and ``ADD_PREFERRED_OVER``, whose endpoints are locked together, once, in id order."""

_LOCATED_NODES = """
UNWIND range(0, size($nodes) - 1) AS i
OPTIONAL MATCH (n) WHERE elementId(n) = $nodes[i]
WITH i, n ORDER BY i
WITH [x IN collect({n: n}) | x.n] AS nodes
UNWIND $rows AS row
"""
"""The head of a statement whose batch names its endpoints once: ``$nodes`` holds the element ids
of the batch's distinct endpoints and a row points into it by position. One seek per distinct
endpoint instead of two element-id parses per row, and under half the bytes. The ``{n: n}``
wrapper keeps a missing node's place in the list (``collect`` drops nulls); ``ORDER BY i`` before
``collect`` keeps ``$nodes`` order."""

ADD_CO_MATCHED: Final = _LOCATED_NODES + """
WITH nodes[row[0]] AS a, nodes[row[1]] AS b, row[2] AS count
WHERE a IS NOT NULL AND b IS NOT NULL
OPTIONAL MATCH (a)-[r:CO_MATCHED]->(b)
FOREACH (_ IN CASE WHEN r IS NULL THEN [1] ELSE [] END | CREATE (a)-[:CO_MATCHED {count: count}]->(b))
SET r.count = r.count + count
"""
"""Co-matches add up. A row is ``[position of a, position of b, count]`` (``_LOCATED_NODES``). Both
endpoints are locked already (``LOCK_ARTIFACTS``, same transaction), so one look-up decides between
adding to the relationship and creating it, where ``MERGE`` looks up, locks and looks up again:
200k new co-matches cost the server ~2.1 s of CPU this way against ~2.7 s with ``MERGE`` and
element ids per row (BENCHMARKS.md). Rows naming a missing node are skipped, as a ``MATCH`` would
skip them. For batches without a negative count (nothing can reach zero)."""

ADD_CO_MATCHED_OR_DROP: Final = _LOCATED_NODES + """
WITH nodes[row[0]] AS a, nodes[row[1]] AS b, row[2] AS count
WHERE a IS NOT NULL AND b IS NOT NULL
OPTIONAL MATCH (a)-[r:CO_MATCHED]->(b)
FOREACH (_ IN CASE WHEN r IS NULL AND count <> 0 THEN [1] ELSE [] END | CREATE (a)-[:CO_MATCHED {count: count}]->(b))
SET r.count = r.count + count
WITH r WHERE r.count = 0
DELETE r
"""
"""``ADD_CO_MATCHED`` for batches that take counts back: a co-match at zero goes."""

READ_CO_MATCHED_KEYS: Final = """
UNWIND $ids AS id
MATCH (a:Artifact {id: id})-[:CO_MATCHED]->(b:Artifact)
RETURN collect([a.id, b.id])
"""
"""The stored co-matches from the artifacts ``$ids``, read after ``LOCK_ARTIFACTS`` locked both ends
of every row: the rows not found here are created by ``CREATE_CO_MATCHED``, the others added to."""

CREATE_CO_MATCHED: Final = _LOCATED_NODES + """
WITH nodes[row[0]] AS a, nodes[row[1]] AS b, row[2] AS count
WHERE a IS NOT NULL AND b IS NOT NULL
CREATE (a)-[:CO_MATCHED {count: count}]->(b)
"""
"""New co-matches, created as a bulk load creates them (no look-up of the pair)."""

_PREFERENCE_CELLS = _LOCATED_NODES + """
WITH nodes[row[0]] AS w, nodes[row[1]] AS l, row[2] AS nwp, row[3] AS nlp, row[4] AS nc
WHERE w IS NOT NULL AND l IS NOT NULL
OPTIONAL MATCH (w)-[r:PREFERRED_OVER]->(l)
WITH w, l, r, nwp, nlp, nc, coalesce(r.winner_pos, []) AS owp, coalesce(r.loser_pos, []) AS olp,
     coalesce(r.counts, []) AS oc
UNWIND [i IN range(0, size(oc) - 1) | [owp[i], olp[i], oc[i]]]
     + [i IN range(0, size(nc) - 1) | [nwp[i], nlp[i], nc[i]]] AS cell
WITH w, l, r, cell[0] AS wp, cell[1] AS lp, sum(cell[2]) AS n
ORDER BY wp, lp
"""
"""The stored cells of each row's pair and the row's own, summed per pair of positions, in position
order. A row is ``[position of winner, position of loser, winner_pos, loser_pos, counts]``. The
stored lists are read once each (a property read inside a list comprehension is repeated per
element), and pairs are grouped by their nodes and relationship only."""

ADD_PREFERRED_OVER: Final = _PREFERENCE_CELLS + """
WITH w, l, r, collect(wp) AS wps, collect(lp) AS lps, collect(n) AS counts
FOREACH (_ IN CASE WHEN r IS NULL THEN [1] ELSE [] END |
  CREATE (w)-[:PREFERRED_OVER {count: reduce(t = 0, c IN counts | t + c), winner_pos: wps, loser_pos: lps,
                               counts: counts}]->(l))
SET r.count = reduce(t = 0, c IN counts | t + c), r.winner_pos = wps, r.loser_pos = lps, r.counts = counts
"""
"""One relationship per ordered pair, carrying its counts per pair of positions as three parallel
lists (what the rating model needs) and their total ``count`` (what the Browser shows); a batch
row's cells are added cell by cell to the stored ones. Both endpoints are locked first
(``LOCK_ARTIFACTS``), so two writers cannot both create a pair. For batches without a negative
count (no cell can reach zero)."""

ADD_PREFERRED_OVER_OR_DROP: Final = _PREFERENCE_CELLS + """
WITH w, l, r, collect(CASE WHEN n <> 0 THEN [wp, lp, n] END) AS kept
FOREACH (_ IN CASE WHEN r IS NULL AND size(kept) > 0 THEN [1] ELSE [] END |
  CREATE (w)-[:PREFERRED_OVER {count: reduce(t = 0, c IN kept | t + c[2]), winner_pos: [c IN kept | c[0]],
                               loser_pos: [c IN kept | c[1]], counts: [c IN kept | c[2]]}]->(l))
FOREACH (_ IN CASE WHEN r IS NOT NULL AND size(kept) = 0 THEN [1] ELSE [] END | DELETE r)
FOREACH (_ IN CASE WHEN r IS NOT NULL AND size(kept) > 0 THEN [1] ELSE [] END |
  SET r.count = reduce(t = 0, c IN kept | t + c[2]), r.winner_pos = [c IN kept | c[0]],
      r.loser_pos = [c IN kept | c[1]], r.counts = [c IN kept | c[2]])
"""
"""``ADD_PREFERRED_OVER`` for batches that take counts back: cells at zero are dropped, and a pair
whose cells all come to zero loses its relationship (so a contribution can be subtracted exactly)."""

READ_PREFERRED_OVER_KEYS: Final = """
UNWIND $ids AS id
MATCH (w:Artifact {id: id})-[:PREFERRED_OVER]->(l:Artifact)
RETURN collect([w.id, l.id])
"""
"""The stored preferences of the winners ``$ids`` (both ends of every row locked first): the rows
not found here are created by ``CREATE_PREFERRED_OVER``, their cells written as they are, where a
stored pair's cells are merged with the row's by ``ADD_PREFERRED_OVER``."""

CREATE_PREFERRED_OVER: Final = _LOCATED_NODES + """
WITH nodes[row[0]] AS w, nodes[row[1]] AS l, row[2] AS wps, row[3] AS lps, row[4] AS counts
WHERE w IS NOT NULL AND l IS NOT NULL
CREATE (w)-[:PREFERRED_OVER {count: reduce(t = 0, c IN counts | t + c), winner_pos: wps, loser_pos: lps,
                             counts: counts}]->(l)
"""
"""New preferences: the row's cells are already one per pair of positions, in position order
(``graph.tables.preference_pairs``), so they are stored as they come."""

ADD_INTENT_PREFERENCES: Final = """
UNWIND $rows AS row
MATCH (p:IntentPreference) WHERE elementId(p) = row.eid
SET p.count = p.count + row.count
WITH p WHERE p.count = 0
DELETE p
"""
"""Per-intent preference cells as evidence nodes (a relationship has two ends; a cell names the
intent, the winner and the loser): the stored cells of a write, each added to through the element id
``READ_INTENT_PREFERENCE_KEYS`` found it by in the same transaction (a cell taken back to zero goes).
A ``MERGE`` on the five key properties would look each cell up through the intent index and filter
all of that intent's cells: hundreds per row on a popular intent."""

CELL_INDEX_HINT: Final = "USING INDEX SEEK p:IntentPreference(intent)"
"""Pins the seek of the cells' intent index. A plan made while the label was nearly empty, or from
stale statistics, can scan an index instead, once per intent of ``$ids``: the write benchmark at 20k
artifacts caught one stored-key read of 2,486 intents taking 97 s and 293M db hits instead of well
under a second. ``USING INDEX SEEK`` leaves the planner only the seek."""

READ_INTENT_PREFERENCE_KEYS: Final = f"""
UNWIND $ids AS id
OPTIONAL MATCH (i:Intent {{id: id}})
SET i.id = i.id
WITH DISTINCT id
MATCH (p:IntentPreference) {CELL_INDEX_HINT}
WHERE p.intent = id
RETURN collect([p.intent, p.winner, p.loser, p.winner_pos, p.loser_pos, elementId(p)])
"""
"""The stored cells of the intents ``$ids`` and their element ids, each intent's write lock taken
first (a ``SET`` that changes nothing; ``apply`` ensures the intent nodes of its cells): no other
writer can then add a cell of these intents until this transaction ends, so the rows of a write
whose cell is not among them are created without a look-up, the others added by
``ADD_INTENT_PREFERENCES`` through the element id. This lock is
what keeps one node per cell, as locked ends keep one relationship per pair: a uniqueness
constraint over every cell slowed each write and, after an import of 1M searches, took longer to
build (31 s) than ``neo4j-admin`` took to import the whole graph (29 s)."""

CREATE_INTENT_PREFERENCES: Final = """
UNWIND $rows AS row
CREATE (p:IntentPreference {intent: row.intent, winner: row.winner, loser: row.loser,
                            winner_pos: row.winner_pos, loser_pos: row.loser_pos, count: row.count})
"""
"""Cells the same transaction found unstored (``READ_INTENT_PREFERENCE_KEYS``, which locked their
intents): no look-up, no merge, as a bulk load writes them."""

TOTALS_PROPERTIES: Final = {"matched": "times_matched", "clicks": "clicks", "pairs": "comparison_pairs",
                             "pairs_sq": "comparison_pairs_sq"}
"""The ``totals`` table's measures and the artifact properties that hold them."""

ADD_TOTALS: Final = """
UNWIND $rows AS row
MATCH (a:Artifact {id: row.artifact})
WITH a, coalesce(a.times_matched, 0) + row.matched AS matched, coalesce(a.clicks, 0) + row.clicks AS clicks,
     coalesce(a.comparison_pairs, 0) + row.pairs AS pairs,
     coalesce(a.comparison_pairs_sq, 0) + row.pairs_sq AS pairs_sq
WITH a, matched, clicks, pairs, pairs_sq, matched = 0 AND clicks = 0 AND pairs = 0 AND pairs_sq = 0 AS gone
SET a.times_matched = CASE WHEN gone THEN null ELSE matched END,
    a.clicks = CASE WHEN gone THEN null ELSE clicks END,
    a.comparison_pairs = CASE WHEN gone THEN null ELSE pairs END,
    a.comparison_pairs_sq = CASE WHEN gone THEN null ELSE pairs_sq END
"""
"""Per-artifact sums kept current by every write (``graph.tables``: ``totals``): what a list of
artifacts shows without reading each one's matches, and how bunched its comparisons are. All at
zero removes them, as the embedded store drops the row."""

REMOVE_LEDGER_ENTRIES: Final = """
UNWIND $ids AS id
MATCH (f:IngestedFile {sha256: id})
DELETE f
"""
REMOVE_CAPABILITIES: Final = """
UNWIND $ids AS id
MATCH (c:Capability {id: id}) WHERE NOT EXISTS { ()-[:HAS_CAPABILITY]->(c) }
DETACH DELETE c
"""
"""A capability no statement names any more goes, with its SEEKS and BEST_FOR relationships; one
still named stays (``graph.tables.GraphDelta``)."""

CLEAR_SEEKS: Final = """
MATCH ()-[r:SEEKS]->()
DELETE r
"""
CREATE_SEEKS: Final = """
UNWIND $rows AS row
MATCH (i:Intent {id: row.intent})
MATCH (c:Capability {id: row.capability})
CREATE (i)-[:SEEKS {confidence: row.confidence, similarity: row.similarity, chosen: row.chosen,
                    clicks: row.clicks}]->(c)
"""
"""Intent-to-capability links are replaced as a whole by each scoring run."""

CLEAR_BOARDS: Final = """
MATCH ()-[r:BEST_FOR]->()
DELETE r
"""
_CREATE_BOARDS = """
UNWIND $rows AS row
MATCH (a:Artifact {{id: row.artifact}})
MATCH (n:{need} {{id: row.need}})
CREATE (a)-[:BEST_FOR {{place: row.place, rating: row.rating, lo: row.lo, hi: row.hi,
                       comparisons: row.comparisons, overall: row.overall}}]->(n)
"""
"""A label cannot be a parameter: the need's label is filled in here, from the schema's enum."""
CREATE_CAPABILITY_BOARDS: Final = _CREATE_BOARDS.format(need=NodeLabel.CAPABILITY)
CREATE_INTENT_BOARDS: Final = _CREATE_BOARDS.format(need=NodeLabel.INTENT)
"""Boards are replaced as a whole by each scoring run: a board row is the artifact's place, rating
and interval for one need, a capability's or an intent's."""

REMOVE_STUB_ARTIFACTS: Final = """
UNWIND $ids AS id
MATCH (a:Artifact {id: id}) WHERE NOT coalesce(a.catalogued, false)
DETACH DELETE a
"""
"""Taking a file back removes the stubs only it named; a catalogued artifact is never removed here."""

DELETE_RELATIONSHIP_BATCH: Final = """
MATCH ()-[r]->()
WITH r LIMIT $batch
DELETE r
RETURN count(*) AS deleted
"""
DELETE_BATCH: Final = """
MATCH (n)
WITH n LIMIT $batch
DETACH DELETE n
RETURN count(*) AS deleted
"""
"""``clear`` deletes relationships, then nodes, in bounded transactions (each repeated until nothing
is left), so a big graph never needs one huge transaction (a node with 100k relationships would
make a batch of nodes unbounded) and the statement runs on every Neo4j 5 (no ``CALL {} IN TRANSACTIONS``
scoping syntax that changed in 5.23)."""

# -- reads: tables --------------------------------------------------------------------------------
# Every table read returns ONE record holding the list of row lists (``collect([...])``): the
# Python driver spends ~14 µs per record it decodes but ~1 µs per row inside one list, so 200k
# co-matches arrive in ~0.3 s instead of ~3 s. Big tables are read page by page (keyset pagination
# over the anchor ids, all pages in one read transaction), which bounds the server's memory per
# page. ``collect`` of row lists keeps nulls in place, where collecting columns would drop them.
# Reads through a plain index (cells by artifact, daily demand, rank history; the provider sync
# among the writes) say ``USING INDEX SEEK``: a plan is made from the statistics of its moment, and
# the write benchmark caught the planner scanning a whole index once per id of a batch (see
# ``CELL_INDEX_HINT``).
_ARTIFACT_ROW = """[a.id, a.name, a.type, a.provider, a.pricing, a.url, a.description, a.license,
        toString(a.released), a.catalogued, a.downloads, a.stars, a.likes, a.dependents, a.forks,
        a.contributors, a.price_input, a.price_output]"""
_SCORE_ROW = """[a.id, a.rank, a.quality_rating, a.quality_lo, a.quality_hi, a.comparisons, a.low_confidence,
        a.evidence] + [c IN $score_columns | a[c]]"""
"""The fixed score columns, then the open ones the last scoring run wrote (``$score_columns``,
property names read back from the graph, never from a request)."""
_EPOCH_US = "{0}.epochSeconds * 1000000 + {0}.nanosecond / 1000"

ARTIFACT_ID_PAGE: Final = """
MATCH (a:Artifact) WHERE a.id > $after
WITH a.id AS id ORDER BY id LIMIT $page
RETURN collect(id)
"""
"""The next ``$page`` artifact ids after ``$after``, in id order (an index seek, no full sort)."""
INTENT_ID_PAGE: Final = """
MATCH (i:Intent) WHERE i.id > $after
WITH i.id AS id ORDER BY id LIMIT $page
RETURN collect(id)
"""

READ_ARTIFACTS_BY_ID: Final = f"UNWIND $ids AS id MATCH (a:Artifact {{id: id}}) RETURN collect({_ARTIFACT_ROW})"
READ_SCORES_BY_ID: Final = f"""
UNWIND $ids AS id
MATCH (a:Artifact {{id: id}}) USING INDEX a:Artifact(id)
WHERE a.rank IS NOT NULL
RETURN collect({_SCORE_ROW})
"""
"""The hint matters: left to itself the planner scans the ``artifact_rank`` index (every scored
artifact) once per id, 1.2 s for 20 ids among 100k scored artifacts instead of ~1 ms."""
READ_PROVIDERS: Final = "MATCH (p:Provider) RETURN collect([p.id, p.name])"
_CAPABILITY_ROW = "[c.id, c.name, c.tags, c.aliases, c.statements, c.artifacts]"
READ_CAPABILITIES: Final = f"MATCH (c:Capability) RETURN collect({_CAPABILITY_ROW})"
READ_CAPABILITIES_BY_CAPABILITY: Final = f"""
UNWIND $ids AS id
MATCH (c:Capability {{id: id}})
RETURN collect({_CAPABILITY_ROW})
"""
READ_INTENTS_BY_INTENT: Final = """
UNWIND $ids AS id
MATCH (i:Intent {id: id})
RETURN collect([i.id, i.searches])
"""
READ_PROVIDERS_BY_ID: Final = """
UNWIND $ids AS id
MATCH (p:Provider {id: id})
RETURN collect([p.id, p.name])
"""
READ_MATCHED_BY_INTENT: Final = """
UNWIND $ids AS id
MATCH (i:Intent {id: id})-[r:MATCHED]->(a:Artifact)
RETURN collect([i.id, a.id, r.count, r.clicks, r.position_sum])
"""
READ_HAS_CAPABILITY_BY_ID: Final = """
UNWIND $ids AS id
MATCH (a:Artifact {id: id})-[r:HAS_CAPABILITY]->(c:Capability)
RETURN collect([a.id, c.id, r.description, r.unique, r.vs_alternatives, r.position, r.name])
"""
READ_HAS_CAPABILITY_BY_CAPABILITY: Final = """
UNWIND $ids AS id
MATCH (a:Artifact)-[r:HAS_CAPABILITY]->(c:Capability {id: id})
RETURN collect([a.id, c.id, r.description, r.unique, r.vs_alternatives, r.position, r.name])
"""
_SEEKS_ROW = "[i.id, c.id, r.confidence, r.similarity, r.chosen, r.clicks]"
READ_SEEKS_BY_INTENT: Final = f"""
UNWIND $ids AS id
MATCH (i:Intent {{id: id}})-[r:SEEKS]->(c:Capability)
RETURN collect({_SEEKS_ROW})
"""
READ_SEEKS_BY_CAPABILITY: Final = f"""
UNWIND $ids AS id
MATCH (i:Intent)-[r:SEEKS]->(c:Capability {{id: id}})
RETURN collect({_SEEKS_ROW})
"""
_BOARD_ROW = "[{kind}, n.id, a.id, r.place, r.rating, r.lo, r.hi, r.comparisons, r.overall]"
READ_BOARDS_BY_ID: Final = f"""
UNWIND $ids AS id
MATCH (a:Artifact {{id: id}})-[r:BEST_FOR]->(n)
RETURN collect({_BOARD_ROW.format(kind="CASE WHEN n:Capability THEN 'capability' ELSE 'intent' END")})
"""
READ_BOARDS_BY_NEED: Final = f"""
UNWIND $ids AS id
WITH id, COLLECT {{ MATCH (a:Artifact)-[r:BEST_FOR]->(n:Capability {{id: id}})
                   RETURN {_BOARD_ROW.format(kind="'capability'")} }}
       + COLLECT {{ MATCH (a:Artifact)-[r:BEST_FOR]->(n:Intent {{id: id}})
                   RETURN {_BOARD_ROW.format(kind="'intent'")} }} AS rows
UNWIND rows AS row
RETURN collect(row)
"""
"""A need id may name a capability and an intent at once (``graph.tables.BOARD_KINDS``): both boards come."""
READ_DERIVED_FROM_BY_ID: Final = """
UNWIND $ids AS id
MATCH (:Artifact {id: id})-[r:DERIVED_FROM]-()
WITH DISTINCT r
RETURN collect([startNode(r).id, endNode(r).id])
"""
READ_DERIVED_FROM_BY_SOURCE: Final = """
UNWIND $ids AS id
MATCH (s:Artifact {id: id})-[:DERIVED_FROM]->(d:Artifact)
RETURN collect([s.id, d.id])
"""
READ_INTEGRATES_WITH_BY_ID: Final = """
UNWIND $ids AS id
MATCH (:Artifact {id: id})-[r:INTEGRATES_WITH]-()
WITH DISTINCT r
RETURN collect([startNode(r).id, endNode(r).id])
"""
READ_INTEGRATES_WITH_BY_SOURCE: Final = """
UNWIND $ids AS id
MATCH (s:Artifact {id: id})-[:INTEGRATES_WITH]->(d:Artifact)
RETURN collect([s.id, d.id])
"""
READ_MATCHED_BY_ID: Final = """
UNWIND $ids AS id
MATCH (i:Intent)-[r:MATCHED]->(a:Artifact {id: id})
RETURN collect([i.id, a.id, r.count, r.clicks, r.position_sum])
"""
READ_CO_MATCHED_BY_ID: Final = """
UNWIND $ids AS id
MATCH (:Artifact {id: id})-[r:CO_MATCHED]-()
WITH DISTINCT r
RETURN collect([startNode(r).id, endNode(r).id, r.count])
"""
READ_CO_MATCHED_BY_SOURCE: Final = """
UNWIND $ids AS id
MATCH (a:Artifact {id: id})-[r:CO_MATCHED]->(b:Artifact)
RETURN collect([a.id, b.id, r.count])
"""
READ_PREFERRED_OVER_BY_ID: Final = """
UNWIND $ids AS id
MATCH (:Artifact {id: id})-[r:PREFERRED_OVER]-()
WITH DISTINCT r
RETURN collect([startNode(r).id, endNode(r).id, r.count, r.winner_pos, r.loser_pos, r.counts])
"""
READ_PREFERRED_OVER_BY_SOURCE: Final = """
UNWIND $ids AS id
MATCH (w:Artifact {id: id})-[r:PREFERRED_OVER]->(l:Artifact)
RETURN collect([w.id, l.id, r.count, r.winner_pos, r.loser_pos, r.counts])
"""
READ_INTENT_PREFERENCES_BY_ID: Final = f"""
UNWIND $ids AS id
MATCH (i:Intent)-[:MATCHED]->(a:Artifact {{id: id}})
WITH DISTINCT i.id AS intent
MATCH (p:IntentPreference) {CELL_INDEX_HINT}
WHERE p.intent = intent AND (p.winner IN $ids OR p.loser IN $ids)
RETURN collect([p.intent, p.winner, p.loser, p.winner_pos, p.loser_pos, p.count])
"""
"""The cells naming the artifacts ``$ids``, found through the intents that matched them: a cell counts
choices in searches that showed both its artifacts, so its intent has a ``MATCHED`` relationship to
each, with a count at least the cell's (both are added and taken back together). So the cells need
no index on the winner or the loser, which cost every write and import about a tenth of its time:
each intent's cells are a seek of the intent index."""
READ_INTENT_PREFERENCES_BY_INTENT: Final = f"""
MATCH (p:IntentPreference) {CELL_INDEX_HINT}
WHERE p.intent IN $ids
RETURN collect([p.intent, p.winner, p.loser, p.winner_pos, p.loser_pos, p.count])
"""
READ_TOTALS_BY_ID: Final = """
UNWIND $ids AS id
MATCH (a:Artifact {id: id}) WHERE a.times_matched IS NOT NULL
RETURN collect([a.id, a.times_matched, a.clicks, a.comparison_pairs, a.comparison_pairs_sq])
"""
READ_BENCHMARKS_BY_ID: Final = """
UNWIND $ids AS id
MATCH (a:Artifact {id: id}) WHERE a.benchmark_names IS NOT NULL
UNWIND range(0, size(a.benchmark_names) - 1) AS i
RETURN collect([a.id, a.benchmark_names[i], a.benchmark_scores[i]])
"""
READ_DAILY_BY_ID: Final = """
UNWIND $ids AS id
MATCH (d:DailyDemand {artifact: id}) USING INDEX SEEK d:DailyDemand(artifact)
RETURN collect([d.artifact, toString(d.day), d.matched, d.clicks, d.sessions])
"""
READ_RANK_HISTORY_BY_ID: Final = f"""
UNWIND $ids AS id
MATCH (h:RankHistory {{id: id}}) USING INDEX SEEK h:RankHistory(id)
RETURN collect([h.run, {_EPOCH_US.format('h.scored_at')}, h.id, h.rank, toString(h.as_of)])
"""
READ_RUNS: Final = f"""
MATCH (r:Run)
RETURN collect([r.run, {_EPOCH_US.format('r.started_at')}, {_EPOCH_US.format('r.ended_at')}, r.files, r.skipped,
                r.changed, r.read, r.ingested, r.rejected, r.duration_s, r.rescored, r.rejects,
                coalesce(r.failed, 0)])
"""
READ_LEDGER: Final = f"""
MATCH (f:IngestedFile)
RETURN collect([f.sha256, f.source, f.kind, f.size, f.rows, {_EPOCH_US.format('f.ingested_at')}])
"""


@dataclass(frozen=True)
class TableRead:
    """How one table is read; every query returns one record: the list of its rows.

    ``by_ids``: the rows touching the artifacts ``$ids`` (``table(t, ids=...)``). ``whole``: the
    whole table at once, for tables that stay small. Otherwise ``anchors`` pages through anchor
    node ids and ``page`` reads the rows of one page, each row exactly once.
    """

    by_ids: str | None
    whole: str | None = None
    anchors: str | None = None
    page: str | None = None
    lookups: tuple[tuple[str, str], ...] = ()
    """``(column, query)``: the rows whose ``column`` holds one of ``$ids`` (``table(t, ids, by=column)``)."""

    def lookup(self, column: str) -> str:
        return dict(self.lookups)[column]


TABLE_READS: Final[dict[Table, TableRead]] = {
    Table.ARTIFACTS: TableRead(READ_ARTIFACTS_BY_ID, anchors=ARTIFACT_ID_PAGE, page=READ_ARTIFACTS_BY_ID),
    Table.PROVIDERS: TableRead(None, whole=READ_PROVIDERS, lookups=(("id", READ_PROVIDERS_BY_ID),)),
    Table.CAPABILITIES: TableRead(None, whole=READ_CAPABILITIES, lookups=(("id", READ_CAPABILITIES_BY_CAPABILITY),)),
    Table.HAS_CAPABILITY: TableRead(READ_HAS_CAPABILITY_BY_ID, anchors=ARTIFACT_ID_PAGE,
                                    page=READ_HAS_CAPABILITY_BY_ID,
                                    lookups=(("capability", READ_HAS_CAPABILITY_BY_CAPABILITY),)),
    Table.DERIVED_FROM: TableRead(READ_DERIVED_FROM_BY_ID, anchors=ARTIFACT_ID_PAGE,
                                  page=READ_DERIVED_FROM_BY_SOURCE),
    Table.INTEGRATES_WITH: TableRead(READ_INTEGRATES_WITH_BY_ID, anchors=ARTIFACT_ID_PAGE,
                                     page=READ_INTEGRATES_WITH_BY_SOURCE),
    Table.INTENTS: TableRead(None, anchors=INTENT_ID_PAGE, page=READ_INTENTS_BY_INTENT,
                             lookups=(("id", READ_INTENTS_BY_INTENT),)),
    Table.MATCHED: TableRead(READ_MATCHED_BY_ID, anchors=ARTIFACT_ID_PAGE, page=READ_MATCHED_BY_ID,
                             lookups=(("intent", READ_MATCHED_BY_INTENT),)),
    Table.CO_MATCHED: TableRead(READ_CO_MATCHED_BY_ID, anchors=ARTIFACT_ID_PAGE, page=READ_CO_MATCHED_BY_SOURCE),
    Table.PREFERRED_OVER: TableRead(READ_PREFERRED_OVER_BY_ID, anchors=ARTIFACT_ID_PAGE,
                                    page=READ_PREFERRED_OVER_BY_SOURCE),
    Table.INTENT_PREFERENCES: TableRead(READ_INTENT_PREFERENCES_BY_ID, anchors=INTENT_ID_PAGE,
                                        page=READ_INTENT_PREFERENCES_BY_INTENT,
                                        lookups=(("intent", READ_INTENT_PREFERENCES_BY_INTENT),)),
    Table.SEEKS: TableRead(None, anchors=INTENT_ID_PAGE, page=READ_SEEKS_BY_INTENT,
                           lookups=(("intent", READ_SEEKS_BY_INTENT), ("capability", READ_SEEKS_BY_CAPABILITY))),
    Table.BOARDS: TableRead(READ_BOARDS_BY_ID, anchors=ARTIFACT_ID_PAGE, page=READ_BOARDS_BY_ID,
                            lookups=(("need", READ_BOARDS_BY_NEED),)),
    Table.TOTALS: TableRead(READ_TOTALS_BY_ID, anchors=ARTIFACT_ID_PAGE,
                                     page=READ_TOTALS_BY_ID),
    Table.DAILY: TableRead(READ_DAILY_BY_ID, anchors=ARTIFACT_ID_PAGE, page=READ_DAILY_BY_ID),
    Table.BENCHMARKS: TableRead(READ_BENCHMARKS_BY_ID, anchors=ARTIFACT_ID_PAGE, page=READ_BENCHMARKS_BY_ID),
    Table.SCORES: TableRead(READ_SCORES_BY_ID, anchors=ARTIFACT_ID_PAGE, page=READ_SCORES_BY_ID),
    Table.RANK_HISTORY: TableRead(READ_RANK_HISTORY_BY_ID, anchors=ARTIFACT_ID_PAGE, page=READ_RANK_HISTORY_BY_ID),
    Table.LEDGER: TableRead(None, whole=READ_LEDGER),
    Table.RUNS: TableRead(None, whole=READ_RUNS),
}
"""Rows come in ``graph.tables.SCHEMAS`` column order, dates as ISO text, datetimes as epoch µs.

Paging by artifact works because every artifact id a row names is a node (``apply`` makes stubs
for ids it has not seen), and each relationship is read from its start node only."""

_COLLECTED_ROWS = re.compile(r"\bRETURN collect\((?P<row>.*)\)\s*$", re.DOTALL)


@cache
def read_together(tables: tuple[Table, ...]) -> str:
    """One query reading several tables by artifact id (``$ids``): one ``COLLECT`` subquery per
    table, its ``by_ids`` read with ``collect(row)`` turned into ``row``, so the record holds one
    list of rows per table, in the order asked. Built only from the constants above, and cached,
    so the server plans each combination once. ``COLLECT`` subqueries need Neo4j 5.6 or later;
    ``CALL { }`` would do on any 5.x but is deprecated from 5.23 without a scope clause that older
    5.x do not parse."""
    parts = []
    for n, table in enumerate(tables):
        query = TABLE_READS[table].by_ids
        match = _COLLECTED_ROWS.search(query) if query is not None else None
        if query is None or match is None:
            raise ValueError(f"table {table.value} has no read by artifact ids")
        parts.append(f"COLLECT {{ {query[:match.start()]}RETURN {match['row']} }} AS t{n}")
    return "RETURN " + ",\n       ".join(parts)
