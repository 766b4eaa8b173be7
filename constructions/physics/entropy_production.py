"""Entropy production of linear (Ornstein-Uhlenbeck) active-matter models, after Boffi &
Vanden-Eijnden, "Deep learning probability flows and entropy production rates in active matter",
PNAS 121, e2318106121 (2024), arXiv 2309.12991.

Model: dx = b(x) dt + sqrt(2D) dW with linear drift b(x) = A x, A Hurwitz (every eigenvalue has a
negative real part) and D symmetric positive definite. The stationary density is N(0, S) with
A S + S A^T + 2 D = 0, score s(x) = grad log rho(x) = -S^-1 x, probability-flow velocity
v = b - D s = (A + D S^-1) x and entropy production rate (the paper's EPR)

    EPR = E[v^T D^-1 v] = Tr(Omega^T D^-1 Omega S^-1),   Omega = A S + D = (A S - S A^T)/2,

computed here as || L_D^-1 Omega L_S^-T ||_F^2 (Cholesky factors D = L_D L_D^T, S = L_S L_S^T),
a sum of squares, so it is >= 0 in floating point and 0 when Omega = 0 (a gradient drift
A = -D K, K SPD, for which S = K^-1). A singular D is a ValueError: E[v^T D^-1 v] is then not
defined.

Estimators (claim 6 of the issue; the three density-route forms follow from E[v . s] = 0 and
E[b . s] = -E[div b] by integration by parts against the stationary density):

* ``velocity``:               mean of v^T D^-1 v,          v = b - D s;
* ``drift_minus_score``:      mean of b^T D^-1 b - s^T D s;
* ``drift_plus_divergence``:  mean of b^T D^-1 b + div b   (div b = Tr A: no score needed);
* trajectory (Stratonovich):  (1/T) sum_k v(x_mid)^T D^-1 (x_{k+1} - x_k), x_mid the midpoint of
  each Euler-Maruyama step.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.linalg

from numerics import EPS
from numerics.random import rng
from numerics.validation import as_square_matrix, check_int, check_positive

__all__ = [
    "ou_stationary_covariance",
    "ou_epr",
    "ou_epr_per_particle",
    "ou_velocity_matrix",
    "aoup_model",
    "aoup_epr",
    "simulate_ou",
    "epr_sample_terms",
    "epr_from_samples",
    "epr_from_trajectory",
    "linear_score_matching",
    "local_attention_score",
    "init_local_attention",
]




def _check_model(A, D) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validated (A, D, cholesky(D)); A Hurwitz, D symmetric positive definite."""
    A = as_square_matrix("A", A)
    D = as_square_matrix("D", D)
    if A.shape != D.shape:
        raise ValueError(f"A and D must have the same shape, got {A.shape} and {D.shape}")
    lam = np.linalg.eigvals(A)
    if not np.all(lam.real < 0):
        raise ValueError(f"A must be Hurwitz (all eigenvalues with negative real part); max Re = {lam.real.max():.3e}")
    scale = max(float(np.max(np.abs(D))), np.finfo(np.float64).tiny)
    asym = float(np.max(np.abs(D - D.T)))
    if asym > 64.0 * EPS * D.shape[0] * scale:
        raise ValueError(f"D must be symmetric (max |D - D^T| = {asym:.3e})")
    D = 0.5 * (D + D.T)
    try:
        LD = np.linalg.cholesky(D)
    except np.linalg.LinAlgError:
        raise ValueError("D must be positive definite (a singular D leaves E[v^T D^-1 v] undefined)") from None
    if np.min(np.diag(LD)) ** 2 <= D.shape[0] * EPS * float(np.max(np.diag(D))):
        raise ValueError("D is numerically singular: E[v^T D^-1 v] is not defined")
    return A, D, LD


def _bartels_stewart(A: np.ndarray, C: np.ndarray) -> np.ndarray:
    """X with A X + X A^T = C, from the complex Schur form A = U T U^* (column-by-column
    back-substitution on T Y + Y T^* = U^* C U)."""
    T, U = scipy.linalg.schur(A.astype(np.complex128), output="complex")
    F = U.conj().T @ C @ U
    n = A.shape[0]
    Y = np.zeros((n, n), dtype=np.complex128)
    eye = np.eye(n)
    # column j of T Y + Y T^*: T y_j + sum_{k >= j} conj(T[j, k]) y_k = f_j, solved for j = n-1..0
    for j in range(n - 1, -1, -1):
        rhs = F[:, j] - Y[:, j + 1 :] @ T[j, j + 1 :].conj()
        Y[:, j] = scipy.linalg.solve_triangular(T + np.conj(T[j, j]) * eye, rhs)
    X = (U @ Y @ U.conj().T).real
    return 0.5 * (X + X.T)


