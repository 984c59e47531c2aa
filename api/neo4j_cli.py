"""``matchgraph neo4j start|status|stop``: a local Neo4j server for development, CI and the demo.

Errors are raised as ``graph.errors`` types; the top-level CLI maps them to messages and exit codes.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from graph.settings import Settings

from api.guide import DEFAULT_SERVER, GUIDE_PATH, STYLE_PATH
from graph.errors import StoreUnavailable
from ops import neo4j_local as server

neo4j_app = typer.Typer(
    help="Run a local Neo4j 5.26 Community server (no Docker): jars from Maven, data under the home.",
    no_args_is_help=True,
)

HomeOption = Annotated[
    Path | None,
    typer.Option("--home", help="matchgraph home (default: MATCHGRAPH_HOME or ./.matchgraph)."),
]


def _settings() -> Settings:
    from graph.settings import Settings  # loaded only by a command that runs, not by --help

    return Settings()


def _home(home: Path | None) -> Path:
    return home if home is not None else _settings().home


def _tour(guide_server: str) -> server.BrowserTour | None:
    base = guide_server.strip().rstrip("/")
    return server.BrowserTour(guide_url=base + GUIDE_PATH, style_url=base + STYLE_PATH) if base else None


def _describe(info: server.ServerInfo, tour: server.BrowserTour | None = None) -> None:
    typer.echo(f"bolt     {info.bolt_uri}  (user {info.user})")
    typer.echo(f"browser  {info.browser_url}")
    if tour is not None:
        typer.echo(f"guide    :guide {tour.guide_url}  (opens on connecting while `matchgraph serve` runs)")
        if info.http_url not in _settings().browser_origins:
            typer.echo(f"         serve it with MATCHGRAPH_BROWSER_ORIGINS='[\"{info.http_url}\"]' "
                       "so this Browser may fetch it")
    typer.echo(f"pid      {info.pid}")
    typer.echo(f"password in {server.password_file(info.home)}")
    typer.echo(f"env      source {info.env_file}  (exports NEO4J_URI, NEO4J_USER, NEO4J_PASSWORD)")


@neo4j_app.command()
def start(
    bolt_port: Annotated[int, typer.Option(help="Bolt port on 127.0.0.1.")] = server.DEFAULT_BOLT_PORT,
    http_port: Annotated[int, typer.Option(help="HTTP/Browser port on 127.0.0.1.")] = server.DEFAULT_HTTP_PORT,
    home: HomeOption = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for Bolt to answer.")] = 120.0,
    guide_server: Annotated[str, typer.Option(
        help="The `matchgraph serve` address whose guide and style the Browser opens on connecting "
             "('' for none).")] = DEFAULT_SERVER,
) -> None:
    """Start the server (first run fetches the jars with Maven and sets a generated password)."""
    h = _home(home)
    tour = _tour(guide_server)
    already = server.status(h)
    began = time.monotonic()
    info = server.start(h, bolt_port=bolt_port, http_port=http_port, timeout_s=timeout, tour=tour)
    if already is not None:
        typer.echo(f"Neo4j is already running for {info.home}")
    else:
        typer.echo(f"Neo4j {server.NEO4J_VERSION} started in {time.monotonic() - began:.1f} s for {info.home}")
    _describe(info, tour if already is None else None)


@neo4j_app.command()
def status(home: HomeOption = None) -> None:
    """Report the running server; exits non-zero when none answers."""
    h = _home(home)
    info = server.status(h)
    if info is None:
        raise StoreUnavailable(f"no local Neo4j answers for {h.expanduser().resolve()}", hint="matchgraph neo4j start")
    typer.echo(f"Neo4j is running for {info.home}")
    _describe(info)


@neo4j_app.command()
def stop(
    home: HomeOption = None,
    timeout: Annotated[float, typer.Option(help="Seconds before SIGTERM becomes SIGKILL.")] = 60.0,
) -> None:
    """Stop the server (data and password are kept for the next start)."""
    h = _home(home)
    if server.stop(h, timeout_s=timeout):
        typer.echo(f"Neo4j stopped for {h.expanduser().resolve()}")
    else:
        typer.echo(f"Neo4j was not running for {h.expanduser().resolve()}")
