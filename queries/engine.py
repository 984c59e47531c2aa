"""The read side: show, top, search, alternatives and compare, over any :class:`GraphStore`."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Any

import polars as pl

from graph.errors import InvalidInput, NotFound, NotScored
from graph.schema import SIGNALS, ArtifactType
from graph.tables import Table
from queries import verdict as rules
from queries.models import (
    Alternative,
    ArtifactDetail,
    ArtifactSummary,
    CapabilityView,
    Comparison,
    Explanation,
    HistoryPoint,
    PathAnswer,
    PathStep,
    QualityView,
    RunView,
    SearchHit,
    SubScores,
)
from queries.scoring import SUBSCORES, explain

if TYPE_CHECKING:
    from collections.abc import Sequence

    from graph.store import GraphStore, Subgraph

_SCORE_COLS = ["rank", *SUBSCORES, "quality_rating", "quality_lo", "quality_hi", "comparisons", "low_confidence",
               "evidence"]
_ROW_TABLES = (Table.ARTIFACTS, Table.SCORES, Table.MATCHED, Table.HAS_CAPABILITY)
"""What an artifact's row is made of. ``show`` and ``alternatives`` read their other tables in the
same ``store.tables`` call: on Neo4j every call is a round trip, so a ``compare`` makes 6-8, not 34."""


def _joined(frames: dict[Table, pl.DataFrame]) -> pl.DataFrame:
    """One row per artifact: its fields, scores, match totals and capability count."""
    arts = frames[Table.ARTIFACTS]
    scores = frames[Table.SCORES].select("id", *_SCORE_COLS)
    matched = frames[Table.MATCHED].group_by("artifact").agg(
        pl.col("count").sum().alias("times_matched"), pl.col("clicks").sum().alias("clicks")
    )
    caps = frames[Table.HAS_CAPABILITY].group_by("artifact").agg(pl.len().alias("capabilities_count"))
    return (
        arts.join(scores, on="id", how="left")
        .join(matched, left_on="id", right_on="artifact", how="left")
        .join(caps, left_on="id", right_on="artifact", how="left")
        .with_columns(pl.col("times_matched").fill_null(0), pl.col("clicks").fill_null(0),
                      pl.col("capabilities_count").fill_null(0).cast(pl.Int64))
    )


class QueryEngine:
    """Answers questions about the graph; every method reads through the store protocol only."""

    def __init__(self, store: GraphStore, *, max_limit: int = 200) -> None:
        self.store = store
        self.max_limit = max_limit

    # -- lookups ---------------------------------------------------------------------------------
    def _limit(self, limit: int, offset: int = 0) -> int:
        if limit < 1 or limit > self.max_limit:
            raise InvalidInput(f"limit must be between 1 and {self.max_limit}, got {limit}")
        if offset < 0:
            raise InvalidInput(f"offset must not be negative, got {offset}")
        return limit

    def suggest(self, text: str, n: int = 3) -> list[str]:
        ids = self.store.table(Table.ARTIFACTS).get_column("id")
        key = text.lower()
        prefix = ids.filter(ids.str.starts_with(key[:3])).to_list() if len(key) >= 3 else []
        pool = prefix if len(prefix) >= n else ids.to_list()
        return difflib.get_close_matches(key, pool, n=n, cutoff=0.5)

    def _rows(self, ids: Sequence[str]) -> pl.DataFrame:
        return _joined(self.store.tables(_ROW_TABLES, ids))

    def _row(self, artifact_id: str) -> dict[str, Any]:
        key = artifact_id.strip().lower()
        rows = self._rows([key])
        if rows.height == 0:
            raise NotFound(f"no artifact with id {artifact_id!r}", suggestions=self.suggest(key))
        return rows.row(0, named=True)

    @staticmethod
    def _summary_fields(row: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": row["id"], "name": row["name"], "type": row["type"], "pricing": row["pricing"],
            "rank": row["rank"],
            "scores": SubScores(**{k: (round(row[k], 2) if row[k] is not None else None) for k in SUBSCORES}),
            "times_matched": row["times_matched"], "capabilities_count": row["capabilities_count"],
        }

    def summaries(self, ids: Sequence[str]) -> dict[str, ArtifactSummary]:
        rows = self._rows(ids)
        return {r["id"]: ArtifactSummary(**self._summary_fields(r)) for r in rows.iter_rows(named=True)}

    # -- show ------------------------------------------------------------------------------------
    def show(self, artifact_id: str) -> ArtifactDetail:
        key = artifact_id.strip().lower()
        frames = self.store.tables((*_ROW_TABLES, Table.DERIVED_FROM, Table.INTEGRATES_WITH), [key])
        rows = _joined(frames)
        if rows.height == 0:
            raise NotFound(f"no artifact with id {artifact_id!r}", suggestions=self.suggest(key))
        row = rows.row(0, named=True)
        key = row["id"]
        has_cap = frames[Table.HAS_CAPABILITY].sort("position")
        cap_nodes = self.store.table(Table.CAPABILITIES, capabilities=has_cap.get_column("capability").to_list())
        caps = has_cap.join(cap_nodes, left_on="capability", right_on="id", how="left")
        derived = frames[Table.DERIVED_FROM]
        links = frames[Table.INTEGRATES_WITH]
        interval = (
            (round(row["quality_lo"], 4), round(row["quality_hi"], 4)) if row["quality_lo"] is not None else None
        )
        return ArtifactDetail(
            **self._summary_fields(row),
            provider=row["provider"], url=row["url"], description=row["description"], license=row["license"],
            released=row["released"], catalogued=bool(row["catalogued"]),
            signals={s: row[s] for s in SIGNALS if row[s] is not None},
            clicks=row["clicks"],
            quality=QualityView(
                rating=round(row["quality_rating"], 4) if row["quality_rating"] is not None else None,
                interval=interval, comparisons=row["comparisons"] or 0,
                low_confidence=bool(row["low_confidence"]) if row["low_confidence"] is not None else True,
            ),
            capabilities=[
                CapabilityView(id=c["capability"], name=c["name"] or c["capability"], description=c["description"],
                               unique=c["unique"], vs_alternatives=c["vs_alternatives"], tags=c["tags"] or [])
                for c in caps.iter_rows(named=True)
            ],
            derived_from=sorted(derived.filter(pl.col("src") == key).get_column("dst").to_list()),
            derived_works=sorted(derived.filter(pl.col("dst") == key).get_column("src").to_list()),
            integrates_with=sorted(
                set(links.filter(pl.col("src") == key).get_column("dst").to_list())
                | set(links.filter(pl.col("dst") == key).get_column("src").to_list())
            ),
        )

    def explain(self, artifact_id: str) -> Explanation:
        row = self._row(artifact_id)
        if row["rank"] is None:
            raise NotScored(f"{row['id']} has not been scored yet", hint="run `matchgraph score`")
        data = explain(row)
        return Explanation(id=row["id"], **data)

    def history(self, artifact_id: str) -> list[HistoryPoint]:
        key = self._row(artifact_id)["id"]
        hist = self.store.table(Table.RANK_HISTORY, [key]).sort("scored_at")
        return [HistoryPoint(run=r["run"], scored_at=r["scored_at"].isoformat(), rank=r["rank"])
                for r in hist.iter_rows(named=True)]

    # -- top and search ----------------------------------------------------------------------------
    def top(self, type_: str | None = None, limit: int = 10, offset: int = 0) -> list[ArtifactSummary]:
        """The best-ranked catalogued artifacts (stubs known only from logs are left out)."""
        limit = self._limit(limit, offset)
        if type_ is not None and type_ not in {t.value for t in ArtifactType}:
            raise InvalidInput(f"unknown type {type_!r}; one of: {', '.join(t.value for t in ArtifactType)}")
        arts = self.store.table(Table.ARTIFACTS).filter(pl.col("catalogued")).select("id", "type")
        if type_:
            arts = arts.filter(pl.col("type") == type_)
        ranked = (
            arts.join(self.store.table(Table.SCORES).select("id", "rank", "adoption"), on="id")
            .sort(["rank", "adoption", "id"], descending=[True, True, False])
            .slice(offset, limit)
        )
        ids = ranked.get_column("id").to_list()
        found = self.summaries(ids)
        return [found[i] for i in ids]

    def search(self, text: str, limit: int = 10, max_chars: int = 256, offset: int = 0) -> list[SearchHit]:
        """Text relevance first, then rank; ``offset + limit`` may not pass the engine's limit."""
        limit = self._limit(limit)
        if offset < 0 or offset + limit > self.max_limit:
            raise InvalidInput(f"offset + limit must be between 0 and {self.max_limit}, got {offset + limit}")
        if not text.strip():
            raise InvalidInput("the search text is empty")
        if len(text) > max_chars:
            raise InvalidInput(f"the search text is longer than {max_chars} characters")
        # Text relevance first, then the rank among equally relevant hits: fetch a wider candidate set.
        hits = self.store.search_text(text, min((offset + limit) * 5, 1_000))
        ids = hits.get_column("id").to_list()
        found = self.summaries(ids)
        ordered = sorted(
            ((i, score) for i, score in hits.iter_rows() if i in found),
            key=lambda item: (-item[1], -(found[item[0]].rank or -1), item[0]),
        )
        return [SearchHit(**found[i].model_dump(), relevance=round(score, 4))
                for i, score in ordered[offset:offset + limit]]

    # -- alternatives and compare -----------------------------------------------------------------
    def alternatives(self, artifact_id: str, limit: int = 5, exclude: Sequence[str] = ()) -> list[Alternative]:
        """Artifacts people met in the same searches, most strongly co-matched first.

        Strength is the co-match count over the smaller of the two artifacts' match counts, ties
        broken by rank. Where the match graph knows too few, artifacts of the same type that share
        capabilities fill the list, by rank.
        """
        limit = self._limit(limit)
        key = artifact_id.strip().lower()
        frames = self.store.tables((*_ROW_TABLES, Table.CO_MATCHED), [key])
        found = _joined(frames)
        if found.height == 0:
            raise NotFound(f"no artifact with id {artifact_id!r}", suggestions=self.suggest(key))
        row = found.row(0, named=True)
        key = row["id"]
        skip = {key, *exclude}
        co = frames[Table.CO_MATCHED]
        partners = co.select(
            pl.when(pl.col("a") == key).then(pl.col("b")).otherwise(pl.col("a")).alias("id"), "count"
        ).filter(~pl.col("id").is_in(list(skip)))
        rows = self._rows(partners.get_column("id").to_list()).join(partners, on="id")
        mine = max(row["times_matched"], 1)
        rows = rows.with_columns(
            (pl.col("count") / pl.min_horizontal(pl.col("times_matched").clip(lower_bound=1), pl.lit(mine)))
            .alias("strength")
        ).sort(["strength", "count", "rank", "id"], descending=[True, True, True, False], nulls_last=True)
        out = [
            Alternative(**self._summary_fields(r), co_matched=r["count"],
                        reason=f"matched together in {r['count']} searches")
            for r in rows.head(limit).iter_rows(named=True)
        ]
        if len(out) < limit:
            out.extend(self._capability_peers(key, row["type"], limit - len(out), skip | {a.id for a in out}))
        return out

    def _capability_peers(self, key: str, type_: str | None, limit: int, skip: set[str]) -> list[Alternative]:
        mine = self.store.table(Table.HAS_CAPABILITY, [key]).get_column("capability").to_list()
        if not mine:
            return []
        shared = (
            self.store.table(Table.HAS_CAPABILITY, capabilities=mine)
            .filter(pl.col("capability").is_in(mine) & ~pl.col("artifact").is_in(list(skip)))
            .group_by("artifact").agg(pl.len().alias("shared"))
        )
        rows = self._rows(shared.get_column("artifact").to_list()).join(
            shared, left_on="id", right_on="artifact"
        )
        if type_:
            rows = rows.filter(pl.col("type") == type_)
        rows = rows.sort(["shared", "rank", "id"], descending=[True, True, False], nulls_last=True).head(limit)
        return [
            Alternative(**self._summary_fields(r), co_matched=0, reason=f"shares {r['shared']} capabilities")
            for r in rows.iter_rows(named=True)
        ]

    def compare(self, a: str, b: str, alternatives: int = 5) -> Comparison:
        left, right = self.show(a), self.show(b)
        if left.id == right.id:
            raise InvalidInput("compare needs two different artifacts")
        unscored = [x.id for x in (left, right) if x.rank is None]
        if unscored:
            raise NotScored(f"not scored yet: {', '.join(unscored)}", hint="run `matchgraph score`")
        alts: dict[str, Alternative] = {}
        for side in (left, right):
            for alt in self.alternatives(side.id, limit=alternatives, exclude=(left.id, right.id)):
                alts.setdefault(alt.id, alt)
        best = sorted(alts.values(), key=lambda x: (-(x.rank or 0), x.id))[:alternatives]
        return Comparison(
            a=left, b=right, winner=rules.winner(left, right), headline=rules.headline(left, right),
            verdict=rules.verdict(left, right), leads=rules.leads(left, right), alternatives=best,
        )


    # -- the match graph's shape ----------------------------------------------------------------
    def _depth(self, depth: int, max_depth: int) -> int:
        if depth < 1 or depth > max_depth:
            raise InvalidInput(f"depth must be between 1 and {max_depth}, got {depth}")
        return depth

    def neighborhood(self, artifact_id: str, depth: int = 1, limit: int = 30, *, max_depth: int = 3,
                     max_nodes: int = 100) -> Subgraph:
        """The artifacts within ``depth`` hops, strongest edges first, at most ``limit`` nodes."""
        depth = self._depth(depth, max_depth)
        if limit < 2 or limit > max_nodes:
            raise InvalidInput(f"limit must be between 2 and {max_nodes}, got {limit}")
        key = self._row(artifact_id)["id"]
        return self.store.neighborhood(key, depth, limit)

    def path(self, a: str, b: str, max_depth: int = 3, *, depth_ceiling: int = 3) -> PathAnswer:
        """The fewest-hop chain from ``a`` to ``b``; each step names the edge that makes it (a
        co-match, the strongest, before lineage and integration)."""
        max_depth = self._depth(max_depth, depth_ceiling)
        source, target = self._row(a)["id"], self._row(b)["id"]
        ids = self.store.path(source, target, max_depth)
        if not ids:
            return PathAnswer(source=source, target=target, max_depth=max_depth, connected=False, hops=None,
                              nodes=[], steps=[])
        edges = pl.concat([
            self.store.table(Table.CO_MATCHED, ids).select(
                pl.col("a").alias("src"), pl.col("b").alias("dst"), pl.lit("CO_MATCHED").alias("type"),
                pl.col("count").cast(pl.Float64).alias("weight")),
            *[self.store.table(t, ids).select("src", "dst", pl.lit(t.name).alias("type"), pl.lit(1.0).alias("weight"))
              for t in (Table.DERIVED_FROM, Table.INTEGRATES_WITH)],
        ])
        best: dict[frozenset[str], PathStep] = {}
        for src, dst, typ, weight in edges.sort("weight", descending=True).iter_rows():
            best.setdefault(frozenset((src, dst)), PathStep(source=src, target=dst, type=typ, weight=weight))
        steps = []
        for u, v in zip(ids, ids[1:], strict=False):
            edge = best[frozenset((u, v))]
            steps.append(PathStep(source=u, target=v, type=edge.type, weight=edge.weight))
        found = self.summaries(ids)
        return PathAnswer(source=source, target=target, max_depth=max_depth, connected=True, hops=len(ids) - 1,
                          nodes=[found[i] for i in ids], steps=steps)

    def runs(self, limit: int = 20, offset: int = 0) -> list[RunView]:
        """The recorded nightly runs, newest first."""
        limit = self._limit(limit, offset)
        runs = self.store.table(Table.RUNS).sort(["started_at", "run"], descending=True).slice(offset, limit)
        return [RunView(**row) for row in runs.iter_rows(named=True)]
