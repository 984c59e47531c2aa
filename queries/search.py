"""Finding what a person needs: one ranking of artifacts and capabilities, over an index built
once per graph version.

A query is matched four ways, and an artifact's score is their weighted sum (:class:`Blend`):

lexical
    BM25 (``bm25s``) over the artifact's id, name, description and its capability statements
    (their names, the canonical names, the descriptions), divided by the best score of the query
    so it lies in 0..1. It is also the main candidate source.
meaning
    The cosine of the query's WordLlama vector (:mod:`queries.embedding`) with the artifact's.
capability
    The query is matched to capabilities by meaning (their names, and their members' descriptions)
    and wording (BM25 over their names); an artifact scores the best match among its capabilities.
    This is what finds the text-to-image models for "draw pictures from a prompt", a query that
    shares no word with "Text-to-image generation".
intent
    The query is matched to past intents (normalized queries) the same two ways; an artifact scores
    the best match times how often people chose it for that intent, relative to the intent's most
    chosen artifact: the logs' answer to a question someone already asked.

Each hit carries the reasons it matched, with their evidence counts, and search also returns the
matching capabilities. Candidates are the lexical top ``candidates``, the best-placed members of
the matching capabilities (by their board) and the artifacts chosen for the matching intents, so a
query touches a few thousand rows, never the catalog. Both stores read the same tables, so both
rank alike.

The index (vectors, BM25 postings, the capability and intent maps) is kept on disk under
``MATCHGRAPH_HOME/cache/<version>/search`` when a folder is given, so a one-shot ``matchgraph
search`` loads it instead of building it again; arrays are memory-mapped.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import bm25s
import numpy as np
import polars as pl
from scipy import sparse

from graph.schema import normalize_intent
from graph.tables import Table
from queries.capabilities import features
from queries.embedding import encoder
from queries.rows import RowIndex, read_rows
from queries.text import features_of, term_frame, terms

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from graph.store import Reader

T = TypeVar("T")

FORMAT = 6
"""Bumped when the saved index changes shape: an index saved by another format is rebuilt."""


@dataclass(frozen=True)
class Blend:
    """How the four matches add up, and how many candidates each brings."""

    lexical: float = 1.0
    meaning: float = 0.5
    capability: float = 1.0
    intent: float = 1.5
    exact: float = 3.0
    """Added when the query is the artifact's id or name."""
    min_capability: float = 0.45
    capability_margin: float = 0.25
    """Capabilities matched less well than the best by more than this are left out."""
    min_intent: float = 0.45
    capabilities: int = 5
    intents: int = 10
    intent_candidates: int = 500
    """Intents scored by meaning: those sharing the most words with the query."""
    candidates: int = 300
    members: int = 200
    chosen: int = 20


BLEND = Blend()
LENGTH_NORMALIZATION = 0.3
"""BM25's ``b``, below the usual 0.75: an artifact's text grows with every capability its catalog
documents, and a well-documented artifact should not lose to a terse one for that."""


class Lexical(bm25s.BM25):  # type: ignore[misc]
    """``bm25s``'s BM25 (its Lucene scoring, its saving and loading, its query-time scoring), with
    the index built from a frame of (document, term) rows in one pass of polars: ``bm25s`` builds
    it with a Python loop per document, ~10 s for 100k artifacts. A unit test checks both builds
    give the same scores."""

    def index_terms(self, terms: pl.DataFrame, n_docs: int, vocab: dict[str, int]) -> None:
        """``terms``: ``row`` (document), ``id`` (term) per occurrence."""
        tf = terms.group_by("row", "id").len("tf")
        lengths = np.bincount(terms.get_column("row").to_numpy().astype(np.int64), minlength=n_docs)
        average = float(lengths.mean()) if n_docs else 0.0
        df = np.bincount(tf.get_column("id").to_numpy().astype(np.int64), minlength=len(vocab))
        idf = np.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))
        rows = tf.get_column("row").to_numpy().astype(np.int64)
        ids = tf.get_column("id").to_numpy().astype(np.int64)
        counts = tf.get_column("tf").to_numpy().astype(np.float64)
        norm = self.k1 * ((1 - self.b) + self.b * lengths[rows] / max(average, 1e-9))
        values = (idf[ids] * counts / (norm + counts)).astype(self.dtype)
        matrix = sparse.csc_array((values, (rows, ids)), shape=(n_docs, len(vocab)))
        matrix.sort_indices()
        self.scores = {"data": matrix.data.astype(self.dtype), "indices": matrix.indices.astype(self.int_dtype),
                       "indptr": matrix.indptr.astype(self.int_dtype), "num_docs": n_docs}
        self.vocab_dict = dict(vocab)
        self.unique_token_ids_set = set(self.vocab_dict.values())
        self.nonoccurrence_array = None  # the Lucene variant scores only the terms a document has


