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
from api.graphview import EDGE_COLORS, EDGE_LABELS, RING_FILLS, draw, rank_chart
from graph.errors import InvalidInput, NotFound, NotScored
from graph.schema import is_valid_id, type_label, type_plural
from graph.settings import Settings
from graph.tables import Table
from queries.engine import QueryEngine, canonical_id
from queries.subscores import COMPARED, LABELS, MIN_EVIDENCE_SHARE, NAMES
from queries.trust import log_sources, money

HTML = "text/html; charset=utf-8"
PAGE_HELPERS = {"type_label": type_label, "type_plural": type_plural, "money": money}
"""Functions every template (and the macros it imports) may call."""


def _render(request: Request, name: str, **context: Any) -> bytes:
    env = request.app.state.templates.env
    env.globals.update(PAGE_HELPERS)
    template = env.get_template(name)
    context.setdefault("canonical", request.url.path)
    html: str = template.render(subscores=NAMES, labels=LABELS, min_share=MIN_EVIDENCE_SHARE, **context)
    return html.encode()


def _shorten(text: str, most: int = 40) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"


def _describe_artifact(detail: Any) -> str:
    """A profile's meta description: what it is and where it stands, in one sentence."""
    where = (f"ranked {detail.rank}/100 among {type_plural(detail.type)}" if detail.rank is not None
             else "not ranked yet (too little evidence)")
    return f"{detail.name}: {type_label(detail.type)}, {where}, with the evidence behind every score."[:300]


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


def router(settings: Settings) -> APIRouter:
    pages = APIRouter(tags=["pages"], include_in_schema=False)
    depth_q = Query(ge=1, le=settings.max_depth)

    @pages.get("/", name="home")
    async def home(request: Request) -> Response:
        def compute(q: QueryEngine) -> bytes:
            scored = q.reader.table(Table.SCORES, columns=["id"]).height
            return _render(request, "home.html", title="matchgraph", top=q.top(None, limit=10).items,
                           movers=q.movers(5) if scored else None, scored=scored, logs=log_sources(q.reader))

        return await Answers(request).respond("page:home", compute, HTML)

    @pages.get("/compare/{pair}", name="compare_page")
    async def compare_page(request: Request, pair: str) -> Response:
        moved = _canonical(request, pair)
        if moved is not None:
            return moved

        def compute(q: QueryEngine) -> bytes:
            a, b = split_pair(q, pair)
            cmp = q.compare(a, b)
            return _render(request, "compare.html", title=f"{cmp.a.name} vs {cmp.b.name}", cmp=cmp, rows=COMPARED,
                           description=cmp.headline[:300])

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
                           alts=alts, chart=rank_chart(history), description=_describe_artifact(detail))

        return await Answers(request).respond(f"page:artifact:{artifact_id}", compute, HTML)

    @pages.get("/a/{artifact_id}/neighborhood", name="neighborhood_page")
    async def neighborhood_page(request: Request, artifact_id: str, depth: Annotated[int, depth_q] = 1) -> Response:
        moved = _canonical(request, artifact_id)
        if moved is not None:
            return moved

        def compute(q: QueryEngine) -> bytes:
            detail = q.show(artifact_id)
            sub = q.neighborhood(detail.id, depth, min(30, settings.max_neighborhood_nodes))
            spokes = sum(1 for e in sub.edges if sub.center in (e.source, e.target))
            return _render(request, "neighborhood.html", title=f"{detail.name}: neighborhood", a=detail, sub=sub,
                           drawing=draw(sub), depth=depth, max_depth=settings.max_depth, colors=EDGE_COLORS,
                           edge_labels=EDGE_LABELS, fills=RING_FILLS, spokes=spokes,
                           canonical=f"{request.url.path}?depth={depth}",
                           description=f"{detail.name} and the artifacts within {depth} hop(s) of it in the match "
                                       "graph: co-matches, lineage and integrations.")

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
    async def compare_form(request: Request, a: str = "", b: str = "") -> Response:
        """The home page's compare form lands here. Two ids go on to the page's canonical address;
        anything else (a side left empty, an id that cannot be one) gets a page that says what is
        missing, with the form filled in as it was, never a bare 422."""
        given = {"a": canonical_id(a), "b": canonical_id(b)}
        problems = [f"the {'first' if k == 'a' else 'second'} artifact is missing" if not v
                    else f"“{_shorten(v)}” is not an artifact id (ids are lower-case letters, digits, '.', '_' and "
                         f"'-', at most {settings.max_id_chars} characters)"
                    for k, v in given.items() if not v or not is_valid_id(v, settings.max_id_chars)]
        given = {k: v[:settings.max_id_chars] for k, v in given.items()}
        if not problems and given["a"] == given["b"]:
            problems.append("pick two different artifacts")
        if not problems:
            pair = quote(f"{given['a']}-vs-{given['b']}", safe="")
            return RedirectResponse(f"/compare/{pair}", status_code=303)

        def compute(q: QueryEngine) -> bytes:
            top = q.top(None, limit=6).items
            return _render(request, "compare_form.html", title="Compare two artifacts", given=given,
                           problems=problems, top=top, canonical="/compare")

        key = f"page:compare-form:{given['a']}:{given['b']}"
        return await Answers(request).respond(key, compute, HTML)

    return pages
