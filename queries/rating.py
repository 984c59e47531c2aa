"""Bradley-Terry ratings with position terms: the quality model, fitted to preference counts.

A preference row says a person chose ``w`` at position ``p`` while ``l`` was shown at ``q`` and not
chosen. Under the position-based click model the artifact at position ``k`` is clicked with
probability ``rho = e_k * a``, with ``a = sigmoid(theta)`` its attractiveness and ``e_k`` the chance
that position ``k`` is looked at (``e_1 = 1``); given that exactly one of the two was clicked, ``w``
was the one with probability ``sigmoid(L(w, p) - L(l, q))``, ``L = log(rho / (1 - rho))``. Ratings
and the examination curve are fitted jointly by weighted maximum likelihood with a Gaussian prior
on theta (around a per-artifact prior mean, 0 unless given), so an artifact without evidence stays
at its prior mean and sparse ones stay finite.

How it is solved, and why:

* Newton's method on the exact Hessian. Its only artifact-to-artifact entries come from pairs that
  were compared (``z = L_w - L_l`` is separable), so it is as sparse as the comparison graph; the
  second-derivative terms Gauss-Newton leaves out sit on the diagonal and the artifact x position
  block. Gauss-Newton converges only linearly where an artifact has a few comparisons; Newton
  converges in a handful of steps from zero and in one or two from the previous run's ratings.
* Each step is solved by preconditioned conjugate gradients on that sparse matrix (its pattern is
  built once per fit, only the values change per step), with the artifact diagonal and the dense
  9 x 9 position block as preconditioner. A sparse Cholesky or LU fills in almost completely on a
  comparison graph (it is close to a random graph), so no factorization is used anywhere.
* 95% intervals are Laplace (posterior) intervals: ``theta +- 1.96 sd`` with ``sd^2`` the diagonal
  of the inverse curvature, which includes the prior. Percentiles of a bootstrap of the shrunk
  estimate under-cover: they miss the shrinkage bias of thinly compared artifacts. The diagonal of
  the inverse is estimated by Rao-Blackwellized Monte Carlo (Siden et al. 2018): ``Var(x_i) = 1 /
  H_ii + Var(sum_j H_ij x_j) / H_ii^2`` with the exact first term and the second averaged over
  draws ``x ~ N(0, H^-1)``, all solved together by one block of conjugate gradients.

* Rows are not independent: one click beside nine shown artifacts makes nine rows out of one
  event. ``design_effect`` (the ``totals`` table's ``pairs`` and ``pairs_sq``) widens the intervals
  by a sandwich ``H^-1 B H^-1``, which alone takes the coverage of 95% intervals on whole simulated
  searches from about 0.6 to about 0.92. :func:`fit_quality` adds an empirical-Bayes prior mean:
  comparisons pin down differences, the common level only faintly.

The fit is shared by the overall quality sub-score and by per-need boards (the same fit on a subset
of the rows with the overall ratings as prior means); it only needs :class:`RatingOptions`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import polars as pl
from scipy import linalg, sparse

TOP_POSITIONS = 10
Z95 = 1.959963984540054
MAX_MOVE = 4.0
DRAW_BLOCK = 8


class RatingOptions(Protocol):
    """What the fit needs to know; ``queries.scoring.ScoringConfig`` provides it.

    ``interval_draws`` is the number of Monte Carlo draws behind the interval widths (0: a
    deterministic approximation), ``draw_intervals_max_artifacts`` the size past which the draws are
    skipped for that approximation.
    """

    @property
    def prior_sd(self) -> float: ...
    @property
    def position_prior_sd(self) -> float: ...
    @property
    def interval_draws(self) -> int: ...
    @property
    def draw_intervals_max_artifacts(self) -> int: ...
    @property
    def seed(self) -> int: ...


@dataclass
class RatingResult:
    ids: list[str]
    theta: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    comparisons: np.ndarray
    position_effects: np.ndarray  # log examination probability per position, 0 at the top
    sd: np.ndarray = field(default_factory=lambda: np.zeros(0))  # posterior sd of theta
    report: dict[str, float | int | str] = field(default_factory=dict)  # step timings and convergence


Start = RatingResult | Mapping[str, float] | pl.DataFrame
PriorMean = np.ndarray | Mapping[str, float] | pl.DataFrame | RatingResult
DesignEffect = Mapping[str, float] | pl.DataFrame


# -- the model on cells --------------------------------------------------------------------------------
@dataclass
class _Cells:
    """Log-odds ``L`` of each used (artifact, position) cell, its first derivatives, and what the second need.

    ``gamma`` is the logit of the examination probability, with ``e = 1`` at the top. The
    transcendental functions run once per artifact and per position; a cell only multiplies, and
    takes one log, because ``1 - rho = 1 - a e = (1 - a) + a (1 - e)`` needs no cancellation.
    """

    value: np.ndarray
    d_theta: np.ndarray
    d_gamma: np.ndarray
    a: np.ndarray
    u: np.ndarray  # 1 - a
    e: np.ndarray
    v: np.ndarray  # 1 - e
    one_minus: np.ndarray  # 1 - rho

    def second(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``L_tt = -a (1-a) (1-e) / (1-rho)^2``, ``L_tg = a (1-a) e (1-e) / (1-rho)^2``, and
        ``L_gg = -e (1-e) (1-a) / (1-rho)^2``."""
        inv2 = 1.0 / self.one_minus**2
        auv = self.a * self.u * self.v * inv2
        return -auv, auv * self.e, -self.e * self.v * self.u * inv2


