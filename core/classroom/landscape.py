"""The exact answers gradient descent is heading for, computed independently of torch."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.i18n import N_

# -- the classroom's landscape: MSE of ŷ = X·w + b as a quadratic form in θ = (w₁, …, w_d, b) -------------
#
# Every function below works in the units the optimizer sees (after z-scoring when the run standardizes), so the
# trainer's recorded weights land on the surface as they are. The loss is exactly quadratic, so a 200×200 grid
# costs a few array operations on (AᵀA/n, Aᵀy/n, yᵀy/n) and never a pass over the rows.

DIVERGE_AT = 2.0  # lr·λ ≥ 2: the error along that eigenvector grows every step (|1 − lr·λ| ≥ 1)
OSCILLATE_AT = 1.0  # 1 < lr·λ < 2: the factor 1 − lr·λ is negative, so the step overshoots and flips side each epoch
CONVERGED_RATIO = 1e-2  # ‖θ_T − θ*‖ ≤ 1% of ‖θ₀ − θ*‖ after the run counts as converged; more than that is "slow"
# the four outcomes: keys in code and in the stored records (English), catalogue ids where shown (_(label))
LABELS = (N_("converges"), N_("slow"), N_("oscillates"), N_("diverges"))


@dataclass(frozen=True)
class Quadratic:
    """L(θ) = θᵀGθ − 2cᵀθ + s with G = AᵀA/n, c = Aᵀy/n, s = yᵀy/n and A = [X, 1]: the MSE without the rows."""

    G: np.ndarray
    c: np.ndarray
    s: float
    n: int

    @classmethod
    def from_data(cls, X: np.ndarray, y: np.ndarray) -> Quadratic:
        X = np.asarray(X, dtype=np.float64).reshape(len(y), -1)
        A = np.column_stack([X, np.ones(len(y))])
        y = np.asarray(y, dtype=np.float64)
        return cls(A.T @ A / len(y), A.T @ y / len(y), float(y @ y / len(y)), len(y))

    @property
    def dim(self) -> int:
        return len(self.c)

    def loss(self, theta: np.ndarray) -> np.ndarray:
        """MSE at θ; θ may be a stack of points, shape (…, d + 1)."""
        t = np.asarray(theta, dtype=np.float64)
        return np.einsum("...i,ij,...j->...", t, self.G, t) - 2.0 * t @ self.c + self.s

    def grad(self, theta: np.ndarray) -> np.ndarray:
        """∂L/∂θ = 2(Gθ − c), the same as −(2/n)·Σ (yᵢ − ŷᵢ)·[xᵢ, 1]."""
        return 2.0 * (np.asarray(theta, dtype=np.float64) @ self.G - self.c)

    def hessian(self) -> np.ndarray:
        return 2.0 * self.G

    def optimum(self) -> np.ndarray:
        """θ* = G⁻¹c, the closed-form least-squares solution (lstsq, so a constant column does not break it)."""
        return np.linalg.lstsq(self.G, self.c, rcond=None)[0]

    def eigen(self) -> tuple[np.ndarray, np.ndarray]:
        """The Hessian's eigenvalues (ascending) and eigenvectors (columns)."""
        return np.linalg.eigh(self.hessian())

    def lr_max(self) -> float:
        """2/λ_max: plain gradient descent converges only below it."""
        return 2.0 / float(self.eigen()[0][-1])

    def condition_number(self) -> float:
        lam = self.eigen()[0]
        return float(lam[-1] / lam[0]) if lam[0] > 0 else float("inf")


