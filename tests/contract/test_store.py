"""The GraphStore contract: the same tests, the same expected values, on every store.

Answers computed above the store (aggregates, search, alternatives, neighbourhoods, paths) are
checked here too, in order: both stores hold the same data, so they must give the same answers.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from api.application import MatchGraph
from graph.embedded import EmbeddedStore
from graph.errors import InvalidInput, StoreLocked
from graph.schema import Artifact
from graph.settings import Settings
from graph.store import GraphStore
from graph.tables import KEYS, GraphDelta, Table, negated, preference_pairs
from ingest.catalog import catalog_delta
from ingest.pipeline import ingest_catalogs, ingest_logs
from queries.stats import artifact_stats
from tests.fixtures import CATALOG, SEARCHES, killed_at, write_jsonl


def _settings(tmp_path: Path) -> Settings:
    return Settings(MATCHGRAPH_HOME=tmp_path / "home", NEO4J_URI=None)  # type: ignore[call-arg]


def _load(store: GraphStore, tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    ingest_catalogs(store, [write_jsonl(tmp_path / "catalog.jsonl", CATALOG)], settings)
    ingest_logs(store, [write_jsonl(tmp_path / "logs.jsonl", SEARCHES)], settings)


def _rows(frame: pl.DataFrame, *keys: str) -> list[dict[str, object]]:
    return frame.sort(list(keys)).to_dicts()


def test_catalog_nodes_and_edges(store: GraphStore) -> None:
    store.apply(catalog_delta([Artifact.model_validate(r) for r in CATALOG]))
    arts = store.table(Table.ARTIFACTS).sort("id")
    assert arts.get_column("id").to_list() == [
        "comfyui", "dalle-3", "flux-1-dev", "flux-1-pro", "sdxl", "sdxl-lora-anime"
    ]
    flux = arts.filter(pl.col("id") == "flux-1-pro").row(0, named=True)
    assert flux["name"] == "FLUX.1 Pro"
    assert flux["provider"] == "black-forest-labs"
    assert flux["pricing"] == "free"
    assert flux["released"] == date(2024, 8, 1)
    assert flux["likes"] == 500.0
    assert flux["stars"] is None
    assert flux["catalogued"] is True
    providers = _rows(store.table(Table.PROVIDERS), "id")
    assert providers == [
        {"id": "black-forest-labs", "name": "Black Forest Labs"},
        {"id": "openai", "name": "OpenAI"},
        {"id": "stability-ai", "name": "Stability AI"},
    ]
    caps = store.table(Table.HAS_CAPABILITY, ["flux-1-pro"]).sort("position")
    assert caps.get_column("capability").to_list() == ["text-to-image", "inpainting"]
    assert caps.row(0, named=True)["unique"] == "Flow matching."
    tags = dict(store.table(Table.CAPABILITIES).select("id", "tags").iter_rows())
    assert sorted(tags["inpainting"]) == ["edit", "image"]
    assert _rows(store.table(Table.DERIVED_FROM), "src") == [{"src": "sdxl-lora-anime", "dst": "sdxl"}]
    assert _rows(store.table(Table.INTEGRATES_WITH), "dst") == [
        {"src": "comfyui", "dst": "flux-1-dev"}, {"src": "comfyui", "dst": "sdxl"},
    ]


def test_stub_never_overwrites_a_catalogued_artifact(store: GraphStore) -> None:
    stub = pl.DataFrame({"id": ["sdxl", "new-one"], "name": ["sdxl", "new-one"], "catalogued": [False, False]})
    store.apply(GraphDelta().set(Table.ARTIFACTS, stub))
    store.apply(catalog_delta([Artifact.model_validate(CATALOG[3])]))
    store.apply(GraphDelta().set(Table.ARTIFACTS, stub))
    arts = {r["id"]: r for r in store.table(Table.ARTIFACTS).to_dicts()}
    assert arts["sdxl"]["catalogued"] is True
    assert arts["sdxl"]["name"] == "Stable Diffusion XL"
    assert arts["new-one"]["catalogued"] is False


def test_catalog_update_keeps_fields_it_does_not_give(store: GraphStore) -> None:
    store.apply(catalog_delta([Artifact.model_validate(CATALOG[0])]))
    store.apply(catalog_delta([Artifact(id="flux-1-pro", name="FLUX.1 [pro]", type="model")]))  # type: ignore[arg-type]
    row = store.table(Table.ARTIFACTS, ["flux-1-pro"]).row(0, named=True)
    assert row["name"] == "FLUX.1 [pro]"
    assert row["likes"] == 500.0
    assert store.table(Table.HAS_CAPABILITY, ["flux-1-pro"]).height == 2  # no list given: kept


def test_capability_list_is_replaced_when_given(store: GraphStore) -> None:
    store.apply(catalog_delta([Artifact.model_validate(CATALOG[0])]))
    store.apply(catalog_delta([Artifact.model_validate(
        {"id": "flux-1-pro", "name": "FLUX.1 Pro", "type": "model", "capabilities": [{"name": "Upscaling"}]})]))
    caps = store.table(Table.HAS_CAPABILITY, ["flux-1-pro"])
    assert caps.get_column("capability").to_list() == ["upscaling"]


def test_additive_tables_add_up(store: GraphStore) -> None:
    co = pl.DataFrame({"a": ["x", "x"], "b": ["y", "z"], "count": [2, 1]})
    store.apply(GraphDelta().set(Table.CO_MATCHED, co))
    store.apply(GraphDelta().set(Table.CO_MATCHED, co.head(1)))
    assert _rows(store.table(Table.CO_MATCHED), "a", "b") == [
        {"a": "x", "b": "y", "count": 4}, {"a": "x", "b": "z", "count": 1},
    ]
    intents = pl.DataFrame({"id": ["q"], "searches": [3]})
    store.apply(GraphDelta().set(Table.INTENTS, intents))
    store.apply(GraphDelta().set(Table.INTENTS, intents))
    assert store.table(Table.INTENTS).to_dicts() == [{"id": "q", "searches": 6}]
    cells = pl.DataFrame({"winner": ["x", "x", "y"], "loser": ["y", "y", "x"], "winner_pos": [1, 2, 1],
                          "loser_pos": [2, 1, 3], "count": [2, 1, 4]})
    store.apply(GraphDelta().set(Table.PREFERRED_OVER, preference_pairs(cells)))
    store.apply(GraphDelta().set(Table.PREFERRED_OVER, preference_pairs(cells.head(1))))
    assert _rows(store.table(Table.PREFERRED_OVER), "winner") == [
        {"winner": "x", "loser": "y", "count": 5, "winner_pos": [1, 2], "loser_pos": [2, 1], "counts": [4, 1]},
        {"winner": "y", "loser": "x", "count": 4, "winner_pos": [1], "loser_pos": [3], "counts": [4]},
    ]


def test_negated_rows_subtract_exactly(store: GraphStore) -> None:
    """Adding a contribution and then its negation leaves the tables as they were, rows at zero gone."""
    co = pl.DataFrame({"a": ["x", "x"], "b": ["y", "z"], "count": [2, 1]})
    prefs = preference_pairs(pl.DataFrame({"winner": ["x", "x"], "loser": ["y", "y"], "winner_pos": [1, 2],
                                           "loser_pos": [2, 1], "count": [3, 1]}))
    store.apply(GraphDelta().set(Table.CO_MATCHED, co.head(1)).set(Table.PREFERRED_OVER, prefs.head(0)))
    before = {t: _rows(store.table(t), *KEYS[t]) for t in (Table.CO_MATCHED, Table.PREFERRED_OVER)}
    store.apply(GraphDelta().set(Table.CO_MATCHED, co).set(Table.PREFERRED_OVER, prefs))
    store.apply(GraphDelta().set(Table.CO_MATCHED, negated(Table.CO_MATCHED, co))
                .set(Table.PREFERRED_OVER, negated(Table.PREFERRED_OVER, prefs)))
    assert {t: _rows(store.table(t), *KEYS[t]) for t in before} == before


def test_logs_build_the_match_graph(store: GraphStore, tmp_path: Path) -> None:
    _load(store, tmp_path)
    matched = {(r["intent"], r["artifact"]): r for r in store.table(Table.MATCHED).to_dicts()}
    assert matched[("text to image", "flux-1-pro")] == {
        "intent": "text to image", "artifact": "flux-1-pro", "count": 2, "clicks": 2, "position_sum": 3}
    assert matched[("image model", "midjourney")]["count"] == 1
    co = {(r["a"], r["b"]): r["count"] for r in store.table(Table.CO_MATCHED).to_dicts()}
    assert co[("dalle-3", "flux-1-pro")] == 2
    assert co[("flux-1-pro", "sdxl")] == 1
    assert co[("midjourney", "sdxl")] == 1
    assert len(co) == 7
    prefs = _rows(store.table(Table.PREFERRED_OVER), "winner", "loser")
    assert prefs == [
        {"winner": "comfyui", "loser": "flux-1-dev", "count": 1, "winner_pos": [1], "loser_pos": [3], "counts": [1]},
        {"winner": "flux-1-pro", "loser": "dalle-3", "count": 2, "winner_pos": [1, 2], "loser_pos": [2, 1],
         "counts": [1, 1]},
        {"winner": "flux-1-pro", "loser": "sdxl", "count": 1, "winner_pos": [1], "loser_pos": [3], "counts": [1]},
        {"winner": "sdxl", "loser": "flux-1-dev", "count": 1, "winner_pos": [2], "loser_pos": [3], "counts": [1]},
    ]
    # the same choices per intent ("Text to image" and "text  to image" are one intent)
    cells = [tuple(r.values()) for r in _rows(store.table(Table.INTENT_PREFERENCES), *KEYS[Table.INTENT_PREFERENCES])]
    assert cells == [
        ("comfy workflows", "comfyui", "flux-1-dev", 1, 3, 1),
        ("comfy workflows", "sdxl", "flux-1-dev", 2, 3, 1),
        ("text to image", "flux-1-pro", "dalle-3", 1, 2, 1),
        ("text to image", "flux-1-pro", "dalle-3", 2, 1, 1),
        ("text to image", "flux-1-pro", "sdxl", 1, 3, 1),
    ]
    assert store.table(Table.INTENT_PREFERENCES, ["comfy workflows"], by="intent").height == 2
    # flux-1-pro: listed twice, clicked twice; two pairs in s1 and one in s2, so 3 pairs and 2^2 + 1^2 = 5
    totals = {r["artifact"]: (r["matched"], r["clicks"], r["pairs"], r["pairs_sq"])
              for r in store.table(Table.TOTALS).to_dicts()}
    assert totals == {"flux-1-pro": (2, 2, 3, 5), "dalle-3": (2, 0, 2, 2), "sdxl": (3, 1, 2, 2),
                      "comfyui": (1, 1, 1, 1), "flux-1-dev": (1, 0, 2, 4), "midjourney": (1, 0, 0, 0)}
    stub = store.table(Table.ARTIFACTS, ["midjourney"]).row(0, named=True)
    assert stub["catalogued"] is False
    daily = {(r["artifact"], r["day"]): (r["matched"], r["clicks"], r["sessions"])
             for r in store.table(Table.DAILY).to_dicts()}
    assert daily[("sdxl", date(2026, 1, 3))] == (2, 1, 2)  # sessions u2 and u3
    assert daily[("flux-1-pro", date(2026, 1, 1))] == (1, 1, 1)


def test_same_input_twice_changes_nothing(store: GraphStore, tmp_path: Path) -> None:
    _load(store, tmp_path)
    before = {t: store.table(t).sort(store.table(t).columns[0]) for t in (Table.CO_MATCHED, Table.MATCHED,
                                                                           Table.ARTIFACTS, Table.DAILY)}
    settings = _settings(tmp_path)
    report = ingest_logs(store, [tmp_path / "logs.jsonl"], settings)
    assert report.ingested == 0
    assert report.files[0].status == "skipped: already ingested"
    ingest_catalogs(store, [tmp_path / "catalog.jsonl"], settings)
    for table, frame in before.items():
        assert store.table(table).sort(frame.columns[0]).equals(frame), table


def test_stats(store: GraphStore, tmp_path: Path) -> None:
    _load(store, tmp_path)
    with store.reader() as view:
        stats = {r["id"]: r for r in artifact_stats(view).to_dicts()}
    flux = stats["flux-1-pro"]
    assert flux["times_matched"] == 2
    assert flux["clicks"] == 2
    assert flux["intents"] == 1
    assert flux["co_matched_degree"] == 2  # dalle-3, sdxl
    assert flux["co_matched_weight"] == 3
    assert flux["capabilities"] == 2
    assert flux["provider_family"] == 2
    assert flux["wins"] == 3
    assert flux["losses"] == 0
    assert flux["last_matched"] == date(2026, 1, 2)
    # text-to-image is shared by flux-1-pro, flux-1-dev, dalle-3 and sdxl, all co-matched
    assert flux["capability_peers"] == 3
    sdxl = stats["sdxl"]
    assert sdxl["derived_works"] == 1
    assert sdxl["integrations"] == 1
    assert stats["comfyui"]["integrations"] == 2
    assert stats["midjourney"]["provider_family"] == 1
    assert stats["flux-1-dev"]["losses"] == 2


def test_table_filter_by_ids(store: GraphStore, tmp_path: Path) -> None:
    _load(store, tmp_path)
    co = store.table(Table.CO_MATCHED, ["dalle-3"])
    assert sorted(co.get_column("b").to_list() + co.get_column("a").to_list()) == [
        "dalle-3", "dalle-3", "flux-1-pro", "sdxl"]
    assert store.table(Table.ARTIFACTS, ["nope"]).height == 0


def _scored(store: GraphStore, tmp_path: Path) -> MatchGraph:
    _load(store, tmp_path)
    mg = MatchGraph(_settings(tmp_path), store)
    mg.score(date(2026, 1, 3))
    return mg


def test_search_in_order(store: GraphStore, tmp_path: Path) -> None:
    mg = _scored(store, tmp_path)
    assert mg.read(lambda q: [h.id for h in q.search("comfyui", limit=5).items])[0] == "comfyui"
    # every hit in order, and why: the four that have the capability the text asks for (text to
    # image), flux-1-pro first because people who searched "text to image" chose it; then comfyui,
    # whose description speaks of image generation
    found = mg.read(lambda q: q.search("image", limit=10))
    assert [c.id for c in found.capabilities] == ["text-to-image"]
    assert [h.id for h in found.items] == ["flux-1-pro", "sdxl", "dalle-3", "flux-1-dev", "comfyui"]
    why = {h.id: {w.kind: w for w in h.why} for h in found.items}
    assert why["flux-1-pro"]["intent"].text == "text to image"
    assert (why["flux-1-pro"]["intent"].searches, why["flux-1-pro"]["intent"].chosen) == (2, 2)
    assert why["sdxl"]["capability"].capability == "text-to-image"
    assert why["sdxl"]["capability"].artifacts == 4
    assert set(why["comfyui"]) == {"description"}
    # a need said in other words reaches the same capability
    assert mg.read(lambda q: [c.id for c in q.search("pictures from a prompt", limit=5).capabilities]) == [
        "text-to-image"]
    assert "comfyui" in [h.id for h in mg.read(lambda q: q.search("workflows", limit=5).items)]


def test_alternatives_in_order(store: GraphStore, tmp_path: Path) -> None:
    mg = _scored(store, tmp_path)
    alts = mg.read(lambda q: [(a.id, a.co_matched) for a in q.alternatives("flux-1-pro", limit=5).items])
    assert alts[:2] == [("dalle-3", 2), ("sdxl", 1)]


def test_alternatives_fall_back_to_capability_boards(store: GraphStore, tmp_path: Path) -> None:
    """Where the match graph knows too few, the best of the same type on the boards of the
    artifact's capabilities fill the list, in board order (flux-1-pro is #1 on the text-to-image
    board, dalle-3 #4), after the co-matched ones."""
    mg = _scored(store, tmp_path)
    alts = mg.read(lambda q: q.alternatives("flux-1-dev", limit=5).items)
    assert [(a.id, a.co_matched) for a in alts] == [("sdxl", 1), ("comfyui", 1), ("flux-1-pro", 0), ("dalle-3", 0)]
    assert alts[2].reason == "#1 on the Text to image board, a capability both have"
    assert alts[3].reason == "#4 on the Text to image board, a capability both have"
    # an artifact whose capabilities have no board and no co-matches has no alternatives to show
    assert mg.read(lambda q: q.alternatives("sdxl-lora-anime", limit=5).items) == []


