"""The ``GraphStore`` protocol, the shapes it returns, and how a store is chosen.

Two implementations stand behind it: :mod:`graph.embedded` (NetworkX + Parquet on disk, the
default) and :mod:`graph.neo4j_store` (selected by ``NEO4J_URI``). The query engine and the ingest
path talk only to this protocol, and one contract suite runs against both.
"""

from __future__ import annotations

import os
import secrets
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

import networkx as nx
from pydantic import BaseModel

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from contextlib import AbstractContextManager

    import polars as pl

    from graph.settings import Settings
    from graph.tables import GraphDelta, Table

STATS_COLUMNS = (
    "id",
    "times_matched",
    "clicks",
    "intents",
    "co_matched_degree",
    "co_matched_weight",
    "derived_works",
    "integrations",
    "capabilities",
    "provider_family",
    "capability_peers",
    "wins",
    "losses",
    "last_matched",
)
"""Per-artifact aggregates every store computes the same way (polars here, Cypher on Neo4j).

``capability_peers`` sums, over the artifact's capabilities, how many *other* artifacts that appear
in the match graph (have a co-match) share that capability: reach through shared capabilities.
"""


class GraphNode(BaseModel):
    id: str
    label: Literal["Artifact", "Capability", "Intent", "Provider"]
    name: str
    type: str | None = None
    rank: int | None = None


class GraphEdge(BaseModel):
    source: str
    target: str
    type: str
    weight: float


class Subgraph(BaseModel):
    """Nodes and edges around a centre, small enough to draw and to send over HTTP."""

    center: str
    nodes: list[GraphNode]
    edges: list[GraphEdge]


@runtime_checkable
class GraphStore(Protocol):
    """What the rest of matchgraph needs of a store.

    Writes go through :meth:`apply` only, which is atomic: after a crash the store holds the graph
    as it was before the call or after it. Reads return polars frames in the schemas of
    :mod:`graph.tables`.
    """

    kind: str
    max_searches_per_write: int | None
    """How many searches' aggregates one ``apply`` may carry (None: no limit). Neo4j holds a
    transaction in its heap, so big log files are written in parts there."""

    def apply(self, delta: GraphDelta) -> None:
        """Apply every table of ``delta`` in one atomic write."""
        ...

    def table(self, table: Table, ids: Sequence[str] | None = None, *,
              capabilities: Sequence[str] | None = None) -> pl.DataFrame:
        """A whole table, or the rows touching the artifacts ``ids`` (see ``ARTIFACT_ENDPOINTS``), or
        the ``has_capability`` / ``capabilities`` rows of the ``capabilities`` (not with ``ids``)."""
        ...

    def tables(self, tables: Sequence[Table], ids: Sequence[str]) -> dict[Table, pl.DataFrame]:
        """``table(t, ids)`` for each of ``tables``, read together: one query on Neo4j, where each
        read is a round trip, so a profile page costs one instead of eight."""
        ...

    def artifact_stats(self) -> pl.DataFrame:
        """One row per artifact with the aggregates of ``STATS_COLUMNS``."""
        ...

    def search_text(self, text: str, limit: int) -> pl.DataFrame:
        """Artifacts whose name, description, capabilities or intents match ``text``: ``id``, ``score``."""
        ...

    def neighborhood(self, artifact_id: str, depth: int, limit: int) -> Subgraph:
        """Artifacts within ``depth`` hops (co-match, lineage, integration), strongest edges first."""
        ...

    def path(self, a: str, b: str, max_depth: int) -> list[str]:
        """The fewest-hop chain of artifact ids from ``a`` to ``b``, or ``[]`` when none is that short."""
        ...

    def version(self) -> str:
        """A token that changes with every write (and only then): answers cached under it stay
        true until it changes. ``""`` for a store never written."""
        ...

    def clear(self) -> None:
        """Remove every node, edge and ledger entry (used by ``demo`` and tests)."""
        ...

    def run_lock(self, name: str, ttl_s: float) -> AbstractContextManager[None]:
        """Hold the named lock for the length of a run, or raise ``StoreLocked`` naming the holder.

        A holder that died releases it: on the embedded store the kernel drops its ``flock``; on
        Neo4j the lease expires after ``ttl_s``, or at once when the holder was a process of this
        machine that no longer exists.
        """
        ...

    def close(self) -> None: ...


def lock_owner() -> str:
    """A new lock holder's name, ``host:pid:token``: unique per acquisition, and enough to tell a
    holder that was a local process which has since died."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def owner_is_dead(owner: str) -> bool:
    """True when ``owner`` was a process on this machine that is gone (its lock is stale)."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    status = Path(f"/proc/{pid_text}/status")
    try:
        return any(line.startswith("State:") and "Z" in line.split()[1] for line in status.read_text().splitlines())
    except OSError:
        return False


def grow_neighborhood(center: str, depth: int, limit: int,
                      expand: Callable[[set[str]], pl.DataFrame]) -> nx.Graph:
    """Breadth-first growth shared by both stores: ``expand`` gives a frontier's strongest edges.

    ``expand`` returns ``src, dst, type, weight`` rows, best first per ``src``; growth stops at
    ``depth`` hops or ``limit`` nodes, whichever comes first.
    """
    graph: nx.Graph = nx.Graph()
    graph.add_node(center)
    frontier = {center}
    for _ in range(depth):
        if not frontier or graph.number_of_nodes() >= limit:
            break
        new_nodes: set[str] = set()
        for src, dst, typ, weight in expand(frontier).iter_rows():
            if dst not in graph and graph.number_of_nodes() >= limit:
                continue
            if dst not in graph:
                new_nodes.add(dst)
            graph.add_edge(src, dst, type=typ, weight=weight)
        frontier = new_nodes
    return graph


def open_store(settings: Settings) -> GraphStore:
    """The Neo4j store when ``NEO4J_URI`` is set, else the embedded store under ``MATCHGRAPH_HOME``."""
    if settings.neo4j_uri:
        from graph.neo4j_store import Neo4jStore

        return Neo4jStore.connect(settings)
    from graph.embedded import EmbeddedStore

    return EmbeddedStore(settings.home)
