"""The search index: its BM25 build, and its copy on disk."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import bm25s
import numpy as np
import polars as pl

from api.application import MatchGraph
from queries.search import LENGTH_NORMALIZATION, IndexCache, SearchIndex, _bm25
from queries.text import term_frame
from tests.fixtures import load_fixture

if TYPE_CHECKING:
    from pathlib import Path

    from graph.embedded import EmbeddedStore
    from graph.settings import Settings


def test_the_columnar_build_scores_as_bm25s_builds() -> None:
    docs = pl.Series(["Text to image generation model", "images of text", "speech to text API API", "",
                      "image image image editing"])
    mine, vocab = _bm25(docs)
    frame = term_frame(docs)
    ids = [[vocab[t] for t in frame.filter(pl.col("row") == i).get_column("term").to_list()] for i in range(5)]
    reference = bm25s.BM25(b=LENGTH_NORMALIZATION)
    reference.index((ids, dict(vocab)), show_progress=False)
    for query in (["image"], ["text", "image"], ["api"], ["speech", "editing"]):
        wanted = [vocab[t] for t in query]
        np.testing.assert_allclose(mine.get_scores_from_ids(wanted), reference.get_scores_from_ids(wanted),
                                   rtol=1e-6)
    assert mine.get_scores_from_ids([vocab["image"]])[4] > mine.get_scores_from_ids([vocab["image"]])[1] > 0


def test_the_index_is_kept_on_disk_per_version(embedded: EmbeddedStore, tmp_path: Path, settings: Settings) -> None:
    load_fixture([embedded], tmp_path)
    MatchGraph(settings, embedded).score()
    folder = tmp_path / "cache"
    with embedded.reader() as view:
        built = IndexCache(folder=folder).get(view)
        saved = folder / view.version / "search"
        assert json.loads((saved / "index.json").read_text())["version"] == view.version
        loaded = SearchIndex.load(saved, view.version)
        assert loaded is not None
        for text in ("image", "text to image", "comfyui", "pictures from a prompt"):
            assert loaded.match(text, 10).hits.equals(built.match(text, 10).hits), text
        # another version, or another format, is not taken for this one
        assert SearchIndex.load(saved, "another version") is None
        (saved / "index.json").write_text(json.dumps({"format": -1, "version": view.version}))
        assert SearchIndex.load(saved, view.version) is None
