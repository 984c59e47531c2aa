"""Reading the capability graph: capabilities and their members, the intents that seek them, the
boards of who is best for a need, and two artifacts' capabilities side by side.

Everything here is a lookup: the scoring run computed the groups, links and boards
(``queries.capabilities``) and both stores hold them as tables, so an answer reads a few rows by
capability, intent or artifact.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Any

import polars as pl

from graph.errors import InvalidInput, NotFound
from graph.schema import normalize_intent
from graph.tables import Table
from queries.models import (
    Board,
    BoardEntry,
    CapabilityComparison,
    CapabilityDetail,
    CapabilityMember,
    CapabilitySummary,
    CapabilityView,
    IntentLink,
    Page,
    SharedCapability,
)
from queries.text import normalize_expr, normalize_text

if TYPE_CHECKING:
    from collections.abc import Sequence

    from queries.engine import QueryEngine
    from queries.models import ArtifactDetail

MEMBERS_SHOWN = 50
INTENTS_SHOWN = 20
BEST_SHOWN = 3


def capability_views(engine: QueryEngine, has: pl.DataFrame) -> list[CapabilityView]:
    """An artifact's statements in catalog order, each under its capability's canonical name. A
    statement whose capability was written by a catalog after the last scoring run (no counts yet)
    is provisional and shows its own name."""
    statements = sorted(has.iter_rows(named=True), key=lambda r: r["position"])
    wanted = list(dict.fromkeys(r["capability"] for r in statements))
    nodes = {n["id"]: n for n in engine.reader.table(Table.CAPABILITIES, wanted, by="id").iter_rows(named=True)}
    views = []
    for c in statements:
        node = nodes.get(c["capability"], {})
        provisional = node.get("statements") is None
        own = c["name"] or node.get("name") or c["capability"]
        views.append(CapabilityView(
            id=c["capability"], name=own if provisional else (node.get("name") or own), description=c["description"],
            unique=c["unique"], vs_alternatives=c["vs_alternatives"], tags=node.get("tags") or [], own_name=own,
            provisional=provisional))
    return views


def _summary(row: dict[str, Any], best: Sequence[str] = ()) -> CapabilitySummary:
    return CapabilitySummary(id=row["id"], name=row["name"] or row["id"], aliases=row["aliases"] or [],
                             tags=row["tags"] or [], artifacts=row["artifacts"] or 0, statements=row["statements"] or 0,
                             provisional=row["statements"] is None, best=list(best))


def list_capabilities(engine: QueryEngine, limit: int, offset: int) -> Page[CapabilitySummary]:
    """Every capability, the most widely held first, each with the first artifacts of its board."""
    engine.check_page(limit, offset)
    nodes = engine.reader.table(Table.CAPABILITIES).with_columns(pl.col("artifacts").fill_null(0))
    page = nodes.sort(["artifacts", "id"], descending=[True, False]).slice(offset, limit + 1)
    ids = page.get_column("id").to_list()
    boards = _boards(engine, ids, "capability").filter(pl.col("place") <= BEST_SHOWN)
    best = {need: group.sort("place").get_column("artifact").to_list()
            for (need,), group in boards.group_by("need")}
    items = [_summary(r, best.get(r["id"], [])) for r in page.iter_rows(named=True)]
    return Page[CapabilitySummary].of(items, offset, limit)


def _boards(engine: QueryEngine, needs: Sequence[str], kind: str) -> pl.DataFrame:
    rows = engine.reader.table(Table.BOARDS, list(needs), by="need") if needs else engine.reader.table(
        Table.BOARDS, [], by="need")
    return rows.filter(pl.col("kind") == kind)


def _entries(engine: QueryEngine, board: pl.DataFrame, limit: int) -> list[BoardEntry]:
    board = board.sort("place").head(limit)
    found = engine.summaries(board.get_column("artifact").to_list())
    return [BoardEntry(place=r["place"], id=r["artifact"], name=found[r["artifact"]].name if r["artifact"] in found
                       else r["artifact"], type=found[r["artifact"]].type if r["artifact"] in found else None,
                       rank=found[r["artifact"]].rank if r["artifact"] in found else None,
                       rating=round(r["rating"], 4), interval=(round(r["lo"], 4), round(r["hi"], 4)),
                       comparisons=r["comparisons"], overall=round(r["overall"], 4))
            for r in board.iter_rows(named=True)]


def _capability_row(engine: QueryEngine, capability_id: str) -> dict[str, Any]:
    key = capability_id.strip().lower()
    rows = engine.reader.table(Table.CAPABILITIES, [key], by="id")
    if rows.height == 0:
        known = engine.reader.table(Table.CAPABILITIES, columns=["id"]).get_column("id").to_list()
        raise NotFound(f"no capability with id {capability_id!r}",
                       suggestions=difflib.get_close_matches(key, known, n=3, cutoff=0.5))
    return rows.row(0, named=True)


def capability_detail(engine: QueryEngine, capability_id: str, limit: int = 20) -> CapabilityDetail:
    """A capability: who has it (with their own names for it), the intents that seek it, its board."""
    engine.check_page(limit)
    row = _capability_row(engine, capability_id)
    key = row["id"]
    has = engine.reader.table(Table.HAS_CAPABILITY, [key], by="capability").sort("artifact", "position")
    has = has.unique("artifact", keep="first", maintain_order=True)
    found = engine.summaries(has.get_column("artifact").to_list())
    members = sorted(
        (CapabilityMember(id=r["artifact"], name=found[r["artifact"]].name if r["artifact"] in found else r["artifact"],
                          rank=found[r["artifact"]].rank if r["artifact"] in found else None, own_name=r["name"],
                          description=r["description"]) for r in has.iter_rows(named=True)),
        key=lambda m: (-(m.rank if m.rank is not None else -1), m.id))[:MEMBERS_SHOWN]
    seeks = engine.reader.table(Table.SEEKS, [key], by="capability").sort(
        ["confidence", "chosen", "intent"], descending=[True, True, False]).head(INTENTS_SHOWN)
    board = _boards(engine, [key], "capability")
    best = board.sort("place").head(BEST_SHOWN).get_column("artifact").to_list()
    return CapabilityDetail(**_summary(row, best).model_dump(), members=members,
                            intents=[IntentLink(**r) for r in seeks.iter_rows(named=True)],
                            board=_entries(engine, board, limit))


def best(engine: QueryEngine, text: str, limit: int = 10) -> Board:
    """The board for a need given as text: a capability (by id, name or alias), an intent that has a
    board of its own, else the capability search matches best."""
    engine.check_page(limit)
    if not text.strip():
        raise InvalidInput("the need is empty")
    if len(text) > engine.settings.max_query_chars:
        raise InvalidInput(f"the need is longer than {engine.settings.max_query_chars} characters")
    key = text.strip().lower()
    nodes = engine.reader.table(Table.CAPABILITIES, columns=["id", "name", "aliases"])
    wanted = str(normalize_text(pl.Series([text], dtype=pl.String)).item())
    names = nodes.explode("aliases").with_columns(
        normalize_expr(pl.col("name")).alias("n"), normalize_expr(pl.col("aliases")).alias("a"))
    by_name = names.filter((pl.col("id") == key) | (pl.col("n") == wanted) | (pl.col("a") == wanted))
    if by_name.height:
        need = by_name.sort("id").get_column("id").item(0)
        return _capability_board(engine, need, "its id or name", limit)
    intent = normalize_intent(text)
    board = _boards(engine, [intent], "intent")
    if board.height:
        searches = engine.reader.table(Table.INTENTS, [intent], by="id").get_column("searches").sum()
        return Board(kind="intent", need=intent, name=intent, matched="a past intent with its own board",
                     searches=int(searches), items=_entries(engine, board, limit))
    hit = engine.search_index().match(text, 1)
    if hit.capabilities.height == 0:
        raise NotFound(f"no capability matches {text!r}",
                       suggestions=difflib.get_close_matches(wanted, nodes.get_column("name").drop_nulls().to_list(),
                                                             n=3, cutoff=0.4))
    need = hit.capabilities.get_column("id").item(0)
    return _capability_board(engine, need, "the capability search matched best", limit)


def _capability_board(engine: QueryEngine, need: str, matched: str, limit: int) -> Board:
    row = _capability_row(engine, need)
    seeks = engine.reader.table(Table.SEEKS, [need], by="capability")
    intents = seeks.get_column("intent").unique().to_list()
    searches = engine.reader.table(Table.INTENTS, intents, by="id").get_column("searches").sum() if intents else 0
    return Board(kind="capability", need=row["id"], name=row["name"] or row["id"], matched=matched,
                 searches=int(searches), items=_entries(engine, _boards(engine, [need], "capability"), limit))


def compare_capabilities(engine: QueryEngine, a: ArtifactDetail, b: ArtifactDetail) -> CapabilityComparison:
    """Both sides' capabilities aligned, and for shared ones, who people chose when they sought it:
    the preferences between the two in the searches of intents that seek that capability."""
    mine = {c.id: c for c in reversed(a.capabilities)}  # the first statement of each capability speaks for it
    theirs = {c.id: c for c in reversed(b.capabilities)}
    shared_ids = [c.id for c in a.capabilities if c.id in theirs]
    shared_ids = list(dict.fromkeys(shared_ids))
    chosen: dict[tuple[str, str], int] = {}
    if shared_ids:
        # a choice between the two was made in a search that showed both, so only the intents that
        # seek a shared capability and matched both can hold one: their cells are read by intent
        seeks = engine.reader.table(Table.SEEKS, shared_ids, by="capability").select("intent", "capability")
        both = (engine.reader.table(Table.MATCHED, [a.id, b.id], columns=["intent", "artifact"])
                .filter(pl.col("intent").is_in(seeks.get_column("intent").implode()))
                .group_by("intent").agg(pl.col("artifact").n_unique().alias("n")).filter(pl.col("n") == 2))
        intents = both.get_column("intent").sort().to_list()
        if intents:
            prefs = engine.reader.table(Table.INTENT_PREFERENCES, intents, by="intent").filter(
                ((pl.col("winner") == a.id) & (pl.col("loser") == b.id))
                | ((pl.col("winner") == b.id) & (pl.col("loser") == a.id)))
            per = (prefs.join(seeks, on="intent")
                   .group_by("capability", "winner").agg(pl.col("count").sum()))
            chosen = {(r["capability"], r["winner"]): r["count"] for r in per.iter_rows(named=True)}
    shared = [SharedCapability(id=c, name=mine[c].name, a=mine[c], b=theirs[c], a_chosen=chosen.get((c, a.id), 0),
                               b_chosen=chosen.get((c, b.id), 0)) for c in shared_ids]
    only_a = [c for c in a.capabilities if c.id not in theirs]
    only_b = [c for c in b.capabilities if c.id not in mine]
    return CapabilityComparison(shared=shared, only_a=only_a, only_b=only_b)
