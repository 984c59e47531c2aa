"""The rating fit as it was before the Newton/CG rewrite (main at 7959352), kept as the bench baseline.

Damped Gauss-Newton with a dense solve up to 3,000 parameters and matrix-free CG beyond; intervals
by a one-step Poisson bootstrap with a dense Cholesky up to 5,000 artifacts, else the diagonal of
the curvature. Only ``bench/bench_scoring.py`` uses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import polars as pl
from scipy import linalg, sparse
from scipy.sparse import linalg as sparse_linalg

TOP_POSITIONS = 10


class RatingOptions(Protocol):
    """What the fit needs to know; ``queries.scoring.ScoringConfig`` provides it."""

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


def _side(theta: np.ndarray, gamma: np.ndarray, top: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log-odds that an artifact at a position is clicked, and its derivatives in theta and gamma.

    With attractiveness ``a = sigmoid(theta)`` and examination ``e = sigmoid(gamma)`` (``e = 1`` at
    the top position), the click probability is ``rho = e * a`` and ``L = log(rho / (1 - rho))``.
    At the top ``L = theta`` exactly.
    """
    log_rho = -np.logaddexp(0.0, -theta) - np.logaddexp(0.0, -gamma)
    one_minus = -np.expm1(log_rho)
    value = log_rho - np.log(one_minus)
    d_theta = np.exp(-np.logaddexp(0.0, theta)) / one_minus  # sigmoid(-theta) / (1 - rho)
    d_gamma = np.exp(-np.logaddexp(0.0, gamma)) / one_minus
    return (np.where(top, theta, value), np.where(top, 1.0, d_theta), np.where(top, 0.0, d_gamma))