def _cells(theta: np.ndarray, gamma: np.ndarray, item: np.ndarray, pos: np.ndarray) -> _Cells:
    """``L = log(rho / (1 - rho))``, ``rho = sigmoid(theta) * sigmoid(gamma)``; exactly ``theta`` at the top."""
    log_a = -np.logaddexp(0.0, -theta)
    a, u = np.exp(log_a), np.exp(-np.logaddexp(0.0, theta))
    log_e = np.concatenate([[0.0], -np.logaddexp(0.0, -gamma)])
    e, v = np.exp(log_e), np.concatenate([[0.0], np.exp(-np.logaddexp(0.0, gamma))])
    ac, uc, ec, vc = a[item], u[item], e[pos], v[pos]
    one_minus = uc + ac * vc
    value = log_a[item] + log_e[pos] - np.log(one_minus)
    return _Cells(value, uc / one_minus, vc / one_minus, ac, uc, ec, vc, one_minus)


@dataclass
class _Point:
    """One objective evaluation, and what the gradient and curvature there reuse."""

    x: np.ndarray
    f: float
    z: np.ndarray
    cells: _Cells
    q: np.ndarray | None = None  # sigmoid(-z) per row
    g_cell: np.ndarray | None = None  # d nll / d L per cell
    gauss_newton: _Curvature | None = None  # the sds and the interval ends at the optimum share it


@dataclass
class _Curvature:
    """The Hessian (or Gauss-Newton matrix) in blocks: artifacts, artifact x position, positions.

    ``diag`` and ``off`` (symmetric, zero diagonal) make the artifact block, ``cross`` (m x 9) couples
    artifacts to the position logits, ``pos`` (9 x 9) is the position block.
    """

    diag: np.ndarray
    off: sparse.csr_array
    cross: np.ndarray
    pos: np.ndarray

    def matvec(self, v: np.ndarray) -> np.ndarray:
        m = self.diag.size
        head, tail = v[:m], v[m:]
        top = (self.diag * head.T).T + self.off @ head + self.cross @ tail
        return np.concatenate([top, self.cross.T @ head + self.pos @ tail])

    def preconditioner(self) -> _BlockJacobi | None:
        """Diagonal on the artifacts, the exact inverse on the positions; None if either is not positive."""
        if not np.all(self.diag > 0):
            return None
        try:
            factor = linalg.cho_factor(self.pos)
        except linalg.LinAlgError:
            return None
        return _BlockJacobi(1.0 / self.diag, factor)


@dataclass
class _BlockJacobi:
    inv_diag: np.ndarray
    pos_factor: tuple[np.ndarray, bool]

    def __call__(self, r: np.ndarray) -> np.ndarray:
        m = self.inv_diag.size
        return np.concatenate([(self.inv_diag * r[:m].T).T, linalg.cho_solve(self.pos_factor, r[m:])])


def _pcg(curvature: _Curvature, precondition: _BlockJacobi, b: np.ndarray, rtol: float,
         max_iter: int) -> tuple[np.ndarray, int, bool]:
    """Preconditioned conjugate gradients on one or several right-hand sides (columns) at once.

    Columns run independent recurrences; stacking a few turns their sparse mat-vecs into one
    mat-mat product. Returns the solution, the iterations and whether a direction of non-positive
    curvature was met (the matrix is then not positive definite and the caller falls back to
    Gauss-Newton). scipy's ``cg`` takes one column and does not report the latter.
    """
    x = np.zeros_like(b)
    r = b.copy()
    z = precondition(r)
    p = z.copy()
    rz = np.sum(r * z, axis=0)
    goal = rtol * np.sqrt(np.sum(b * b, axis=0))
    iterations = 0
    while iterations < max_iter:
        iterations += 1
        q = curvature.matvec(p)
        pq = np.sum(p * q, axis=0)
        live = rz > 0
        if np.any(pq[live] <= 0):
            return x, iterations, True
        alpha = np.where(live, rz / np.where(live, pq, 1.0), 0.0)
        x += alpha * p
        r -= alpha * q
        if np.all(np.sqrt(np.sum(r * r, axis=0)) <= goal):
            break
        z = precondition(r)
        rz_new = np.sum(r * z, axis=0)
        beta = np.where(live, rz_new / np.where(live, rz, 1.0), 0.0)
        p = z + beta * p
        rz = rz_new
    return x, iterations, False


