"""compare / alternatives / search / top / show on a small scored graph."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from api.application import MatchGraph
from graph.embedded import EmbeddedStore
from graph.errors import InvalidInput, NotFound
from graph.settings import Settings
from ingest.pipeline import ingest_catalogs, ingest_logs
from queries.engine import QueryEngine
from queries.page import render_markdown
from queries.scoring import ScoringConfig, score
from queries.verdict import LEAD_MARGIN
from tests.fixtures import CATALOG, SEARCHES, write_jsonl


@pytest.fixture
def engine(tmp_path: Path, settings: Settings) -> Iterator[QueryEngine]:
    store = EmbeddedStore(settings.home)
    ingest_catalogs(store, [write_jsonl(tmp_path / "c.jsonl", CATALOG)], settings)
    ingest_logs(store, [write_jsonl(tmp_path / "l.jsonl", SEARCHES)], settings)
    score(store, ScoringConfig(as_of=date(2026, 1, 3), interval_draws=20))
    with MatchGraph(settings.model_copy(update={"max_limit": 50}), store).query() as engine:
        yield engine


def test_show(engine: QueryEngine) -> None:
    flux = engine.show("FLUX-1-PRO")
    assert flux.id == "flux-1-pro"
    assert flux.times_matched == 2
    assert flux.clicks == 2
    assert flux.capabilities_count == 2
    assert [c.name for c in flux.capabilities] == ["Text to image", "Inpainting"]
    assert flux.capabilities[0].vs_alternatives == "Sharper text rendering."
    assert flux.quality.comparisons == 3
    assert flux.signals == {"likes": 500.0}
    assert flux.rank is not None
    assert 0 <= flux.rank <= 100
    sdxl = engine.show("sdxl")
    assert sdxl.derived_works == ["sdxl-lora-anime"]
    assert sdxl.integrates_with == ["comfyui"]


def test_unknown_id_suggests_close_ones(engine: QueryEngine) -> None:
    with pytest.raises(NotFound) as info:
        engine.show("flux-1-por")
    assert info.value.suggestions[0] in {"flux-1-pro", "flux-1-dev"}
    assert "did you mean" in str(info.value)


def test_top_lists_catalogued_artifacts_by_rank(engine: QueryEngine) -> None:
    rows = engine.top(limit=50).items
    assert "midjourney" not in [r.id for r in rows]  # a stub known only from logs
    ranks = [r.rank for r in rows]
    assert ranks == sorted(ranks, reverse=True)
    assert {r.type for r in engine.top("model", limit=50).items} == {"model"}
    with pytest.raises(InvalidInput, match="unknown type"):
        engine.top("spaceship")
    with pytest.raises(InvalidInput, match="limit"):
        engine.top(limit=51)


def test_search(engine: QueryEngine) -> None:
    hits = engine.search("stable diffusion").items
    assert hits[0].id == "sdxl"
    assert hits[0].relevance > 0
    assert "comfyui" in [h.id for h in engine.search("workflows").items]
    with pytest.raises(InvalidInput):
        engine.search("   ")
    with pytest.raises(InvalidInput):
        engine.search("x" * 300)


def test_alternatives_come_from_co_matches_first(engine: QueryEngine) -> None:
    alts = engine.alternatives("dalle-3", limit=3).items
    assert alts[0].id == "flux-1-pro"
    assert alts[0].co_matched == 2
    assert alts[0].reason == "shown alongside DALL-E 3 in 2 searches (100% overlap)"
    assert (alts[0].with_id, alts[0].overlap) == ("dalle-3", 1.0)
    assert "dalle-3" not in [a.id for a in alts]
    # sdxl-lora-anime has no co-matches: same-type peers sharing capabilities would fill in, and it has none
    assert engine.alternatives("sdxl-lora-anime").items == []


def test_compare(engine: QueryEngine) -> None:
    cmp = engine.compare("dalle-3", "flux-1-pro")
    assert {cmp.a.id, cmp.b.id} == {"dalle-3", "flux-1-pro"}
    a, b = cmp.a, cmp.b
    if cmp.winner is None:
        assert abs((a.rank or 0) - (b.rank or 0)) < 3
    else:
        hi, lo = (a, b) if cmp.winner == a.id else (b, a)
        assert (hi.rank or 0) > (lo.rank or 0)
        assert cmp.headline.startswith(f"{hi.name} ranks higher at {hi.rank}/100 vs {lo.name} at {lo.rank}/100")
    for key, leader in cmp.leads.items():
        va, vb = getattr(a.scores, key), getattr(b.scores, key)
        if leader is None:
            assert abs(va - vb) < LEAD_MARGIN
        else:
            assert (va > vb) == (leader == a.id)
    assert {x.id for x in cmp.alternatives}.isdisjoint({"dalle-3", "flux-1-pro"})
    page = render_markdown(cmp)
    assert page.startswith("# DALL-E 3 vs FLUX.1 Pro\n")
    assert "| Capabilities | 1 decomposed | 2 decomposed |" in page
    assert "| Times Matched | 2 | 2 |" in page
    assert "Unique: Flow matching." in page
    assert "## Need something different?" in page
    with pytest.raises(InvalidInput):
        engine.compare("sdxl", "SDXL")


def test_explain_adds_up_to_the_rank(engine: QueryEngine) -> None:
    why = engine.explain("flux-1-pro")
    total = sum(p.contribution for p in why.parts.values())
    assert round(total) == why.rank
    assert why.parts["quality"].weight == 25
    assert why.evidence["times_matched"] == 2
    assert len(engine.history("flux-1-pro").items) == 1


def test_places_on_a_list_share_a_place_when_intervals_overlap() -> None:
    from queries.models import ArtifactSummary, Standing, SubScores
    from queries.subscores import NAMES
    from queries.trust import listed

    def item(i: str, rank: int, lo: float, hi: float) -> ArtifactSummary:
        standing = Standing(ranked=True, evidence_share=1.0, counted=["quality"], composite=float(rank),
                            interval=(lo, hi), place=None, place_range=None, of=None, rank_change=None)
        return ArtifactSummary(id=i, name=i, type="model", pricing=None, rank=rank,
                               scores=SubScores(**dict.fromkeys(NAMES)), times_matched=0, capabilities_count=0,
                               standing=standing)

    rows = listed([item("a", 80, 76, 84), item("b", 78, 74, 81), item("c", 70, 66, 75), item("d", 69, 67, 71),
                   item("e", 50, 49, 51)], offset=10)
    assert [(r.id, r.place, r.tied) for r in rows] == [
        ("a", 11, True), ("b", 11, True),  # b reaches a's interval
        ("c", 13, True), ("d", 13, True),  # c is clearly below a; d reaches c
        ("e", 15, False)]