def ou_stationary_covariance(A, D) -> np.ndarray:
    """S with A S + S A^T + 2 D = 0 (the stationary covariance), by a Bartels-Stewart solve."""
    A, D, _ = _check_model(A, D)
    return _bartels_stewart(A, -2.0 * D)


def ou_velocity_matrix(A, D) -> np.ndarray:
    """B = A + D S^-1, so that the probability-flow velocity is v(x) = B x."""
    A, D, _ = _check_model(A, D)
    S = _bartels_stewart(A, -2.0 * D)
    return A + D @ scipy.linalg.cho_solve(scipy.linalg.cho_factor(S), np.eye(A.shape[0]))


def ou_epr(A, D) -> float:
    """Stationary entropy production rate E[v^T D^-1 v] = ||L_D^-1 Omega L_S^-T||_F^2."""
    A, D, LD = _check_model(A, D)
    S = _bartels_stewart(A, -2.0 * D)
    LS = np.linalg.cholesky(S)
    Omega = A @ S + D
    X = scipy.linalg.solve_triangular(LD, Omega, lower=True)
    Y = scipy.linalg.solve_triangular(LS, X.T, lower=True).T
    return float(np.sum(Y * Y))


def ou_epr_per_particle(A, D, n_particles: int) -> np.ndarray:
    """Per-particle contributions EPR_i = E[v_i^T (D^-1 v)_i] for a state made of n_particles
    equal blocks of coordinates (particle i owns coordinates i*m .. (i+1)*m - 1); they sum to
    :func:`ou_epr` for any A, D (the sum is the trace of D^-1 B S B^T split block by block)."""
    A, D, LD = _check_model(A, D)
    k = check_int("n_particles", n_particles, 1)
    n = A.shape[0]
    if n % k:
        raise ValueError(f"dimension {n} is not divisible by n_particles = {k}")
    S = _bartels_stewart(A, -2.0 * D)
    Omega = A @ S + D  # B S = Omega, so E[v v^T] = B S B^T = Omega S^-1 Omega^T
    Dinv_Omega = scipy.linalg.cho_solve((LD, True), Omega)
    cov_term = Dinv_Omega @ scipy.linalg.cho_solve(scipy.linalg.cho_factor(S), Omega.T)
    m = n // k
    return np.array([np.trace(cov_term[i * m:(i + 1) * m, i * m:(i + 1) * m]) for i in range(k)])


