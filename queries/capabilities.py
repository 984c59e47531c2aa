"""The capability graph: shared capabilities, the intents that seek them, and who is best at each.

A scoring run (``queries.scoring``) calls :func:`regroup` first (so capability reach and every
later step see the new groups, through an :class:`Overlay` reader) and :func:`link_and_rank` once
the overall ratings exist; what they return goes into the run's one atomic delta. Three steps:

Grouping (canonical capabilities)
    Every artifact's capability statements are grouped into shared capabilities. Identical names
    (after lower-casing and dropping punctuation) are one name; distinct names are grouped when
    they agree both in meaning (cosine of their WordLlama vectors, :mod:`queries.embedding`) and
    in wording (the Dice overlap of their words and ordered word pairs, so "text to speech" and
    "speech to text", whose bag-of-words vectors are equal, stay apart). Candidate pairs come from
    the word features (pairs that share none cannot agree in wording), by prefix filtering and a
    sorted-neighbourhood window (:func:`_candidate_pairs`), so their number grows linearly with
    the distinct names, never as names x names. Groups are the connected components (union-find)
    of the pairs that agree. A group is named after its most frequent statement name and keeps the id
    most of its statements had before (so ids survive runs where members barely change); a new
    group takes the slug of its name. The artifact's own name, description, unique and
    vs-alternatives text stay on its ``has_capability`` row.

Linking intents (``SEEKS``)
    An intent seeks a capability with a confidence that starts from text similarity and moves with
    the logs: ``(k * similarity + chosen) / (k + clicks)``, where ``chosen`` counts the intent's
    clicks on artifacts that have the capability, ``clicks`` all its clicks and ``k`` the weight of
    the text prior in clicks. Similarity is the mean of the cosine (clipped at 0) and how much of
    the capability's name the intent's words cover. A link needs ``min_similarity`` (a search for
    one artifact by name chooses all of that artifact's capabilities, which says nothing about
    what the person needed), so the candidates are the pairs that can reach it: those sharing a
    word, and each intent's nearest capabilities by meaning. An intent keeps at most
    ``links_per_intent`` links of at least ``min_confidence``. Recomputed by every scoring run.

Boards (best for a need)
    For each capability, the preferences of the searches whose intents seek it; for each intent
    with at least ``intent_board_min_searches`` searches, its own. All boards are fitted in ONE
    call of :func:`queries.rating.fit_ratings` (items are (need, artifact) pairs, so the
    examination curve is shared and each board is its own block of the sparse system), with
    each artifact's overall rating as its prior mean and ``board_prior_sd`` as the prior's spread:
    an artifact with little evidence for a need stays near its overall quality. A capability's
    board ranks its members; members without evidence keep their overall rating and the prior's
    interval. The best ``board_size`` of each board are stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

import numpy as np
import polars as pl
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from graph.schema import slugify
from graph.tables import BOARD_KINDS, LOOKUPS, Table, check_read, conform
from queries.embedding import TextEncoder, encoder
from queries.rating import Z95, CodedPreferences, RatingResult, fit_ratings
from queries.text import STOPWORDS, normalize_expr, normalize_text, stem_expr

if TYPE_CHECKING:
    from collections.abc import Sequence

    from graph.settings import Settings
    from graph.store import Reader

SEP = "\x1f"
"""Joins a need and an artifact into one item id of the boards' fit (neither contains it)."""


@dataclass(frozen=True)
class CapabilityConfig:
    """The thresholds of the three steps (from ``graph.settings``, ``MATCHGRAPH_CAPABILITY_*``)."""

    merge_similarity: float = 0.6
    merge_wording: float = 0.6
    max_feature_names: int = 2_000
    min_similarity: float = 0.3
    min_confidence: float = 0.5
    prior_clicks: float = 5.0
    links_per_intent: int = 5
    similar_per_intent: int = 5
    board_prior_sd: float = 0.5
    board_size: int = 100
    intent_board_min_searches: int = 200
    intent_boards: int = 100

    @classmethod
    def of(cls, settings: Settings) -> CapabilityConfig:
        return cls(
            merge_similarity=settings.capability_merge_similarity, merge_wording=settings.capability_merge_wording,
            max_feature_names=settings.capability_max_feature_names,
            min_similarity=settings.seeks_min_similarity, min_confidence=settings.seeks_min_confidence,
            prior_clicks=settings.seeks_prior_clicks, links_per_intent=settings.seeks_per_intent,
            board_prior_sd=settings.board_prior_sd, board_size=settings.board_size,
            intent_board_min_searches=settings.board_intent_min_searches, intent_boards=settings.board_intents,
        )