def test_row_index_gives_the_answers_reads_give(store: GraphStore, tmp_path: Path) -> None:
    """The server takes artifacts' rows from a per-version index, one-shot commands read them: every
    answer built on rows is the same either way."""
    mg = _scored(store, tmp_path)
    served = MatchGraph(_settings(tmp_path), store, row_index=True)
    ids = sorted(store.table(Table.ARTIFACTS).get_column("id").to_list())
    for app in (mg, served):
        assert app.read(lambda q: q.top(limit=10).items)  # both have ranked artifacts to list

    def answers(app: MatchGraph) -> list[object]:
        with app.query() as q:
            return [
                *(q.show(i).model_dump() for i in ids),
                *(q.alternatives(i, limit=5).model_dump() for i in ids),
                *(q.compare(a, b).model_dump() for a, b in [("dalle-3", "flux-1-pro"), ("sdxl", "flux-1-dev"),
                                                           ("comfyui", "sdxl")]),
                q.top(limit=10).model_dump(), q.path("comfyui", "dalle-3").model_dump(),
            ]

    assert answers(served) == answers(mg)
    with store.reader() as reader:
        assert served.indexes.rows(reader).docs.get_column("id").to_list() == ids


def test_neighborhood_and_path(store: GraphStore, tmp_path: Path) -> None:
    mg = _scored(store, tmp_path)
    one = mg.read(lambda q: q.neighborhood("dalle-3", depth=1, limit=50))
    assert [(n.id, n.depth) for n in one.nodes] == [("dalle-3", 0), ("flux-1-pro", 1), ("sdxl", 1)]
    # the edge between the two neighbours is drawn too, not only the spokes
    assert [(e.source, e.target, e.type, e.weight) for e in one.edges] == [
        ("dalle-3", "flux-1-pro", "CO_MATCHED", 2.0), ("dalle-3", "sdxl", "CO_MATCHED", 1.0),
        ("flux-1-pro", "sdxl", "CO_MATCHED", 1.0)]
    two = mg.read(lambda q: q.neighborhood("dalle-3", depth=2, limit=50))
    assert {"midjourney", "comfyui", "sdxl-lora-anime", "flux-1-dev"} <= {n.id for n in two.nodes if n.depth == 2}
    # three nodes over two rings: the one neighbour, then the first (by weight, then id) beyond it
    small = mg.read(lambda q: q.neighborhood("midjourney", depth=2, limit=3))
    assert [(n.id, n.depth) for n in small.nodes] == [("midjourney", 0), ("sdxl", 1), ("comfyui", 2)]
    # a neighbour of the centre left out for lack of room is not shown one ring further out
    tight = mg.read(lambda q: q.neighborhood("dalle-3", depth=2, limit=3))
    assert [(n.id, n.depth) for n in tight.nodes] == [("dalle-3", 0), ("flux-1-pro", 1)]
    path = mg.read(lambda q: q.path("sdxl-lora-anime", "dalle-3", max_depth=3))
    assert [n.id for n in path.nodes] == ["sdxl-lora-anime", "sdxl", "dalle-3"]
    assert [s.type for s in path.steps] == ["DERIVED_FROM", "CO_MATCHED"]
    assert not mg.read(lambda q: q.path("sdxl-lora-anime", "dalle-3", max_depth=1)).connected
    assert mg.read(lambda q: q.path("dalle-3", "dalle-3", max_depth=2)).hops == 0


