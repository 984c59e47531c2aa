"""Deterministic synthetic catalogs and search logs with a known ground truth.

Ranking code can only be checked against an answer it did not see. This module draws a catalog,
hides a per-artifact ``quality`` (log-attractiveness) and ``popularity`` behind it, and simulates
searches the way a real engine logs them:

* intents follow a Zipf-like law, and each intent is relevant to a subset of artifacts (by
  capability, type or name), so co-occurrence in results carries meaning;
* the engine orders results by popularity and relevance plus noise, **never by quality**, so a
  ranker that merely echoes display order cannot recover quality;
* clicks follow a position-biased examination model, ``P(click at p) = p**-0.8 * sigmoid(quality)``,
  so the raw click-through rate is confounded by position exactly as in real logs;
* searches come in sessions (several searches share a ``session_id`` within a day), with a daily
  rhythm in the timestamps.

Everything per search is drawn with numpy over whole blocks (intents at once, results as the top
10 of a noisy score matrix, clicks as ``uniform < probability``); the only Python loops run over
catalog entries or intents, never over searches. The same arguments give the same output, byte for
byte: every random draw comes from a generator seeded with ``(seed, purpose[, block])``.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
from pydantic import BaseModel

from graph.schema import SIGNALS, ArtifactType, Pricing, slugify

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

MAX_SHOWN = 10
"""Results per search page; the examination model is defined over these positions."""
POOL = 30
"""Candidates per intent the engine considers; the long tail beyond it is never shown."""
EXAM_POWER = 0.8
"""Examination decays like ``1 / position ** EXAM_POWER``."""
QUALITY_MEAN = -1.6
"""Mean log-odds of a click on an examined result: about one click per search, 35-45% without any."""
DEFAULT_START = datetime(2026, 1, 1, tzinfo=UTC)
DEFAULT_CHUNK = 200_000

_EXAM = (np.arange(1, MAX_SHOWN + 1, dtype=np.float32) ** -EXAM_POWER).astype(np.float32)
_HOUR_INTENSITY = 1.0 + 0.7 * np.sin(2 * np.pi * (np.arange(24) - 9.0) / 24.0)
"""Relative search volume per UTC hour: a daytime peak and a night trough."""

# Streams of random numbers, one per purpose, so adding a draw to one never shifts another.
_TRUTH, _INTENT_MASS, _CATALOG, _SEARCHES = 1, 2, 3, 4


@dataclass(frozen=True)
class Intent:
    """A search need: the query text people type, and how relevant each artifact is to it.

    ``relevance`` maps artifact id to a positive weight (1 = plainly relevant, large = the very
    thing asked for, as in a query by name). ``weight`` scales how often the intent is searched.
    """

    query: str
    relevance: Mapping[str, float]
    weight: float = 1.0
    kind: str = "capability"


@dataclass(frozen=True, eq=False)
class Truth:
    """The hidden parameters of a synthetic log, aligned with ``ids``.

    ``quality`` is the log-odds of a click once a result is examined; ``popularity`` is the
    normalized prior weight the engine (and the intent mix) gives each artifact.
    """

    ids: tuple[str, ...]
    quality: np.ndarray
    popularity: np.ndarray
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {a: i for i, a in enumerate(self.ids)})

    def quality_of(self, artifact_id: str) -> float:
        return float(self.quality[self._index[artifact_id]])

    def popularity_of(self, artifact_id: str) -> float:
        return float(self.popularity[self._index[artifact_id]])

    def to_frame(self) -> pl.DataFrame:
        return pl.DataFrame(
            {"id": list(self.ids), "quality": self.quality, "popularity": self.popularity},
            schema={"id": pl.String, "quality": pl.Float64, "popularity": pl.Float64},
        )


# --------------------------------------------------------------------------------------------
# Catalog
# --------------------------------------------------------------------------------------------

_CAPABILITIES: dict[str, tuple[str, tuple[str, ...]]] = {
    # name: (family, tags)
    "text-to-image generation": ("image", ("image", "generation")),
    "image editing": ("image", ("image", "editing")),
    "inpainting": ("image", ("image", "editing")),
    "image upscaling": ("image", ("image",)),
    "lora style adaptation": ("image", ("image", "fine-tuning")),
    "chat completion": ("text", ("llm", "chat")),
    "code generation": ("text", ("llm", "coding")),
    "function calling": ("text", ("llm", "tools")),
    "long-context reasoning": ("text", ("llm", "reasoning")),
    "summarization": ("text", ("llm", "nlp")),
    "translation": ("text", ("llm", "nlp")),
    "image understanding": ("text", ("llm", "vision")),
    "text embeddings": ("retrieval", ("embeddings", "rag")),
    "reranking": ("retrieval", ("search", "rag")),
    "vector search": ("retrieval", ("search", "database")),
    "retrieval-augmented generation": ("retrieval", ("rag", "llm")),
    "speech-to-text": ("audio", ("audio", "transcription")),
    "text-to-speech": ("audio", ("audio", "voice")),
    "music generation": ("audio", ("audio", "generation")),
    "text-to-video generation": ("video", ("video", "generation")),
    "web browsing": ("agentic", ("agents", "web")),
    "task planning": ("agentic", ("agents",)),
    "tool orchestration": ("agentic", ("agents", "tools")),
    "code execution sandbox": ("agentic", ("agents", "coding")),
    "file system access": ("agentic", ("mcp", "tools")),
    "database access": ("agentic", ("mcp", "database")),
    "issue triage": ("agentic", ("agents", "devtools")),
    "benchmark evaluation": ("data", ("evaluation",)),
    "leaderboard tracking": ("data", ("evaluation",)),
    "instruction tuning data": ("data", ("dataset", "fine-tuning")),
    "pretraining corpus": ("data", ("dataset",)),
    "model serving": ("infra", ("deployment",)),
    "distributed training": ("infra", ("training",)),
    "experiment tracking": ("infra", ("mlops",)),
    "quantization": ("infra", ("efficiency",)),
    "fine-tuning": ("infra", ("training", "fine-tuning")),
}
_CAP_NAMES = tuple(_CAPABILITIES)
_FAMILIES = ("image", "text", "retrieval", "audio", "video", "agentic", "data", "infra")

_TYPE_MIX: dict[ArtifactType, tuple[float, dict[str, float]]] = {
    # type: (share of the catalog, affinity to capability families)
    ArtifactType.MODEL: (0.26, {"image": 2, "text": 4, "retrieval": 1.5, "audio": 1, "video": 0.7}),
    ArtifactType.FINETUNE: (0.16, {"text": 4, "image": 2, "retrieval": 0.5}),
    ArtifactType.API: (0.10, {"text": 2, "image": 2, "retrieval": 2, "audio": 1.5, "video": 1}),
    ArtifactType.REPO: (0.12, {"infra": 2, "text": 1, "image": 1, "retrieval": 1, "agentic": 1}),
    ArtifactType.FRAMEWORK: (0.05, {"infra": 4, "agentic": 1, "retrieval": 1}),
    ArtifactType.AGENT: (0.09, {"agentic": 4, "text": 1}),
    ArtifactType.MCP: (0.07, {"agentic": 4, "retrieval": 1}),
    ArtifactType.DATASET: (0.06, {"data": 4}),
    ArtifactType.BENCHMARK: (0.05, {"data": 4, "text": 0.5}),
    ArtifactType.CLI: (0.04, {"infra": 2, "agentic": 2}),
}
_STEMS = (
    "nova", "lumen", "atlas", "orbit", "quill", "ember", "vertex", "halo", "cinder", "delta",
    "pico", "sable", "tundra", "zephyr", "onyx", "prism", "aurora", "kestrel", "basalt", "fable",
    "glyph", "marble", "nimbus", "rivet", "saffron", "tangent", "umbra", "vesper", "willow", "yarrow",
)
_SUFFIX: dict[ArtifactType, tuple[str, ...]] = {
    ArtifactType.MODEL: ("lm", "gen", "diffusion", "vision", "coder", "voice"),
    ArtifactType.FINETUNE: ("instruct", "chat", "dpo", "merge", "lora"),
    ArtifactType.API: ("api", "cloud", "endpoint"),
    ArtifactType.REPO: ("kit", "lab", "tools", "py"),
    ArtifactType.FRAMEWORK: ("flow", "stack", "core"),
    ArtifactType.AGENT: ("agent", "pilot", "assist"),
    ArtifactType.MCP: ("mcp", "mcp-server", "bridge"),
    ArtifactType.DATASET: ("corpus", "set", "pile"),
    ArtifactType.BENCHMARK: ("bench", "eval", "arena"),
    ArtifactType.CLI: ("cli", "ctl", "sh"),
}
_VERSIONS = ("", "2", "3", "v1", "v2", "7b", "8b", "13b", "70b", "xl", "mini", "pro")
_PROVIDERS = (
    "Acme AI", "Northwind Labs", "Blue Harbor", "Quanta Research", "Open Meadow", "Stellar Compute",
    "Fjord Systems", "Cobalt AI", "Mosaic Works", "Ridgeline", "Papaya Labs", "Granite Cloud",
    "Lattice AI", "Beacon Models", "Tidewater", "Solstice Labs", "Ironbark", "Juniper AI",
    "Kelvin Research", "Lighthouse ML",
)


def _zipf_weights(n: int, s: float) -> np.ndarray:
    w = np.arange(1, n + 1, dtype=np.float64) ** -s
    out: np.ndarray = w / w.sum()
    return out


def synth_catalog(n_artifacts: int, seed: int) -> list[dict[str, Any]]:
    """``n_artifacts`` native catalog records drawn at random, the same ones for the same seed.

    Adoption signals follow a lognormal law around a hidden prominence, so catalogs carry the
    heavy tail real ones do; fine-tunes derive from earlier models and tools integrate with
    frameworks, so lineage and ecosystem edges exist for the graph to use.
    """
    if n_artifacts < 1:
        raise ValueError("n_artifacts must be at least 1")
    rng = np.random.default_rng([seed, _CATALOG])
    types = list(_TYPE_MIX)
    share = np.array([_TYPE_MIX[t][0] for t in types])
    type_idx = rng.choice(len(types), size=n_artifacts, p=share / share.sum())
    # Guarantee a framework and a model exist whenever the catalog is big enough to link to them.
    if n_artifacts >= 4:
        type_idx[0] = types.index(ArtifactType.FRAMEWORK)
        type_idx[1] = types.index(ArtifactType.MODEL)
    prominence = rng.standard_normal(n_artifacts)
    # Prominent artifacts are broader products with more documented capabilities, so they answer
    # more needs; that, not only display order, is what concentrates impressions on them.
    n_caps = 1 + rng.binomial(9, 1.0 / (1.0 + np.exp(0.5 - 1.5 * prominence)))
    provider_idx = rng.choice(len(_PROVIDERS), size=n_artifacts, p=_zipf_weights(len(_PROVIDERS), 1.0))
    stem_idx = rng.integers(0, len(_STEMS), size=(n_artifacts, 2))
    version_idx = rng.integers(0, len(_VERSIONS), size=n_artifacts)
    suffix_u = rng.random(n_artifacts)
    released_days = rng.integers(0, 6 * 365, size=n_artifacts)
    signal_noise = rng.standard_normal((n_artifacts, 3))
    pricing_u = rng.random(n_artifacts)
    link_u = rng.random((n_artifacts, 3))

    family_of = np.array([_FAMILIES.index(_CAPABILITIES[c][0]) for c in _CAP_NAMES])
    within = np.empty(len(_CAP_NAMES))
    for fam in range(len(_FAMILIES)):
        members = np.flatnonzero(family_of == fam)
        within[members] = _zipf_weights(len(members), 0.7)
    cap_p = {}
    for t in types:
        affinity = np.array([_TYPE_MIX[t][1].get(f, 0.05) for f in _FAMILIES])
        p = affinity[family_of] * within
        cap_p[t] = p / p.sum()

    records: list[dict[str, Any]] = []
    seen: set[str] = set()
    frameworks: list[str] = []
    models: list[str] = []
    for i in range(n_artifacts):
        kind = types[type_idx[i]]
        suffixes = _SUFFIX[kind]
        stem = _STEMS[stem_idx[i, 0]].title() + _STEMS[stem_idx[i, 1]]
        version = _VERSIONS[version_idx[i]]
        name = " ".join(p for p in (stem, suffixes[int(suffix_u[i] * len(suffixes))], version) if p)
        art_id = slugify(name)
        if art_id in seen:
            art_id = f"{art_id}-{i}"
            name = f"{name} ({i})"
        seen.add(art_id)
        caps = rng.choice(len(_CAP_NAMES), size=min(int(n_caps[i]), len(_CAP_NAMES)), replace=False, p=cap_p[kind])
        capabilities = [
            {
                "name": _CAP_NAMES[c],
                "description": f"{name} offers {_CAP_NAMES[c]} as a {kind.value}.",
                "tags": list(_CAPABILITIES[_CAP_NAMES[c]][1]),
            }
            for c in caps
        ]
        scale = math.exp(1.6 * prominence[i])
        signals: dict[str, float] = {}
        if kind in (ArtifactType.MODEL, ArtifactType.FINETUNE, ArtifactType.DATASET):
            signals["likes"] = float(round(40 * scale * math.exp(0.5 * signal_noise[i, 0])))
            signals["downloads"] = float(round(5000 * scale * math.exp(0.8 * signal_noise[i, 1])))
        elif kind in (ArtifactType.REPO, ArtifactType.FRAMEWORK, ArtifactType.CLI, ArtifactType.AGENT,
                      ArtifactType.MCP, ArtifactType.BENCHMARK):
            signals["stars"] = float(round(300 * scale * math.exp(0.5 * signal_noise[i, 0])))
            signals["forks"] = float(round(30 * scale * math.exp(0.6 * signal_noise[i, 1])))
            signals["contributors"] = float(max(1, round(8 * scale ** 0.5 * math.exp(0.4 * signal_noise[i, 2]))))
        pricing = (Pricing.PAID if pricing_u[i] < 0.7 else Pricing.FREEMIUM) if kind == ArtifactType.API else (
            Pricing.FREE if pricing_u[i] < 0.75 else Pricing.FREEMIUM
        )
        derived_from: list[str] = []
        if kind == ArtifactType.FINETUNE and models:
            derived_from = [models[int(link_u[i, 0] ** 2 * len(models))]]
        integrates_with: list[str] = []
        if kind in (ArtifactType.REPO, ArtifactType.AGENT, ArtifactType.MCP, ArtifactType.CLI) and frameworks:
            picks = {frameworks[int(u ** 2 * len(frameworks))] for u in link_u[i, 1 : 1 + 1 + int(link_u[i, 0] < 0.4)]}
            integrates_with = sorted(picks)
        record: dict[str, Any] = {
            "id": art_id,
            "name": name,
            "type": kind.value,
            "provider": _PROVIDERS[provider_idx[i]],
            "pricing": pricing.value,
            "description": f"Synthetic {kind.value} for tests: {', '.join(c['name'] for c in capabilities)}.",
            "released": (date(2019, 1, 1) + timedelta(days=int(released_days[i]))).isoformat(),
            "signals": signals,
            "derived_from": derived_from,
            "integrates_with": integrates_with,
            "capabilities": capabilities,
        }
        records.append(record)
        if kind == ArtifactType.FRAMEWORK:
            frameworks.append(art_id)
        elif kind == ArtifactType.MODEL:
            models.append(art_id)
    return records


# --------------------------------------------------------------------------------------------
# Intents
# --------------------------------------------------------------------------------------------

_TYPE_PHRASE = {
    "model": "ai models", "finetune": "fine-tuned models", "api": "apis", "repo": "github repos",
    "framework": "frameworks", "agent": "ai agents", "mcp": "mcp servers", "dataset": "datasets",
    "benchmark": "benchmarks", "cli": "cli tools", "platform": "platforms", "app": "apps",
    "webapp": "web apps", "product": "ai products", "extension": "extensions", "prompt": "prompts",
    "skill": "agent skills", "template": "templates", "workflow": "workflows",
}
_TYPE_WORD = {
    "model": "model", "finetune": "fine-tune", "api": "api", "repo": "library", "framework": "framework",
    "agent": "agent", "mcp": "mcp server", "dataset": "dataset", "benchmark": "benchmark", "cli": "cli",
}


def _as_records(artifacts: Sequence[Mapping[str, Any] | BaseModel]) -> list[dict[str, Any]]:
    out = []
    for a in artifacts:
        record = a.model_dump(mode="json") if isinstance(a, BaseModel) else dict(a)
        record["id"] = str(record["id"]).strip().lower()
        out.append(record)
    return out


def _prior(records: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """A catalog-only prominence score: log of the largest adoption signal (0 when there is none)."""
    values = []
    for r in records:
        signals = r.get("signals") or {}
        best = max((float(signals.get(s) or 0.0) for s in SIGNALS), default=0.0)
        values.append(math.log1p(best))
    return np.asarray(values, dtype=np.float64)


def derive_intents(artifacts: Sequence[Mapping[str, Any] | BaseModel], max_pairs: int = 5) -> list[Intent]:
    """Intents a catalog implies: by capability, capability + type, type, name, comparison, alternatives.

    Relevance comes only from the catalog (shared capabilities, names), so the intents carry the
    structure a match graph should find: artifacts that answer the same need co-occur in results.
    """
    records = _as_records(artifacts)
    prior = _prior(records)
    order = np.argsort(-prior, kind="stable")
    rank = np.empty(len(records), dtype=np.int64)
    rank[order] = np.arange(len(records))
    by_cap: dict[str, list[int]] = defaultdict(list)
    first_cap: dict[int, str] = {}
    for i in order:
        caps = [c["name"].strip().lower() for c in records[i].get("capabilities") or [] if c.get("name")]
        for position, cap in enumerate(dict.fromkeys(caps)):
            by_cap[cap].append(int(i))
            if position == 0:
                first_cap[int(i)] = cap
    intents: list[Intent] = []
    for cap, members in sorted(by_cap.items()):
        if len(members) < 2:  # a capability only one artifact names is a feature, not a search need
            continue
        intents.append(Intent(cap, {records[m]["id"]: 1.0 for m in members}, 1.0, "capability"))
        per_type: dict[str, list[int]] = defaultdict(list)
        for m in members:
            per_type[records[m]["type"]].append(m)
        for kind, typed in sorted(per_type.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:2]:
            if kind not in _TYPE_WORD or len(typed) < 2:
                continue
            relevance = {records[m]["id"]: 0.5 for m in members}
            relevance.update({records[m]["id"]: 3.0 for m in typed})
            intents.append(Intent(f"{cap} {_TYPE_WORD[kind]}", relevance, 0.6, "capability-type"))
        for a, b in zip(members[0 : 2 * max_pairs : 2], members[1 : 2 * max_pairs : 2], strict=False):
            relevance = {records[m]["id"]: 0.5 for m in members[:POOL]}
            relevance[records[a]["id"]] = relevance[records[b]["id"]] = 30.0
            query = f"{records[a]['name'].lower()} vs {records[b]['name'].lower()}"
            intents.append(Intent(query, relevance, 0.3, "comparison"))
    per_kind: dict[str, list[int]] = defaultdict(list)
    for i in order:
        per_kind[records[i]["type"]].append(int(i))
    for kind, members in sorted(per_kind.items()):
        if len(members) >= 2:
            intents.append(Intent(f"best {_TYPE_PHRASE.get(kind, kind)}", {records[m]["id"]: 1.0 for m in members},
                                  0.5, "type"))
    for i in range(len(records)):
        art = records[i]
        neighbours = [m for m in by_cap.get(first_cap.get(i, ""), []) if m != i][:POOL]
        relevance = {records[m]["id"]: 0.3 for m in neighbours}
        relevance[art["id"]] = 60.0
        intents.append(Intent(str(art["name"]).lower(), relevance, 1.0, "navigational"))
        if neighbours and rank[i] < max(10, len(records) // 3):
            alt = {records[m]["id"]: 1.0 for m in neighbours}
            alt[art["id"]] = 30.0
            intents.append(Intent(f"{str(art['name']).lower()} alternatives", alt, 0.3, "alternatives"))
    return intents


# --------------------------------------------------------------------------------------------
# Truth and the engine's candidate pools
# --------------------------------------------------------------------------------------------


def synth_truth(
    artifacts: Sequence[Mapping[str, Any] | BaseModel],
    seed: int,
    popularity: Mapping[str, float] | None = None,
    quality: Mapping[str, float] | None = None,
    zipf: float = 1.1,
) -> Truth:
    """Hidden popularity (Zipf over a noisy adoption ranking) and quality (log-odds of a click).

    ``popularity`` replaces the drawn weights for the ids it names (missing ids get the smallest
    given weight); ``quality`` overrides single ids. Quality is only mildly tied to popularity
    (correlation about 0.3), so popular is not the same as good.
    """
    records = _as_records(artifacts)
    ids = tuple(r["id"] for r in records)
    if len(set(ids)) != len(ids):
        raise ValueError("artifact ids must be unique")
    n = len(ids)
    rng = np.random.default_rng([seed, _TRUTH])
    prior = _prior(records)
    spread = prior.std()
    latent = 0.8 * ((prior - prior.mean()) / spread if spread > 0 else prior * 0) + 0.6 * rng.standard_normal(n)
    rank = np.empty(n, dtype=np.float64)
    rank[np.argsort(-latent, kind="stable")] = np.arange(1, n + 1)
    pop = rank**-zipf
    if popularity is not None:
        given = np.array([float(popularity.get(a, np.nan)) for a in ids])
        if np.any(given[~np.isnan(given)] <= 0):
            raise ValueError("popularity weights must be positive")
        floor = np.nanmin(given) if np.any(~np.isnan(given)) else 1.0
        pop = np.where(np.isnan(given), floor, given)
    pop = pop / pop.sum()
    # Tie quality to the popularity *rank* (a unit-variance uniform score), not to log popularity,
    # whose Zipf tail would hand the few most popular artifacts an outsized quality.
    pop_rank = np.empty(n, dtype=np.float64)
    pop_rank[np.argsort(-pop, kind="stable")] = np.arange(n)
    z = (0.5 - (pop_rank + 0.5) / n) * math.sqrt(12.0)
    qual = QUALITY_MEAN + 0.3 * z + math.sqrt(1 - 0.3**2) * rng.standard_normal(n)
    if quality:
        index = {a: i for i, a in enumerate(ids)}
        for art_id, value in quality.items():
            if art_id in index:
                qual[index[art_id]] = float(value)
    return Truth(ids, qual.astype(np.float64), pop.astype(np.float64))


@dataclass(frozen=True)
class _Engine:
    """What the simulated search engine knows, as padded matrices indexed by intent."""

    queries: pl.Series  # query text per intent
    intent_p: np.ndarray  # how often each intent is searched
    candidates: np.ndarray  # (n_intents, POOL) artifact index, -1 for padding
    base_score: np.ndarray  # (n_intents, POOL) display score before noise, -inf for padding
    ids: pl.Series
    attract: np.ndarray  # sigmoid(quality) per artifact, plus a trailing 0 for padding


def _engine(truth: Truth, intents: Sequence[Intent], seed: int) -> _Engine:
    index = {a: i for i, a in enumerate(truth.ids)}
    rows: list[int] = []
    cols: list[int] = []
    rels: list[float] = []
    kept: list[Intent] = []
    for intent in intents:
        pairs = [(index[a], r) for a, r in intent.relevance.items() if a in index and r > 0]
        if not pairs or not intent.query.strip():
            continue
        k = len(kept)
        kept.append(intent)
        rows.extend([k] * len(pairs))
        cols.extend(p[0] for p in pairs)
        rels.extend(p[1] for p in pairs)
    if not kept:
        raise ValueError("no intent is relevant to any artifact of the catalog")
    row = np.asarray(rows, dtype=np.int64)
    col = np.asarray(cols, dtype=np.int64)
    rel = np.asarray(rels, dtype=np.float64)
    log_pop = np.log(truth.popularity)
    score = log_pop[col] + np.log(rel)
    # Keep each intent's POOL best candidates by prior score: sort by (intent, -score, artifact).
    order = np.lexsort((col, -score, row))
    row, col, rel, score = row[order], col[order], rel[order], score[order]
    starts = np.searchsorted(row, np.arange(len(kept)))
    slot = np.arange(len(row)) - starts[row]
    keep = slot < POOL
    candidates = np.full((len(kept), POOL), -1, dtype=np.int32)
    base = np.full((len(kept), POOL), -np.inf, dtype=np.float32)
    candidates[row[keep], slot[keep]] = col[keep]
    base[row[keep], slot[keep]] = score[keep]
    # Intent volume: its weight times the popularity mass of what it is about, with lognormal noise.
    mass = np.zeros(len(kept))
    np.add.at(mass, row[keep], rel[keep] * truth.popularity[col[keep]])
    top_rel = np.zeros(len(kept))
    np.maximum.at(top_rel, row, rel)
    weight = np.array([max(i.weight, 0.0) for i in kept])
    noise = np.random.default_rng([seed, _INTENT_MASS]).lognormal(0.0, 0.5, size=len(kept))
    p = weight * (mass / top_rel) ** 0.8 * noise
    if p.sum() <= 0:
        raise ValueError("every intent has zero weight")
    attract = np.append(1.0 / (1.0 + np.exp(-truth.quality)), 0.0).astype(np.float32)
    return _Engine(
        queries=pl.Series("query", [i.query for i in kept], dtype=pl.String),
        intent_p=p / p.sum(),
        candidates=candidates,
        base_score=base,
        ids=pl.Series("id", list(truth.ids), dtype=pl.String),
        attract=attract,
    )


# --------------------------------------------------------------------------------------------
# Searches
# --------------------------------------------------------------------------------------------


def _codes_to_lists(ids: pl.Series, codes: np.ndarray) -> pl.Series:
    """A (rows, width) matrix of artifact indexes (-1 = nothing) as a List(String) column."""
    rows, width = codes.shape
    flat = codes.ravel()
    valid = flat >= 0
    names = ids.gather(np.where(valid, flat, 0))
    names = pl.select(pl.when(pl.Series(valid)).then(names)).to_series()
    return names.reshape((rows, width)).arr.to_list().list.drop_nulls()


def _session_starts(rng: np.random.Generator, n: int, t0: float, t1: float) -> np.ndarray:
    """``n`` instants in [t0, t1) (epoch seconds) following the daily rhythm of search volume."""
    first_hour = math.floor(t0 / 3600)
    hours = np.arange(first_hour, math.ceil(t1 / 3600) + 1, dtype=np.float64)
    edges = np.clip(hours * 3600, t0, t1)
    intensity = _HOUR_INTENSITY[(hours[:-1] % 24).astype(np.int64)] * np.diff(edges)
    cdf = np.concatenate([[0.0], np.cumsum(intensity)])
    starts: np.ndarray = np.interp(rng.random(n) * cdf[-1], cdf, edges)
    return starts


def _block(
    engine: _Engine, rng: np.random.Generator, m: int, offset: int, t0: float, t1: float, prefix: str, block: int
) -> pl.DataFrame:
    """``m`` searches in the time window [t0, t1), numbered from ``offset``."""
    # Sessions: geometric lengths (mean 3), starts by daily rhythm, about a minute between searches.
    lengths = rng.geometric(1 / 3.0, size=m)
    cut = int(np.searchsorted(np.cumsum(lengths), m)) + 1
    lengths = lengths[:cut]
    lengths[-1] -= int(lengths.sum()) - m
    n_sessions = len(lengths)
    session = np.repeat(np.arange(n_sessions), lengths)
    first = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    gaps = rng.exponential(45.0, size=m) + 10.0
    gaps[first] = 0.0
    elapsed = np.cumsum(gaps)
    elapsed -= elapsed[first][session]
    start = _session_starts(rng, n_sessions, t0, t1)
    # A session that would run past midnight starts earlier instead, so it stays within one day.
    duration = elapsed[first + lengths - 1]
    day_end = (np.floor(start / 86_400.0) + 1) * 86_400.0 - 1.0
    start = np.minimum(start, day_end - duration)
    ts = np.floor(start[session] + elapsed).astype(np.int64)

    # Intents: each session has a main need; a third of its searches drift to another one.
    main = rng.choice(len(engine.intent_p), size=n_sessions, p=engine.intent_p)
    drift = rng.choice(len(engine.intent_p), size=m, p=engine.intent_p)
    intent = np.where(rng.random(m) < 0.35, drift, main[session])

    # Display order: popularity + relevance + noise; quality plays no part.
    scores = engine.base_score[intent] + rng.standard_normal((m, POOL), dtype=np.float32)
    shown = min(MAX_SHOWN, POOL)
    top = np.argpartition(-scores, shown - 1, axis=1)[:, :shown]
    top_scores = np.take_along_axis(scores, top, axis=1)
    top = np.take_along_axis(top, np.argsort(-top_scores, axis=1, kind="stable"), axis=1)
    results = np.take_along_axis(engine.candidates[intent], top, axis=1)

    # Clicks: examined with probability position ** -0.8, clicked if attracted by quality.
    p_click = _EXAM[None, :shown] * engine.attract[results]
    clicked = (rng.random((m, shown), dtype=np.float32) < p_click) & (results >= 0)
    clicks = np.where(clicked, results, -1)

    order = np.argsort(ts, kind="stable")
    frame = pl.DataFrame(
        {
            "n": np.arange(offset, offset + m, dtype=np.int64),
            "ts": ts[order] * 1_000_000,
            "query": engine.queries.gather(intent[order]),
            "results": _codes_to_lists(engine.ids, results[order]),
            "clicks": _codes_to_lists(engine.ids, clicks[order]),
            "session": session[order],
        }
    )
    return frame.select(
        pl.format("{}{}", pl.lit(prefix), pl.col("n").cast(pl.String).str.zfill(9)).alias("search_id"),
        pl.col("ts").cast(pl.Datetime("us")).dt.replace_time_zone("UTC"),
        "query",
        "results",
        "clicks",
        pl.format("{}s{}-{}", pl.lit(prefix), pl.lit(block), pl.col("session")).alias("session_id"),
    )


def iter_synth_searches(
    artifacts: Sequence[Mapping[str, Any] | BaseModel],
    n_searches: int,
    seed: int,
    start: datetime = DEFAULT_START,
    days: int = 30,
    *,
    chunk: int = DEFAULT_CHUNK,
    intents: Sequence[Intent] | None = None,
    popularity: Mapping[str, float] | None = None,
    quality: Mapping[str, float] | None = None,
    id_prefix: str | None = None,
) -> Iterator[pl.DataFrame]:
    """Frames of at most ``chunk`` searches each, for logs too big for one frame.

    Block ``k`` covers its share of the ``days``-long window and draws from its own seeded
    generator, so memory stays bounded and the output depends only on the arguments (including
    ``chunk``). Each frame is sorted by time and search ids rise with it; a session started near
    the end of a block may run a few minutes past the next block's first search. ``intents``
    defaults to :func:`derive_intents` of the catalog.
    """
    if n_searches < 0 or chunk < 1 or days < 1:
        raise ValueError("n_searches must be >= 0, chunk and days >= 1")
    truth = synth_truth(artifacts, seed, popularity, quality)
    engine = _engine(truth, derive_intents(artifacts) if intents is None else intents, seed)
    prefix = f"syn{seed}-" if id_prefix is None else id_prefix
    begin = (start if start.tzinfo else start.replace(tzinfo=UTC)).timestamp()
    span = days * 86_400.0
    for block, offset in enumerate(range(0, n_searches, chunk)):
        m = min(chunk, n_searches - offset)
        rng = np.random.default_rng([seed, _SEARCHES, block])
        t0 = begin + span * offset / n_searches
        t1 = begin + span * (offset + m) / n_searches
        yield _block(engine, rng, m, offset, t0, t1, prefix, block)


def synth_searches(
    artifacts: Sequence[Mapping[str, Any] | BaseModel],
    n_searches: int,
    seed: int,
    start: datetime = DEFAULT_START,
    days: int = 30,
    *,
    chunk: int = DEFAULT_CHUNK,
    intents: Sequence[Intent] | None = None,
    popularity: Mapping[str, float] | None = None,
    quality: Mapping[str, float] | None = None,
    id_prefix: str | None = None,
) -> tuple[pl.DataFrame, Truth]:
    """All searches as one frame with the native columns, and the hidden truth behind them."""
    frames = list(
        iter_synth_searches(artifacts, n_searches, seed, start, days, chunk=chunk, intents=intents,
                            popularity=popularity, quality=quality, id_prefix=id_prefix)
    )
    frame = pl.concat(frames) if frames else _empty_searches()
    return frame, synth_truth(artifacts, seed, popularity, quality)


def _empty_searches() -> pl.DataFrame:
    return pl.DataFrame(
        schema={"search_id": pl.String, "ts": pl.Datetime("us", "UTC"), "query": pl.String,
                "results": pl.List(pl.String), "clicks": pl.List(pl.String), "session_id": pl.String}
    )


def to_native_json(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with ``ts`` as ISO 8601 text ending in ``Z``, ready for ``write_ndjson``."""
    return frame.with_columns(pl.col("ts").dt.strftime("%Y-%m-%dT%H:%M:%SZ"))


