"""The server-rendered pages: comparison, profile, search, neighborhood, and a home page.

Every page is a Jinja2 template over the same query engine answers the JSON API serves, cached
the same way. No script and no external asset: styles come from ``/static``, the neighborhood is
inline SVG.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from api.deps import Answers
from api.graphview import EDGE_COLORS, draw
from graph.errors import InvalidInput, NotFound, NotScored
from queries.page import ROW_LABELS, ROWS
from queries.scoring import SUBSCORES

router = APIRouter(tags=["pages"], include_in_schema=False)

HTML = "text/html; charset=utf-8"
SUBSCORE_LABELS = {**ROW_LABELS, "freshness": "Freshness"}


def _render(request: Request, name: str, **context: Any) -> bytes:
    template = request.app.state.templates.env.get_template(name)
    html: str = template.render(subscores=SUBSCORES, labels=SUBSCORE_LABELS, **context)
    return html.encode()


@router.get("/", name="home")
async def home(request: Request) -> Response:
    answers = await Answers.of(request)
    engine = answers.engine

    def compute() -> bytes:
        return _render(request, "home.html", title="matchgraph", top=engine.top(None, limit=10))

    return await answers.respond("page:home", compute, HTML)


def split_pair(engine: Any, pair: str) -> tuple[str, str]:
    """``a-vs-b`` into two known ids. Ids may contain ``-vs-`` themselves, so every split is tried
    and the first whose two sides both exist wins."""
    text = pair.strip().lower()
    splits = []
    start = text.find("-vs-")
    while start > 0:
        splits.append((text[:start], text[start + 4:]))
        start = text.find("-vs-", start + 1)
    if not splits:
        raise InvalidInput(f"a comparison address looks like /compare/<a>-vs-<b>, got {pair!r}")
    known = set(engine.summaries([x for s in splits for x in s]))
    for a, b in splits:
        if a in known and b in known:
            return a, b
    a, b = splits[0]
    missing = a if a not in known else b
    raise NotFound(f"no artifact with id {missing!r}", suggestions=engine.suggest(missing))


@router.get("/compare/{pair}", name="compare_page")
async def compare_page(request: Request, pair: str) -> Response:
    answers = await Answers.of(request)
    engine = answers.engine

    def compute() -> bytes:
        a, b = split_pair(engine, pair)
        cmp = engine.compare(a, b)
        return _render(request, "compare.html", title=f"{cmp.a.name} vs {cmp.b.name}", cmp=cmp, rows=ROWS)

    return await answers.respond(f"page:compare:{pair}", compute, HTML)


@router.get("/a/{artifact_id}", name="profile_page")
async def profile_page(request: Request, artifact_id: str) -> Response:
    answers = await Answers.of(request)
    engine = answers.engine

    def compute() -> bytes:
        detail = engine.show(artifact_id)
        try:
            why = engine.explain(detail.id)
        except NotScored:
            why = None
        history = engine.history(detail.id)
        alts = engine.alternatives(detail.id, limit=5)
        return _render(request, "profile.html", title=detail.name, a=detail, why=why, history=history, alts=alts,
                       sparkline=_sparkline([p.rank for p in history]))

    return await answers.respond(f"page:artifact:{artifact_id}", compute, HTML)


def _sparkline(ranks: list[int], width: int = 240, height: int = 48) -> str:
    """SVG polyline points for a rank series on a 0-100 scale."""
    if len(ranks) < 2:
        return ""
    step = width / (len(ranks) - 1)
    return " ".join(f"{i * step:.1f},{height - r / 100 * height:.1f}" for i, r in enumerate(ranks))


@router.get("/a/{artifact_id}/neighborhood", name="neighborhood_page")
async def neighborhood_page(
    request: Request, artifact_id: str,
    depth: Annotated[int, Query(ge=1, le=10)] = 1,
) -> Response:
    answers = await Answers.of(request)
    engine, settings = answers.engine, answers.settings

    def compute() -> bytes:
        detail = engine.show(artifact_id)
        sub = engine.neighborhood(detail.id, depth, min(30, settings.max_neighborhood_nodes),
                                  max_depth=settings.max_depth, max_nodes=settings.max_neighborhood_nodes)
        return _render(request, "neighborhood.html", title=f"{detail.name}: neighborhood", a=detail, sub=sub,
                       drawing=draw(sub), depth=depth, max_depth=settings.max_depth, colors=EDGE_COLORS)

    return await answers.respond(f"page:neighborhood:{artifact_id}:{depth}", compute, HTML)


@router.get("/search", name="search_page")
async def search_page(
    request: Request,
    q: Annotated[str, Query(max_length=4_096)] = "",
) -> Response:
    text = q.strip()

    answers = await Answers.of(request)
    engine, settings = answers.engine, answers.settings

    def compute() -> bytes:
        hits = engine.search(text, limit=20, max_chars=settings.max_query_chars) if text else []
        return _render(request, "search.html", title=f"Search: {text}" if text else "Search", q=text, hits=hits)

    return await answers.respond(f"page:search:{text}", compute, HTML)


@router.get("/compare", name="compare_form")
async def compare_form(a: Annotated[str, Query(max_length=200)], b: Annotated[str, Query(max_length=200)]) -> Response:
    """The home page's compare form lands here and is sent on to the page's canonical address."""
    pair = quote(f"{a.strip().lower()}-vs-{b.strip().lower()}", safe="")
    return RedirectResponse(f"/compare/{pair}", status_code=303)