def _bm25(docs: pl.Series) -> tuple[bm25s.BM25, dict[str, int]]:
    """A BM25 index over ``docs`` tokenized by :func:`queries.text.terms`, and its vocabulary."""
    frame = term_frame(docs)
    vocabulary = frame.get_column("term").unique().sort()
    vocab = {t: i for i, t in enumerate(vocabulary.to_list())}
    coded = frame.select("row", pl.col("term").cast(pl.Enum(vocabulary)).to_physical().cast(pl.Int64).alias("id"))
    index = Lexical(b=LENGTH_NORMALIZATION)
    index.index_terms(coded, docs.len(), vocab)
    return index, vocab


def _postings(texts: pl.Series) -> tuple[dict[str, int], dict[str, np.ndarray]]:
    """Word-feature postings of short texts (``queries.capabilities.features``): the vocabulary, and
    per feature the rows holding it (``ptr``/``rows``), with each row's number of features."""
    feats = features(texts)
    vocabulary = feats.get_column("feature").unique().sort()
    coded = feats.with_columns(pl.col("feature").cast(pl.Enum(vocabulary)).to_physical().cast(pl.Int64).alias("f"))
    ordered = coded.sort("f", "row")
    counts = np.bincount(ordered.get_column("f").to_numpy(), minlength=vocabulary.len())
    sizes = np.bincount(coded.get_column("row").to_numpy().astype(np.int64), minlength=texts.len())
    arrays = {"ptr": np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
              "rows": ordered.get_column("row").to_numpy().astype(np.int64), "sizes": sizes.astype(np.int64)}
    return {f: i for i, f in enumerate(vocabulary.to_list())}, arrays


