"""The ``matchgraph`` command line: a thin shell over :class:`api.application.MatchGraph`.

Every command builds the application, asks it one thing, and prints the answer: as a table or
text, or with ``--json`` as the same JSON the HTTP API sends. Every error matchgraph raises on
purpose is printed as one line on stderr and mapped to its exit code by :func:`main`; no
traceback reaches a user. Heavy libraries load only inside the commands that need them, so
``matchgraph --help`` starts at once.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from graph.errors import InvalidInput, MatchGraphError, NotScored, PartialFailure, StoreUnavailable

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from pydantic import BaseModel
    from rich.console import Console

    from api.application import MatchGraph
    from ingest.pipeline import FileReport, IngestReport
    from queries.models import ArtifactSummary

# One BLAS thread unless told otherwise (read once, when numpy first loads, which is after this):
# the rating fit's products are 100k x 9 blocks, where OpenBLAS's threads cost more than they save
# (several times slower on two threads than on one here, far worse on a busy machine).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
BATCH_MALLOC_CONF = "dirty_decay_ms:10000,muzzy_decay_ms:10000"

INGEST, SCORE, READ, SERVE, OPERATE = "1 · Ingest", "2 · Score", "3 · Read", "4 · Serve", "5 · Operate"
app = typer.Typer(help="matchgraph: a match-graph database and query engine.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False, rich_markup_mode=None)
ingest_app = typer.Typer(help="Ingest catalogs and search logs.", no_args_is_help=True)
app.add_typer(ingest_app, name="ingest", rich_help_panel=INGEST)

HomeOpt = Annotated[
    Path | None, typer.Option("--home", help="Store folder (default $MATCHGRAPH_HOME or ./.matchgraph).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the API's JSON instead of a table.")]
LimitOpt = Annotated[int, typer.Option("--limit", help="How many (at most MATCHGRAPH_MAX_LIMIT, 200).")]
OffsetOpt = Annotated[int, typer.Option("--offset", help="How many to skip.")]


def _out() -> Console:
    from rich.console import Console

    return Console(soft_wrap=False)


def _err() -> Console:
    from rich.console import Console

    return Console(stderr=True, soft_wrap=True)


def say(line: str) -> None:
    _err().print(line, highlight=False, markup=False)


@contextmanager
def _app(home: Path | None, *, reading: bool = False, batch: bool = False) -> Iterator[MatchGraph]:
    """The application over ``home``. A read command never creates a store: it says where none is.
    A ``batch`` command (ingest, forget, score, nightly) keeps freed memory for reuse longer."""
    if batch and "polars" not in sys.modules:
        # polars' allocator (jemalloc) hands freed pages back to the system after 10 s, not after
        # polars' default 0.5-1 s, so a run's next large frame reuses them rather than faulting in
        # fresh ones (a rescore at 100k artifacts: 0.81M -> 0.54M page faults, a third less system
        # time); it is read once, when polars loads, so it is set only before that
        os.environ.setdefault("_RJEM_MALLOC_CONF", BATCH_MALLOC_CONF)
    from api.application import MatchGraph

    mg = MatchGraph.at(home)
    if reading and not mg.settings.neo4j_uri and not (mg.settings.home / "embedded" / "CURRENT").exists():
        raise StoreUnavailable(f"no matchgraph store at {mg.settings.home.resolve()}",
                               hint="ingest something first (`matchgraph ingest ...`), try `matchgraph demo`, "
                                    "or point --home / MATCHGRAPH_HOME at a store")
    try:
        yield mg
    finally:
        mg.close()


def _json(value: BaseModel) -> None:
    sys.stdout.write(value.model_dump_json(indent=2) + "\n")


@contextmanager
def _file_progress(label: str) -> Iterator[Callable[[int], Callable[[FileReport], None]]]:
    """Per-file progress: a rich bar on a terminal, one plain line per file otherwise."""
    err = _err()
    if not err.is_terminal:
        def plain(_total: int) -> Callable[[FileReport], None]:
            def line(f: FileReport) -> None:
                say(f"{f.status}: {f.source} (read {f.read}, ingested {f.ingested}, rejected {f.rejected})")
            return line
        yield plain
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True) as bar:
        def start(total: int) -> Callable[[FileReport], None]:
            task = bar.add_task(label, total=total)
            return lambda _f: bar.advance(task)
        yield start


def _ingest(kind: str, paths: list[Path], fmt: str | None, home: Path | None, as_json: bool) -> None:
    from api.results import IngestResult

    with _app(home, batch=True) as mg, _file_progress(f"ingesting {len(paths)} file(s)") as progress:
        run = mg.ingest_catalogs if kind == "catalog" else mg.ingest_logs
        report: IngestReport = run(paths, fmt, progress(len(paths)))
    if as_json:
        _json(IngestResult.of(report))
    else:
        _out().print(report.summary(), highlight=False)
    if report.failed:
        raise PartialFailure(f"{len(report.failed)} of {len(report.files)} file(s) could not be ingested",
                             hint=f"their reasons are in {report.rejects_path}")


@ingest_app.command("catalog")
def ingest_catalog_cmd(
    paths: Annotated[list[Path], typer.Argument(help="Catalog files (native JSONL, JSON array, CSV, Parquet, "
                                                     "or a litellm / Open LLM Leaderboard / best-of-ml file).")],
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="jsonl, json, csv, parquet, litellm, open-llm-leaderboard or best-of-ml; "
                                      "detected by default."),
    ] = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Ingest artifact catalogs."""
    _ingest("catalog", paths, fmt, home, as_json)


