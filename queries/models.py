"""Typed shapes of every answer the query engine gives; the CLI's JSON and the HTTP API share them."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel


class SubScores(BaseModel):
    adoption: float | None
    quality: float | None
    ecosystem: float | None
    match_graph: float | None
    freshness: float | None


class ArtifactSummary(BaseModel):
    id: str
    name: str
    type: str | None
    pricing: str | None
    rank: int | None
    scores: SubScores
    times_matched: int
    capabilities_count: int


class CapabilityView(BaseModel):
    id: str
    name: str
    description: str | None
    unique: str | None
    vs_alternatives: str | None
    tags: list[str]


class QualityView(BaseModel):
    rating: float | None
    interval: tuple[float, float] | None
    comparisons: int
    low_confidence: bool


class ArtifactDetail(ArtifactSummary):
    provider: str | None
    url: str | None
    description: str | None
    license: str | None
    released: date | None
    catalogued: bool
    signals: dict[str, float]
    clicks: int
    quality: QualityView
    capabilities: list[CapabilityView]
    derived_from: list[str]
    derived_works: list[str]
    integrates_with: list[str]


class Alternative(ArtifactSummary):
    co_matched: int
    reason: str


class Comparison(BaseModel):
    a: ArtifactDetail
    b: ArtifactDetail
    winner: str | None
    headline: str
    verdict: str
    leads: dict[str, str | None]
    alternatives: list[Alternative]


class SearchHit(ArtifactSummary):
    relevance: float


class ExplainPart(BaseModel):
    value: float
    used: float
    weight: float
    contribution: float


class Explanation(BaseModel):
    id: str
    rank: int
    parts: dict[str, ExplainPart]
    evidence: dict[str, object]


class HistoryPoint(BaseModel):
    run: str
    scored_at: str
    rank: int
