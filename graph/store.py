"""The ``GraphStore`` protocol: what a store holds and fetches, and how one is chosen.

A store is narrow on purpose. It applies deltas atomically, reads tables (whole, or the rows of
some artifacts, or the rows matching a few values of an indexed column, with only the columns
asked for), names the version of the graph it holds, takes the writers' lock, and can be cleared.
Everything that ranks, scores or assembles an answer lives once, in ``queries/``, on top of these
reads, so both stores give the same answers by construction; one contract suite runs on both.

Two implementations stand behind it: :mod:`graph.embedded` (polars tables in Parquet snapshots,
the default) and :mod:`graph.neo4j_store` (selected by ``NEO4J_URI``).
"""

from __future__ import annotations

import os
import secrets
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from collections.abc import Sequence
    from contextlib import AbstractContextManager

    import polars as pl

    from graph.settings import Settings
    from graph.tables import GraphDelta, Table


@runtime_checkable
class Reader(Protocol):
    """A read view of ONE version of the graph: every read through it sees the same data.

    On the embedded store it is a snapshot pinned for as long as the view is open; on Neo4j a read
    transaction. Answers computed through one reader are consistent, and ``version`` names them.
    """

    @property
    def version(self) -> str:
        """The version these reads see (``""`` for a store never written)."""
        ...

    def table(self, table: Table, ids: Sequence[str] | None = None, *, by: str | None = None,
              columns: Sequence[str] | None = None) -> pl.DataFrame:
        """A table's rows, in the schema of :mod:`graph.tables`, restricted to ``columns`` if given.

        ``ids`` alone: the rows touching those artifacts (any column of ``ARTIFACT_ENDPOINTS``).
        ``ids`` with ``by``: the rows whose column ``by`` (one of ``LOOKUPS[table]``) holds one of
        the values. Neither: the whole table. Row order is not part of the contract.
        """
        ...

    def tables(self, tables: Sequence[Table], ids: Sequence[str]) -> dict[Table, pl.DataFrame]:
        """``table(t, ids)`` for several tables at once (one round trip on Neo4j)."""
        ...


@runtime_checkable
class GraphStore(Protocol):
    """What the rest of matchgraph needs of a store.

    Writes go through :meth:`apply` only, which is atomic: after a crash the store holds the graph
    as it was before the call or after it. Reads go through a :meth:`reader`; ``table`` is a
    one-read shorthand for ``with store.reader() as r: r.table(...)``.
    """

    kind: str
    one_file_per_write: bool
    """Whether each input file must be written on its own. Neo4j holds a transaction in its heap,
    so it writes a big file's delta in key-disjoint parts, each with a ledger row named after the
    file's hash; that is only possible when a write carries one file. The embedded store writes
    any size atomically, and takes the aggregates of many files in one write."""

    def reader(self, *, bulk: bool = False) -> AbstractContextManager[Reader]:
        """A read view pinned to the version current when it opens. ``bulk`` marks a view that
        reads whole tables (scoring): no interactive time limit applies to it."""
        ...

    def table(self, table: Table, ids: Sequence[str] | None = None, *, by: str | None = None,
              columns: Sequence[str] | None = None) -> pl.DataFrame:
        """One read of the current version (see :meth:`Reader.table`)."""
        ...

    def apply(self, delta: GraphDelta) -> None:
        """Apply every table of ``delta`` in one atomic write that also changes the version."""
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


def open_store(settings: Settings) -> GraphStore:
    """The Neo4j store when ``NEO4J_URI`` is set, else the embedded store under ``MATCHGRAPH_HOME``."""
    if settings.neo4j_uri:
        from graph.neo4j_store import Neo4jStore

        return Neo4jStore.connect(settings)
    from graph.embedded import EmbeddedStore

    return EmbeddedStore(settings.home)
