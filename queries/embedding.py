"""Text embeddings from the WordLlama weights that ship inside the ``wordllama`` wheel, offline.

WordLlama embeds a text as the mean of its tokens' vectors (256 dimensions, a tokenizer of 32k
tokens), which is all that grouping capability names and matching a query to needs require, at
tens of thousands of texts a second on one core. The wheel carries the weights
(``weights/l2_supercat_256.safetensors``) and the tokenizer (under ``tokenizers/``, a folder its
own loader does not look in, so ``WordLlama.load`` would go to the network for it). This module
therefore reads both files from the installed package itself and never imports ``wordllama``:
importing it would also configure the root logger and load ``requests``. There is no code path
here that can download anything; a missing package is an error that says so.

The pooling is WordLlama's own (token vectors averaged over the text, then L2-normalized), done as
one sparse product of token counts with the embedding table instead of per-batch padded arrays;
a unit test checks the vectors against ``WordLlamaInference.embed``.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
from scipy import sparse

from graph.errors import MatchGraphError
from queries.text import normalize_text, split_words

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tokenizers import Tokenizer

PACKAGE = "wordllama"
WEIGHTS = ("weights", "l2_supercat_256.safetensors")
TOKENIZER = ("tokenizers", "l2_supercat_tokenizer_config.json")
TENSOR = "embedding.weight"
DIM = 256
BATCH = 8_192
"""Texts tokenized at once: bounds the token lists held in memory while a big corpus is embedded."""
NORM_BLOCK = 4_096
"""Rows normalized at a time by :meth:`TextEncoder.encode` (4 MB of vectors)."""


class ModelUnavailable(MatchGraphError):
    """The embedding model's files are not installed."""


def package_files() -> tuple[Path, Path]:
    """The weights and tokenizer files inside the installed ``wordllama`` package, located without
    importing it."""
    spec = importlib.util.find_spec(PACKAGE)
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in folders:
        weights, tokenizer = Path(folder).joinpath(*WEIGHTS), Path(folder).joinpath(*TOKENIZER)
        if weights.is_file() and tokenizer.is_file():
            return weights, tokenizer
    raise ModelUnavailable(f"the {PACKAGE} package with its packaged weights is not installed",
                           hint=f"pip install {PACKAGE} (its wheel carries the weights and the tokenizer)")


class TextEncoder:
    """Unit-length text vectors: ``encode(texts)`` is an ``(n, 256)`` float32 array; a text with no
    known token gets the zero vector (similar to nothing)."""

    def __init__(self, table: np.ndarray, tokenizer: Tokenizer) -> None:
        self.table = np.ascontiguousarray(table, dtype=np.float32)
        self.tokenizer = tokenizer
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        self.dim = int(self.table.shape[1])

    @classmethod
    def from_package(cls) -> TextEncoder:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        weights, tokenizer = package_files()
        return cls(load_file(str(weights))[TENSOR], Tokenizer.from_file(str(tokenizer)))

    def token_counts(self, texts: Sequence[str]) -> sparse.csr_array:
        """Per text, how often each token occurs in it (as the tokenizer splits the text itself)."""
        encodings = self.tokenizer.encode_batch(list(texts), add_special_tokens=False)
        lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(encodings))
        ids = np.fromiter((i for e in encodings for i in e.ids), dtype=np.int64, count=int(lengths.sum()))
        np.clip(ids, 0, self.table.shape[0] - 1, out=ids)
        rows = np.repeat(np.arange(len(encodings)), lengths)
        counts = sparse.csr_array((np.ones(ids.size, dtype=np.float32), (rows, ids)),
                                  shape=(len(encodings), self.table.shape[0]))
        counts.sum_duplicates()
        return counts

    def encode_one(self, text: str) -> np.ndarray:
        """One text's unit vector, without the batch machinery (~0.1 ms for a search query, where
        :meth:`encode` spends ~4 ms setting up frames)."""
        words = split_words(text)
        out = np.zeros(self.dim, dtype=np.float32)
        if not words:
            return out
        # one text of the normalized words tokenizes as the words one by one (no merge crosses a
        # word's start), without the thread pool ``encode_batch`` starts for a handful of words
        ids = self.tokenizer.encode(" ".join(words), add_special_tokens=False).ids
        summed = self.table[np.clip(np.asarray(ids, dtype=np.int64), 0, self.table.shape[0] - 1)].sum(axis=0)
        norm = float(np.linalg.norm(summed))
        return (summed / norm).astype(np.float32) if norm > 0 else out

    def encode(self, texts: Sequence[str] | pl.Series) -> np.ndarray:
        """Unit vectors of the texts after :func:`normalize_text`.

        The tokenizer marks each word's start and never merges across words, so a text's tokens
        are its words' tokens: each distinct word is tokenized and summed once, and a text's
        vector is the sum over its words (a corpus of 100k names has a few thousand distinct
        words, and tokenizing costs ~50 µs a text here).
        """
        series = texts if isinstance(texts, pl.Series) else pl.Series("text", list(texts), dtype=pl.String)
        n = series.len()
        words = (normalize_text(series).str.split(" ").to_frame("word").with_row_index("row")
                 .explode("word").filter(pl.col("word").str.len_bytes() > 0))
        if words.height == 0:
            return np.zeros((n, self.dim), dtype=np.float32)
        vocabulary = words.get_column("word").unique().sort()
        coded = words.with_columns(pl.col("word").cast(pl.Enum(vocabulary)).to_physical().alias("code"))
        word_sums = np.zeros((vocabulary.len(), self.dim), dtype=np.float32)
        for start in range(0, vocabulary.len(), BATCH):
            part = vocabulary.slice(start, BATCH).to_list()
            word_sums[start:start + len(part)] = self.token_counts(part) @ self.table
        rows = coded.get_column("row").to_numpy().astype(np.int64)
        cols = coded.get_column("code").to_numpy().astype(np.int64)
        text_words = sparse.csr_array((np.ones(coded.height, dtype=np.float32), (rows, cols)),
                                      shape=(n, vocabulary.len()))
        summed = np.asarray(text_words @ word_sums, dtype=np.float32)
        # normalized in place a block of rows at a time: the same arithmetic as one call, without
        # two more (texts x 256) arrays to allocate and fault in (100 MB each at 100k intents)
        for start in range(0, n, NORM_BLOCK):
            block = summed[start:start + NORM_BLOCK]
            norms = np.linalg.norm(block, axis=1, keepdims=True)
            np.divide(block, norms, out=block, where=norms > 0)
            block[norms[:, 0] <= 0] = 0.0
        return summed


_lock = threading.Lock()
_encoder: TextEncoder | None = None


def encoder() -> TextEncoder:
    """The process's one encoder (the table is 32 MB; loading it takes ~0.1 s)."""
    global _encoder
    with _lock:
        if _encoder is None:
            _encoder = TextEncoder.from_package()
        return _encoder
