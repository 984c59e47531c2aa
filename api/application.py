"""The application object: one way in for the CLI, the HTTP API, the nightly job and the tests.

:class:`MatchGraph` owns the settings, the store (opened on first use), the scoring configuration
and the per-version search indexes. Reads run through :meth:`MatchGraph.read`, which pins one
version of the graph for the whole answer; writes (ingest, score, nightly) take the one writer
lock, so every check that decides a write (the ledger above all) happens under it.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from graph.settings import Settings
from graph.store import GraphStore, open_store
from graph.tables import Table

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from datetime import date

    from ingest.forget import ForgetReport
    from ingest.nightly import RunReport
    from ingest.pipeline import FileReport, IngestReport
    from queries.engine import QueryEngine
    from queries.models import Comparison
    from queries.scoring import ScoreReport, ScoringConfig
    from queries.search import IndexCache

T = TypeVar("T")
WRITER_LOCK = "writer"
"""The one lock every write path takes: ingest, score, nightly and the admin routes."""
SEED_PAIR = ("dalle-3-xl-lora-v2", "flux-1-pro")


class MatchGraph:
    """matchgraph over one store, as the settings describe it (or over a store handed in)."""

    def __init__(self, settings: Settings | None = None, store: GraphStore | None = None, *,
                 row_index: bool = False) -> None:
        self.settings = settings or Settings()
        self.row_index = row_index
        """Keep every artifact's row of the current version in memory (``queries.rows.RowIndex``):
        the server's choice; one-shot commands read only the rows they need."""
        self._store = store
        self._owned = store is None
        self._open_lock = threading.Lock()
        self._indexes: IndexCache | None = None

    @property
    def indexes(self) -> IndexCache:
        """The per-version search and row indexes, made once, on the first read (a command that
        only writes never loads the search libraries). Checked once more under the lock, as
        :attr:`store` is, so a read that finds it made takes no lock."""
        if self._indexes is None:
            with self._open_lock:
                if self._indexes is None:
                    from queries.search import IndexCache

                    self._indexes = IndexCache(folder=self.settings.home / "cache")
        return self._indexes

    @classmethod
    def at(cls, home: Path | None = None, **overrides: object) -> MatchGraph:
        """The application over ``home`` (default: ``MATCHGRAPH_HOME``), other settings from the
        environment."""
        settings = Settings()
        update: dict[str, object] = dict(overrides)
        if home is not None:
            update["home"] = Path(home)
        return cls(settings.model_copy(update=update) if update else settings)

    # -- the store -------------------------------------------------------------------------------
    @property
    def store(self) -> GraphStore:
        """The store, opened on first use (and again after a failed open: the API starts before
        Neo4j does and answers 503 until it can open it)."""
        if self._store is None:
            with self._open_lock:
                if self._store is None:
                    self._store = open_store(self.settings)
        return self._store

    def close(self) -> None:
        if self._store is not None and self._owned:
            self._store.close()
            self._store = None

    def __enter__(self) -> MatchGraph:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- reads -----------------------------------------------------------------------------------
    @contextmanager
    def query(self) -> Iterator[QueryEngine]:
        """A query engine over one pinned version of the graph."""
        from queries.engine import QueryEngine

        with self.store.reader() as reader:
            yield QueryEngine(reader, self.settings, self.indexes, row_index=self.row_index)

    def read(self, answer: Callable[[QueryEngine], T]) -> T:
        """``answer`` asked of an engine over one version of the graph."""
        with self.query() as engine:
            return answer(engine)

    def read_versioned(self, answer: Callable[[QueryEngine], T]) -> tuple[str, T]:
        """``answer`` and the version of the graph it was computed from."""
        with self.query() as engine:
            return engine.version, answer(engine)

    def version(self) -> str:
        return self.store.version()

    # -- writes ----------------------------------------------------------------------------------
    @contextmanager
    def writing(self) -> Iterator[GraphStore]:
        """The writer lock, held for one write path (``StoreLocked`` while another holds it)."""
        store = self.store
        with store.run_lock(WRITER_LOCK, self.settings.run_lock_ttl_s):
            yield store

    def scoring(self, as_of: date | None = None) -> ScoringConfig:
        from queries.capabilities import CapabilityConfig
        from queries.scoring import ScoringConfig, load_weights

        return ScoringConfig(half_life_days=self.settings.half_life_days, as_of=as_of,
                             weights=load_weights(self.settings.weights_file),
                             capabilities=CapabilityConfig.of(self.settings))

    def ingest_catalogs(self, paths: Sequence[Path], fmt: str | None = None,
                        on_file: Callable[[FileReport], None] | None = None) -> IngestReport:
        from ingest.pipeline import ingest_catalogs

        with self.writing() as store:
            return ingest_catalogs(store, paths, self.settings, fmt, on_file)

    def ingest_logs(self, paths: Sequence[Path], fmt: str | None = None,
                    on_file: Callable[[FileReport], None] | None = None) -> IngestReport:
        from ingest.pipeline import ingest_logs

        with self.writing() as store:
            return ingest_logs(store, paths, self.settings, fmt, on_file)

    def _score(self, store: GraphStore, as_of: date | None) -> ScoreReport:
        from queries.scoring import score

        return score(store, self.scoring(as_of))

    def score(self, as_of: date | None = None) -> ScoreReport:
        with self.writing() as store:
            return self._score(store, as_of)

    def nightly(self, catalogs: Path | None, logs: Path | None, say: Callable[[str], None],
                progress: Callable[[int], Callable[[FileReport], None]] | None = None,
                as_of: date | None = None) -> RunReport:
        from ingest.nightly import run_nightly

        with self.writing() as store:
            return run_nightly(store, self.settings, catalogs, logs,
                               rescore=lambda: self._score(store, as_of).summary(), say=say, progress=progress)

    def forget(self, target: str, *, rescore: bool = True) -> tuple[ForgetReport, ScoreReport | None]:
        """Take one ingested log file back (its SHA-256, a prefix of it, or its path), then rescore
        when the graph had scores."""
        from ingest.forget import forget

        with self.writing() as store:
            report = forget(store, self.settings, target)
            scored = store.table(Table.RANK_HISTORY, columns=["run"]).height > 0
            again = self._score(store, None) if rescore and scored else None
        return report, again

    def demo(self, samples: Path, say: Callable[[str], None]) -> Comparison:
        """Ingest the shipped samples (again: the ledger makes that a no-op), score, and compare the
        seed pair."""
        catalog = self.ingest_catalogs([samples / "catalog.jsonl"])
        logs = self.ingest_logs(sorted(samples.glob("searches*.jsonl*")))
        report = self.score()
        for line in (catalog.summary(), logs.summary(), report.summary()):
            say(line)
        return self.read(lambda q: q.compare(*SEED_PAIR))
