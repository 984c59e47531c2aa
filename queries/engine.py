"""The read side: show, top, search, alternatives, compare, neighbourhoods and paths.

A :class:`QueryEngine` answers over ONE :class:`graph.store.Reader`, so every answer comes from a
single version of the graph, named by ``engine.version``. Every method reads through the reader's
indexed lookups (by artifact id, or by an indexed column); only ``top``, ``runs`` and the search
index read whole tables, and the search index is built once per version.
"""

from __future__ import annotations

import difflib
import json
from typing import TYPE_CHECKING, Any

import polars as pl

from graph.errors import InvalidInput, NotFound, NotScored
from graph.schema import SIGNALS, ArtifactType, normalize_intent, type_label
from graph.tables import Table, tuples
from queries import boards, walk
from queries import verdict as rules
from queries.models import (
    Alternative,
    ArtifactDetail,
    ArtifactSummary,
    Board,
    CapabilityDetail,
    CapabilityHit,
    CapabilitySummary,
    Comparison,
    Explanation,
    GraphEdge,
    GraphNode,
    HistoryPoint,
    ListedArtifact,
    MatchReason,
    Movers,
    Page,
    PathAnswer,
    PathStep,
    QualityView,
    RunView,
    SearchHit,
    SearchPage,
    Subgraph,
    SubScores,
)
from queries.rows import ROW_TABLES, joined_rows
from queries.search import IndexCache, SearchIndex
from queries.subscores import NAMES, explain
from queries.text import terms
from queries.trust import (
    head_to_head,
    listed,
    movers,
    price_view,
    quality_view,
    ranked_rows,
    standing,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from graph.settings import Settings
    from graph.store import Reader

def canonical_id(text: str) -> str:
    """How an id typed by a person is looked up: trimmed and lower-cased."""
    return text.strip().lower()


class QueryEngine:
    """Answers questions about one version of the graph; every method reads through ``reader``."""

    def __init__(self, reader: Reader, settings: Settings, indexes: IndexCache | None = None, *,
                 row_index: bool = False) -> None:
        self.reader = reader
        self.settings = settings
        self.indexes = indexes or IndexCache(keep=1)
        self.row_index = row_index
        """Take artifacts' rows from the version's :class:`queries.rows.RowIndex` (built once per
        version: what a long-lived server wants) rather than reading them for each question."""
        self._around_memo: dict[tuple[Table, str], pl.DataFrame] = {}

    @property
    def version(self) -> str:
        return self.reader.version

    # -- bounds ----------------------------------------------------------------------------------
    def check_page(self, limit: int, offset: int = 0) -> None:
        """The one page rule: ``1 <= limit <= MATCHGRAPH_MAX_LIMIT``, ``0 <= offset <= MATCHGRAPH_MAX_OFFSET``."""
        most = self.settings.max_limit
        if limit < 1 or limit > most:
            raise InvalidInput(f"limit must be between 1 and {most}, got {limit}")
        if offset < 0 or offset > self.settings.max_offset:
            raise InvalidInput(f"offset must be between 0 and {self.settings.max_offset}, got {offset}")

    def _depth(self, depth: int) -> int:
        ceiling = self.settings.max_depth
        if depth < 1 or depth > ceiling:
            raise InvalidInput(f"depth must be between 1 and {ceiling}, got {depth}")
        return depth

    # -- lookups ---------------------------------------------------------------------------------
    def search_index(self) -> SearchIndex:
        return self.indexes.get(self.reader)

    def suggest(self, text: str, n: int = 3) -> list[str]:
        ids = self.search_index().docs.get_column("id")
        key = canonical_id(text)
        prefix = ids.filter(ids.str.starts_with(key[:3])).to_list() if len(key) >= 3 else []
        pool = prefix if len(prefix) >= n else ids.to_list()
        return difflib.get_close_matches(key, pool, n=n, cutoff=0.5)

    def around(self, key: str, *tables: Table) -> dict[Table, pl.DataFrame]:
        """The rows of ``tables`` that touch artifact ``key``, each read once per question (a
        compare asks for a side's co-matches and capabilities more than once), the missing ones in
        one round trip."""
        missing = [t for t in tables if (t, key) not in self._around_memo]
        if missing:
            for table, frame in self.reader.tables(missing, [key]).items():
                self._around_memo[(table, key)] = frame
        return {t: self._around_memo[(t, key)] for t in tables}

    def _not_found(self, artifact_id: str) -> NotFound:
        return NotFound(f"no artifact with id {artifact_id!r}", suggestions=self.suggest(artifact_id))

    def _row(self, artifact_id: str, *also: Table) -> dict[str, Any]:
        """The artifact's row. Without a row index, the tables ``also`` names (which the caller
        reads next through :meth:`around`) come in the same round trip."""
        key = canonical_id(artifact_id)
        if self.row_index:
            found = self._rows_by_id([key])
            if key not in found:
                raise self._not_found(artifact_id)
            return found[key]
        frames = self.reader.tables(list(dict.fromkeys((*ROW_TABLES, *also))), [key])
        rows = joined_rows(frames)
        for table in {Table.HAS_CAPABILITY, *also}:
            self._around_memo.setdefault((table, key), frames[table])
        if rows.height == 0:
            raise self._not_found(artifact_id)
        return rows.row(0, named=True)

    @staticmethod
    def _summary_fields(row: dict[str, Any]) -> dict[str, Any]:
        place = standing(row)
        return {
            "id": row["id"], "name": row["name"], "type": row["type"], "pricing": row["pricing"],
            "rank": row["rank"] if place is not None and place.ranked else None,
            "scores": SubScores(**{k: (round(row[k], 2) if row[k] is not None else None) for k in NAMES}),
            "times_matched": row["times_matched"], "capabilities_count": row["capabilities_count"],
            "type_label": type_label(row["type"]), "standing": place,
        }

    def summaries(self, ids: Sequence[str]) -> dict[str, ArtifactSummary]:
        return {i: ArtifactSummary(**self._summary_fields(r)) for i, r in self._rows_by_id(ids).items()}

    # -- show ------------------------------------------------------------------------------------
    def show(self, artifact_id: str) -> ArtifactDetail:
        row = self._row(artifact_id, Table.DERIVED_FROM, Table.INTEGRATES_WITH)
        key = row["id"]
        frames = self.around(key, Table.HAS_CAPABILITY, Table.DERIVED_FROM, Table.INTEGRATES_WITH)
        has_cap = frames[Table.HAS_CAPABILITY]
        derived = frames[Table.DERIVED_FROM]
        links = frames[Table.INTEGRATES_WITH]
        interval = (
            (round(row["quality_lo"], 4), round(row["quality_hi"], 4)) if row["quality_lo"] is not None else None
        )
        evidence = json.loads(row["evidence"]) if row["evidence"] else {}
        provider = (self.reader.table(Table.PROVIDERS, [row["provider"]], by="id") if row["provider"]
                    else pl.DataFrame())
        price = price_view(row, evidence, self._names)
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
                **quality_view(row, evidence),
            ),
            provider_name=provider.get_column("name")[0] if provider.height else None,
            price=price, logs=evidence.get("sources", {}).get("logs") if evidence else None,
            as_of=evidence.get("as_of"),
            capabilities=boards.capability_views(self, has_cap),
            derived_from=sorted(dst for src, dst in derived.iter_rows() if src == key),
            derived_works=sorted(src for src, dst in derived.iter_rows() if dst == key),
            integrates_with=sorted({dst if src == key else src for src, dst in links.iter_rows()}),
        )

    def _names(self, ids: Sequence[str]) -> dict[str, str]:
        found = self.reader.table(Table.ARTIFACTS, list(ids), columns=["id", "name"])
        return {i: n or i for i, n in found.iter_rows()}

    def explain(self, artifact_id: str) -> Explanation:
        row = self._row(artifact_id)
        if row["rank"] is None:
            raise NotScored(f"{row['id']} has not been scored yet", hint="run `matchgraph score`")
        place = standing(row)
        ranked = place is not None and place.ranked
        made = explain(row)
        made["rank"] = made["rank"] if ranked else None
        return Explanation(id=row["id"], **made, ranked=ranked,
                           evidence_share=place.evidence_share if place is not None else None)

    def history(self, artifact_id: str, limit: int | None = None, offset: int = 0) -> Page[HistoryPoint]:
        """The artifact's rank at every scoring run, oldest first (a page of ``MATCHGRAPH_MAX_LIMIT``
        points by default)."""
        limit = self.settings.max_limit if limit is None else limit
        self.check_page(limit, offset)
        key = self._row(artifact_id)["id"]
        hist = self.reader.table(Table.RANK_HISTORY, [key]).sort("scored_at", "run").slice(offset, limit + 1)
        points = [HistoryPoint(run=r["run"], scored_at=r["scored_at"].isoformat(), rank=r["rank"],
                               as_of=r["as_of"].isoformat() if r.get("as_of") is not None else None)
                  for r in hist.iter_rows(named=True)]
        return Page[HistoryPoint].of(points, offset, limit)

    # -- top and search ----------------------------------------------------------------------------
    def top(self, type_: str | None = None, limit: int = 10, offset: int = 0) -> Page[ListedArtifact]:
        """The best-ranked catalogued artifacts (stubs known only from logs, and artifacts resting on
        too little evidence to rank, are left out). Neighbours whose composite intervals overlap
        share a place (see :func:`queries.trust.listed`)."""
        self.check_page(limit, offset)
        if type_ is not None and type_ not in {t.value for t in ArtifactType}:
            raise InvalidInput(f"unknown type {type_!r}; one of: {', '.join(t.value for t in ArtifactType)}")
        arts = self.reader.table(Table.ARTIFACTS, columns=["id", "type", "catalogued"]).filter(pl.col("catalogued"))
        if type_:
            arts = arts.filter(pl.col("type") == type_)
        scores = ranked_rows(self.reader.table(Table.SCORES, columns=["id", "rank", "composite", "adoption",
                                                                       "evidence_share"]))
        ordered = (arts.join(scores, on="id")
                   .sort(["rank", "composite", "adoption", "id"], descending=[True, True, True, False],
                         nulls_last=True))
        window = ordered.slice(max(offset - 1, 0), limit + 1 + min(offset, 1))
        ids = window.get_column("id").to_list()
        found = self.summaries(ids)
        items = listed([found[i] for i in ids], offset - min(offset, 1))[min(offset, 1):]
        return Page[ListedArtifact].of(items, offset, limit)

    def movers(self, limit: int = 5) -> Movers:
        """The biggest risers and fallers since the scoring run before (catalogued, ranked artifacts)."""
        self.check_page(limit)
        scores = ranked_rows(self.reader.table(Table.SCORES, columns=["id", "rank", "evidence_share", "rank_delta"]))
        catalogued = self.reader.table(Table.ARTIFACTS, columns=["id", "catalogued"]).filter(pl.col("catalogued"))
        changed = scores.join(catalogued.select("id"), on="id").filter(pl.col("rank_delta").fill_null(0) != 0)
        return movers(changed, limit, self.summaries)

    def search(self, text: str, limit: int = 10, offset: int = 0) -> SearchPage:
        """Artifacts for a need, most relevant first, then by rank, then id (``queries.search``), with
        the reasons each matched and the capabilities the text asks for. The index holds each
        artifact's summary row for its version, so a search reads nothing else from the store."""
        self.check_page(limit, offset)
        if not text.strip():
            raise InvalidInput("the search text is empty")
        if len(text) > self.settings.max_query_chars:
            raise InvalidInput(f"the search text is longer than {self.settings.max_query_chars} characters")
        index = self.search_index()
        match = index.match(text, offset + limit + 1)
        rows = match.hits.slice(offset).to_dicts()
        words = terms(normalize_intent(text))
        items = [SearchHit(**self._summary_fields(index.docs.row(int(r["doc"]), named=True)), relevance=r["score"],
                           why=[MatchReason(**reason) for reason in index.reasons(r, words)])
                 for r in rows]
        page = SearchPage.of(items, offset, limit)
        caps = [CapabilityHit(id=c["id"], name=c["name"] or c["id"], artifacts=c["artifacts"] or 0,
                              relevance=round(c["score"], 4)) for c in match.capabilities.iter_rows(named=True)]
        return SearchPage(items=page.items, offset=page.offset, limit=page.limit, next_offset=page.next_offset,
                          capabilities=caps)

    # -- alternatives and compare -----------------------------------------------------------------
    def alternatives(self, artifact_id: str, limit: int = 5, offset: int = 0,
                     exclude: Sequence[str] = ()) -> Page[Alternative]:
        """Artifacts people met in the same searches, most strongly co-matched first.

        Strength is the co-match count over the smaller of the two artifacts' match counts, ties
        broken by count, rank and id. Where the match graph knows too few, the best artifacts of
        the same type on the boards of its capabilities fill the list (see ``_capability_peers``).
        """
        self.check_page(limit, offset)
        want = offset + limit + 1
        row = self._row(artifact_id, Table.CO_MATCHED)
        key = row["id"]
        skip = {key, *exclude}
        co = self.around(key, Table.CO_MATCHED)[Table.CO_MATCHED]
        partners = [(b if a == key else a, n) for a, b, n in tuples(co, "a", "b", "count")]
        partners = [(i, n) for i, n in partners if i not in skip]
        # order every partner by what the ordering needs (its match total and rank), then build
        # the full rows of the few that make the page: a hub has thousands of partners. (Python,
        # not polars: a partner list is short, and each polars step costs ~0.1 ms however small.)
        brief = self._brief([i for i, _ in partners])
        mine = max(row["times_matched"], 1)
        ordered = []
        for i, count in partners:
            if i not in brief:
                continue
            _, matched, rank = brief[i]
            strength = min(count / min(max(matched, 1), mine), 1.0)
            ordered.append((-strength, -count, rank is None, -(rank or 0), i, count, strength))
        best = sorted(ordered)[:want]
        rows = self._rows_by_id([b[4] for b in best])
        out = [
            Alternative(**self._summary_fields(rows[i]), co_matched=count, with_id=key, overlap=round(strength, 4),
                        reason=f"shown alongside {row['name'] or key} in {count} "
                               f"search{'es' if count != 1 else ''} ({strength:.0%} overlap)")
            for *_, i, count, strength in best if i in rows
        ]
        if len(out) < want:
            has = self.around(key, Table.HAS_CAPABILITY)[Table.HAS_CAPABILITY]
            mine_caps = has.get_column("capability").unique().to_list()
            out.extend(self._capability_peers(key, row["type"], mine_caps, want - len(out),
                                              skip | {a.id for a in out}))
        return Page[Alternative].of(out[offset:], offset, limit)

    def _brief(self, ids: Sequence[str]) -> dict[str, tuple[str | None, int, int | None]]:
        """Type, times matched and rank of each of ``ids`` that exists: what orderings need."""
        if self.row_index:
            return self.indexes.rows(self.reader).brief(ids)
        rows = joined_rows(self.reader.tables(ROW_TABLES, ids))
        return dict(zip(rows.get_column("id").to_list(), tuples(rows, "type", "times_matched", "rank"), strict=True))

    def _rows_by_id(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The row of each of ``ids`` that exists, as a dict."""
        if self.row_index:
            return self.indexes.rows(self.reader).dicts(ids)
        if not ids:
            return {}
        return {r["id"]: r for r in joined_rows(self.reader.tables(ROW_TABLES, ids)).iter_rows(named=True)}

    def _capability_peers(self, key: str, type_: str | None, capabilities: Sequence[str], limit: int,
                          skip: set[str]) -> list[Alternative]:
        """The best of the same type on the boards of the artifact's capabilities: on the most of
        those boards first, then by best place (the need's id breaks a tie), rank and id. A board
        holds a capability's top members (``queries.capabilities.fit_boards``), so this reads a
        bounded number of rows however many artifacts share the capability."""
        if not capabilities:
            return []
        boards = self.reader.table(Table.BOARDS, list(capabilities), by="need")
        on: dict[str, tuple[int, int, str]] = {}  # artifact -> boards it is on, its best place, that board
        for kind, need, artifact, place in tuples(boards, "kind", "need", "artifact", "place"):
            if kind != "capability" or artifact in skip:
                continue
            n, best_place, best_need = on.get(artifact, (0, place, need))
            on[artifact] = (n + 1, *min((best_place, best_need), (place, need)))
        brief = self._brief(list(on))
        ordered = sorted(
            (-n, place, brief[i][2] is None, -(brief[i][2] or 0), i, n, place, need)
            for i, (n, place, need) in on.items() if i in brief and (not type_ or brief[i][0] == type_)
        )[:limit]
        rows = self._rows_by_id([o[4] for o in ordered])
        needs = sorted({o[7] for o in ordered})
        names = dict(tuples(self.reader.table(Table.CAPABILITIES, needs, by="id"), "id", "name")) \
            if needs else {}
        return [
            Alternative(**self._summary_fields(rows[i]), co_matched=0, with_id=key,
                        reason=f"#{place} on the {names.get(need) or need} board, a capability both have"
                               + (f" (and on {n - 1} more of the boards of its capabilities)" if n > 1 else ""))
            for *_, i, n, place, need in ordered if i in rows
        ]

    def compare(self, a: str, b: str, alternatives: int = 5) -> Comparison:
        left, right = self.show(a), self.show(b)
        if left.id == right.id:
            raise InvalidInput("compare needs two different artifacts")
        unscored = [x.id for x in (left, right) if x.standing is None]
        if unscored:
            raise NotScored(f"not scored yet: {', '.join(unscored)}", hint="run `matchgraph score`")
        alts: dict[str, Alternative] = {}
        for side in (left, right):
            for alt in self.alternatives(side.id, limit=alternatives, exclude=(left.id, right.id)).items:
                alts.setdefault(alt.id, alt)
        best = sorted(alts.values(), key=lambda x: (-(x.overlap or 0.0), -(x.rank or 0), x.id))[:alternatives]
        pair = head_to_head(self.reader, left, right, self.around(left.id, Table.CO_MATCHED)[Table.CO_MATCHED])
        return Comparison(
            a=left, b=right, winner=rules.winner(left, right), headline=rules.headline(left, right),
            verdict=rules.verdict(left, right), leads=rules.leads(left, right), alternatives=best,
            head_to_head=pair, side_by_side=left.type != right.type,
            capabilities=boards.compare_capabilities(self, left, right),
        )

    # -- the match graph's shape ----------------------------------------------------------------
    def neighborhood(self, artifact_id: str, depth: int = 1, limit: int = 30) -> Subgraph:
        """The artifacts within ``depth`` hops, strongest edges first, at most ``limit`` nodes, and
        every edge among them (see :func:`queries.walk.neighbourhood`)."""
        depth = self._depth(depth)
        most = self.settings.max_neighborhood_nodes
        if limit < 2 or limit > most:
            raise InvalidInput(f"limit must be between 2 and {most}, got {limit}")
        key = self._row(artifact_id)["id"]
        chosen, edges = walk.neighbourhood(self.reader, key, depth, limit)
        info = self.reader.tables((Table.ARTIFACTS, Table.SCORES), list(chosen))
        names = dict(info[Table.ARTIFACTS].select("id", "name").iter_rows())
        types = dict(info[Table.ARTIFACTS].select("id", "type").iter_rows())
        ranks = dict(info[Table.SCORES].select("id", "rank").iter_rows())
        nodes = [GraphNode(id=i, label="Artifact", name=names.get(i) or i, type=types.get(i), rank=ranks.get(i),
                           depth=d) for i, d in sorted(chosen.items(), key=lambda item: (item[1], item[0]))]
        return Subgraph(center=key, depth=depth, nodes=nodes,
                        edges=[GraphEdge(**e) for e in edges.iter_rows(named=True)])

    def path(self, a: str, b: str, max_depth: int = 3) -> PathAnswer:
        """The fewest-hop chain from ``a`` to ``b``; each step names the edge that makes it (a
        co-match, the strongest, before lineage and integration)."""
        max_depth = self._depth(max_depth)
        source, target = self._row(a)["id"], self._row(b)["id"]
        ids = walk.shortest_path(self.reader, source, target, max_depth)
        if not ids:
            return PathAnswer(source=source, target=target, max_depth=max_depth, connected=False, hops=None,
                              nodes=[], steps=[])
        edges = walk.edges_of(self.reader, ids)
        best: dict[frozenset[str], PathStep] = {}
        ranked = edges.with_columns(pl.col("type").replace_strict(walk.EDGE_ORDER, return_dtype=pl.Int64)
                                    .alias("_kind")).sort(["_kind", "weight"], descending=[False, True])
        for src, dst, typ, weight, _ in ranked.iter_rows():
            best.setdefault(frozenset((src, dst)), PathStep(source=src, target=dst, type=typ, weight=weight))
        steps = [PathStep(source=u, target=v, type=best[frozenset((u, v))].type, weight=best[frozenset((u, v))].weight)
                 for u, v in zip(ids, ids[1:], strict=False)]
        found = self.summaries(ids)
        return PathAnswer(source=source, target=target, max_depth=max_depth, connected=True, hops=len(ids) - 1,
                          nodes=[found[i] for i in ids], steps=steps)

    def runs(self, limit: int = 20, offset: int = 0) -> Page[RunView]:
        """The recorded nightly runs, newest first."""
        self.check_page(limit, offset)
        runs = self.reader.table(Table.RUNS).sort(["started_at", "run"], descending=True).slice(offset, limit + 1)
        return Page[RunView].of([RunView(**row) for row in runs.iter_rows(named=True)], offset, limit)

    # -- the capability graph (queries.boards) ---------------------------------------------------------
    def capabilities(self, limit: int = 50, offset: int = 0) -> Page[CapabilitySummary]:
        return boards.list_capabilities(self, limit, offset)

    def capability(self, capability_id: str, limit: int = 20) -> CapabilityDetail:
        return boards.capability_detail(self, capability_id, limit)

    def best(self, text: str, limit: int = 10) -> Board:
        return boards.best(self, text, limit)