def _unique_inverse(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)`` for integer keys, by polars: the same two arrays,
    in a third of the time at a million rows (polars ranks on every core; numpy sorts on one)."""
    series = pl.Series(values)
    inverse = (series.rank("dense") - 1).cast(pl.Int64).to_numpy()
    return series.unique().sort().to_numpy(), inverse


class _Problem:
    """Preference rows coded once: used cells, compared pairs and the sparse pattern of every step.

    Strengths depend only on the cell (artifact, position), so ``L`` is computed once per used cell
    instead of once per row; rows only gather and scatter with ``bincount``.
    """

    def __init__(self, w: np.ndarray, lo_: np.ndarray, pw: np.ndarray, pl_: np.ndarray, n: np.ndarray, m: int,
                 prior_mean: np.ndarray, prior_sd: float, position_prior_sd: float) -> None:
        k = TOP_POSITIONS
        self.m, self.k, self.size = m, k, m + k - 1
        self.n = n
        rows = n.size
        cell_w, cell_l = w * k + pw, lo_ * k + pl_
        used = np.zeros(m * k, dtype=bool)
        used[cell_w] = True
        used[cell_l] = True
        cells = np.flatnonzero(used)
        compact = np.cumsum(used) - 1
        self.cell_item = cells // k
        self.cell_pos = cells % k
        self.cell_flat = cells  # item * k + position, the index into the m x k artifact-position block
        self.n_cells = cells.size
        self.row_w, self.row_l = compact[cell_w], compact[cell_l]
        self.cross_w = w * k + pl_  # the winner's rating against the loser's position
        self.cross_l = lo_ * k + pw
        self.pos_pair = pw * k + pl_
        same = np.flatnonzero(w == lo_)
        self.same, self.same_item = same, w[same]
        # the symmetric pattern of the artifact block: one entry per compared (unordered) pair
        a, b = np.minimum(w, lo_), np.maximum(w, lo_)
        keys, self.row_pair = _unique_inverse(a.astype(np.int64) * m + b)
        pa, pb = keys // m, keys % m
        distinct = pa != pb
        slots = np.flatnonzero(distinct)
        pattern = sparse.coo_array(
            (np.concatenate([slots, slots]) + 1.0,
             (np.concatenate([pa[distinct], pb[distinct]]), np.concatenate([pb[distinct], pa[distinct]]))),
            shape=(m, m)).tocsr()
        pattern.sort_indices()
        self.pattern = pattern
        self.pair_slot = pattern.data.astype(np.int64) - 1  # which pair each stored entry holds
        self.n_pairs = keys.size
        self.rows = rows
        self.w, self.l = w, lo_
        self.inv_var = np.full(m, 1.0 / prior_sd**2)
        self.inv_var_pos = 1.0 / position_prior_sd**2
        self.prior_mean = prior_mean

    def evaluate(self, x: np.ndarray) -> _Point:
        """The negative log posterior at ``x`` (ratings then the 9 position logits)."""
        theta = x[: self.m]
        cells = _cells(theta, x[self.m:], self.cell_item, self.cell_pos)
        z = cells.value[self.row_w] - cells.value[self.row_l]
        dev = theta - self.prior_mean
        f = float(self.n @ np.logaddexp(0.0, -z)) + 0.5 * float(self.inv_var @ (dev * dev))
        f += 0.5 * self.inv_var_pos * float(x[self.m:] @ x[self.m:])
        return _Point(x, f, z, cells)

    def _per_cell(self, row_values: np.ndarray, sign: float) -> np.ndarray:
        return np.bincount(self.row_w, row_values, self.n_cells) + sign * np.bincount(self.row_l, row_values,
                                                                                       self.n_cells)

    def _rows(self, point: _Point) -> tuple[np.ndarray, np.ndarray]:
        """``sigmoid(-z)`` per row and ``d nll / d L`` per cell, computed once per point."""
        if point.q is None or point.g_cell is None:
            point.q = 1.0 / (1.0 + np.exp(point.z))
            point.g_cell = self._per_cell(-self.n * point.q, -1.0)  # d nll / d z = -n sigmoid(-z)
        return point.q, point.g_cell

    def gradient(self, point: _Point) -> np.ndarray:
        _, g_cell = self._rows(point)
        theta, c = point.x[: self.m], point.cells
        grad_theta = np.bincount(self.cell_item, g_cell * c.d_theta, self.m)
        grad_theta += self.inv_var * (theta - self.prior_mean)
        grad_gamma = np.bincount(self.cell_pos, g_cell * c.d_gamma, self.k)[1:] + self.inv_var_pos * point.x[self.m:]
        return np.concatenate([grad_theta, grad_gamma])

    def curvature(self, point: _Point, newton: bool) -> _Curvature:
        """The Hessian (``newton``) or the Gauss-Newton matrix at ``point``, prior included."""
        if not newton and point.gauss_newton is not None:
            return point.gauss_newton
        q, g_cell = self._rows(point)
        m, k, c = self.m, self.k, point.cells
        h_row = self.n * q * (1.0 - q)
        h_cell = self._per_cell(h_row, 1.0)
        own_tt = h_cell * c.d_theta**2
        own_tg = h_cell * c.d_theta * c.d_gamma
        own_gg = h_cell * c.d_gamma**2
        if newton:
            d_tt, d_tg, d_gg = c.second()
            # the exact term, but never below half the Gauss-Newton curvature of the cell: far from
            # the optimum it can cancel that curvature and send a thinly compared rating to +-40
            own_tt = own_tt + g_cell * d_tt
            own_tg += g_cell * d_tg
            own_gg += g_cell * d_gg
        t_w, t_l = c.d_theta[self.row_w], c.d_theta[self.row_l]
        e_w, e_l = c.d_gamma[self.row_w], c.d_gamma[self.row_l]
        between = h_row * t_w * t_l  # minus d^2 / d theta_w d theta_l
        diag = np.bincount(self.cell_item, own_tt, m) + self.inv_var
        if self.same.size:
            diag -= 2.0 * np.bincount(self.same_item, between[self.same], m)
        pair_values = -np.bincount(self.row_pair, between, self.n_pairs)
        off = sparse.csr_array((pair_values[self.pair_slot], self.pattern.indices, self.pattern.indptr),
                               shape=(m, m))
        cross = (np.bincount(self.cell_flat, own_tg, m * k)
                 - np.bincount(self.cross_w, h_row * t_w * e_l, m * k)
                 - np.bincount(self.cross_l, h_row * t_l * e_w, m * k)).reshape(m, k)[:, 1:]
        between_pos = -np.bincount(self.pos_pair, h_row * e_w * e_l, k * k).reshape(k, k)
        own_pos = np.diag(np.bincount(self.cell_pos, own_gg, k)) + self.inv_var_pos * np.eye(k)
        pos = (between_pos + between_pos.T + own_pos)[1:, 1:]
        curvature = _Curvature(diag, off, np.ascontiguousarray(cross), pos)
        if not newton:
            point.gauss_newton = curvature
        return curvature

    def score_draws(self, point: _Point, draws: int, rng: np.random.Generator,
                    inflate: np.ndarray | None = None) -> np.ndarray:
        """Draws of ``J^T W^(1/2) eps + P^(1/2) eps'``: Gaussian with the Gauss-Newton matrix as covariance.

        With ``inflate`` (one factor per parameter), each draw comes twice from the same ``eps``:
        columns ``[:draws]`` as above and ``[draws:]`` with the data part multiplied by ``inflate``,
        whose covariance is ``D H_data D + P`` (see :func:`_sandwich_sd`). Made one draw at a time
        so memory stays at one row-length vector, never draws x rows.
        """
        q, _ = self._rows(point)
        scale = np.sqrt(self.n * q * (1.0 - q))
        data = np.empty((self.size, draws))
        for j in range(draws):
            per_cell = self._per_cell(scale * rng.standard_normal(self.rows), -1.0)
            data[: self.m, j] = np.bincount(self.cell_item, per_cell * point.cells.d_theta, self.m)
            data[self.m:, j] = np.bincount(self.cell_pos, per_cell * point.cells.d_gamma, self.k)[1:]
        prior = np.empty((self.size, draws))
        prior[: self.m] = np.sqrt(self.inv_var)[:, None] * rng.standard_normal((self.m, draws))
        prior[self.m:] = np.sqrt(self.inv_var_pos) * rng.standard_normal((self.k - 1, draws))
        if inflate is None:
            return data + prior
        return np.hstack([data + prior, inflate[:, None] * data + prior])


    def conditional_drop(self, point: _Point, delta: np.ndarray) -> np.ndarray:
        """For every artifact at once: how much the objective rises when only its rating moves by ``delta``.

        A row holds two artifacts; moving each alone splits the row into a winner part and a loser
        part, summed per artifact. Rows where an artifact meets itself are left at the mode.
        """
        theta = point.x[: self.m]
        moved = _cells(theta + delta, point.x[self.m:], self.cell_item, self.cell_pos).value
        base = point.cells.value
        at_mode = np.logaddexp(0.0, -point.z)
        by_winner = self.n * (np.logaddexp(0.0, base[self.row_l] - moved[self.row_w]) - at_mode)
        by_loser = self.n * (np.logaddexp(0.0, moved[self.row_l] - base[self.row_w]) - at_mode)
        if self.same.size:
            by_winner[self.same] = 0.0
            by_loser[self.same] = 0.0
        dev = theta - self.prior_mean
        prior = 0.5 * self.inv_var * ((dev + delta) ** 2 - dev**2)
        rise: np.ndarray = np.bincount(self.w, by_winner, self.m) + np.bincount(self.l, by_loser, self.m) + prior
        return rise


@dataclass
class _FitTrace:
    steps: int = 0
    evaluations: int = 0
    cg_iterations: int = 0
    gauss_newton_steps: int = 0
    converged: bool = False
    max_gradient: float = float("nan")


def _newton(problem: _Problem, x0: np.ndarray, trace: _FitTrace, tolerance: float = 1e-5,
            max_iter: int = 100, max_move: float = MAX_MOVE) -> _Point:
    """Damped Newton with CG steps; Gauss-Newton for a step where the Hessian is not positive definite.

    A step moves no parameter by more than ``max_move`` (logits beyond a few prior sds are never
    the answer, and a first step from zero can overshoot by tens). Stops when a step moves no
    parameter by more than ``tolerance`` (the distance left to the optimum is then of the order of
    that step squared) or the gradient vanishes.
    """
    point = problem.evaluate(x0)
    trace.evaluations += 1
    gradient = problem.gradient(point)
    g_norm_last = float(np.linalg.norm(gradient))
    forcing = 1e-2
    last_moved = 0.0
    for _ in range(max_iter):
        trace.max_gradient = float(np.max(np.abs(gradient)))
        if trace.max_gradient < 1e-9:
            trace.converged = True
            break
        step = None
        for newton in (True, False):
            curvature = problem.curvature(point, newton)
            precondition = curvature.preconditioner()
            if precondition is None:
                continue
            solved, iterations, indefinite = _pcg(curvature, precondition, gradient, forcing, 500)
            trace.cg_iterations += iterations
            if not indefinite and float(gradient @ solved) > 0:
                step = solved
                trace.gauss_newton_steps += not newton
                break
        if step is None:  # not reached with the prior on every parameter; a gradient step is still safe
            step = gradient / max(float(curvature.diag.max()), 1.0)
        trace.steps += 1
        longest = float(np.max(np.abs(step)))
        if longest > max_move:
            step *= max_move / longest
        slope = float(gradient @ step)
        t = 1.0
        while True:
            candidate = problem.evaluate(point.x - t * step)
            trace.evaluations += 1
            # the slack: near the optimum the predicted decrease is below the rounding of a sum of
            # a million terms, and a sound step must not be halved to nothing for that
            if candidate.f <= point.f - 1e-4 * t * slope + 1e-12 * abs(point.f) or t < 1e-8:
                break
            t *= 0.5
        point = candidate
        gradient = problem.gradient(point)
        moved = t * longest
        # Newton's steps shrink quadratically, step_k+1 ~ c step_k^2: stop once the next is predicted small
        predicted = moved**2 * moved / last_moved**2 if t == 1.0 and last_moved > 0 else float("inf")
        last_moved = moved if t == 1.0 else 0.0
        if moved < tolerance or predicted < tolerance:
            trace.max_gradient = float(np.max(np.abs(gradient)))
            trace.converged = True
            break
        g_norm = float(np.linalg.norm(gradient))
        # Eisenstat-Walker: solve more exactly as the gradient shrinks, loosely while it is large
        forcing = float(np.clip(0.9 * (g_norm / g_norm_last) ** 2, 1e-10, 1e-2))
        g_norm_last = g_norm
    return point


def _posterior_sd(problem: _Problem, point: _Point, draws: int, seed: int,
                  trace: _FitTrace) -> tuple[np.ndarray, str]:
    """Posterior sd of each rating from the Gauss-Newton curvature at the optimum (see the module notes).

    With no draws, ``Var(sum_j H_ij x_j)`` is approximated as if the neighbours' ratings were known
    up to their own conditional variance (one level of the Schur complement, ``sd^2 = 1 / (H_ii -
    sum_j H_ij^2 / H_jj)``): within a few per cent of the exact value for most artifacts, but short
    for the most compared ones, whose uncertainty is mostly that of everyone they were compared with.
    """
    curvature = problem.curvature(point, newton=False)
    conditional = 1.0 / curvature.diag
    m = problem.m
    if draws <= 0:
        squared = sparse.csr_array((curvature.off.data**2, curvature.off.indices, curvature.off.indptr),
                                   shape=curvature.off.shape)
        neighbours = squared @ conditional
        positions = linalg.cho_solve(linalg.cho_factor(curvature.pos), curvature.cross.T)
        neighbours += np.sum(curvature.cross * positions.T, axis=1)
        return np.sqrt(1.0 / np.maximum(curvature.diag - neighbours, curvature.diag * 1e-3)), "schur"
    precondition = curvature.preconditioner()
    assert precondition is not None  # the Gauss-Newton matrix plus the prior is positive definite
    rng = np.random.default_rng(seed)
    spread = np.zeros(m)
    for first in range(0, draws, DRAW_BLOCK):  # a few columns at a time: the sparse product is fastest so
        rhs = problem.score_draws(point, min(DRAW_BLOCK, draws - first), rng)
        sample, iterations, _ = _pcg(curvature, precondition, rhs, 1e-4, 500)
        trace.cg_iterations += iterations
        spread += np.sum((curvature.off @ sample[:m] + curvature.cross @ sample[m:]) ** 2, axis=1)
    return np.sqrt(conditional + spread / draws * conditional**2), "rao-blackwell"


def _sandwich_sd(problem: _Problem, point: _Point, sd: np.ndarray, design_effect: np.ndarray, draws: int,
                 seed: int, trace: _FitTrace) -> np.ndarray:
    """Posterior sd widened for comparisons that come in bunches: a sandwich ``H^-1 B H^-1``.

    One click next to nine shown artifacts makes nine preference rows out of one event, so the
    rows are not independent and ``H^-1`` (which treats them so) is too narrow. ``B``, the
    covariance of the score, is ``D H_data D + P``: each artifact's data curvature scaled by
    ``d_i = sqrt(deff_i)``, ``deff_i = pairs_sq / pairs`` (the sum over searches of the squared
    number of its rows in each, over the number of its rows): what the variance of its score sum
    becomes when the rows of one search move together. Position terms keep ``d = 1``.

    With draws, the ratio ``Var(H^-1 x_B) / Var(H^-1 x_H)`` is estimated from draws ``x_B`` and
    ``x_H`` made from the same random numbers (so most of the Monte Carlo noise cancels) and
    applied to the posterior sd. Without draws, the diagonal is approximated as if ``D`` were
    constant around each artifact: ``deff (sd^2 - sd^4 / s0^2) + sd^4 / s0^2``, ``s0`` the prior sd.
    """
    m = problem.m
    prior_var = 1.0 / problem.inv_var
    if draws <= 0:
        var = sd**2
        prior_part = np.minimum(var**2 / prior_var, var)
        return np.asarray(np.sqrt(design_effect * (var - prior_part) + prior_part))
    curvature = problem.curvature(point, newton=False)
    precondition = curvature.preconditioner()
    assert precondition is not None  # the Gauss-Newton matrix plus the prior is positive definite
    inflate = np.concatenate([np.sqrt(design_effect), np.ones(problem.k - 1)])
    rng = np.random.default_rng([seed, 1])
    plain, widened = np.zeros(m), np.zeros(m)
    for first in range(0, draws, DRAW_BLOCK):
        block = min(DRAW_BLOCK, draws - first)
        rhs = problem.score_draws(point, block, rng, inflate)
        sample, iterations, _ = _pcg(curvature, precondition, rhs, 1e-4, 500)
        trace.cg_iterations += iterations
        plain += np.sum(sample[:m, :block] ** 2, axis=1)
        widened += np.sum(sample[:m, block:] ** 2, axis=1)
    ratio = np.where(plain > 0, widened / np.where(plain > 0, plain, 1.0), 1.0)
    return np.asarray(sd * np.sqrt(np.maximum(ratio, 1.0)))


def _interval_ends(problem: _Problem, point: _Point, sd: np.ndarray, steps: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Distances from the rating down to ``lo`` and up to ``hi``: the Laplace ``1.96 sd``, bent by the skew.

    The log posterior is flat upward for a rating seen mostly low in the list (its click chance
    saturates at the examination probability), so a symmetric interval misses high true ratings.
    Each side is moved to where the rise of the objective along that rating alone (all others at
    the mode) reaches what a Gaussian with the marginal sd would show there, ``1.96^2 / 2 *
    sd^2 / sd_conditional^2``, by secant steps on its square root (linear for a Gaussian).
    """
    conditional_precision = problem.curvature(point, newton=False).diag
    goal = np.sqrt(Z95**2 / 2.0 * sd**2 * conditional_precision)
    ends = []
    for sign in (-1.0, 1.0):
        d = Z95 * sd
        d_last, root_last = np.zeros_like(d), np.zeros_like(d)
        for _ in range(steps):
            root = np.sqrt(np.maximum(problem.conditional_drop(point, sign * d), 0.0))
            moved = d - d_last
            slope = np.maximum((root - root_last) / np.where(moved > 0, moved, 1.0), 1e-9)
            d_last, root_last = d, root
            d = np.where(moved > 0, np.clip(d + (goal - root) / slope, 0.5 * d, 3.0 * d), d)
        ends.append(d)
    return ends[0], ends[1]