class _PairData:
    """Preference rows as flat (artifact, position) cell indexes, for a fast objective.

    Strengths depend only on the cell (artifact, position), so the transcendental functions run
    once per cell (artifacts x 10) instead of once per row; rows only gather and scatter.
    """

    def __init__(self, w: np.ndarray, lo_: np.ndarray, pw: np.ndarray, pl_: np.ndarray, n_items: int) -> None:
        self.n_items = n_items
        self.k = TOP_POSITIONS
        self.cell_w = w * self.k + pw
        self.cell_l = lo_ * self.k + pl_
        self.top = np.zeros((n_items, self.k), dtype=bool)
        self.top[:, 0] = True

    def strengths(self, params: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        theta = params[: self.n_items]
        gamma = np.concatenate([[0.0], params[self.n_items:]])
        grid_t = np.broadcast_to(theta[:, None], (self.n_items, self.k))
        grid_g = np.broadcast_to(gamma[None, :], (self.n_items, self.k))
        value, d_theta, d_gamma = _side(grid_t, grid_g, self.top)
        return theta, gamma, value.ravel(), np.stack([d_theta.ravel(), d_gamma.ravel()])


def _bt_objective(params: np.ndarray, data: _PairData, n: np.ndarray, inv_var: float,
                  inv_var_pos: float) -> tuple[float, np.ndarray]:
    """Negative log posterior of the pairwise model and its gradient.

    A row says: ``n`` times, the artifact at ``pw`` was chosen while the one at ``pl`` was shown and
    not chosen. Under the position-based click model (clicks independent given examination), the
    chance that of the two exactly the first was clicked, given that exactly one was, is
    ``sigmoid(L_w - L_l)`` with ``L`` from :func:`_side`: Bradley-Terry whose strengths carry the
    position each side was shown at.
    """
    theta, gamma, value, grads = data.strengths(params)
    z = value[data.cell_w] - value[data.cell_l]
    nll = float(n @ np.logaddexp(0.0, -z))
    nll += 0.5 * inv_var * float(theta @ theta) + 0.5 * inv_var_pos * float(gamma[1:] @ gamma[1:])
    g = -n / (1.0 + np.exp(z))  # d nll / d z = -n * sigmoid(-z)
    cells = data.n_items * data.k
    per_cell = np.bincount(data.cell_w, g, cells) - np.bincount(data.cell_l, g, cells)
    grid = (per_cell * grads[0]).reshape(data.n_items, data.k)
    grad_theta = grid.sum(axis=1) + inv_var * theta
    grad_gamma = (per_cell * grads[1]).reshape(data.n_items, data.k).sum(axis=0)
    grad_gamma[1:] += inv_var_pos * gamma[1:]
    return nll, np.concatenate([grad_theta, grad_gamma[1:]])


def _gauss_newton_matrix(data: _PairData, params: np.ndarray, n: np.ndarray) -> sparse.csr_array:
    """``J^T diag(w) J`` pieces: the row Jacobian ``J`` of ``z`` scaled by ``sqrt(n p (1 - p))``."""
    _, _, value, grads = data.strengths(params)
    z = value[data.cell_w] - value[data.cell_l]
    p = 1.0 / (1.0 + np.exp(-z))
    scale = np.sqrt(n * p * (1.0 - p))
    rows = np.arange(z.size)
    m = data.n_items
    pos_w = data.cell_w % data.k
    pos_l = data.cell_l % data.k
    has_w, has_l = pos_w > 0, pos_l > 0
    r = np.concatenate([rows, rows, rows[has_w], rows[has_l]])
    c = np.concatenate([data.cell_w // data.k, data.cell_l // data.k, m + pos_w[has_w] - 1, m + pos_l[has_l] - 1])
    v = np.concatenate([grads[0][data.cell_w] * scale, -grads[0][data.cell_l] * scale,
                        grads[1][data.cell_w][has_w] * scale[has_w], -grads[1][data.cell_l][has_l] * scale[has_l]])
    return sparse.csr_array((v, (r, c)), shape=(z.size, m + data.k - 1))


def _bt_fit(data: _PairData, n: np.ndarray, config: RatingOptions, start: np.ndarray | None = None,
            tolerance: float = 1e-6, max_iter: int = 100) -> np.ndarray:
    """Damped Gauss-Newton: a few dozen steps from zero, two or three from a nearby start.

    The curvature ``J^T W J`` plus the prior is solved densely for up to 3,000 parameters and by
    conjugate gradients (matrix-free) beyond, so the same code fits 300 or 100,000 artifacts.
    """
    size = data.n_items + data.k - 1
    x = np.zeros(size) if start is None else start.copy()
    n = n.astype(np.float64)
    inv_var, inv_var_pos = 1.0 / config.prior_sd**2, 1.0 / config.position_prior_sd**2
    prior = np.concatenate([np.full(data.n_items, inv_var), np.full(data.k - 1, inv_var_pos)])
    f, g = _bt_objective(x, data, n, inv_var, inv_var_pos)
    for _ in range(max_iter):
        if np.max(np.abs(g)) < tolerance:
            break
        jac = _gauss_newton_matrix(data, x, n)
        if size <= 3_000:
            hessian = (jac.T @ jac).toarray() + np.diag(prior)
            step = linalg.solve(hessian, g, assume_a="pos")
        else:
            diagonal = np.asarray(jac.multiply(jac).sum(axis=0)).ravel() + prior
            operator = sparse_linalg.LinearOperator(
                (size, size), matvec=lambda v, j=jac: j.T @ (j @ v) + prior * v, dtype=np.float64
            )
            jacobi = sparse_linalg.LinearOperator((size, size), matvec=lambda v, d=diagonal: v / d,
                                                  dtype=np.float64)
            step, _ = sparse_linalg.cg(operator, g, rtol=1e-4, maxiter=100, M=jacobi)
        t = 1.0
        while True:
            candidate = x - t * step
            f_new, g_new = _bt_objective(candidate, data, n, inv_var, inv_var_pos)
            if f_new <= f - 1e-4 * t * float(g @ step) or t < 1e-6:
                break
            t *= 0.5
        converged = float(np.max(np.abs(t * step))) < 1e-6 or f - f_new <= 1e-10 * abs(f)
        x, f, g = candidate, f_new, g_new
        if converged:
            break
    return x


def _one_step_bootstrap(data: _PairData, params: np.ndarray, n: np.ndarray, config: RatingOptions) -> np.ndarray:
    """Ratings refitted to Poisson-resampled counts, each by one Newton step from the fit.

    The gradient is linear in the counts, so every round's gradient at the fitted point is one
    sparse product, and the curvature is factorized once: the linearized (one-step) bootstrap,
    which agrees with refitting to first order and costs a fraction of a second for 100 rounds.
    """
    m = data.n_items
    _, gamma, value, grads = data.strengths(params)
    z = value[data.cell_w] - value[data.cell_l]
    per_row = -1.0 / (1.0 + np.exp(z))  # d nll / d z for one count
    jac = _gauss_newton_matrix(data, params, np.ones_like(n))  # rows of dz/dparams scaled by sqrt(p(1-p))
    p = 1.0 / (1.0 + np.exp(-z))
    dz = sparse.diags_array(1.0 / np.sqrt(p * (1.0 - p))) @ jac  # plain dz/dparams
    contributions = (dz.T @ sparse.diags_array(per_row)).tocsr()  # params x rows
    prior = np.concatenate([np.full(m, 1.0 / config.prior_sd**2),
                            np.full(data.k - 1, 1.0 / config.position_prior_sd**2)])
    weighted = sparse.diags_array(np.sqrt(n)) @ jac
    hessian = (weighted.T @ weighted).toarray() + np.diag(prior)
    factor = linalg.cho_factor(hessian)
    rng = np.random.default_rng(config.seed)
    counts = rng.poisson(n, size=(config.interval_draws, n.size)).astype(np.float64)
    gradients = (contributions @ counts.T) + (prior * params)[:, None]  # params x rounds
    draws = params[:, None] - linalg.cho_solve(factor, gradients)
    del gamma
    return np.asarray(draws[:m].T)


def fit_ratings(prefs: pl.DataFrame, config: RatingOptions) -> RatingResult:
    """Fit ratings, position effects and 95% intervals to position-resolved preference counts."""
    prefs = prefs.filter(pl.col("count") > 0).sort(["winner", "loser", "winner_pos", "loser_pos"])
    ids = sorted(set(prefs.get_column("winner").to_list()) | set(prefs.get_column("loser").to_list()))
    k = TOP_POSITIONS
    if not ids:
        empty = np.zeros(0)
        return RatingResult([], empty, empty, empty, np.zeros(0, dtype=np.int64), np.zeros(k))
    index = pl.DataFrame({"id": ids, "i": np.arange(len(ids), dtype=np.int64)})
    coded = (
        prefs.join(index.rename({"id": "winner", "i": "w"}), on="winner")
        .join(index.rename({"id": "loser", "i": "l"}), on="loser")
        .with_columns(
            (pl.col("winner_pos").clip(1, k) - 1).alias("pw"), (pl.col("loser_pos").clip(1, k) - 1).alias("pl")
        )
    )
    w = coded.get_column("w").to_numpy()
    lo_ = coded.get_column("l").to_numpy()
    pw = coded.get_column("pw").to_numpy()
    pl_ = coded.get_column("pl").to_numpy()
    n = coded.get_column("count").to_numpy().astype(np.float64)
    m = len(ids)
    data = _PairData(w, lo_, pw, pl_, m)
    params = _bt_fit(data, n, config)
    theta = params[:m]
    gamma = np.concatenate([[0.0], params[m:]])
    log_examination = np.concatenate([[0.0], -np.logaddexp(0.0, -params[m:])])
    comparisons = (np.bincount(w, n, m) + np.bincount(lo_, n, m)).astype(np.int64)
    if config.interval_draws > 0 and m <= config.draw_intervals_max_artifacts:
        draws = _one_step_bootstrap(data, params, n, config)
        lo, hi = np.percentile(draws, [2.5, 97.5], axis=0)
    else:
        lw, dw_t, _ = _side(theta[w], gamma[pw], pw == 0)
        ll, dl_t, _ = _side(theta[lo_], gamma[pl_], pl_ == 0)
        p = 1.0 / (1.0 + np.exp(-(lw - ll)))
        info = n * p * (1 - p)
        curvature = (np.bincount(w, info * dw_t**2, m) + np.bincount(lo_, info * dl_t**2, m)
                     + 1.0 / config.prior_sd**2)
        half = 1.96 / np.sqrt(curvature)
        lo, hi = theta - half, theta + half
    return RatingResult(ids, theta, np.asarray(lo), np.asarray(hi), comparisons, log_examination)
