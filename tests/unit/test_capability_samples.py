"""The capability graph on the shipped samples (one store, built once for the session)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.fixtures import snapshot_engine

if TYPE_CHECKING:
    from pathlib import Path

SEED_PAIR = ("dalle-3-xl-lora-v2", "flux-1-pro")


def test_needs_on_the_samples(sample_home: Path) -> None:
    q = snapshot_engine(sample_home, MATCHGRAPH_CACHE_ENTRIES=0)
    # FLUX.1 Pro's "Flow-matching text-to-image generation" and DALL-E 3's statement meet in one capability
    flux = {c.own_name: c for c in q.show("flux-1-pro").capabilities}
    shared = flux["Flow-matching text-to-image generation"]
    assert shared.id == "text-to-image-generation"
    assert shared.name == "Text-to-image generation"
    assert [c.id for c in q.show("dall-e-3").capabilities] == [shared.id]
    # the seed pair's neighbours share capabilities with each other
    neighbours = {a.id for side in SEED_PAIR for a in q.alternatives(side, limit=5).items}
    held = {n: {c.id for c in q.show(n).capabilities} for n in neighbours}
    assert sum(1 for n in held for m in held if n < m and held[n] & held[m]) >= 3
    # search understands the need
    found = q.search("text to image", limit=5)
    assert found.capabilities[0].id == shared.id
    top = [h.id for h in found.items]
    assert "flux-1-pro" in top[:3]
    assert "dall-e-3" in top
    assert all(any(w.kind == "capability" and w.capability == shared.id for w in h.why) for h in found.items)
    drawn = q.search("draw pictures from a prompt", limit=10)
    assert drawn.capabilities[0].id == shared.id  # no word in common with the capability's name
    members = {m.id for m in q.capability(shared.id, limit=50).members}
    assert sum(h.id in members for h in drawn.items) >= 8
    # the best for the need: a board fitted on the searches that sought it
    board = q.best("text to image", limit=20)
    assert (board.kind, board.need) == ("capability", shared.id)
    assert {e.id for e in board.items} == members
    assert [e.place for e in board.items] == list(range(1, len(board.items) + 1))
    assert all(e.interval[0] <= e.rating <= e.interval[1] for e in board.items)
    ratings = [e.rating for e in board.items]
    assert ratings == sorted(ratings, reverse=True)
    assert board.searches > 2_000
    # the comparison aligns capabilities, with who people chose when they sought a shared one
    cmp = q.compare("dall-e-3", "flux-1-pro").capabilities
    assert cmp is not None
    assert [s.id for s in cmp.shared] == [shared.id]
    assert cmp.only_a == []
    assert len(cmp.only_b) == 12
    assert cmp.shared[0].b_chosen > cmp.shared[0].a_chosen > 0
    # and those counts are every choice between the two in the searches of intents seeking it
    import polars as pl

    from graph.embedded import EmbeddedStore
    from graph.tables import Table

    with EmbeddedStore(sample_home).reader() as view:
        seeking = view.table(Table.SEEKS).filter(pl.col("capability") == shared.id).get_column("intent")
        cells = view.table(Table.INTENT_PREFERENCES).filter(pl.col("intent").is_in(seeking.implode()))
    for winner, loser, got in (("dall-e-3", "flux-1-pro", cmp.shared[0].a_chosen),
                               ("flux-1-pro", "dall-e-3", cmp.shared[0].b_chosen)):
        assert got == cells.filter((pl.col("winner") == winner) & (pl.col("loser") == loser)).get_column("count").sum()


def test_a_scoring_run_links_intents_on_a_worker_as_the_sequential_steps_would(sample_home: Path) -> None:
    """The run links intents on a worker thread while it fits the ratings, and fits the boards there
    while it computes the sub-scores: the seeks and boards it returns are the ones the steps give one
    after another on the same snapshot."""
    from graph.embedded import EmbeddedStore
    from graph.tables import Table, preference_cells
    from queries.capabilities import LINK_COLUMNS, link_and_rank, link_intents, regroup
    from queries.rating import fit_quality
    from queries.scoring import ScoringConfig, compute

    config = ScoringConfig(interval_draws=0)
    with EmbeddedStore(sample_home).reader() as view:
        run = compute(view, config)
        graph = regroup(view, config.capabilities)
        alone = link_intents(graph.view.table(Table.MATCHED, columns=list(LINK_COLUMNS)), graph.grouping,
                             config.capabilities)
        previous = graph.view.table(Table.SCORES, columns=["id", "quality_rating"])
        totals = graph.view.table(Table.TOTALS, columns=["artifact", "clicks", "pairs", "pairs_sq"])
        ratings = fit_quality(preference_cells(graph.view.table(Table.PREFERRED_OVER)), config,
                              start=previous if previous.height else None, design_effect=totals)
        link_and_rank(graph, ratings, config, config.capabilities)
    assert run.capabilities is not None
    assert alone.height > 20
    assert run.capabilities.seeks.equals(alone)
    assert graph.seeks.equals(alone)
    assert run.capabilities.boards.equals(graph.boards)
    assert run.capabilities.boards.get_column("kind").unique().sort().to_list() == ["capability", "intent"]
    assert run.steps["seeks.worker_s"] > 0.0
    assert run.steps["boards.worker_s"] > 0.0
