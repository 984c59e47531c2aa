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


class Standing(BaseModel):
    """How much an artifact's rank rests on evidence, and where it stands within its type."""

    ranked: bool = Field(description="Enough evidence to rank: at least half the rank's weight rests on it.")
    evidence_share: float = Field(description="Share (0-1) of the rank's weight carried by sub-scores with evidence.")
    counted: list[str] = Field(description="The sub-scores with evidence, the only ones the rank averages.")
    composite: float | None = Field(description="The unrounded weighted mean behind the rank (0-100).")
    interval: tuple[float, float] | None = Field(description="95% interval of the composite (0-100).")
    place: int | None = Field(description="Place within its type among ranked artifacts (1 is best).")
    place_range: tuple[int, int] | None = Field(description="95% range of that place.")
    of: int | None = Field(description="Ranked artifacts of its type.")
    rank_change: int | None = Field(description="Change of rank since the scoring run before.")


class ArtifactSummary(BaseModel):
    id: str
    name: str
    type: str | None
    pricing: str | None
    rank: int | None = Field(description="0-100 within its type; null when not scored or resting on too little "
                                         "evidence (see `standing`).")
    scores: SubScores
    times_matched: int
    capabilities_count: int
    type_label: str | None = Field(default=None, description="The type as people write it (MCP Server, Web App).")
    standing: Standing | None = Field(default=None, description="Null when not scored.")


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


class BenchmarkResult(BaseModel):
    name: str
    score: float
    percentile: float = Field(description="Where the score falls among the same benchmark's results for its type.")
    of: int = Field(description="Results of that benchmark for its type.")


class QualityView(BaseModel):
    rating: float | None = Field(description="The model's rating (log-odds).")
    interval: tuple[float, float] | None = Field(description="95% interval of the rating (log-odds).")
    rating_sd: float | None = Field(default=None, description="Posterior sd of the rating, widened for "
                                                               "comparisons that come in bunches from one search.")
    comparisons: int
    low_confidence: bool
    value: float | None = Field(default=None, description="The quality sub-score (0-100): what the rank uses.")
    choices: float | None = Field(default=None, description="Chance (0-100) that a person who looks at it picks "
                                                             "it, from what people chose.")
    choices_interval: tuple[float, float] | None = Field(default=None, description="95% interval of `choices`.")
    benchmarks: float | None = Field(default=None, description="Mean percentile of its benchmark results.")
    benchmark_results: list[BenchmarkResult] = Field(default_factory=list)
    weights: dict[str, float] = Field(default_factory=dict, description="What `value` weighs: choices, benchmarks "
                                                                         "or type_average, summing to 1.")


class PricePeer(BaseModel):
    id: str
    name: str
    per_mtok: float
    quality: float


class PriceView(BaseModel):
    """The catalog's prices and where they put the artifact among its type (price against quality)."""

    pricing: str | None
    input: float | None = Field(description="USD per million input tokens.")
    output: float | None = Field(description="USD per million output tokens.")
    starting: str = Field(description="The starting price as a page shows it.")
    per_mtok: float | None = Field(description="Blended USD per million tokens, (3 input + output) / 4.")
    frontier: bool | None = Field(description="On its type's price-quality frontier; null when unpriced or "
                                              "without quality evidence.")
    beaten_by: PricePeer | None = Field(description="The cheapest artifact of its type that costs no more and "
                                                    "scores higher on quality.")
    peers: int = Field(description="Artifacts of its type with a price and a quality.")
    note: str


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
    provider_name: str | None = None
    price: PriceView | None = None
    logs: Literal["none", "synthetic", "real", "mixed"] | None = Field(
        default=None, description="The search logs the scores rest on (null when not scored).")
    as_of: date | None = Field(default=None, description="The day the scores are as of.")


class Alternative(ArtifactSummary):
    co_matched: int
    reason: str
    with_id: str | None = Field(default=None, description="The artifact it was met with in searches.")
    overlap: float | None = Field(default=None, description="Searches showing both over the searches showing the "
                                                            "less often shown of the two.")


class HeadToHead(BaseModel):
    """The evidence about the pair itself."""

    shown_together: int = Field(description="Searches that showed both.")
    a_over_b: int = Field(description="Times a person chose a and not b when both were shown.")
    b_over_a: int
    probability: float | None = Field(description="The model's chance that a person prefers a over b, both shown "
                                                  "at the same place.")
    interval: tuple[float, float] | None = Field(description="95% interval of `probability`.")
    sentence: str


class Comparison(BaseModel):
    a: ArtifactDetail
    b: ArtifactDetail
    winner: str | None
    headline: str
    verdict: str
    leads: dict[str, str | None]
    alternatives: list[Alternative]
    head_to_head: HeadToHead | None = None
    side_by_side: bool = Field(default=False, description="Different types: ranks are not comparable, the page "
                                                          "is a side-by-side view and names no winner.")
    capabilities: CapabilityComparison | None = None


class SearchHit(ArtifactSummary):
    relevance: float
    why: list[MatchReason] = Field(default_factory=list, description="Why it matched, strongest reason first.")


class ExplainPart(BaseModel):
    value: float | None
    used: float | None
    weight: float
    contribution: float
    evidence: bool = True


class Explanation(BaseModel):
    id: str
    rank: int | None
    parts: dict[str, ExplainPart]
    evidence: dict[str, object]
    ranked: bool = True
    evidence_share: float | None = None


class HistoryPoint(BaseModel):
    run: str
    scored_at: str
    rank: int
    as_of: str | None = Field(default=None, description="The day the run's scores are as of (the last day in the "
                                                        "logs then).")


class ListedArtifact(ArtifactSummary):
    """An artifact on a ranked list: its place, shared with the ones it cannot be told apart from."""

    place: int | None = Field(description="Its place on the list; tied artifacts share the first one's place.")
    tied: bool = Field(description="Its composite interval overlaps that of the first of its group.")


class Mover(ArtifactSummary):
    change: int


class Movers(BaseModel):
    """The biggest risers and fallers since the scoring run before."""

    risers: list[Mover]
    fallers: list[Mover]


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