# -- inputs ------------------------------------------------------------------------------------------------
def _keyed(values: Start | PriorMean, given_ids: Sequence[str] | None, what: str) -> tuple[list[str], np.ndarray]:
    """The ids a start or prior mean names and its value for each (a later repeat of an id wins)."""
    if isinstance(values, RatingResult):
        return values.ids, values.theta
    if isinstance(values, pl.DataFrame):
        column = next((c for c in ("theta", "quality_rating") if c in values.columns), None)
        if "id" not in values.columns or column is None:
            raise ValueError(f"{what} frame needs an 'id' column and a 'theta' (or 'quality_rating') column, "
                             f"got {values.columns}")
        clean = values.select(pl.col("id").cast(pl.String), pl.col(column).cast(pl.Float64)).drop_nulls()
        return clean.get_column("id").to_list(), clean.get_column(column).to_numpy()
    if isinstance(values, np.ndarray):
        if given_ids is None or len(given_ids) != values.size:
            raise ValueError(f"{what} as an array must come with ids of the same length")
        if len(set(given_ids)) != len(given_ids):
            raise ValueError(f"{what}: ids must be distinct")
        return list(given_ids), values.astype(np.float64)
    return list(values.keys()), np.array(list(values.values()), dtype=np.float64)


def _aligned(values: Start | PriorMean | None, ids: list[str], given_ids: Sequence[str] | None, fill: float,
             what: str) -> np.ndarray:
    """Per-artifact values in the fit's id order; artifacts not named get ``fill``.

    Matched by one join rather than a Python dict: at 100k artifacts the per-id lookups cost more
    than the fit's preparation itself."""
    if values is None:
        return np.full(len(ids), fill)
    keys, numbers = _keyed(values, given_ids, what)
    if not np.all(np.isfinite(numbers)):
        raise ValueError(f"{what} must be finite")
    if keys == ids:  # a result of the same fit (the second fit of fit_quality starts from the first)
        return np.array(numbers, dtype=np.float64)
    named = pl.DataFrame({"id": pl.Series(keys, dtype=pl.String), "value": numbers}).unique(
        "id", keep="last", maintain_order=True)
    aligned = pl.DataFrame({"id": pl.Series(ids, dtype=pl.String)}).join(named, on="id", how="left",
                                                                          maintain_order="left")
    return np.array(aligned.get_column("value").fill_null(fill).to_numpy(), dtype=np.float64)


