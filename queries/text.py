"""How matchgraph reads free text: one normalization and one word list, for grouping capability
names, linking intents and searching, so all three agree on what a word is."""

from __future__ import annotations

import re

import polars as pl

STOPWORDS = frozenset(
    "a an and as at by for from in into of on or the to via with without your its it is are be this that".split())
"""Words that carry no need on their own (they still count inside word pairs, where order matters)."""
_NOT_WORD = re.compile(r"[^\w]+|_+")


def normalize_expr(texts: pl.Expr) -> pl.Expr:
    """Lower case, every run of characters that are neither letters nor digits one space: "Text-to-
    image", "text to image" and "TEXT_TO_IMAGE" read alike."""
    return texts.fill_null("").str.to_lowercase().str.replace_all(r"[^\p{L}\p{N}]+", " ").str.strip_chars()


def normalize_text(texts: pl.Series) -> pl.Series:
    """:func:`normalize_expr` of a series."""
    return texts.to_frame("text").select(normalize_expr(pl.col("text"))).to_series()


def stem_expr(word: pl.Expr) -> pl.Expr:
    """A plural's ``s`` dropped (``images`` -> ``image``, not ``class`` or ``gas``)."""
    plural = (word.str.len_chars() > 3) & ~word.str.ends_with("ss")
    return pl.when(plural).then(word.str.strip_suffix("s")).otherwise(word)


def stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def split_words(text: str) -> list[str]:
    """:func:`normalize_text` for one string, as its words."""
    return [w for w in _NOT_WORD.sub(" ", text.lower()).split(" ") if w]


def terms(text: str) -> list[str]:
    """The words a search matches on: stemmed, stop words out."""
    return [stem(w) for w in split_words(text) if w not in STOPWORDS]


def term_frame(texts: pl.Series) -> pl.DataFrame:
    """``row``, ``term`` for every text (a row per occurrence), as :func:`terms` splits them."""
    words = (normalize_text(texts).str.split(" ").to_frame("term").with_row_index("row")
             .explode("term").filter(pl.col("term").str.len_bytes() > 0))
    return words.filter(~pl.col("term").is_in(list(STOPWORDS))).with_columns(stem_expr(pl.col("term")).alias("term"))


def features_of(text: str) -> set[str]:
    """The word features of one text, as ``queries.capabilities.features`` makes them for many:
    content words (stemmed) and ordered pairs of consecutive words."""
    words = [stem(w) for w in split_words(text)]
    return {w for w in words if w not in STOPWORDS} | {f"{a}_{b}" for a, b in zip(words, words[1:], strict=False)}
