"""The server-rendered pages: comparison, profile, search, neighbourhood, and a home page.

Every page is a Jinja2 template over the same query engine answers the JSON API serves, computed
over one version of the graph and cached the same way. No script and no external asset: styles
come from ``/static``, the neighbourhood is inline SVG.
"""

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from api.deps import Answers
from api.graphview import EDGE_COLORS, draw
from graph.errors import InvalidInput, NotFound, NotScored
from graph.settings import Settings
from queries.engine import QueryEngine, canonical_id
from queries.subscores import COMPARED, LABELS, NAMES

HTML = "text/html; charset=utf-8"


def _render(request: Request, name: str, **context: Any) -> bytes:
    template = request.app.state.templates.env.get_template(name)
    html: str = template.render(subscores=NAMES, labels=LABELS, **context)
    return html.encode()


def split_pair(engine: QueryEngine, pair: str) -> tuple[str, str]:
    """``a-vs-b`` into two known ids. Ids may contain ``-vs-`` themselves, so every split is tried
    and the first whose two sides both exist wins."""
    text = canonical_id(pair)
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


def _canonical(request: Request, given: str) -> RedirectResponse | None:
    """A permanent redirect to the lower-case address when ``given`` is not canonical."""
    wanted = canonical_id(given)
    if wanted == given:
        return None
    path = request.url.path.replace(quote(given, safe=""), quote(wanted, safe=""), 1)
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(path + query, status_code=308)


def _sparkline(ranks: list[int], width: int = 240, height: int = 48) -> str:
    """SVG polyline points for a rank series on a 0-100 scale."""
    if len(ranks) < 2:
        return ""
    step = width / (len(ranks) - 1)
    return " ".join(f"{i * step:.1f},{height - r / 100 * height:.1f}" for i, r in enumerate(ranks))


def router(settings: Settings) -> APIRouter:
    pages = APIRouter(tags=["pages"], include_in_schema=False)
    depth_q = Query(ge=1, le=settings.max_depth)

    @pages.get("/", name="home")
    async def home(request: Request) -> Response:
        def compute(q: QueryEngine) -> bytes:
            return _render(request, "home.html", title="matchgraph", top=q.top(None, limit=10).items)

        return await Answers(request).respond("page:home", compute, HTML)

    @pages.get("/compare/{pair}", name="compare_page")
    async def compare_page(request: Request, pair: str) -> Response:
        moved = _canonical(request, pair)
        if moved is not None:
            return moved

        def compute(q: QueryEngine) -> bytes:
            a, b = split_pair(q, pair)
            cmp = q.compare(a, b)
            return _render(request, "compare.html", title=f"{cmp.a.name} vs {cmp.b.name}", cmp=cmp, rows=COMPARED)

        return await Answers(request).respond(f"page:compare:{pair}", compute, HTML)

    @pages.get("/a/{artifact_id}", name="profile_page")
    async def profile_page(request: Request, artifact_id: str) -> Response:
        moved = _canonical(request, artifact_id)
        if moved is not None:
            return moved

        def compute(q: QueryEngine) -> bytes:
            detail = q.show(artifact_id)
            try:
                why = q.explain(detail.id)
            except NotScored:
                why = None
            history = q.history(detail.id).items
            alts = q.alternatives(detail.id, limit=5).items
            return _render(request, "profile.html", title=detail.name, a=detail, why=why, history=history,
                           alts=alts, sparkline=_sparkline([p.rank for p in history]))

        return await Answers(request).respond(f"page:artifact:{artifact_id}", compute, HTML)

    @pages.get("/a/{artifact_id}/neighborhood", name="neighborhood_page")
    async def neighborhood_page(request: Request, artifact_id: str, depth: Annotated[int, depth_q] = 1) -> Response:
        moved = _canonical(request, artifact_id)
        if moved is not None:
            return moved

        def compute(q: QueryEngine) -> bytes:
            detail = q.show(artifact_id)
            sub = q.neighborhood(detail.id, depth, min(30, settings.max_neighborhood_nodes))
            return _render(request, "neighborhood.html", title=f"{detail.name}: neighborhood", a=detail, sub=sub,
                           drawing=draw(sub), depth=depth, max_depth=settings.max_depth, colors=EDGE_COLORS)

        return await Answers(request).respond(f"page:neighborhood:{artifact_id}:{depth}", compute, HTML)

    @pages.get("/search", name="search_page")
    async def search_page(request: Request, q: Annotated[str, Query(max_length=4_096)] = "") -> Response:
        text = q.strip()

        def compute(engine: QueryEngine) -> bytes:
            found = engine.search(text, limit=20) if text else None
            return _render(request, "search.html", title=f"Search: {text}" if text else "Search", q=text,
                           hits=found.items if found else [], capabilities=found.capabilities if found else [])

        return await Answers(request).respond(f"page:search:{text}", compute, HTML)

    @pages.get("/compare", name="compare_form")
    async def compare_form(a: Annotated[str, Query(max_length=200)] = "",
                           b: Annotated[str, Query(max_length=200)] = "") -> Response:
        """The home page's compare form lands here and is sent on to the page's canonical address."""
        if not a.strip() or not b.strip():
            return RedirectResponse("/#compare", status_code=303)
        pair = quote(f"{canonical_id(a)}-vs-{canonical_id(b)}", safe="")
        return RedirectResponse(f"/compare/{pair}", status_code=303)

    return pages