@ingest_app.command("logs")
def ingest_logs_cmd(
    paths: Annotated[
        list[Path], typer.Argument(help="Search-log files (native JSONL, CSV or Parquet, or OpenSearch UBI).")
    ],
    fmt: Annotated[
        str | None, typer.Option("--format", help="native-jsonl, native-csv, parquet or ubi; detected by default.")
    ] = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Ingest search logs."""
    _ingest("logs", paths, fmt, home, as_json)


@app.command("forget", rich_help_panel=INGEST)
def forget_cmd(
    file: Annotated[str, typer.Argument(help="The ingested log file: its SHA-256 (8+ hex digits of it) or its path.")],
    rescore: Annotated[bool, typer.Option(help="Rescore afterwards (when the graph has scores).")] = True,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Take back one ingested log file: subtract exactly what it added (it must still be readable)."""
    from api.results import ForgetResult

    with _app(home, reading=True, batch=True) as mg:
        report, scored = mg.forget(file, rescore=rescore)
    if as_json:
        _json(ForgetResult.of(report, scored))
        return
    _out().print(report.summary(), highlight=False)
    if scored is not None:
        _out().print(scored.summary(), highlight=False)


@app.command("score", rich_help_panel=SCORE)
def score_cmd(
    as_of: Annotated[str | None, typer.Option("--as-of", help="Score as of this date (YYYY-MM-DD).")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Print the time each step took.")] = False,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Compute every artifact's sub-scores and composite rank and store them."""
    from api.results import ScoreResult

    try:
        day = date.fromisoformat(as_of) if as_of else None
    except ValueError as e:
        raise InvalidInput(f"--as-of must be YYYY-MM-DD, got {as_of!r}") from e
    with _app(home, reading=True, batch=True) as mg:
        report = mg.score(day)
    if as_json:
        _json(ScoreResult.of(report))
        return
    _out().print(report.summary(), highlight=False)
    if verbose:
        for name, value in report.steps.items():
            unit = "s" if name.endswith("_s") or "." not in name else ""
            _out().print(f"  {name:<28} {value:10.3f} {unit}", highlight=False)


def _summary_table(rows: Sequence[ArtifactSummary], title: str, extra: tuple[str, str] | None = None) -> None:
    """A table whose id column is never cut: on a narrow terminal the other columns fold first, and
    the least needed ones (the sub-scores after quality, then type) are left out rather than
    squeezed into unreadable slivers."""
    from rich.table import Table as RichTable

    from queries.subscores import REGISTRY

    widest = max((len(r.id) for r in rows), default=2)
    placed = any(getattr(r, "place", None) is not None for r in rows)

    def place(r: ArtifactSummary) -> str:
        at = getattr(r, "place", None)
        return "" if at is None else ("=" if getattr(r, "tied", False) else "") + str(at)

    def rank(r: ArtifactSummary) -> str:
        return str(r.rank) if r.rank is not None else ("-" if r.standing is None else "n/r")

    def score(name: str) -> Callable[[ArtifactSummary], str]:
        def cell(r: ArtifactSummary) -> str:
            value = getattr(r.scores, name)
            return f"{value:.0f}" if value is not None else "-"
        return cell

    # (header, width it needs, cell): in the order they are given up when the terminal is narrow
    optional: list[tuple[str, int, Callable[[ArtifactSummary], str]]] = [
        ("quality", 7, score("quality")), ("name", 16, lambda r: r.name),
        ("matched", 7, lambda r: str(r.times_matched)), ("adoption", 8, score("adoption")),
        ("type", 9, lambda r: r.type_label or r.type or ""),
        *[(s.label.lower(), len(s.label) + 1, score(s.name)) for s in REGISTRY
          if s.name not in ("quality", "adoption")],
    ]
    width = _out().width
    used = widest + 4 + 8 + (6 if placed else 0) + (24 if extra else 0)
    chosen = []
    for header, need, cell in optional:
        if used + need + 3 <= width:
            chosen.append((header, cell))
            used += need + 3
    table = RichTable(title=title)
    if placed:
        table.add_column("#", no_wrap=True, justify="right")
    table.add_column("id", no_wrap=True, min_width=widest)
    table.add_column("rank", justify="right", no_wrap=True)
    order = [h for h, _, _ in optional]
    chosen.sort(key=lambda c: ["name", "type", "adoption", "quality"].index(c[0]) if c[0] in
                ("name", "type", "adoption", "quality") else 4 + order.index(c[0]))
    for header, _ in chosen:
        table.add_column(header, overflow="fold", ratio=2 if header == "name" else None,
                         justify="left" if header in ("name", "type") else "right")
    if extra:
        table.add_column(extra[0], overflow="fold", ratio=3, min_width=20)
    for r in rows:
        cells = ([place(r)] if placed else []) + [r.id, rank(r)] + [cell(r) for _, cell in chosen]
        if extra:
            cells.append(str(getattr(r, extra[1])))
        table.add_row(*cells)
    _out().print(table)
    if any(r.rank is None and r.standing is not None for r in rows):
        _out().print("n/r: not ranked, too little of the rank rests on evidence", highlight=False)
    if any(getattr(r, "tied", False) for r in rows):
        _out().print("=: tied, the 95% intervals of their scores overlap", highlight=False)


class PageFormat(StrEnum):
    markdown = "markdown"
    json = "json"


@app.command("show", rich_help_panel=READ)
def show_cmd(
    artifact_id: str,
    explain: Annotated[
        bool, typer.Option("--explain", help="Each sub-score's value, weight, contribution, evidence.")
    ] = False,
    history: Annotated[bool, typer.Option("--history", help="The rank at every scoring run.")] = False,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One artifact: rank, sub-scores, capabilities and lineage."""
    with _app(home, reading=True) as mg, mg.query() as q:
        detail = q.show(artifact_id)
        why = q.explain(artifact_id) if explain and detail.rank is not None else None
        past = q.history(artifact_id) if history else None
    if explain and detail.rank is None:
        raise NotScored(f"{detail.id} has not been scored yet", hint="run `matchgraph score`")
    if as_json:
        payload: dict[str, Any] = detail.model_dump(mode="json")
        if why is not None:
            payload["explain"] = why.model_dump(mode="json")
        if past is not None:
            payload["history"] = past.model_dump(mode="json")
        import json

        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    out = _out()
    from queries.page import quality_text, rank_text
    from queries.subscores import REGISTRY

    by = f" by {detail.provider_name or detail.provider}" if detail.provider_name or detail.provider else ""
    out.print(f"{detail.name} ({detail.id}) - {detail.type_label}{by}, {detail.pricing}", highlight=False,
              markup=False)
    if detail.url:
        out.print(detail.url, highlight=False, markup=False)

    def value(name: str) -> str:
        v = getattr(detail.scores, name)
        return "-" if v is None else f"{v:.0f}"

    parts = " | ".join(f"{s.label.lower()} {value(s.name)}" for s in REGISTRY)
    out.print(f"rank {rank_text(detail)} | {parts}", highlight=False, markup=False)
    if detail.standing is not None:
        out.print(f"{detail.standing.evidence_share:.0%} of the rank's weight rests on evidence; quality "
                  f"{quality_text(detail)}", highlight=False, markup=False)
    if detail.price is not None:
        out.print(f"price: {detail.price.starting}. {detail.price.note}", highlight=False, markup=False)
    out.print(f"times matched {detail.times_matched}, clicks {detail.clicks}, "
              f"{detail.capabilities_count} capabilities, quality comparisons {detail.quality.comparisons}"
              + (" (low confidence)" if detail.quality.low_confidence else ""), highlight=False)
    if detail.description:
        out.print(detail.description, highlight=False, markup=False)
    for cap in detail.capabilities:
        out.print(f"  - {cap.name}", highlight=False, markup=False)
    if detail.derived_from:
        out.print(f"derived from: {', '.join(detail.derived_from)}", highlight=False)
    if why is not None:
        import json

        from rich.table import Table as RichTable

        table = RichTable(title=f"Rank {why.rank}: how it is made" if why.rank is not None
                          else "Not ranked: what there is")
        for col in ("sub-score", "value", "used", "weight", "contribution"):
            table.add_column(col)
        for key, part in why.parts.items():
            shown = f"{part.value:.2f}" if part.value is not None else "-"
            table.add_row(key, shown, shown, f"{part.weight:g}", f"{part.contribution:.2f}" if part.evidence else "-")
        out.print(table)
        out.print(json.dumps(why.evidence, indent=1), highlight=False, markup=False)
    if past is not None:
        for point in past.items:
            out.print(f"as of {point.as_of or point.scored_at[:10]}  rank {point.rank}  (run {point.run})",
                      highlight=False)


@app.command("compare", rich_help_panel=READ)
def compare_cmd(
    a: str, b: str,
    fmt: Annotated[PageFormat, typer.Option("--format", help="markdown or json.")] = PageFormat.markdown,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Compare two artifacts: the comparison page, as markdown or JSON."""
    from queries.page import render_markdown

    with _app(home, reading=True) as mg:
        result = mg.read(lambda q: q.compare(a, b))
    if as_json or fmt is PageFormat.json:
        _json(result)
    else:
        sys.stdout.write(render_markdown(result))


@app.command("alternatives", rich_help_panel=READ)
def alternatives_cmd(artifact_id: str, limit: LimitOpt = 5, offset: OffsetOpt = 0, home: HomeOpt = None,
                     as_json: JsonOpt = False) -> None:
    """Alternatives to an artifact from the match graph."""
    with _app(home, reading=True) as mg:
        page = mg.read(lambda q: q.alternatives(artifact_id, limit=limit, offset=offset))
    if as_json:
        _json(page)
    else:
        _summary_table(page.items, f"Alternatives to {artifact_id}", ("why", "reason"))


@app.command("search", rich_help_panel=READ)
def search_cmd(text: str, limit: LimitOpt = 10, offset: OffsetOpt = 0, home: HomeOpt = None,
               as_json: JsonOpt = False) -> None:
    """Search for a need: names, descriptions, capabilities and what people chose for similar searches."""
    with _app(home, reading=True) as mg:
        page = mg.read(lambda q: q.search(text, limit=limit, offset=offset))
    if as_json:
        _json(page)
        return
    if page.capabilities:
        say("capabilities: " + "; ".join(f"{c.name} ({c.id}, {c.artifacts} artifacts)" for c in page.capabilities))
    _summary_table(page.items, f"Search: {text}", ("relevance", "relevance"))
    for hit in page.items:
        reasons = "; ".join(_reason(w) for w in hit.why[:2])
        _out().print(f"  {hit.id}: {reasons}", highlight=False, markup=False, soft_wrap=True)


def _reason(why: Any) -> str:
    if why.kind == "intent":
        return f"people searching {why.text!r} ({why.searches} searches) chose it {why.chosen} times"
    if why.kind == "capability":
        return f"has {why.text} ({why.artifacts} artifacts have it)"
    return f"{why.kind} matches"


@app.command("capabilities", rich_help_panel=READ)
def capabilities_cmd(limit: LimitOpt = 50, offset: OffsetOpt = 0, home: HomeOpt = None,
                     as_json: JsonOpt = False) -> None:
    """The shared capabilities, the most widely held first, with their artifacts."""
    from queries.models import CapabilityDetail, Page

    with _app(home, reading=True) as mg, mg.query() as q:
        page = q.capabilities(limit=limit, offset=offset)
        details = {c.id: q.capability(c.id, limit=3) for c in page.items}
    if as_json:  # each with its members (the best ranked first), the intents that seek it, its board's top
        _json(Page[CapabilityDetail](items=[details[c.id] for c in page.items], offset=page.offset,
                                     limit=page.limit, next_offset=page.next_offset))
        return
    from rich.table import Table as RichTable

    table = RichTable(title="Capabilities")
    table.add_column("id", no_wrap=True, min_width=max((len(c.id) for c in page.items), default=2))
    for col in ("name", "artifacts", "also called", "artifacts that have it (best ranked first)"):
        table.add_column(col, overflow="fold")
    for c in page.items:
        members = ", ".join(m.id for m in details[c.id].members[:8]) + (", ..." if c.artifacts > 8 else "")
        table.add_row(c.id, c.name + (" (not grouped yet)" if c.provisional else ""), str(c.artifacts),
                      ", ".join(c.aliases[:3]), members)
    _out().print(table)


@app.command("best", rich_help_panel=READ)
def best_cmd(need: Annotated[str, typer.Argument(help="A need in words: a capability's id or name, or any text.")],
             limit: LimitOpt = 10, home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """The best artifacts for a need, rated on the searches that sought it (95% intervals)."""
    with _app(home, reading=True) as mg:
        board = mg.read(lambda q: q.best(need, limit=limit))
    if as_json:
        _json(board)
        return
    from rich.table import Table as RichTable

    say(f"{board.name} ({board.kind} {board.need}, by {board.matched}; {board.searches} searches)")
    table = RichTable(title=f"Best for {board.name}")
    table.add_column("#")
    table.add_column("id", no_wrap=True, min_width=max((len(e.id) for e in board.items), default=2))
    for col in ("name", "rating", "95% interval", "comparisons", "overall", "rank"):
        table.add_column(col, overflow="fold")
    for e in board.items:
        table.add_row(str(e.place), e.id, e.name, f"{e.rating:.2f}", f"{e.interval[0]:.2f} to {e.interval[1]:.2f}",
                      str(e.comparisons), f"{e.overall:.2f}", str(e.rank) if e.rank is not None else "-")
    _out().print(table)


@app.command("top", rich_help_panel=READ)
def top_cmd(
    type_: Annotated[str | None, typer.Option("--type", help="Only this artifact type.")] = None,
    limit: LimitOpt = 10, offset: OffsetOpt = 0, home: HomeOpt = None, as_json: JsonOpt = False,
) -> None:
    """The highest-ranked artifacts, overall or of one type."""
    from graph.tables import Table

    with _app(home, reading=True) as mg:
        page = mg.read(lambda q: q.top(type_, limit=limit, offset=offset))
        scored = mg.read(lambda q: q.reader.table(Table.SCORES, columns=["id"]).height) if not page.items else 0
    if as_json:
        _json(page)
        return
    if not page.items and offset == 0:
        say("nothing is ranked yet: run `matchgraph score` after ingesting a catalog or logs" if not scored else
            f"none of the {scored} scored artifacts rests on enough evidence to be ranked: ingest search logs, or "
            "catalogs with signals and benchmark results, then `matchgraph score`")
    _summary_table(page.items, f"Top {type_ or 'artifacts'}")


@app.command("runs", rich_help_panel=READ)
def runs_cmd(limit: LimitOpt = 20, offset: OffsetOpt = 0, home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """The recorded nightly runs, newest first."""
    with _app(home, reading=True) as mg:
        page = mg.read(lambda q: q.runs(limit=limit, offset=offset))
    if as_json:
        _json(page)
        return
    from rich.table import Table as RichTable

    table = RichTable(title="Nightly runs")
    table.add_column("run", no_wrap=True)
    for col in ("started", "seconds", "files", "skipped", "changed", "read", "ingested", "rejected", "rescored"):
        table.add_column(col, overflow="fold")
    for r in page.items:
        table.add_row(r.run, r.started_at.isoformat(timespec="seconds"), f"{r.duration_s:.1f}",
                      *[str(getattr(r, k)) for k in ("files", "skipped", "changed", "read", "ingested", "rejected",
                                                      "rescored")])
    _out().print(table)


@app.command("serve", rich_help_panel=SERVE)
def serve_cmd(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    access_log: Annotated[bool, typer.Option(help="Log every request.")] = False,
    home: HomeOpt = None,
) -> None:
    """Serve the graph query API (under /v1), the pages, /health, /ready and /metrics."""
    import uvicorn

    if home is not None:
        os.environ["MATCHGRAPH_HOME"] = str(home)  # read by every worker's Settings()
    from graph.settings import Settings

    # polars reads POLARS_MAX_THREADS when it is first imported, in each worker
    os.environ.setdefault("POLARS_MAX_THREADS", str(Settings().server_polars_threads))
    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, workers=workers, log_level=log_level,
                access_log=access_log, proxy_headers=False, server_header=False,
                http="api.server:TimedHttpProtocol")


@app.command("nightly", rich_help_panel=OPERATE)
def nightly_cmd(
    catalog: Annotated[Path | None, typer.Option("--catalog", help="Folder of catalog files.")] = None,
    logs: Annotated[Path | None, typer.Option("--logs", help="Folder of search-log files.")] = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Take in the new catalog and log files, rescore, and record the run."""
    from queries.models import RunView

    if catalog is None and logs is None:
        raise InvalidInput("give --catalog DIR, --logs DIR or both")
    with _app(home, batch=True) as mg, _file_progress("nightly") as progress:
        report = mg.nightly(catalog, logs, say=say, progress=progress)
    if as_json:
        _json(RunView(**report.row().row(0, named=True)))
    else:
        _out().print(report.summary(), highlight=False)
    if report.failed:
        raise PartialFailure(f"the run took in what it could; {len(report.failed)} file(s) failed",
                             hint="their reasons are in the run's rejects file (`matchgraph runs`)")


@app.command("synth", rich_help_panel=OPERATE)
def synth_cmd(
    artifacts: Annotated[int, typer.Option("--artifacts", min=10, max=1_000_000)],
    searches: Annotated[int, typer.Option("--searches", min=1, max=100_000_000)],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write catalog.jsonl and "
                                                        "searches-*.synthetic.jsonl.")],
    seed: Annotated[int, typer.Option("--seed")] = 1,
    per_file: Annotated[int, typer.Option("--per-file", min=1)] = 1_000_000,
) -> None:
    """Write a deterministic synthetic catalog and search log (the generator the samples use)."""
    from ingest.synth import write_synth

    for path in write_synth(out_dir, artifacts, searches, seed, per_file=per_file):
        _out().print(str(path), highlight=False)


@app.command("demo", rich_help_panel=OPERATE)
def demo_cmd(
    samples: Annotated[Path | None, typer.Option(help="Folder with catalog.jsonl and searches.synthetic.jsonl.gz "
                                                      "(default: the samples shipped in the package).")] = None,
    home: HomeOpt = None,
) -> None:
    """Ingest the shipped samples, score, and print the dalle-3-xl-lora-v2 vs flux-1-pro page."""
    from ingest import sample_files
    from queries.page import render_markdown

    with _app(home) as mg:
        result = mg.demo(samples or sample_files().folder, say=say)
    sys.stdout.write(render_markdown(result))


def _mount_neo4j() -> None:
    from api.neo4j_cli import neo4j_app

    app.add_typer(neo4j_app, name="neo4j", rich_help_panel=OPERATE)


_mount_neo4j()


def main() -> None:
    """Entry point: run the app, turning matchgraph's errors into one line and an exit code."""
    try:
        app()
    except MatchGraphError as e:
        say(f"error: {e}")
        raise SystemExit(e.exit_code) from None
    except Exception as e:  # the last line of defence: one line, never a traceback
        if os.environ.get("MATCHGRAPH_DEBUG"):
            raise
        say(f"internal error: {type(e).__name__}: {e} (set MATCHGRAPH_DEBUG=1 for the traceback)")
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