def test_ledger_and_clear(store: GraphStore, tmp_path: Path) -> None:
    _load(store, tmp_path)
    ledger = store.table(Table.LEDGER)
    assert sorted(ledger.get_column("kind").to_list()) == ["catalog", "logs"]
    assert ledger.filter(pl.col("kind") == "logs").get_column("rows").to_list() == [4]
    store.clear()
    for table in Table:
        assert store.table(table).height == 0, table


def test_nothing_valid_is_an_error(store: GraphStore, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n{}\n")
    with pytest.raises(InvalidInput, match="nothing valid"):
        ingest_logs(store, [bad], _settings(tmp_path))


AGGREGATES = (Table.INTENTS, Table.MATCHED, Table.CO_MATCHED, Table.PREFERRED_OVER, Table.DAILY, Table.ARTIFACTS)


def _snapshot(store: GraphStore) -> dict[Table, list[dict[str, object]]]:
    return {t: store.table(t).sort(list(KEYS[t])).to_dicts() for t in AGGREGATES}


def test_a_store_that_writes_one_file_at_a_time_resumes_after_a_crash(store: GraphStore, tmp_path: Path) -> None:
    """Neo4j takes one log file per write (it cuts a big one into parts itself); killed after the
    first file, the rerun writes only the second, and the graph is what one batched write gives."""
    settings = _settings(tmp_path)
    first = write_jsonl(tmp_path / "a.jsonl", SEARCHES[:2])
    second = write_jsonl(tmp_path / "b.jsonl", SEARCHES[2:])
    reference = EmbeddedStore(tmp_path / "reference")
    assert ingest_logs(reference, [first, second], settings).writes == 1  # the embedded store batches

    store.one_file_per_write = True
    with killed_at(store, "apply", 2), pytest.raises(RuntimeError, match="killed"):
        ingest_logs(store, [first, second], settings)
    assert store.table(Table.LEDGER).get_column("source").to_list() == [str(first)]
    report = ingest_logs(store, [first, second], settings)
    assert [f.status for f in report.files] == ["skipped: already ingested", "ingested"]
    assert (report.ingested, report.writes) == (len(SEARCHES) - 2, 1)
    assert _snapshot(store) == _snapshot(reference)
    again = ingest_logs(store, [first, second], settings)
    assert again.ingested == 0
    assert _snapshot(store) == _snapshot(reference)


def test_run_lock_refuses_a_second_run_until_the_first_ends(store: GraphStore) -> None:
    with store.run_lock("writer", 60), pytest.raises(StoreLocked, match="already in progress"), \
            store.run_lock("writer", 60):
        pass
    with store.run_lock("writer", 60):  # free again once the first run ended
        pass


def test_version_changes_with_every_write_and_only_then(store: GraphStore) -> None:
    """Readers cache answers under ``version()``: a stale token would serve stale answers."""
    store.clear()
    cleared = store.version()
    assert store.version() == cleared
    store.apply(catalog_delta([Artifact.model_validate(r) for r in CATALOG]))
    first = store.version()
    assert first not in ("", cleared)
    assert store.table(Table.ARTIFACTS).height == len(CATALOG)
    assert store.version() == first, "a read must not change the token"
    store.apply(catalog_delta([Artifact.model_validate(r) for r in CATALOG[:1]]))
    second = store.version()
    assert second != first
    store.clear()
    assert store.version() not in (first, second)


def test_tables_reads_several_tables_as_table_does(store: GraphStore, tmp_path: Path) -> None:
    _load(store, tmp_path)
    wanted = [Table.ARTIFACTS, Table.SCORES, Table.MATCHED, Table.HAS_CAPABILITY, Table.CO_MATCHED]
    ids = ["flux-1-pro", "sdxl"]
    with store.reader() as view:
        together = view.tables(wanted, ids)
    assert set(together) == set(wanted)
    for table in wanted:
        one = store.table(table, ids)
        assert together[table].schema == one.schema, table
        keys = [k for k in KEYS[table] if k in one.columns]
        assert _rows(together[table], *keys) == _rows(one, *keys), table
    assert together[Table.ARTIFACTS].get_column("id").sort().to_list() == ["flux-1-pro", "sdxl"]
    assert together[Table.MATCHED].height > 0


def test_capability_rows_by_capability_id(store: GraphStore) -> None:
    store.apply(catalog_delta([Artifact.model_validate(r) for r in CATALOG]))
    has = store.table(Table.HAS_CAPABILITY, ["inpainting"], by="capability")
    assert set(has.get_column("capability").to_list()) == {"inpainting"}
    everything = store.table(Table.HAS_CAPABILITY)
    assert has.height == everything.filter(pl.col("capability") == "inpainting").height > 0
    caps = store.table(Table.CAPABILITIES, ["inpainting", "no-such-capability"], by="id")
    assert caps.get_column("id").to_list() == ["inpainting"]
    assert store.table(Table.CAPABILITIES, [], by="id").height == 0


def test_lookups_by_intent_and_columns(store: GraphStore, tmp_path: Path) -> None:
    _load(store, tmp_path)
    rows = store.table(Table.MATCHED, ["text to image"], by="intent", columns=["artifact", "count"])
    assert rows.columns == ["artifact", "count"]
    assert _rows(rows, "artifact") == [{"artifact": "dalle-3", "count": 2}, {"artifact": "flux-1-pro", "count": 2},
                                       {"artifact": "sdxl", "count": 1}]
    assert store.table(Table.INTENTS, ["image model"], by="id").to_dicts() == [{"id": "image model", "searches": 1}]
    with pytest.raises(ValueError, match="cannot be filtered"):
        store.table(Table.CO_MATCHED, ["x"], by="intent")


# -- benchmarks and rank history (issue 14) ---------------------------------------------------------
def test_benchmark_results_are_replaced_per_artifact(store: GraphStore) -> None:
    def record(art_id: str, benchmarks: dict[str, float]) -> Artifact:
        return Artifact.model_validate({"id": art_id, "name": art_id, "type": "model", "benchmarks": benchmarks})

    store.apply(catalog_delta([record("m1", {"IFEval": 61.5, "BBH": 40.0}), record("m2", {"IFEval": 20.25})]))
    assert _rows(store.table(Table.BENCHMARKS), "artifact", "benchmark") == [
        {"artifact": "m1", "benchmark": "BBH", "score": 40.0},
        {"artifact": "m1", "benchmark": "IFEval", "score": 61.5},
        {"artifact": "m2", "benchmark": "IFEval", "score": 20.25},
    ]
    store.apply(catalog_delta([record("m1", {"MuSR": -1.5})]))  # a new list for m1 replaces its old one
    assert _rows(store.table(Table.BENCHMARKS, ["m1"]), "benchmark") == [
        {"artifact": "m1", "benchmark": "MuSR", "score": -1.5}]
    store.apply(catalog_delta([record("m2", {})]))  # no results given: kept
    assert store.table(Table.BENCHMARKS, ["m2"]).get_column("score").to_list() == [20.25]
    assert store.table(Table.BENCHMARKS, ["m1", "m2"], columns=["artifact"]).height == 2


def test_rank_history_keeps_the_as_of_date(store: GraphStore) -> None:
    from datetime import UTC, datetime

    at = datetime(2026, 2, 1, 12, tzinfo=UTC)
    rows = pl.DataFrame({"run": ["r1", "r1", "r2"], "scored_at": [at, at, at], "id": ["a", "b", "a"],
                         "rank": [40, 30, 42], "as_of": [date(2026, 1, 31), date(2026, 1, 31), None]})
    store.apply(GraphDelta().set(Table.RANK_HISTORY, rows))
    got = _rows(store.table(Table.RANK_HISTORY, ["a"]), "run")
    assert [(r["run"], r["rank"], r["as_of"]) for r in got] == [("r1", 40, date(2026, 1, 31)), ("r2", 42, None)]
    assert got[0]["scored_at"] == at


def test_answers_say_what_they_rest_on(store: GraphStore, tmp_path: Path) -> None:
    """Standing, the head-to-head, history as-of dates and a run that changes nothing: the same on
    every store (they are computed once, above the store, from its reads)."""
    from queries.scoring import ScoringConfig, score

    _load(store, tmp_path)
    config = ScoringConfig(as_of=date(2026, 1, 3), interval_draws=20)
    first = score(store, config)
    assert first.changed is True
    again = score(store, config)
    assert again.changed is False
    with MatchGraph(_settings(tmp_path), store).query() as q:
        cmp = q.compare("dalle-3", "flux-1-pro")
        pair = cmp.head_to_head
        assert pair is not None
        assert (pair.shown_together, pair.a_over_b, pair.b_over_a) == (2, 0, 2)
        assert pair.probability is not None
        assert pair.probability < 0.5
        assert "synthetic" not in pair.sentence  # the fixture's log file is not named so
        assert cmp.a.logs == "real"
        history = q.history("flux-1-pro").items
        assert [(p.rank, p.as_of) for p in history] == [(cmp.b.rank, "2026-01-03")]
        flux = q.show("flux-1-pro")
        assert flux.standing is not None
        assert flux.standing.counted == ["adoption", "quality", "ecosystem", "match_graph", "freshness"]
        assert flux.provider_name == "Black Forest Labs"
        top = q.top(limit=10).items
        assert [t.id for t in top][:1] == [max(top, key=lambda t: (t.rank or 0, t.standing.composite or 0)).id]
        assert all(t.standing is not None and t.standing.ranked for t in top)
        assert q.movers(5).risers == []  # the second run changed nothing


def _regroup(store: GraphStore) -> None:
    """What a scoring run writes when it groups 'text-to-image' and a second FLUX statement into one
    capability 'image-generation': re-pointed statements, the shared node, the old one removed."""
    has = store.table(Table.HAS_CAPABILITY).filter(pl.col("artifact").is_in(["flux-1-pro", "dalle-3"]))
    extra = has.filter(pl.col("artifact") == "flux-1-pro").sort("position").head(1).with_columns(
        pl.lit(3, pl.Int64).alias("position"), pl.lit("Image generation").alias("name"))
    moved = pl.concat([has, extra]).with_columns(
        pl.when(pl.col("capability") == "text-to-image").then(pl.lit("image-generation"))
        .otherwise(pl.col("capability")).alias("capability"))
    node = pl.DataFrame({"id": ["image-generation"], "name": ["Text to image"], "tags": [["image"]],
                         "aliases": [["Image generation"]], "statements": [3], "artifacts": [2]})
    store.apply(GraphDelta().set(Table.HAS_CAPABILITY, moved).set(Table.CAPABILITIES, node)
                .remove(Table.CAPABILITIES, ["text-to-image", "inpainting"]))


def test_capabilities_regroup_and_unused_ones_go(store: GraphStore) -> None:
    store.apply(catalog_delta([Artifact.model_validate(r) for r in CATALOG]))
    assert store.table(Table.HAS_CAPABILITY, ["dalle-3"]).to_dicts() == [
        {"artifact": "dalle-3", "capability": "text-to-image", "description": None, "unique": None,
         "vs_alternatives": None, "position": 1, "name": "Text to image"}]
    _regroup(store)
    flux = store.table(Table.HAS_CAPABILITY, ["flux-1-pro"]).sort("position")
    assert flux.select("capability", "position", "name").rows() == [
        ("image-generation", 1, "Text to image"), ("inpainting", 2, "Inpainting"),
        ("image-generation", 3, "Image generation")]  # two statements of one artifact, one capability
    members = store.table(Table.HAS_CAPABILITY, ["image-generation"], by="capability")
    assert sorted(members.get_column("artifact").to_list()) == ["dalle-3", "flux-1-pro", "flux-1-pro"]
    # text-to-image is still named by flux-1-dev and sdxl (not in the delta), so it stays; so does
    # inpainting, which flux-1-pro still names
    caps = _rows(store.table(Table.CAPABILITIES), "id")
    assert [c["id"] for c in caps] == ["image-generation", "inpainting", "text-to-image"]
    assert caps[0] == {"id": "image-generation", "name": "Text to image", "tags": ["image"],
                       "aliases": ["Image generation"], "statements": 3, "artifacts": 2}
    rest = store.table(Table.HAS_CAPABILITY).filter(pl.col("capability") == "text-to-image")
    moved = rest.with_columns(pl.lit("image-generation").alias("capability"))
    store.apply(GraphDelta().set(Table.HAS_CAPABILITY, moved)
                .remove(Table.CAPABILITIES, ["text-to-image"]))
    assert store.table(Table.CAPABILITIES).get_column("id").sort().to_list() == ["image-generation", "inpainting"]


def test_seeks_and_boards_are_replaced_and_go_with_their_capability(store: GraphStore, tmp_path: Path) -> None:
    _load(store, tmp_path)
    seeks = pl.DataFrame({"intent": ["text to image", "image model", "text to image"],
                          "capability": ["text-to-image", "text-to-image", "inpainting"],
                          "confidence": [0.9, 0.6, 0.55], "similarity": [1.0, 0.5, 0.2], "chosen": [2, 0, 1],
                          "clicks": [2, 0, 2]})
    boards = pl.DataFrame({"kind": ["capability", "capability", "intent", "capability"],
                           "need": ["text-to-image", "text-to-image", "text to image", "inpainting"],
                           "artifact": ["flux-1-pro", "dalle-3", "flux-1-pro", "flux-1-pro"], "place": [1, 2, 1, 1],
                           "rating": [0.5, -0.5, 0.7, 0.1], "lo": [0.0, -1.0, 0.1, -1.0], "hi": [1.0, 0.0, 1.3, 1.2],
                           "comparisons": [3, 3, 2, 0], "overall": [0.4, -0.4, 0.4, 0.4]})
    store.apply(GraphDelta().set(Table.SEEKS, seeks).set(Table.BOARDS, boards))
    assert _rows(store.table(Table.SEEKS), "intent", "capability") == _rows(seeks, "intent", "capability")
    by_intent = store.table(Table.SEEKS, ["text to image"], by="intent")
    assert sorted(by_intent.get_column("capability").to_list()) == ["inpainting", "text-to-image"]
    by_cap = store.table(Table.SEEKS, ["text-to-image"], by="capability")
    assert sorted(by_cap.get_column("intent").to_list()) == ["image model", "text to image"]
    assert _rows(store.table(Table.BOARDS), "kind", "need", "artifact") == _rows(boards, "kind", "need", "artifact")
    board = store.table(Table.BOARDS, ["text-to-image", "text to image"], by="need")
    assert _rows(board, "kind", "place") == _rows(boards.head(3), "kind", "place")
    assert _rows(store.table(Table.BOARDS, ["dalle-3"]), "need") == _rows(boards.slice(1, 1), "need")
    # the next run replaces both tables whole
    store.apply(GraphDelta().set(Table.SEEKS, seeks.head(1)).set(Table.BOARDS, boards.tail(1)))
    assert store.table(Table.SEEKS).height == 1
    assert store.table(Table.BOARDS).get_column("need").to_list() == ["inpainting"]
    # a capability that goes takes its links and board along
    store.apply(GraphDelta().set(Table.SEEKS, seeks).set(Table.BOARDS, boards))
    flux_caps = store.table(Table.HAS_CAPABILITY, ["flux-1-pro"]).filter(pl.col("capability") != "inpainting")
    store.apply(GraphDelta().set(Table.HAS_CAPABILITY, flux_caps).remove(Table.CAPABILITIES, ["inpainting"]))
    assert "inpainting" not in store.table(Table.CAPABILITIES).get_column("id").to_list()
    assert store.table(Table.SEEKS).get_column("capability").unique().to_list() == ["text-to-image"]
    assert sorted(store.table(Table.BOARDS).get_column("need").unique().to_list()) == ["text to image",
                                                                                        "text-to-image"]