# -- wording ---------------------------------------------------------------------------------------------
def features(texts: pl.Series) -> pl.DataFrame:
    """``row``, ``feature``: each text's content words (a plural ``s`` dropped) and its ordered
    pairs of consecutive words (stop words included there, so word order counts), each once."""
    words = (normalize_text(texts).str.split(" ").to_frame("word").with_row_index("row")
             .explode("word").filter(pl.col("word").str.len_bytes() > 0)
             .with_columns(stem_expr(pl.col("word")).alias("word")))
    # a text's words are consecutive rows: the next row's word when it is the same text's (a window
    # per text would do the same at fifty times the cost)
    following = pl.when(pl.col("row").shift(-1) == pl.col("row")).then(pl.col("word").shift(-1))
    pairs = words.with_columns(following.alias("next")).filter(pl.col("next").is_not_null())
    single = words.filter(~pl.col("word").is_in(list(STOPWORDS))).select("row", pl.col("word").alias("feature"))
    double = pairs.select("row", pl.format("{}_{}", "word", "next").alias("feature"))
    return pl.concat([single, double]).unique()


# -- grouping ------------------------------------------------------------------------------------------
def statements(reader: Reader) -> pl.DataFrame:
    """Every capability statement: the artifact, its position, the capability it names now (a
    canonical id, or the provisional slug a catalog wrote), its own name and tags."""
    has = reader.table(Table.HAS_CAPABILITY)
    nodes = reader.table(Table.CAPABILITIES, columns=["id", "name", "tags"])
    return (has.join(nodes.rename({"name": "node_name"}), left_on="capability", right_on="id", how="left")
            .with_columns(pl.col("name").alias("stored_name"),
                          pl.coalesce("name", "node_name", "capability").alias("name"))
            .drop("node_name").sort("artifact", "position"))


def _candidate_pairs(feats: pl.DataFrame, names: pl.Series, config: CapabilityConfig) -> pl.DataFrame:
    """``row``, ``row_b`` (``row < row_b``): the pairs of distinct names worth comparing, from the
    names' word features ``feats`` (:func:`features`).

    Prefix filtering: two names whose Dice overlap reaches ``t`` share one of the rarest
    ``|x| - ceil(J |x|) + 1`` features of each (``J = t / (2 - t)``, the matching Jaccard bound), so
    only those features propose pairs. Within one feature's names, sorted by their text, each name
    is paired with the next ``window`` (the sorted-neighbourhood method of record linkage): every
    pair when a feature is rare, a linear number when it is common (a dense group stays connected
    through its neighbours). A feature held by more than ``max_feature_names`` names proposes none.
    """
    frequency = feats.group_by("feature").len("df")
    jaccard = config.merge_wording / (2.0 - config.merge_wording)
    ranked = (feats.join(frequency, on="feature").sort(["row", "df", "feature"])
              .with_columns(pl.int_range(pl.len()).over("row").alias("k"), pl.len().over("row").alias("n")))
    keys = pl.DataFrame({"row": np.arange(names.len(), dtype=np.uint32), "key": names})
    prefix = (ranked.filter((pl.col("k") < pl.col("n") - (jaccard * pl.col("n")).ceil() + 1)
                            & (pl.col("df") <= config.max_feature_names))
              .join(keys, on="row").sort(["feature", "key", "row"]))
    window = [pl.col("row").shift(-d).over("feature").alias(f"n{d}") for d in range(1, WINDOW + 1)]
    pairs = (prefix.select("row", *window).unpivot(index="row", value_name="row_b").drop_nulls("row_b")
             .select(pl.min_horizontal("row", "row_b").alias("row"), pl.max_horizontal("row", "row_b").alias("row_b"))
             .filter(pl.col("row") != pl.col("row_b")).unique())
    return pairs