def _design_effects(given: DesignEffect | None, ids: list[str], problem: _Problem,
                    point: _Point) -> np.ndarray | None:
    """Per artifact, in the fit's order, how much its rows come in bunches from one search (>= 1).

    A mapping gives ``deff`` itself. A ``totals`` frame gives ``pairs`` and ``pairs_sq`` and, with
    ``clicks``, the expected rather than the observed bunching: an artifact's wins come in bunches
    (one click, a row against every shown artifact not clicked), its losses nearly one by one, so an
    artifact that happened not to be clicked shows almost no bunching although a click would have
    made a big one. Its observed ``pairs_sq`` is split into a win part (``wins x u``, ``u`` its wins
    per click, the mean over all clicked artifacts where it has none) and a loss part (``losses x
    c``); the design effect is then ``(E[wins] u + E[losses] c) / pairs`` with the expected wins of
    its rows under the fitted model.
    """
    if given is None:
        return None
    m = len(ids)
    if not isinstance(given, pl.DataFrame):
        values = np.array([given.get(i, 1.0) for i in ids], dtype=np.float64)
        if not np.all(np.isfinite(values)):
            raise ValueError("design effects must be finite")
        return np.maximum(values, 1.0)
    key = "artifact" if "artifact" in given.columns else "id"
    if key not in given.columns or not {"pairs", "pairs_sq"} <= set(given.columns):
        raise ValueError(f"design_effect frame needs 'artifact' (or 'id'), 'pairs' and 'pairs_sq', got {given.columns}")
    extra = ["clicks"] if "clicks" in given.columns else []
    aligned = pl.DataFrame({key: ids}).join(given.select(key, "pairs", "pairs_sq", *extra), on=key, how="left",
                                            maintain_order="left").fill_null(0)
    pairs = aligned.get_column("pairs").cast(pl.Float64).to_numpy()
    squares = aligned.get_column("pairs_sq").cast(pl.Float64).to_numpy()
    observed = np.where(pairs > 0, squares / np.where(pairs > 0, pairs, 1.0), 1.0)
    if not extra:
        return np.maximum(observed, 1.0)
    clicks = aligned.get_column("clicks").cast(pl.Float64).to_numpy()
    q, _ = problem._rows(point)
    n = problem.n
    wins = np.bincount(problem.w, n, m)
    expected = np.bincount(problem.w, n * (1.0 - q), m) + np.bincount(problem.l, n * q, m)
    expected -= np.bincount(problem.w[problem.same], n[problem.same] * (1.0 - q[problem.same]), m)
    clicked = (clicks > 0) & (wins > 0)
    typical = float(wins[clicked].sum() / clicks[clicked].sum()) if clicked.any() else 1.0
    per_click = np.where(clicked, wins / np.where(clicked, clicks, 1.0), typical)
    losses = np.maximum(pairs - wins, 0.0)
    per_loss = np.where(losses > 0, np.maximum(squares - wins * per_click, losses) / np.where(losses > 0, losses, 1.0),
                        1.0)
    total = np.maximum(pairs, 1e-12)
    deff = (expected * per_click + np.maximum(pairs - expected, 0.0) * per_loss) / total
    return np.where(pairs > 0, np.maximum(deff, 1.0), 1.0)