def write_synth(
    out_dir: str | Path,
    n_artifacts: int,
    n_searches: int,
    seed: int,
    start: datetime = DEFAULT_START,
    days: int = 30,
    per_file: int = 1_000_000,
) -> list[Path]:
    """Write ``catalog.jsonl`` and ``searches-NNNN.synthetic.jsonl`` (``per_file`` searches each) to
    ``out_dir``; the file names say the searches are synthetic (see :func:`graph.schema.is_synthetic_source`)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    catalog = synth_catalog(n_artifacts, seed)
    catalog_path = out / "catalog.jsonl"
    with open(catalog_path, "w", encoding="utf-8") as fh:
        for record in catalog:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    paths = [catalog_path]
    chunk = min(DEFAULT_CHUNK, per_file)
    handle = None
    written = per_file
    try:
        for frame in iter_synth_searches(catalog, n_searches, seed, start, days, chunk=chunk):
            rest = frame
            while rest.height:
                if written >= per_file:
                    if handle:
                        handle.close()
                    path = out / f"searches-{len(paths) - 1:04d}.synthetic.jsonl"
                    paths.append(path)
                    handle = open(path, "wb")
                    written = 0
                take = rest.head(per_file - written)
                assert handle is not None
                to_native_json(take).write_ndjson(handle)
                written += take.height
                rest = rest.slice(take.height)
    finally:
        if handle:
            handle.close()
    return paths