def _dice(query: set[str], vocab: dict[str, int], ptr: np.ndarray, rows: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """The Dice overlap of the query's word features with each text's."""
    found = [vocab[f] for f in query if f in vocab]
    if not found or sizes.size == 0:
        return np.zeros(sizes.size, dtype=np.float32)
    hits = np.concatenate([rows[ptr[f]:ptr[f + 1]] for f in found])
    shared = np.bincount(hits, minlength=sizes.size)
    dice: np.ndarray = (2.0 * shared / (len(query) + sizes)).astype(np.float32)
    return dice


def _scores(index: bm25s.BM25, vocab: dict[str, int], query_terms: list[str]) -> np.ndarray | None:
    ids = [vocab[t] for t in dict.fromkeys(query_terms) if t in vocab]
    if not ids:
        return None
    return np.asarray(index.get_scores_from_ids(ids), dtype=np.float32)


def _normalized(scores: np.ndarray | None, n: int) -> np.ndarray:
    if scores is None or scores.size == 0 or float(scores.max()) <= 0:
        return np.zeros(n, dtype=np.float32)
    return scores / float(scores.max())


def _top(values: np.ndarray, k: int, floor: float = 0.0) -> np.ndarray:
    """Indexes of the ``k`` largest values above ``floor``, largest first (ties by index)."""
    if values.size == 0 or k <= 0:
        return np.zeros(0, dtype=np.int64)
    k = min(k, values.size)
    part = np.argpartition(-values, k - 1)[:k]
    part = part[values[part] > floor]
    return part[np.lexsort((part, -values[part]))]


def _csr(groups: pl.DataFrame, n_groups: int, column: str) -> tuple[np.ndarray, np.ndarray]:
    """``indptr`` and values of a group -> list map from rows ``group``, ``column`` (in row order)."""
    counts = np.bincount(groups.get_column("group").to_numpy(), minlength=n_groups) if groups.height else \
        np.zeros(n_groups, dtype=np.int64)
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return indptr, groups.get_column(column).to_numpy()


@dataclass
class SearchIndex:
    """The search index of one graph version (see the module notes)."""

    version: str
    docs: pl.DataFrame
    """One row per artifact as ``queries.engine`` joins them (fields, scores, totals, capability
    count): row ``k`` is document ``k``."""
    arrays: dict[str, np.ndarray]
    lexical: bm25s.BM25
    vocab: dict[str, int]
    caps: pl.DataFrame
    """``id``, ``name``, ``artifacts``: row ``k`` is capability ``k``."""
    cap_vocab: dict[str, int]
    intents: pl.DataFrame
    """``intent``, ``searches``, ``clicks``: row ``k`` is intent ``k``."""
    intent_vocab: dict[str, int]
    _names: pl.DataFrame | None = None

    # -- building ------------------------------------------------------------------------------------
    @classmethod
    def build(cls, reader: Reader, docs: pl.DataFrame | None = None) -> SearchIndex:
        model = encoder()
        # each artifact's summary row as the engine makes it: a hit is answered from the index alone
        docs = read_rows(reader) if docs is None else docs
        doc_row = docs.select("id").with_row_index("doc")
        has = reader.table(Table.HAS_CAPABILITY, columns=["artifact", "capability", "description", "name"])
        nodes = reader.table(Table.CAPABILITIES, columns=["id", "name", "aliases", "artifacts"]).sort("id")
        statements = has.join(nodes.select("id", pl.col("name").alias("canonical")), left_on="capability",
                              right_on="id", how="left")
        cap_text = statements.group_by("artifact").agg(
            pl.concat_str(["canonical", "name", "description"], separator=" ", ignore_nulls=True).str.join(" ")
            .alias("caps"))
        text = (docs.join(cap_text, left_on="id", right_on="artifact", how="left")
                .select(pl.concat_str([pl.col("id").str.replace_all("-", " "), "name", "description", "caps"],
                                      separator=" ", ignore_nulls=True).alias("text")).get_column("text"))
        lexical, vocab = _bm25(text)
        vectors = model.encode(docs.select(pl.concat_str(["name", "description"], separator=" ", ignore_nulls=True)
                                           .alias("t")).get_column("t")).astype(np.float16)
        # capabilities: vectors of their names and of what their members say they do
        described = statements.group_by("capability").agg(
            pl.col("description").drop_nulls().unique().sort().head(20).str.join(" ").alias("d"))
        caps = nodes.join(described, left_on="id", right_on="capability", how="left").with_columns(
            pl.col("artifacts").fill_null(0)).sort("id")
        names = pl.concat_str([pl.col("name"), pl.col("aliases").list.join(" ")], separator=" ", ignore_nulls=True)
        cap_names = caps.select(names.alias("t")).get_column("t")
        cap_vocab, cap_postings = _postings(cap_names)
        cap_vectors = model.encode(caps.select(pl.concat_str([names, pl.col("d")], separator=" ",
                                                             ignore_nulls=True).alias("t")).get_column("t"))
        cap_name_vectors = model.encode(cap_names)
        members = _members(reader, caps, doc_row, docs)
        # intents people chose something for, and what they chose most
        matched = reader.table(Table.MATCHED, columns=["intent", "artifact", "count", "clicks"])
        chosen = matched.filter(pl.col("clicks") > 0)
        per_intent = chosen.group_by("intent").agg(pl.col("count").max().alias("searches"),
                                                   pl.col("clicks").sum().alias("clicks"))
        searched = reader.table(Table.INTENTS)
        intents = (per_intent.join(searched.rename({"id": "intent", "searches": "n"}), on="intent", how="left")
                   .with_columns(pl.coalesce("n", "searches").alias("searches")).select("intent", "searches", "clicks")
                   .sort("intent"))
        intent_vocab, intent_postings = _postings(intents.get_column("intent"))
        intent_vectors = model.encode(intents.get_column("intent"))
        top_chosen = (chosen.join(intents.select("intent").with_row_index("group"), on="intent")
                      .join(doc_row, left_on="artifact", right_on="id")
                      .sort(["group", "clicks", "doc"], descending=[False, True, False])
                      .group_by("group", maintain_order=True).head(BLEND.chosen))
        intent_ptr, intent_docs = _csr(top_chosen, intents.height, "doc")
        arrays: dict[str, np.ndarray] = {
            "rank": docs.get_column("rank").fill_null(-1).to_numpy().astype(np.int64),
            "vectors": vectors, "cap_vectors": cap_vectors, "cap_name_vectors": cap_name_vectors,
            "members_ptr": members[0], "members": members[1].astype(np.int64),
            "intent_vectors": intent_vectors, "intent_ptr": intent_ptr, "intent_docs": intent_docs.astype(np.int64),
            "intent_chosen": top_chosen.get_column("clicks").to_numpy().astype(np.int64),
            **{f"cap_words_{k}": v for k, v in cap_postings.items()},
            **{f"intent_words_{k}": v for k, v in intent_postings.items()},
        }
        return cls(reader.version, docs, arrays, lexical, vocab, caps.select("id", "name", "artifacts"),
                   cap_vocab, intents, intent_vocab)

    # -- on disk -------------------------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        """Write the index to ``folder`` (replaced atomically: readers see all of it or none)."""
        tmp = folder.with_name(f".{folder.name}-{os.getpid()}-{threading.get_ident()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        for name, array in self.arrays.items():
            np.save(tmp / f"{name}.npy", array)
        self.docs.write_parquet(tmp / "docs.parquet")
        self.caps.write_parquet(tmp / "caps.parquet")
        self.intents.write_parquet(tmp / "intents.parquet")
        self.lexical.save(str(tmp / "lexical"), show_progress=False)
        vocabs = {"lexical": self.vocab, "caps": self.cap_vocab, "intents": self.intent_vocab}
        (tmp / "vocab.json").write_text(json.dumps(vocabs))
        (tmp / "index.json").write_text(json.dumps({"format": FORMAT, "version": self.version}))
        try:
            os.rename(tmp, folder)
        except OSError:  # another process saved it first: theirs is the same index
            shutil.rmtree(tmp, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path, version: str) -> SearchIndex | None:
        """The index saved in ``folder`` for ``version``, or None when there is none (or it is of
        another format or version)."""
        try:
            meta = json.loads((folder / "index.json").read_text())
            if meta.get("format") != FORMAT or meta.get("version") != version:
                return None
            arrays = {p.stem: np.load(p, mmap_mode="r") for p in folder.glob("*.npy")}
            vocabs = json.loads((folder / "vocab.json").read_text())
            lexical = bm25s.BM25.load(str(folder / "lexical"), mmap=True, load_vocab=False, show_progress=False)
            return cls(version, pl.read_parquet(folder / "docs.parquet"), arrays, lexical, vocabs["lexical"],
                       pl.read_parquet(folder / "caps.parquet"), vocabs["caps"],
                       pl.read_parquet(folder / "intents.parquet"), vocabs["intents"])
        except (OSError, ValueError, KeyError, pl.exceptions.PolarsError):
            return None

    # -- asking --------------------------------------------------------------------------------------
    def ids(self) -> pl.Series:
        return self.docs.get_column("id")

    def match(self, text: str, limit: int, blend: Blend = BLEND) -> Match:
        """The best ``limit`` artifacts for ``text`` (by score rounded to 4 places, then rank, then
        id) and the capabilities it asks for."""
        folded = normalize_intent(text)
        words = terms(folded)
        wording = features_of(folded)
        query = encoder().encode_one(folded)
        a = self.arrays
        n_docs = self.docs.height
        # capabilities and past intents, each by meaning and by wording
        cap_score = self._short_texts("cap", self.cap_vocab, query, wording)
        top_cap = float(cap_score.max()) if cap_score.size else 0.0
        caps = _top(cap_score, blend.capabilities, max(blend.min_capability, top_cap - blend.capability_margin))
        int_score = self._intent_scores(query, wording, blend.intent_candidates)
        close = _top(int_score, blend.intents, blend.min_intent)
        # candidates: the lexical best, the best members of those capabilities, what those intents chose
        lexical = _normalized(_scores(self.lexical, self.vocab, words), n_docs)
        member_spans = [np.asarray(a["members"][a["members_ptr"][c]:a["members_ptr"][c + 1]][:blend.members])
                        for c in caps]
        chosen_rows = np.concatenate([np.arange(a["intent_ptr"][i], a["intent_ptr"][i + 1]) for i in close]
                                     or [np.zeros(0, dtype=np.int64)])
        chosen_docs = np.asarray(a["intent_docs"][chosen_rows], dtype=np.int64)
        candidates = np.unique(np.concatenate([_top(lexical, blend.candidates), *member_spans, chosen_docs]))
        if candidates.size == 0:
            return Match(pl.DataFrame(schema=HITS_SCHEMA), self._capabilities(caps, cap_score))
        meaning = np.clip(np.asarray(a["vectors"][candidates], dtype=np.float32) @ query, 0, 1)
        # capability: the best match among the candidate's capabilities
        by_cap = np.zeros(candidates.size, dtype=np.float32)
        best_cap = np.full(candidates.size, -1, dtype=np.int64)
        for c, span in sorted(zip(caps.tolist(), member_spans, strict=True), key=lambda x: cap_score[x[0]]):
            k = np.searchsorted(candidates, span)
            better = cap_score[c] > by_cap[k]
            by_cap[k[better]], best_cap[k[better]] = cap_score[c], c
        # intent: the share of choices the candidate took among people who asked alike (weighted
        # by how alike), scaled so the most chosen gets the best intent match
        by_intent = np.zeros(candidates.size, dtype=np.float32)
        best_row = np.full(candidates.size, -1, dtype=np.int64)
        if chosen_rows.size:
            owner = np.repeat(close, np.diff(a["intent_ptr"])[close])
            weight = int_score[owner]
            clicks = self.intents.get_column("clicks").to_numpy()
            total = float(np.sum(int_score[close] * clicks[close]))
            value = weight * np.asarray(a["intent_chosen"][chosen_rows], dtype=np.float64) / max(total, 1.0)
            k = np.searchsorted(candidates, chosen_docs)
            np.add.at(by_intent, k, value.astype(np.float32))
            order = np.lexsort((-value, k))  # per candidate, its strongest intent first
            first = np.unique(k[order], return_index=True)[1]
            best_row[k[order][first]] = chosen_rows[order][first]
            if by_intent.max() > 0:
                by_intent *= float(int_score[close].max()) / float(by_intent.max())
        exact = np.isin(candidates, self._exact(folded)).astype(np.float32)
        score = (blend.lexical * lexical[candidates] + blend.meaning * meaning + blend.capability * by_cap
                 + blend.intent * by_intent + blend.exact * exact)
        intent_of = np.full(candidates.size, -1, dtype=np.int64)
        if chosen_rows.size:
            intent_of[best_row >= 0] = np.searchsorted(a["intent_ptr"], best_row[best_row >= 0], side="right") - 1
        # score (as shown, 4 places), then rank, then id: documents are in id order, so the
        # document number settles the last tie; only the page's rows become a frame
        shown = np.round(score.astype(np.float64), 4)
        rank = np.asarray(self.arrays["rank"])[candidates]
        keep = np.flatnonzero(shown > 0)
        top = keep[np.lexsort((candidates[keep], -rank[keep], -shown[keep]))][:limit]
        frame = pl.DataFrame({
            "id": self.docs.get_column("id").gather(candidates[top]), "doc": candidates[top],
            "rank": self.docs.get_column("rank").gather(candidates[top]),
            "score": shown[top], "lexical": lexical[candidates[top]].astype(np.float64),
            "meaning": meaning[top].astype(np.float64), "capability": by_cap[top].astype(np.float64),
            "intent": by_intent[top].astype(np.float64), "cap_row": best_cap[top], "intent_row": intent_of[top],
            "chosen_row": best_row[top], "exact": exact[top] > 0,
        }, schema=HITS_SCHEMA)
        return Match(frame, self._capabilities(caps, cap_score))

    def _exact(self, folded: str) -> np.ndarray:
        """The documents whose id or lower-cased name is exactly the query: a binary search in the
        sorted ids and names (sorted on first use)."""
        if self._names is None:
            keys = pl.DataFrame({
                "key": pl.concat([self.docs.get_column("id"),
                                  self.docs.get_column("name").fill_null("").str.to_lowercase()]),
                "doc": np.concatenate([np.arange(self.docs.height)] * 2)}).sort("key")
            self._names = keys
        sorted_keys = self._names.get_column("key")
        lo, hi = sorted_keys.search_sorted(folded, side="left"), sorted_keys.search_sorted(folded, side="right")
        found: np.ndarray = self._names.get_column("doc").slice(int(lo), int(hi) - int(lo)).to_numpy()
        return found

    def _intent_scores(self, query: np.ndarray, wording: set[str], candidates: int) -> np.ndarray:
        """How well past intents match the query, as :meth:`_short_texts` scores them, for the
        ``candidates`` intents that share the most words with it (0 for the rest). An intent that
        shares no word would need a cosine of 0.9 to pass ``min_intent``: scoring every intent's
        vector (100k x 256 floats) would cost more than the rest of the query for nothing."""
        a = self.arrays
        n = self.intents.height
        out = np.zeros(n, dtype=np.float32)
        if n == 0:
            return out
        words = _dice(wording, self.intent_vocab, a["intent_words_ptr"], a["intent_words_rows"],
                      a["intent_words_sizes"])
        rows = np.sort(_top(words, candidates))
        if rows.size:
            meaning = np.asarray(a["intent_vectors"][rows], dtype=np.float32) @ query
            out[rows] = (np.clip(meaning, 0, 1) + words[rows]) / 2.0
        return out

    def _short_texts(self, prefix: str, vocab: dict[str, int], query: np.ndarray, wording: set[str]) -> np.ndarray:
        """How well capabilities (``cap``) or intents (``intent``) match the query: the mean of the
        cosine of their vectors (clipped at 0) and the Dice overlap of their words; for a capability,
        at least the cosine (its vectors carry its members' descriptions, which say what it does)."""
        a = self.arrays
        vectors = a[f"{prefix}_vectors"]
        if vectors.shape[0] == 0:
            return np.zeros(0, dtype=np.float32)
        meaning = vectors @ query
        if prefix == "cap":
            meaning = np.maximum(meaning, a["cap_name_vectors"] @ query)
        words = _dice(wording, vocab, a[f"{prefix}_words_ptr"], a[f"{prefix}_words_rows"], a[f"{prefix}_words_sizes"])
        both = (np.clip(meaning, 0, 1) + words) / 2.0
        if prefix == "cap":  # a need said in other words still finds its capability by meaning alone
            both = np.maximum(both, meaning)
        return np.asarray(both, dtype=np.float32)

    def _capabilities(self, caps: np.ndarray, cap_score: np.ndarray) -> pl.DataFrame:
        rows = self.caps[caps.tolist()] if caps.size else self.caps.clear()
        return rows.with_columns(pl.Series("score", cap_score[caps].astype(np.float64)))

    def reasons(self, row: dict[str, Any], words: list[str]) -> list[dict[str, Any]]:
        """Why a hit matched, the largest part of its score first, with the evidence behind each reason."""
        out: list[dict[str, Any]] = []
        if row["intent"] > 0 and row["intent_row"] >= 0:
            intent = self.intents.row(int(row["intent_row"]), named=True)
            out.append({"kind": "intent", "text": intent["intent"], "score": round(row["intent"], 4),
                        "searches": intent["searches"],
                        "chosen": int(self.arrays["intent_chosen"][int(row["chosen_row"])])})
        if row["capability"] > 0 and row["cap_row"] >= 0:
            cap = self.caps.row(int(row["cap_row"]), named=True)
            out.append({"kind": "capability", "text": cap["name"], "capability": cap["id"],
                        "score": round(row["capability"], 4),
                        "artifacts": cap["artifacts"]})
        if row["lexical"] > 0 or row["exact"]:
            name = self.docs.row(int(row["doc"]), named=True)
            in_name = bool(set(words) & set(terms(f"{name['id']} {name['name'] or ''}")))
            out.append({"kind": "name" if in_name or row["exact"] else "description",
                        "text": name["name"] if in_name or row["exact"] else (name["description"] or ""),
                        "score": round(row["lexical"], 4)})
        if row["meaning"] > 0 and not out:
            out.append({"kind": "description", "text": "", "score": round(row["meaning"], 4)})
        weight = {"intent": BLEND.intent, "capability": BLEND.capability, "name": BLEND.lexical,
                  "description": BLEND.lexical}
        return sorted(out, key=lambda r: -float(r["score"]) * weight[r["kind"]])


def _members(reader: Reader, caps: pl.DataFrame, doc_row: pl.DataFrame,
             docs: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each capability's members as document numbers, best first: by their place on its board, then
    by rank, then id."""
    has = reader.table(Table.HAS_CAPABILITY, columns=["artifact", "capability"]).unique()
    board = reader.table(Table.BOARDS, caps.get_column("id").to_list(), by="need",
                         columns=["kind", "need", "artifact", "place"]).filter(pl.col("kind") == "capability")
    ordered = (has.join(caps.select("id").with_row_index("group"), left_on="capability", right_on="id")
               .join(doc_row, left_on="artifact", right_on="id")
               .join(board.select(pl.col("need").alias("capability"), "artifact", "place"),
                     on=["capability", "artifact"], how="left")
               .join(docs.select("id", "rank"), left_on="artifact", right_on="id", how="left")
               .sort(["group", "place", "rank", "artifact"], descending=[False, False, True, False],
                     nulls_last=True)
               .group_by("group", maintain_order=True).head(BLEND.members))
    return _csr(ordered, caps.height, "doc")


HITS_SCHEMA = {"id": pl.String, "doc": pl.Int64, "rank": pl.Int64, "score": pl.Float64, "lexical": pl.Float64,
               "meaning": pl.Float64,
               "capability": pl.Float64, "intent": pl.Float64, "cap_row": pl.Int64, "intent_row": pl.Int64,
               "chosen_row": pl.Int64, "exact": pl.Boolean}


@dataclass(frozen=True)
class Match:
    hits: pl.DataFrame
    capabilities: pl.DataFrame


class IndexCache:
    """Search indexes and row indexes (:class:`queries.rows.RowIndex`) by graph version, each built
    once (the newest ``keep`` versions are kept in memory; with a ``folder``, each search index is
    saved under ``folder/<version>/search`` and loaded from there). A version's two indexes share
    one frame of rows."""

    def __init__(self, keep: int = 2, folder: Path | None = None) -> None:
        self.keep = keep
        self.folder = folder
        self._indexes: OrderedDict[str, SearchIndex] = OrderedDict()
        self._rows: OrderedDict[str, RowIndex] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[tuple[str, str], threading.Lock] = {}

    def get(self, reader: Reader) -> SearchIndex:
        return self._once(self._indexes, "search", reader, self._load_or_build)

    def rows(self, reader: Reader) -> RowIndex:
        """Every artifact's row of the reader's version (the search index's, when it is built)."""
        return self._once(self._rows, "rows", reader, self._rows_of)

    def _rows_of(self, reader: Reader) -> RowIndex:
        with self._lock:
            search = self._indexes.get(reader.version)
        if search is None:
            return RowIndex.build(reader)
        rows = RowIndex(search.docs)
        search.docs = rows.docs  # the same rows: keep one copy
        return rows

    def _once(self, held: OrderedDict[str, T], kind: str, reader: Reader, make: Callable[[Reader], T]) -> T:
        version = reader.version
        with self._lock:
            found = held.get(version)
            if found is not None:
                return found
            gate = self._building.setdefault((kind, version), threading.Lock())
        with gate:  # one build per version and kind; others wait for it
            with self._lock:
                found = held.get(version)
            if found is None:
                found = make(reader)
                with self._lock:
                    held[version] = found
                    while len(held) > self.keep:
                        held.popitem(last=False)
                    self._building.pop((kind, version), None)
            return found

    def _load_or_build(self, reader: Reader) -> SearchIndex:
        version = reader.version
        with self._lock:
            rows = self._rows.get(version)
        folder = self.folder / _safe(version) / "search" if self.folder is not None and version else None
        if folder is not None:
            found = SearchIndex.load(folder, version)
            if found is not None:
                if rows is not None:
                    found.docs = rows.docs  # the same rows: keep one copy
                return found
        built = SearchIndex.build(reader, rows.docs if rows is not None else None)
        if folder is not None:
            try:
                folder.parent.mkdir(parents=True, exist_ok=True)
                built.save(folder)
                self._prune(folder.parent)
            except OSError:
                pass  # a read-only home: the index lives in memory only
        return built

    def _prune(self, current: Path) -> None:
        """Drop saved indexes of older versions, keeping the ``keep`` newest folders."""
        if self.folder is None:
            return
        folders = sorted((p for p in self.folder.iterdir() if p.is_dir() and p != current),
                         key=lambda p: p.stat().st_mtime, reverse=True)
        for old in folders[max(self.keep - 1, 0):]:
            shutil.rmtree(old, ignore_errors=True)


def _safe(version: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in version)