def loss_grid(q: Quadratic, u: np.ndarray, v: np.ndarray, axes: tuple[int, int] = (0, 1), at: np.ndarray | None = None) -> np.ndarray:
    """L over θ[axes[0]] = u (columns) × θ[axes[1]] = v (rows); every other parameter stays at `at` (default: θ*).

    Exact, from the quadratic's Taylor form around `at`: L(at + d) = L(at) + ∇L·d + dᵀGd, O(len(u)·len(v)).
    """
    at = q.optimum() if at is None else np.asarray(at, dtype=np.float64)
    i, j = axes
    du = np.asarray(u, dtype=np.float64)[None, :] - at[i]
    dv = np.asarray(v, dtype=np.float64)[:, None] - at[j]
    g = q.grad(at)
    G = q.G
    return float(q.loss(at)) + g[i] * du + g[j] * dv + G[i, i] * du**2 + 2.0 * G[i, j] * du * dv + G[j, j] * dv**2


def grid_axes(
    points: np.ndarray, center: np.ndarray, size: int = 120, pad: float = 0.25, clip: float = 4.0
) -> tuple[np.ndarray, np.ndarray]:
    """Two ranges that hold the points (a path) and the center (the optimum) with a margin.

    A diverging path runs off to infinity; points farther than `clip`× the start's distance from the center are left out.
    """
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    pts = pts[np.all(np.isfinite(pts), axis=1)]
    center = np.asarray(center, dtype=np.float64)
    if len(pts):
        reach = np.abs(pts[0] - center) * clip + 1e-9
        pts = pts[np.all(np.abs(pts - center) <= reach, axis=1)]
    allp = np.vstack([pts, center[None, :]]) if len(pts) else center[None, :]
    lo, hi = allp.min(axis=0), allp.max(axis=0)
    span = np.maximum(hi - lo, 1e-3 * np.maximum(np.abs(center), 1.0))
    lo, hi = lo - pad * span, hi + pad * span
    return np.linspace(lo[0], hi[0], size), np.linspace(lo[1], hi[1], size)


def _present(q: Quadratic, start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues and eigenvectors along which the start is off the optimum (the others never move)."""
    lam, vecs = q.eigen()
    c = vecs.T @ (np.asarray(start, dtype=np.float64) - q.optimum())
    keep = np.abs(c) > 1e-9 * max(float(np.linalg.norm(c)), 1e-300)
    return lam[keep], vecs[:, keep]


def predict_lane(q: Quadratic, lr: float, start: np.ndarray, epochs: int) -> str:
    """What plain full-batch gradient descent will do, from lr·λ of the Hessian's eigenvalues alone.

    The error along eigenvector i is multiplied by (1 − lr·λᵢ) every epoch, so:
    diverges if lr·λ ≥ 2 for some direction the start has a component in; oscillates if 1 < lr·λ < 2 for one;
    otherwise slow if max |1 − lr·λ|^epochs > CONVERGED_RATIO (not within 1% after the run), else converges.
    """
    lam, _ = _present(q, start)
    if not len(lam):
        return "converges"
    x = lr * lam
    if np.any(x >= DIVERGE_AT):
        return "diverges"
    if np.any(x > OSCILLATE_AT):
        return "oscillates"
    return "slow" if float(np.max(np.abs(1.0 - x))) ** epochs > CONVERGED_RATIO else "converges"


def observed_lane(q: Quadratic, path: np.ndarray, diverged: bool = False) -> str:
    """What the run actually did, from its recorded weights: the same four words as predict_lane, measured.

    oscillates: along the stiffest direction the start has a component in, the error changes sign on most
    consecutive epochs (those still above 1e-4 of the start's error, so float32 noise at the optimum does not count).
    """
    path = np.asarray(path, dtype=np.float64)
    err = path - q.optimum()
    e0 = float(np.linalg.norm(err[0]))
    if diverged or not np.all(np.isfinite(err)) or np.linalg.norm(err[-1]) > e0:
        return "diverges"
    lam, vecs = _present(q, path[0])
    if len(lam):
        s = err @ vecs[:, -1]
        s = s[np.abs(s) > 1e-4 * e0][:20]
        if len(s) >= 2 and np.mean(np.sign(s[1:]) != np.sign(s[:-1])) >= 0.5:
            return "oscillates"
    return "slow" if np.linalg.norm(err[-1]) > CONVERGED_RATIO * e0 else "converges"
