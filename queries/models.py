"""Typed shapes of every answer the query engine gives; the CLI's JSON and the HTTP API share them."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Generic, Literal, TypeVar

from pydantic import BaseModel, Field, create_model

from queries.subscores import REGISTRY

T = TypeVar("T")

if TYPE_CHECKING:
    class SubScores(BaseModel):
        """Each registered sub-score's value (0-100) or null."""

        def __getattr__(self, name: str) -> float | None: ...
else:
    SubScores = create_model(
        "SubScores",
        __doc__="Each sub-score's value, 0-100 (null when not scored); fields from queries.subscores.REGISTRY.",
        **{s.name: (float | None, Field(description=f"{s.label}: {s.summary}.")) for s in REGISTRY},
    )


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
    name: str = Field(description="The capability's canonical name, shared by every artifact that has it.")
    description: str | None
    unique: str | None
    vs_alternatives: str | None
    tags: list[str]
    own_name: str | None = Field(default=None, description="What this artifact's catalog calls it.")
    provisional: bool = Field(default=False, description="Written by a catalog since the last scoring run, "
                                                         "which has not grouped it with the others yet.")


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
    capabilities: CapabilityComparison | None = None


class SearchHit(ArtifactSummary):
    relevance: float
    why: list[MatchReason] = Field(default_factory=list, description="Why it matched, strongest reason first.")


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


class Page(BaseModel, Generic[T]):
    """One page of a ranked list: ``next_offset`` is where the next page starts (null at the end)."""

    items: list[T]
    offset: int
    limit: int
    next_offset: int | None

    @classmethod
    def of(cls, items: list[T], offset: int, limit: int) -> Page[T]:
        """A page from up to ``limit + 1`` items: the extra one only tells that a next page exists."""
        return cls(items=items[:limit], offset=offset, limit=limit,
                   next_offset=offset + limit if len(items) > limit else None)


class GraphNode(BaseModel):
    id: str
    label: Literal["Artifact", "Capability", "Intent", "Provider"]
    name: str
    type: str | None = None
    rank: int | None = None
    depth: int = Field(description="Hops from the centre (0 for the centre itself).")


class GraphEdge(BaseModel):
    source: str
    target: str
    type: str
    weight: float


class Subgraph(BaseModel):
    """Nodes and edges around a centre, small enough to draw and to send over HTTP: every edge
    between two of the nodes is included, not only the ones the walk followed."""

    center: str
    depth: int
    nodes: list[GraphNode]
    edges: list[GraphEdge]


class PathStep(BaseModel):
    source: str
    target: str
    type: str
    weight: float


class PathAnswer(BaseModel):
    """How two artifacts are connected: the fewest-hop chain through co-match, lineage and
    integration edges, each step with the edge that makes it."""

    source: str
    target: str
    max_depth: int
    connected: bool
    hops: int | None
    nodes: list[ArtifactSummary]
    steps: list[PathStep]


class RunView(BaseModel):
    run: str
    started_at: datetime
    ended_at: datetime | None
    files: int
    skipped: int
    changed: int
    read: int
    ingested: int
    rejected: int
    duration_s: float
    rescored: bool
    rejects: str | None
    failed: int = 0


# -- the capability graph ------------------------------------------------------------------------------
class MatchReason(BaseModel):
    """One reason a search hit matched, with the evidence behind it."""

    kind: Literal["intent", "capability", "name", "description"]
    text: str = Field(description="The past intent, the capability's name, or the text that matched.")
    score: float = Field(description="This reason's match, 0 to 1, before its weight in the blend.")
    capability: str | None = None
    searches: int | None = Field(default=None, description="Searches of the intent.")
    chosen: int | None = Field(default=None, description="Times people chose this artifact for the intent.")
    artifacts: int | None = Field(default=None, description="Artifacts that have the capability.")


class CapabilityHit(BaseModel):
    id: str
    name: str
    artifacts: int
    relevance: float


class SearchPage(Page[SearchHit]):
    """A page of search hits, and the capabilities the text asks for (best first)."""

    capabilities: list[CapabilityHit] = Field(default_factory=list)


class BoardEntry(BaseModel):
    """An artifact's place on a need's board: its rating fitted on the searches for that need."""

    place: int
    id: str
    name: str
    type: str | None
    rank: int | None
    rating: float
    interval: tuple[float, float]
    comparisons: int = Field(description="Choices between it and another artifact in those searches.")
    overall: float = Field(description="Its overall quality rating, the board's prior for it.")


class IntentLink(BaseModel):
    """An intent that seeks a capability: confidence = (k * similarity + chosen) / (k + clicks)."""

    intent: str
    capability: str
    confidence: float
    similarity: float
    chosen: int = Field(description="The intent's clicks on artifacts that have the capability.")
    clicks: int = Field(description="All the intent's clicks.")


class CapabilitySummary(BaseModel):
    id: str
    name: str
    aliases: list[str]
    tags: list[str]
    artifacts: int
    statements: int
    provisional: bool
    best: list[str] = Field(default_factory=list, description="The first artifacts of its board.")


class CapabilityMember(BaseModel):
    id: str
    name: str
    rank: int | None
    own_name: str | None
    description: str | None


class CapabilityDetail(CapabilitySummary):
    members: list[CapabilityMember]
    intents: list[IntentLink]
    board: list[BoardEntry]


class Board(BaseModel):
    """The best artifacts for one need: a capability, or an intent with enough searches."""

    kind: Literal["capability", "intent"]
    need: str
    name: str
    matched: str = Field(description="How the text asked was resolved to this need.")
    searches: int = Field(description="Searches behind the board (of the intents that seek the capability).")
    items: list[BoardEntry]


class SharedCapability(BaseModel):
    id: str
    name: str
    a: CapabilityView
    b: CapabilityView
    a_chosen: int = Field(description="Times A was chosen over B in searches that sought this capability.")
    b_chosen: int = Field(description="Times B was chosen over A in those searches.")


class CapabilityComparison(BaseModel):
    """The two sides' capabilities aligned: shared (each side's own take), only A, only B."""

    shared: list[SharedCapability]
    only_a: list[CapabilityView]
    only_b: list[CapabilityView]


Comparison.model_rebuild()
SearchHit.model_rebuild()