def _dice_of_pairs(feats: pl.DataFrame, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """The Dice overlap of the features of names ``left[i]`` and ``right[i]``, from ``feats`` (made
    once per name, so a name in many pairs is split into words once)."""
    sizes = feats.group_by("row").len("n")
    pairs = pl.DataFrame({"row": left.astype(np.uint32), "row_b": right.astype(np.uint32)}).with_row_index("pair")
    shared = (pairs.join(feats, on="row").join(feats.rename({"row": "row_b"}), on=["row_b", "feature"])
              .group_by("pair").len("shared"))
    out = (pairs.join(shared, on="pair", how="left").join(sizes, on="row", how="left")
           .join(sizes.rename({"row": "row_b", "n": "n_b"}), on="row_b", how="left").fill_null(0).sort("pair"))
    total = (out.get_column("n") + out.get_column("n_b")).to_numpy().astype(np.float64)
    dice: np.ndarray = np.divide(2.0 * out.get_column("shared").to_numpy(), total, out=np.zeros(out.height),
                                 where=total > 0)
    return dice


WINDOW = 8
"""Names of one feature each name is compared with, in text order (see :func:`_candidate_pairs`)."""
CHUNK = 262_144
"""Candidate pairs whose cosines are computed at once (bounds the gathered vectors to ~0.5 GB)."""


def _groups(names: pl.Series, vectors: np.ndarray, config: CapabilityConfig) -> np.ndarray:
    """The group of each distinct name: components of the pairs that agree in meaning and wording."""
    n = names.len()
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    feats = features(names)
    pairs = _candidate_pairs(feats, names, config)
    if pairs.height == 0:
        return np.arange(n)
    left = pairs.get_column("row").to_numpy().astype(np.int64)
    right = pairs.get_column("row_b").to_numpy().astype(np.int64)
    cosine = np.concatenate([np.einsum("ij,ij->i", vectors[left[s:s + CHUNK]], vectors[right[s:s + CHUNK]])
                             for s in range(0, left.size, CHUNK)])
    close = cosine >= config.merge_similarity
    left, right = left[close], right[close]
    agree = _dice_of_pairs(feats, left, right) >= config.merge_wording
    left, right = left[agree], right[agree]
    graph = sparse.coo_array((np.ones(left.size), (left, right)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return np.asarray(labels, dtype=np.int64)


@dataclass
class Grouping:
    """The statements with their new capability, the capability nodes, and the ids that go."""

    statements: pl.DataFrame
    capabilities: pl.DataFrame
    removed: list[str]

    def changed(self) -> pl.DataFrame:
        """The ``has_capability`` rows to write: every statement of an artifact one of whose
        statements moved (a delta replaces an artifact's whole list) or has no name stored yet."""
        moved = self.statements.filter((pl.col("capability") != pl.col("previous")) | pl.col("stored_name").is_null())
        owners = moved.select("artifact").unique()
        return conform(Table.HAS_CAPABILITY, self.statements.join(owners, on="artifact"))


def group(rows: pl.DataFrame, config: CapabilityConfig, model: TextEncoder | None = None) -> Grouping:
    """Canonical capabilities for the statements of :func:`statements` (see the module notes)."""
    if "stored_name" not in rows.columns:
        rows = rows.with_columns(pl.col("name").alias("stored_name"))
    rows = rows.with_columns(pl.col("capability").alias("previous"), normalize_expr(pl.col("name")).alias("key"))
    keys = rows.get_column("key").unique().sort()
    model = model or encoder()
    labels = _groups(keys, model.encode(keys), config)
    key_group = pl.DataFrame({"key": keys, "group": labels})
    rows = rows.join(key_group, on="key", how="left")
    # the group's name: its most frequent statement name, then the shortest, then the first
    named = (rows.group_by("group", "name").len("n")
             .sort(["group", "n", pl.col("name").str.len_chars(), "name"], descending=[False, True, False, False])
             .group_by("group", maintain_order=True).agg(pl.col("name").first().alias("canonical")))
    ids = _stable_ids(rows, named)
    rows = rows.join(ids, on="group").with_columns(pl.col("id").alias("capability"))
    aliases = (rows.select("group", "name").unique().join(named.select("group", "canonical"), on="group")
               .filter(pl.col("name") != pl.col("canonical")).group_by("group")
               .agg(pl.col("name").sort().alias("aliases")))
    nodes = (rows.group_by("group").agg(
        pl.col("id").first(),
        pl.col("tags").list.explode(keep_nulls=False, empty_as_null=False).unique().sort().alias("tags"),
        pl.len().alias("statements"), pl.col("artifact").n_unique().alias("artifacts"))
        .join(named, on="group").join(aliases, on="group", how="left")
        .with_columns(pl.col("aliases").fill_null(pl.lit([], pl.List(pl.String))))
        .select("id", pl.col("canonical").alias("name"), "tags", "aliases", "statements", "artifacts").sort("id"))
    previous = set(rows.get_column("previous").to_list())
    removed = sorted(previous.difference(nodes.get_column("id").to_list()))
    out = rows.select("artifact", "capability", "description", "unique", "vs_alternatives", "position", "name",
                      "previous", "stored_name")
    return Grouping(out.sort("artifact", "position"), conform(Table.CAPABILITIES, nodes), removed)


def _stable_ids(rows: pl.DataFrame, named: pl.DataFrame) -> pl.DataFrame:
    """``group`` -> ``id``: each group keeps the previous id most of its statements had, if that id is
    not kept by a group with more of them (greedy on counts, ties by id); the others take the slug
    of their name, made unique with a number."""
    votes = (rows.group_by("group", "previous").len("n")
             .sort(["n", "previous", "group"], descending=[True, False, False]))
    taken_groups: set[int] = set()
    taken_ids: set[str] = set()
    chosen: dict[int, str] = {}
    for group_id, previous, _ in votes.iter_rows():  # one row per (group, old id): about one per distinct name
        if group_id in taken_groups or previous in taken_ids:
            continue
        chosen[group_id] = previous
        taken_groups.add(group_id)
        taken_ids.add(previous)
    for group_id, canonical in named.select("group", "canonical").sort("group").iter_rows():
        if group_id in chosen:
            continue
        base = slugify(canonical) or "capability"
        candidate, k = base, 2
        while candidate in taken_ids:
            candidate, k = f"{base}-{k}", k + 1
        chosen[group_id] = candidate
        taken_ids.add(candidate)
    return pl.DataFrame({"group": list(chosen), "id": list(chosen.values())},
                        schema={"group": pl.Int64, "id": pl.String})


# -- a reader that sees the new grouping -------------------------------------------------------------
class Overlay:
    """A reader over ``base`` whose capability tables are the ones this run computed: the
    sub-scores (capability reach) and the links see the capabilities the run will write."""

    def __init__(self, base: Reader, tables: dict[Table, pl.DataFrame]) -> None:
        self.base = base
        self.replaced = tables

    @property
    def version(self) -> str:
        return self.base.version

    def table(self, table: Table, ids: Sequence[str] | None = None, *, by: str | None = None,
              columns: Sequence[str] | None = None) -> pl.DataFrame:
        if table not in self.replaced:
            return self.base.table(table, ids, by=by, columns=columns)
        check_read(table, ids, by, columns)
        frame = self.replaced[table]
        if ids is not None:
            column = by or "artifact"
            if by is None and table is not Table.HAS_CAPABILITY:
                raise ValueError(f"table {table.value} has no artifact column to filter on")
            if by is not None and by not in LOOKUPS.get(table, ()):
                raise ValueError(f"table {table.value} cannot be filtered on {by!r}")
            frame = frame.filter(pl.col(column).is_in(pl.Series(list(ids), dtype=pl.String).implode()))
        return frame.select(list(columns)) if columns is not None else frame

    def tables(self, tables: Sequence[Table], ids: Sequence[str]) -> dict[Table, pl.DataFrame]:
        return {table: self.table(table, ids) for table in tables}


# -- linking intents ---------------------------------------------------------------------------------
def capability_texts(grouping: Grouping) -> pl.DataFrame:
    """``id``, ``text``: what a capability's meaning is read from, its names and its members'
    descriptions (a capability named "Text-to-image generation" is described as "creates images
    from a written prompt", which is what a person asking to "draw pictures" writes)."""
    descriptions = (grouping.statements.group_by("capability")
                    .agg(pl.col("description").drop_nulls().unique().sort().head(20).str.join(" ").alias("d")))
    return (grouping.capabilities.join(descriptions, left_on="id", right_on="capability", how="left")
            .select("id", pl.concat_str([pl.col("name"), pl.col("aliases").list.join(" "), pl.col("d")],
                                        separator=" ", ignore_nulls=True).alias("text")).sort("id"))


LINK_COLUMNS: Final = ("intent", "artifact", "clicks")
"""What :func:`link_intents` reads of the ``matched`` table."""


def link_intents(matched: pl.DataFrame, grouping: Grouping, config: CapabilityConfig,
                 model: TextEncoder | None = None) -> pl.DataFrame:
    """The ``seeks`` table (see the module notes), from the ``matched`` table's
    :data:`LINK_COLUMNS` and the run's grouping: no store is read, so a scoring run computes it on
    a worker thread while it fits the ratings.

    Only pairs whose similarity can reach ``min_similarity`` are candidates: the pairs that share a
    word feature (found by joining the two sides' features, as grouping does) and each intent's
    ``similar_per_intent`` nearest capabilities by meaning where the meaning alone suffices. The
    clicks are joined to those pairs only, so the cost follows the candidate links, never intents
    x everything they chose.
    """
    model = model or encoder()
    caps = grouping.capabilities.select("id", "name").sort("id")
    if caps.height == 0 or matched.height == 0:
        return conform(Table.SEEKS, pl.DataFrame())
    k = config.prior_clicks
    clicks = matched.group_by("intent").agg(pl.col("clicks").sum().alias("clicks"))
    intents = clicks.get_column("intent").sort()
    cap_vectors = model.encode(capability_texts(grouping).get_column("text"))
    name_vectors = model.encode(caps.get_column("name"))
    intent_vectors = model.encode(intents)
    # pairs that share words, with the share of the capability's name they cover
    cap_feats = features(caps.get_column("name")).with_columns(pl.col("row").cast(pl.Int64).alias("c"))
    size = cap_feats.group_by("c").len("n")
    usable = cap_feats.group_by("feature").len("df").filter(pl.col("df") <= config.max_feature_names)
    intent_feats = features(intents).with_columns(pl.col("row").cast(pl.Int64).alias("i"))
    worded = (intent_feats.select("i", "feature").join(cap_feats.join(usable.select("feature"), on="feature")
                                                     .select("c", "feature"), on="feature")
              .group_by("i", "c").len("shared").join(size, on="c")
              .select("i", "c", (pl.col("shared") / pl.col("n")).alias("words")))
    # pairs alike enough in meaning alone
    rows, cols, best = _most_similar(intent_vectors, cap_vectors, name_vectors, config.similar_per_intent)
    alike = pl.DataFrame({"i": rows, "c": cols, "m": best}).filter(pl.col("m") >= 2 * config.min_similarity)
    candidates = (worded.join(alike.select("i", "c"), on=["i", "c"], how="full", coalesce=True)
                  .with_columns(pl.col("words").fill_null(0.0)).sort("i", "c"))
    i = candidates.get_column("i").to_numpy()
    c = candidates.get_column("c").to_numpy()
    meaning = np.maximum(np.einsum("ij,ij->i", intent_vectors[i], cap_vectors[c]),
                         np.einsum("ij,ij->i", intent_vectors[i], name_vectors[c]))
    similarity = np.clip((np.clip(meaning, 0.0, 1.0) + candidates.get_column("words").to_numpy()) / 2.0, 0.0, 1.0)
    candidates = (candidates.with_columns(pl.Series("similarity", similarity))
                  .filter(pl.col("similarity") >= config.min_similarity)
                  .join(pl.DataFrame({"i": np.arange(intents.len()), "intent": intents}), on="i")
                  .join(pl.DataFrame({"c": np.arange(caps.height), "capability": caps.get_column("id")}), on="c"))
    owned = grouping.statements.select("artifact", "capability").unique()
    chosen = (matched.filter(pl.col("clicks") > 0).join(candidates.select("intent").unique(), on="intent")
              .join(owned, on="artifact").join(candidates.select("intent", "capability"), on=["intent", "capability"])
              .group_by("intent", "capability").agg(pl.col("clicks").sum().alias("chosen")))
    scored = (candidates.join(chosen, on=["intent", "capability"], how="left").join(clicks, on="intent", how="left")
              .with_columns(pl.col("chosen").fill_null(0), pl.col("clicks").fill_null(0))
              .with_columns(((k * pl.col("similarity") + pl.col("chosen")) / (k + pl.col("clicks")))
                            .alias("confidence"))
              .filter(pl.col("confidence") >= config.min_confidence)
              .sort(["intent", "confidence", "capability"], descending=[False, True, False])
              .group_by("intent", maintain_order=True).head(config.links_per_intent))
    return conform(Table.SEEKS, scored.with_columns(pl.col("confidence").round(6), pl.col("similarity").round(6)))


def _most_similar(left: np.ndarray, right: np.ndarray, right_too: np.ndarray, k: int,
                  block: int = 4_096) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each row of ``left``, the ``k`` rows of ``right`` most similar to it (the better of the
    cosines with ``right`` and ``right_too``): row indexes and the cosines, in blocks so the
    similarity matrix never exceeds ``block`` rows."""
    k = min(k, right.shape[0])
    if k == 0 or left.shape[0] == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    rows, cols, values = [], [], []
    for start in range(0, left.shape[0], block):
        part = left[start:start + block]
        scores = np.maximum(part @ right.T, part @ right_too.T)
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        rows.append(np.repeat(np.arange(start, start + scores.shape[0]), k))
        cols.append(top.ravel())
        values.append(np.take_along_axis(scores, top, axis=1).ravel())
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(values)


# -- boards --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _BoardOptions:
    prior_sd: float
    position_prior_sd: float
    interval_draws: int
    draw_intervals_max_artifacts: int
    seed: int


@dataclass(frozen=True)
class BoardReads:
    """What the boards read of the store: the intents with a board of their own, and the cells of
    every intent some board uses."""

    wanted: pl.Series
    cells: pl.DataFrame


def read_for_boards(reader: Reader, seeks: pl.DataFrame, config: CapabilityConfig) -> BoardReads:
    intents = reader.table(Table.INTENTS)
    wanted = (intents.filter(pl.col("searches") >= config.intent_board_min_searches)
              .sort(["searches", "id"], descending=[True, False]).head(config.intent_boards).get_column("id"))
    # only the preferences of intents some board uses: a lookup by intent, not the whole table
    needed = pl.concat([seeks.get_column("intent"), wanted]).unique().sort().to_list()
    # intent_preferences is held one row per cell already
    return BoardReads(wanted, reader.table(Table.INTENT_PREFERENCES, needed, by="intent"))


def fit_boards(reads: BoardReads, grouping: Grouping, seeks: pl.DataFrame, overall: RatingResult,
               options: object, config: CapabilityConfig) -> pl.DataFrame:
    """The ``boards`` table (see the module notes), from what :func:`read_for_boards` read (no
    store is read here, so a scoring run fits them on a worker thread while it computes the
    sub-scores). ``options`` is the run's rating options (``prior_sd`` is replaced by
    ``board_prior_sd``)."""
    wanted, cells = reads.wanted, reads.cells
    prior = dict(zip(overall.ids, overall.theta.tolist(), strict=True))
    board_options = _BoardOptions(config.board_prior_sd, getattr(options, "position_prior_sd", 3.0),
                                  getattr(options, "interval_draws", 100),
                                  getattr(options, "draw_intervals_max_artifacts", 5_000), getattr(options, "seed", 0))
    fitted = pl.DataFrame(schema={"kind": pl.String, "need": pl.String, "artifact": pl.String, "rating": pl.Float64,
                                  "lo": pl.Float64, "hi": pl.Float64, "comparisons": pl.Int64})
    prefs = _board_preferences(cells, seeks, wanted)
    if prefs.ids:
        items = pl.Series(prefs.ids, dtype=pl.String)
        parts = items.str.split_exact(SEP, 2).struct.rename_fields(["kind", "need", "artifact"]).struct.unnest()
        means = parts.select(pl.col("artifact").replace_strict(prior, default=0.0, return_dtype=pl.Float64))
        result = fit_ratings(prefs, board_options, prior_mean=means.to_series().to_numpy(),
                             start_position_effects=overall.position_effects)
        order = pl.DataFrame({"item": result.ids, "rating": result.theta, "lo": result.lo, "hi": result.hi,
                              "comparisons": result.comparisons})
        fitted = (order.with_columns(pl.col("item").str.split_exact(SEP, 2).struct.rename_fields(
            ["kind", "need", "artifact"]).alias("p")).unnest("p").select(fitted.columns))
    fitted = fitted.with_columns(pl.col("comparisons").cast(pl.Int64))
    # a capability's board is its members: those without evidence keep their overall rating
    members = grouping.statements.select(pl.lit("capability").alias("kind"), pl.col("capability").alias("need"),
                                         "artifact").unique()
    evidence_free = members.join(fitted.select("kind", "need", "artifact"), on=["kind", "need", "artifact"],
                                 how="anti")
    spread = Z95 * config.board_prior_sd
    evidence_free = evidence_free.with_columns(
        pl.col("artifact").replace_strict(prior, default=0.0, return_dtype=pl.Float64).alias("rating")).with_columns(
        (pl.col("rating") - spread).alias("lo"), (pl.col("rating") + spread).alias("hi"),
        pl.lit(0, pl.Int64).alias("comparisons"))
    capability_rows = fitted.filter(pl.col("kind") == "capability").join(members, on=["kind", "need", "artifact"])
    board = pl.concat([capability_rows, evidence_free.select(fitted.columns),
                       fitted.filter(pl.col("kind") == "intent")])
    # only rows rated at least a board's n-th best can make it (ties included), so the sort that
    # places them sees a few thousand rows, not every member of every capability
    best = pl.col("rating").top_k(config.board_size).min().over("kind", "need")
    board = (board.filter(pl.col("rating") >= best)
             .with_columns(pl.col("artifact").replace_strict(prior, default=0.0, return_dtype=pl.Float64)
                           .alias("overall"))
             .sort(["kind", "need", "rating", "comparisons", "artifact"], descending=[False, False, True, True, False])
             .with_columns(pl.int_range(1, pl.len() + 1).over("kind", "need").cast(pl.Int64).alias("place"))
             .filter(pl.col("place") <= config.board_size)
             .with_columns([pl.col(c).round(6) for c in ("rating", "lo", "hi", "overall")]))
    assert set(board.get_column("kind").unique().to_list()) <= set(BOARD_KINDS)
    return conform(Table.BOARDS, board)


def _board_preferences(cells: pl.DataFrame, seeks: pl.DataFrame, wanted: pl.Series) -> CodedPreferences:
    """The boards' preference counts, one row per (need, winner, loser, positions), as codes.

    An item is a (kind, need, artifact) triple, its id ``kind SEP need SEP artifact``. Each intent's
    cells go to every need it feeds (the capabilities it seeks, and its own board when it has one);
    the work runs on integer codes of needs and artifacts and only the distinct items (thousands,
    not the million rows) are ever spelled out as text. Codes follow the sorted item ids, as
    :func:`fit_ratings` would number them."""
    links = pl.concat([
        seeks.select("intent", pl.lit("capability").alias("kind"), pl.col("capability").alias("need")),
        wanted.rename("intent").to_frame().select("intent", pl.lit("intent").alias("kind"),
                                                  pl.col("intent").alias("need")),
    ])
    needs = links.select("kind", "need").unique().sort("kind", "need").with_row_index("nc").with_columns(
        pl.col("nc").cast(pl.Int64))
    links = links.join(needs, on=["kind", "need"]).select("intent", "nc")
    artifacts = pl.concat([cells.get_column("winner"), cells.get_column("loser")]).unique().sort()
    code = pl.Enum(artifacts)
    width = max(artifacts.len(), 1)
    rows = (cells.join(links, on="intent")
            .select((pl.col("nc") * width + pl.col("winner").cast(code).to_physical().cast(pl.Int64)).alias("w"),
                    (pl.col("nc") * width + pl.col("loser").cast(code).to_physical().cast(pl.Int64)).alias("l"),
                    "winner_pos", "loser_pos", "count")
            .group_by("w", "l", "winner_pos", "loser_pos").agg(pl.col("count").sum()))
    w, lo_ = rows.get_column("w").to_numpy(), rows.get_column("l").to_numpy()
    keys = np.unique(np.concatenate([w, lo_]))
    spelled = (pl.DataFrame({"nc": keys // width, "artifact": artifacts.gather(keys % width)})
               .join(needs, on="nc", how="left", maintain_order="left")
               .select(pl.concat_str(["kind", "need", "artifact"], separator=SEP).alias("item")))
    item = spelled.get_column("item")
    by_text = item.arg_sort().to_numpy()
    rank = np.empty(keys.size, dtype=np.int64)
    rank[by_text] = np.arange(keys.size)
    return CodedPreferences(item.gather(by_text).to_list(), rank[np.searchsorted(keys, w)],
                            rank[np.searchsorted(keys, lo_)], rows.get_column("winner_pos").to_numpy(),
                            rows.get_column("loser_pos").to_numpy(), rows.get_column("count").to_numpy())


# -- the run's step ------------------------------------------------------------------------------------
@dataclass
class CapabilityGraph:
    """What a scoring run writes for the capability graph, and the reader that sees it."""

    grouping: Grouping
    view: Overlay
    seeks: pl.DataFrame = field(default_factory=lambda: conform(Table.SEEKS, pl.DataFrame()))
    boards: pl.DataFrame = field(default_factory=lambda: conform(Table.BOARDS, pl.DataFrame()))


def regroup(reader: Reader, config: CapabilityConfig) -> CapabilityGraph:
    """Step one: the canonical capabilities, and a reader that sees them."""
    grouping = group(statements(reader), config)
    has = conform(Table.HAS_CAPABILITY, grouping.statements)
    return CapabilityGraph(grouping, Overlay(reader, {Table.HAS_CAPABILITY: has,
                                                      Table.CAPABILITIES: grouping.capabilities}))


def link_and_rank(graph: CapabilityGraph, overall: RatingResult, options: object, config: CapabilityConfig,
                  seeks: pl.DataFrame | None = None) -> None:
    """Steps two and three one after the other, once the overall ratings exist (``seeks``: step two
    already done). A scoring run overlaps them with its other steps instead (``queries.scoring``)."""
    graph.seeks = seeks if seeks is not None else link_intents(
        graph.view.table(Table.MATCHED, columns=list(LINK_COLUMNS)), graph.grouping, config)
    graph.boards = fit_boards(read_for_boards(graph.view, graph.seeks, config), graph.grouping, graph.seeks,
                              overall, options, config)

