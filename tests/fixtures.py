"""Small hand-made graphs for tests, with values small enough to check by hand."""

from __future__ import annotations

import json
import socket
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graph.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from graph.store import GraphStore
    from queries.engine import QueryEngine

CATALOG: list[dict[str, Any]] = [
    {"id": "flux-1-pro", "name": "FLUX.1 Pro", "type": "model", "pricing": "free", "provider": "Black Forest Labs",
     "released": "2024-08-01", "signals": {"likes": 500.0},
     "capabilities": [
         {"name": "Text to image", "description": "Makes images from prompts.", "unique": "Flow matching.",
          "vs_alternatives": "Sharper text rendering.", "tags": ["image"]},
         {"name": "Inpainting", "tags": ["image", "edit"]},
     ]},
    {"id": "flux-1-dev", "name": "FLUX.1 Dev", "type": "model", "pricing": "free", "provider": "Black Forest Labs",
     "released": "2024-08-01", "signals": {"likes": 9000.0},
     "capabilities": [{"name": "Text to image"}]},
    {"id": "dalle-3", "name": "DALL-E 3", "type": "model", "pricing": "paid", "provider": "OpenAI",
     "signals": {"likes": 100.0}, "capabilities": [{"name": "Text to image"}]},
    {"id": "sdxl", "name": "Stable Diffusion XL", "type": "model", "pricing": "free", "provider": "Stability AI",
     "license": "openrail++", "released": "2023-07-26", "capabilities": [{"name": "Text to image"}]},
    {"id": "sdxl-lora-anime", "name": "SDXL anime LoRA", "type": "finetune", "pricing": "free",
     "derived_from": ["sdxl"], "description": "An anime style adapter."},
    {"id": "comfyui", "name": "ComfyUI", "type": "app", "pricing": "free", "signals": {"stars": 60000.0},
     "integrates_with": ["sdxl", "flux-1-dev"], "description": "Node based image generation workflows."},
]


def search(sid: str, day: int, query: str, results: list[str], clicks: list[str] | None = None,
           session: str | None = None) -> dict[str, Any]:
    return {"search_id": sid, "ts": f"2026-01-{day:02d}T12:00:00Z", "query": query, "results": results,
            "clicks": clicks or [], "session_id": session}


SEARCHES: list[dict[str, Any]] = [
    search("s1", 1, "Text to image", ["flux-1-pro", "dalle-3", "sdxl"], ["flux-1-pro"], "u1"),
    search("s2", 2, "text  to image", ["dalle-3", "flux-1-pro"], ["flux-1-pro"], "u2"),
    search("s3", 3, "image model", ["sdxl", "midjourney"], [], "u2"),
    search("s4", 3, "comfy workflows", ["comfyui", "sdxl", "flux-1-dev"], ["comfyui", "sdxl"], "u3"),
]
"""Hand-checked facts: flux-1-pro is matched twice (positions 1 and 2) and chosen twice; dalle-3 and
flux-1-pro are co-matched twice; ``midjourney`` is not in the catalog and becomes a stub; in s4 two
of three shown were chosen, giving preferences comfyui>flux-1-dev (1 vs 3) and sdxl>flux-1-dev (2 vs 3)."""


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def api_settings(home: Path, **overrides: object) -> Settings:
    """Settings for API tests: no version-check delay, so a write is seen by the next request."""
    values: dict[str, object] = {"MATCHGRAPH_HOME": home, "NEO4J_URI": None, "MATCHGRAPH_VERSION_CHECK_S": 0}
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def free_port() -> int:
    """A TCP port nothing listens on now, for a test server on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def snapshot_engine(home: Path, **settings: object) -> QueryEngine:
    """A query engine over the current snapshot of the embedded store at ``home`` (a snapshot, unlike
    a Neo4j transaction, stays readable after its view closes, so tests may keep the engine)."""
    from graph.embedded import EmbeddedStore
    from queries.engine import QueryEngine

    with EmbeddedStore(home).reader() as view:
        return QueryEngine(view, api_settings(home, **settings))


def load_fixture(stores: Sequence[GraphStore], folder: Path) -> None:
    """CATALOG then SEARCHES, ingested into each store from the same two files."""
    from ingest.pipeline import ingest_catalogs, ingest_logs

    settings = Settings(MATCHGRAPH_HOME=folder / "home", NEO4J_URI=None)  # type: ignore[call-arg]
    catalog = write_jsonl(folder / "catalog.jsonl", CATALOG)
    logs = write_jsonl(folder / "logs.jsonl", SEARCHES)
    for store in stores:
        ingest_catalogs(store, [catalog], settings)
        ingest_logs(store, [logs], settings)


@contextmanager
def killed_at(owner: object, method: str, call: int) -> Iterator[None]:
    """``owner.method`` dies (``RuntimeError("killed")``) on its ``call``-th call, as a process
    killed at that moment would stop there; the calls before it run. Restored on leaving."""
    real = getattr(owner, method)
    calls = 0

    def dying(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == call:
            raise RuntimeError("killed")
        return real(*args, **kwargs)

    setattr(owner, method, dying)
    try:
        yield
    finally:
        setattr(owner, method, real)