def _start_gamma(start: Start | None, position_effects: np.ndarray | None) -> np.ndarray:
    effects = start.position_effects if isinstance(start, RatingResult) and position_effects is None \
        else position_effects
    if effects is None or len(effects) != TOP_POSITIONS:
        return np.zeros(TOP_POSITIONS - 1)
    log_e = np.minimum(np.asarray(effects, dtype=np.float64)[1:], -1e-9)
    return np.asarray(np.clip(log_e - np.log(-np.expm1(log_e)), -30.0, 30.0))


@dataclass(frozen=True)
class CodedPreferences:
    """Preference counts with the artifacts as codes into ``ids`` (distinct, sorted): what
    :func:`fit_ratings` makes of a frame, for a caller that holds codes already (the boards, whose
    items are built from codes). Every id is rated, with rows or without."""

    ids: list[str]
    winner: np.ndarray
    loser: np.ndarray
    winner_pos: np.ndarray
    loser_pos: np.ndarray
    count: np.ndarray


@dataclass
class _Rows:
    """The rows of a fit: codes into ``ids``, positions from 0, counts, in one canonical order."""

    ids: list[str]
    w: np.ndarray
    l: np.ndarray  # noqa: E741 (the loser, beside ``w``)
    pw: np.ndarray
    pl: np.ndarray
    n: np.ndarray