def aoup_model(k: float, v0: float, eps: float, gamma: float, dim: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(A, D) of the active Ornstein-Uhlenbeck particle in a harmonic trap, state (x, g) in R^{2 dim}:
    x' = -k x + v0 g + sqrt(2 eps) xi,  g' = -gamma g + sqrt(2 gamma) eta."""
    k = check_positive("k", k)
    eps = check_positive("eps", eps)
    gamma = check_positive("gamma", gamma)
    if isinstance(v0, bool) or not np.isfinite(float(v0)):
        raise ValueError(f"v0 must be a finite real number, got {v0!r}")
    m = check_int("dim", dim, 1)
    eye = np.eye(m)
    A = np.block([[-k * eye, float(v0) * eye], [np.zeros((m, m)), -gamma * eye]])
    D = np.block([[eps * eye, np.zeros((m, m))], [np.zeros((m, m)), gamma * eye]])
    return A, D


def aoup_epr(k: float, v0: float, eps: float, gamma: float, dim: int = 1) -> float:
    """The closed form dim * gamma v0^2 / (eps (gamma + k)) (the issue's statement; d coordinates
    are independent copies)."""
    k = check_positive("k", k)
    eps = check_positive("eps", eps)
    gamma = check_positive("gamma", gamma)
    if isinstance(v0, bool) or not np.isfinite(float(v0)):
        raise ValueError(f"v0 must be a finite real number, got {v0!r}")
    m = check_int("dim", dim, 1)
    return float(m * gamma * float(v0) ** 2 / (eps * (gamma + k)))


def simulate_ou(A, D, dt: float, n_steps: int, n_paths: int, seed, x0=None) -> np.ndarray:
    """Euler-Maruyama paths x_{k+1} = x_k + A x_k dt + sqrt(2 dt) L_D xi_k, float64
    (n_paths, n_steps + 1, d). x0: (d,) or (n_paths, d); default a draw from the exact stationary
    N(0, S) (the chain then relaxes to its own stationary law N(0, S_dt), S_dt = S + O(dt))."""
    A, D, LD = _check_model(A, D)
    dt = check_positive("dt", dt)
    n_steps = check_int("n_steps", n_steps, 1)
    n_paths = check_int("n_paths", n_paths, 1)
    g = rng(seed)
    d = A.shape[0]
    if x0 is None:
        S = _bartels_stewart(A, -2.0 * D)
        x = g.standard_normal((n_paths, d)) @ np.linalg.cholesky(S).T
    else:
        x = np.broadcast_to(np.asarray(x0, dtype=np.float64), (n_paths, d)).copy()
    out = np.empty((n_paths, n_steps + 1, d))
    out[:, 0] = x
    F = (np.eye(d) + dt * A).T
    L = np.sqrt(2.0 * dt) * LD.T
    for k in range(n_steps):
        x = x @ F + g.standard_normal((n_paths, d)) @ L
        out[:, k + 1] = x
    return out


def _samples(x, d: int) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiu":
        raise TypeError(f"samples must be a real numeric array, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if arr.ndim != 2 or arr.shape[1] != d or arr.shape[0] < 2:
        raise ValueError(f"samples must have shape (n >= 2, {d}), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("samples must be finite")
    return arr


def _score_fn(score, A, D) -> Callable[[np.ndarray], np.ndarray]:
    if score is None:
        S = _bartels_stewart(A, -2.0 * D)
        P = np.linalg.inv(S)
        return lambda x: -x @ P.T
    if callable(score):
        return score
    M = as_square_matrix("score", score)
    if M.shape != A.shape:
        raise ValueError(f"a linear score s(x) = M x needs M of shape {A.shape}, got {M.shape}")
    return lambda x: x @ M.T


def epr_sample_terms(x, A, D, score=None) -> dict[str, np.ndarray]:
    """Per-sample terms of the three density-route estimators at samples x (n, d) of the stationary
    density; their means estimate the EPR. ``score``: None (the exact -S^-1 x), a matrix M
    (linear score M x, e.g. from :func:`linear_score_matching`) or a callable x (n, d) -> (n, d)."""
    A, D, LD = _check_model(A, D)
    X = _samples(x, A.shape[0])
    s = np.asarray(_score_fn(score, A, D)(X), dtype=np.float64)
    if s.shape != X.shape:
        raise ValueError(f"score must return shape {X.shape}, got {s.shape}")
    b = X @ A.T
    v = b - s @ D.T
    Dinv_v = scipy.linalg.cho_solve((LD, True), v.T).T
    Dinv_b = scipy.linalg.cho_solve((LD, True), b.T).T
    bDb = np.sum(b * Dinv_b, axis=1)
    return {
        "velocity": np.sum(v * Dinv_v, axis=1),
        "drift_minus_score": bDb - np.sum(s * (s @ D.T), axis=1),
        "drift_plus_divergence": bDb + np.trace(A),
    }


def epr_from_samples(x, A, D, score=None) -> dict[str, tuple[float, float]]:
    """name -> (estimate, standard error) of the three density-route estimators."""
    terms = epr_sample_terms(x, A, D, score)
    return {k: (float(t.mean()), float(t.std(ddof=1) / np.sqrt(t.size))) for k, t in terms.items()}


def epr_from_trajectory(paths, dt: float, A, D, score=None, rule: str = "stratonovich") -> np.ndarray:
    """Per-path time averages (1/T) sum_k v(x*_k)^T D^-1 (x_{k+1} - x_k), T = n_steps dt, with
    x*_k the midpoint (x_k + x_{k+1})/2 (rule "stratonovich") or the left point x_k ("ito").
    paths: (n_paths, n_steps + 1, d) or (n_steps + 1, d). Returns (n_paths,)."""
    A, D, LD = _check_model(A, D)
    dt = check_positive("dt", dt)
    arr = np.asarray(paths, dtype=np.float64)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[2] != A.shape[0] or arr.shape[1] < 2:
        raise ValueError(f"paths must have shape (n_paths, n_steps + 1 >= 2, {A.shape[0]}), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("paths must be finite")
    if rule not in ("stratonovich", "ito"):
        raise ValueError(f"rule must be 'stratonovich' or 'ito', got {rule!r}")
    inc = np.diff(arr, axis=1)
    pts = 0.5 * (arr[:, 1:] + arr[:, :-1]) if rule == "stratonovich" else arr[:, :-1]
    flat = pts.reshape(-1, A.shape[0])
    s = np.asarray(_score_fn(score, A, D)(flat), dtype=np.float64)
    v = (flat @ A.T - s @ D.T).reshape(pts.shape)
    Dinv_inc = scipy.linalg.cho_solve((LD, True), inc.reshape(-1, A.shape[0]).T).T.reshape(inc.shape)
    T = inc.shape[1] * dt
    return np.sum(v * Dinv_inc, axis=(1, 2)) / T


def linear_score_matching(x) -> np.ndarray:
    """The minimiser M of the implicit score-matching loss (1/n) sum_i (|M x_i|^2 / 2 + Tr M) over
    linear scores s(x) = M x: the stationarity condition M Sigma_hat + I = 0 gives
    M = -Sigma_hat^-1, Sigma_hat = (1/n) sum_i x_i x_i^T."""
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiu" or arr.ndim != 2:
        raise ValueError(f"samples must be a real 2-D array (n, d), got {arr.dtype} {arr.shape}")
    X = arr.astype(np.float64)
    n, d = X.shape
    if n < d:
        raise ValueError(f"need at least d = {d} samples for an invertible second moment, got {n}")
    if not np.all(np.isfinite(X)):
        raise ValueError("samples must be finite")
    Sig = X.T @ X / n
    return -np.linalg.inv(Sig)


# --- a permutation-equivariant, spatially local attention score model -------------------------

def init_local_attention(dim: int, width: int, seed) -> dict[str, np.ndarray]:
    """Gaussian parameters of :func:`local_attention_score` (W1: width x dim, b1: width,
    a: width (attention logits), W2: dim x width)."""
    m = check_int("dim", dim, 1)
    w = check_int("width", width, 1)
    g = rng(seed)
    return {"W1": g.standard_normal((w, m)), "b1": g.standard_normal(w),
            "a": g.standard_normal(w) / np.sqrt(w), "W2": g.standard_normal((m, w)) / np.sqrt(w)}


def _sorted_sum(t: np.ndarray, axis: int) -> np.ndarray:
    # Summing the terms in sorted order makes the reduction independent of the order of the
    # particles bit for bit (the multiset of terms is what a permutation preserves).
    return np.sum(np.sort(t, axis=axis), axis=axis)


def local_attention_score(params: dict, x, cutoff: float, positional: float = 0.0) -> np.ndarray:
    """s(x)_i = sum_j w_ij W2 h_ij for particles x (n, dim), with relative features
    h_ij = relu(W1 (x_j - x_i) + b1), logits l_ij = a . h_ij, and local weights
    w_ij = phi(r_ij) exp(l_ij) / sum_k phi(r_ik) exp(l_ik), phi(r) = (1 - r^2/r_c^2)^2 for r < r_c
    (0 beyond: a spatially local attention). Every per-pair quantity depends only on (x_i, x_j)
    and every reduction over j is order-independent, so s(P x) = P s(x) exactly (bit for bit).
    ``positional`` != 0 adds positional * j to the logits (an index encoding: the equivariance
    control)."""
    X = np.asarray(x)
    if X.dtype.kind not in "fiu" or X.ndim != 2 or X.shape[0] < 1:
        raise ValueError(f"x must be a real 2-D array (n >= 1, dim), got {X.dtype} {X.shape}")
    X = X.astype(np.float64)
    n, m = X.shape
    W1, b1, a, W2 = (np.asarray(params[k], dtype=np.float64) for k in ("W1", "b1", "a", "W2"))
    if W1.shape[1] != m or W2.shape[0] != m or b1.shape != (W1.shape[0],) or a.shape != b1.shape \
            or W2.shape[1] != W1.shape[0]:
        raise ValueError("params shapes do not match: W1 (w, dim), b1 (w,), a (w,), W2 (dim, w)")
    rc = check_positive("cutoff", cutoff)
    rel = X[None, :, :] - X[:, None, :]  # rel[i, j] = x_j - x_i
    r2 = np.zeros((n, n))
    for c in range(m):  # elementwise accumulation: the same operations for every pair
        r2 = r2 + rel[:, :, c] * rel[:, :, c]
    phi = np.where(r2 < rc * rc, (1.0 - r2 / (rc * rc)) ** 2, 0.0)
    w = W1.shape[0]
    h = np.empty((n, n, w))
    for f in range(w):
        acc = np.full((n, n), b1[f])
        for c in range(m):
            acc = acc + W1[f, c] * rel[:, :, c]
        h[:, :, f] = np.maximum(acc, 0.0)
    logits = np.zeros((n, n))
    for f in range(w):
        logits = logits + a[f] * h[:, :, f]
    if positional:
        logits = logits + float(positional) * np.arange(n)[None, :]
    top = np.max(np.where(phi > 0, logits, -np.inf), axis=1, keepdims=True)  # j = i always counts
    ew = phi * np.exp(np.where(phi > 0, logits - top, 0.0))
    weights = ew / _sorted_sum(ew, axis=1)[:, None]
    out = np.zeros((n, m))
    for c in range(m):
        vals = np.zeros((n, n))
        for f in range(w):
            vals = vals + W2[c, f] * h[:, :, f]
        out[:, c] = _sorted_sum(weights * vals, axis=1)
    return out