def _rows(prefs: pl.DataFrame | CodedPreferences, ids: Sequence[str] | None) -> _Rows:
    k = TOP_POSITIONS
    if isinstance(prefs, CodedPreferences):
        all_ids = list(prefs.ids)
        keep = prefs.count > 0
        w, lo_ = prefs.winner[keep].astype(np.int64), prefs.loser[keep].astype(np.int64)
        pw = np.clip(prefs.winner_pos[keep], 1, k).astype(np.int64) - 1
        pl_ = np.clip(prefs.loser_pos[keep], 1, k).astype(np.int64) - 1
        n = prefs.count[keep].astype(np.float64)
    else:
        prefs = prefs.filter(pl.col("count") > 0)
        names = pl.concat([prefs.get_column("winner"), prefs.get_column("loser"),
                           pl.Series(list(ids or ()), dtype=pl.String)])
        id_series = names.unique().sort()
        all_ids = id_series.to_list()
        code = pl.Enum(id_series)
        coded = prefs.select(
            pl.col("winner").cast(code).to_physical().cast(pl.Int64).alias("w"),
            pl.col("loser").cast(code).to_physical().cast(pl.Int64).alias("l"),
            (pl.col("winner_pos").clip(1, k) - 1).cast(pl.Int64).alias("pw"),
            (pl.col("loser_pos").clip(1, k) - 1).cast(pl.Int64).alias("pl"),
            pl.col("count").cast(pl.Float64),
        )
        w, lo_, pw, pl_, n = (coded.get_column(c).to_numpy() for c in ("w", "l", "pw", "pl", "count"))
    # one order for any order of the same rows, so sums (and so the fit) come out bit for bit the same
    order = np.argsort(((w * len(all_ids) + lo_) * k + pw) * k + pl_, kind="stable")
    return _Rows(all_ids, w[order], lo_[order], pw[order], pl_[order], n[order])


def fit_ratings(prefs: pl.DataFrame | CodedPreferences, config: RatingOptions, *, start: Start | None = None,
                start_position_effects: np.ndarray | None = None, prior_mean: PriorMean | None = None,
                ids: Sequence[str] | None = None, design_effect: DesignEffect | None = None) -> RatingResult:
    """Fit ratings, position effects and 95% intervals to position-resolved preference counts.

    ``start``: the previous run's ratings (a result, a mapping id -> theta, or a frame with ``id`` and
    ``theta`` or ``quality_rating``), and ``start_position_effects`` its log examination curve (taken
    from ``start`` when it is a result); artifacts it does not name start at their prior mean. The
    optimum does not depend on the start, only the number of steps does.
    ``prior_mean``: per-artifact prior means (a mapping, frame or result; or an array aligned with
    ``ids``), 0 for artifacts it does not name. ``ids``: artifacts to rate besides those in
    ``prefs``; one without rows gets its prior mean and the prior's interval.
    ``design_effect``: per artifact, how much its comparisons come in bunches from one search (a
    frame with ``artifact`` (or ``id``), ``pairs`` and ``pairs_sq``, the ``totals`` table's
    columns; or a mapping id -> ``pairs_sq / pairs``); the intervals are then widened by a
    sandwich (see :func:`_sandwich_sd`). Without it the rows are taken as independent.
    """
    began = time.perf_counter()
    rows = _rows(prefs, ids)
    if not rows.ids:
        empty = np.zeros(0)
        return RatingResult([], empty, empty, empty, np.zeros(0, dtype=np.int64), np.zeros(TOP_POSITIONS), empty,
                            {"steps": 0, "objective_evaluations": 0, "converged": 1})
    given = prefs.ids if isinstance(prefs, CodedPreferences) else ids
    mean = _aligned(prior_mean, rows.ids, given, 0.0, "prior_mean")
    return _fit(rows, None, mean, config, start, start_position_effects, design_effect, began)[0]


def _fit(rows: _Rows, problem: _Problem | None, mean: np.ndarray, config: RatingOptions, start: Start | None,
         start_position_effects: np.ndarray | None, design_effect: DesignEffect | None, began: float, *,
         ends: bool = True) -> tuple[RatingResult, _Problem]:
    """The fit on coded rows; ``problem`` is the same rows already prepared (its prior mean is
    replaced by ``mean``). Without ``ends`` the interval is the symmetric ``1.96 sd`` (a fit whose
    ratings and sds are all that is used)."""
    all_ids, w, lo_, n = rows.ids, rows.w, rows.l, rows.n
    m = len(all_ids)
    trace = _FitTrace()
    if problem is None:
        problem = _Problem(w, lo_, rows.pw, rows.pl, n, m, mean, config.prior_sd, config.position_prior_sd)
    else:
        problem.prior_mean = mean
    x0 = np.concatenate([_aligned(start, all_ids, None, np.nan, "start"), _start_gamma(start, start_position_effects)])
    x0[:m] = np.where(np.isnan(x0[:m]), mean, x0[:m])
    prepared = time.perf_counter()
    point = _newton(problem, x0, trace)
    fitted = time.perf_counter()
    params = point.x
    theta = params[:m]
    log_examination = np.concatenate([[0.0], -np.logaddexp(0.0, -params[m:])])
    comparisons = (np.bincount(w, n, m) + np.bincount(lo_, n, m)).astype(np.int64)
    draws = config.interval_draws if m <= config.draw_intervals_max_artifacts else 0
    sd, method = _posterior_sd(problem, point, draws, config.seed, trace)
    down, up = _interval_ends(problem, point, sd) if ends else (Z95 * sd, Z95 * sd)
    deff = _design_effects(design_effect, all_ids, problem, point)
    if deff is not None:
        widened = _sandwich_sd(problem, point, sd, deff, draws, config.seed, trace)
        stretch = widened / sd
        down, up, sd = down * stretch, up * stretch, widened
        method += "+sandwich"
    done = time.perf_counter()
    report: dict[str, float | int | str] = {
        "prepare_s": prepared - began, "fit_s": fitted - prepared, "intervals_s": done - fitted,
        "steps": trace.steps, "gauss_newton_steps": trace.gauss_newton_steps,
        "objective_evaluations": trace.evaluations, "cg_iterations": trace.cg_iterations,
        "converged": int(trace.converged), "max_gradient": trace.max_gradient,
        "start": "cold" if start is None else "warm", "interval_method": method, "interval_draws": draws,
        "artifacts": m, "rows": int(n.size),
    }
    return RatingResult(all_ids, theta, theta - down, theta + up, comparisons, log_examination, sd, report), problem


def fit_quality(prefs: pl.DataFrame, config: RatingOptions, *, start: Start | None = None,
                design_effect: DesignEffect | None = None, ids: Sequence[str] | None = None) -> RatingResult:
    """The ratings the quality sub-score uses: an empirical-Bayes prior mean, then the full fit.

    Comparisons pin down differences between ratings; the common level is seen only through how
    click chances bend with position, which is faint where clicks are rare, so a prior centred at 0
    would move every rating toward 0 and the thinly compared ones most. A first fit (no interval
    draws) gives the ratings' precision-weighted mean, the population's level; the second fit
    centres every prior there, starts from the first, and widens the intervals by the design
    effect (see :func:`fit_ratings`). Both fits share the coded rows and their sparse pattern, and
    the first computes no interval ends (only its ratings and sds are used).
    """
    began = time.perf_counter()
    rows = _rows(prefs, ids)
    if not rows.ids:
        return fit_ratings(prefs, config, ids=ids)
    m = len(rows.ids)
    first, problem = _fit(rows, None, np.zeros(m), replace_draws(config, 0), start, None, None, began, ends=False)
    weight = 1.0 / np.maximum(first.sd, 1e-9) ** 2
    rated = first.comparisons > 0
    level = float(np.sum(weight[rated] * first.theta[rated]) / np.sum(weight[rated])) if rated.any() else 0.0
    second = time.perf_counter()
    result, _ = _fit(rows, problem, np.full(m, level), config, first, None, design_effect, second)
    result.report["prior_mean"] = level
    result.report["first_fit_s"] = second - began
    return result


@dataclass(frozen=True)
class _Options:
    prior_sd: float
    position_prior_sd: float
    interval_draws: int
    draw_intervals_max_artifacts: int
    seed: int


def replace_draws(config: RatingOptions, draws: int) -> RatingOptions:
    """``config`` with another number of interval draws (any object with the options will do)."""
    return _Options(config.prior_sd, config.position_prior_sd, draws, config.draw_intervals_max_artifacts, config.seed)
