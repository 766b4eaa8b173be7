"""Closed forms for in-context linear regression, and the Monte Carlo samplers that test them.

* Zhang, Frei & Bartlett (2023), "Trained transformers learn linear models in-context"
  (JMLR 2024, arXiv 2306.09927), Theorem 4.1: a one-layer linear self-attention model trained by
  gradient flow on prompts x_i ~ N(0, Lambda), w ~ N(0, I_d), y_i = w^T x_i converges to the
  predictor  yhat = x_q^T Gamma^{-1} (1/N) sum_i y_i x_i,
  Gamma = (1 + 1/N) Lambda + (tr Lambda / N) I_d.
  For a preconditioner A the risk of yhat_A = x_q^T A (1/N) sum y_i x_i is (derived here, using
  E[S B S] = Lambda B Lambda + (1/N)(Lambda B^T Lambda + tr(B Lambda) Lambda) for the Gaussian
  sample covariance S = (1/N) sum x_i x_i^T):
      R(A) = tr(A^T Lambda A Gamma Lambda) - 2 tr(Lambda A Lambda) + tr Lambda,
  minimised at A = Gamma^{-1} with R* = tr Lambda - tr(Gamma^{-1} Lambda^2).
* Garg, Tsipras, Liang & Valiant (2022), "What can transformers learn in-context? A case study of
  simple function classes" (NeurIPS 2022, arXiv 2208.01066), Section 3 baselines, for
  x ~ N(0, I_d), w ~ N(0, I_d), y_i = w^T x_i + eps_i, eps_i ~ N(0, sigma^2). With the excess
  risk  E[(x_q^T (w_hat - w))^2] = E||w_hat - w||^2  (the error on the noiseless target; Garg
  et al. plot squared error / d):
      min-norm least squares, k <= d - 2:  (d - k) + sigma^2 k / (d - k - 1)
                               k >= d + 2:  sigma^2 d / (k - d - 1)
      (noiseless: d - k for k < d and 0 for k >= d; with noise the risk is infinite for
      k in {d-1, d, d+1}: inverse-Wishart means E (X X^T)^{-1} = I/(d-k-1), E (X^T X)^{-1} = I/(k-d-1))
      averaging w_hat = (1/k) sum y_i x_i:  d (d + 1 + sigma^2) / k.
* Ridge as the Bayes estimator: with w ~ N(0, tau^2 I) and the objective written as
      (1/2) ||X w - y||^2 + (lam/2) ||w||^2      (unnormalised sum; w_lam = (X^T X + lam I)^{-1} X^T y)
  the posterior mean is w_lam at lam = sigma^2 / tau^2, and the conditional risk
      E[||w_lam - w||^2 | X] = sum_j (lam^2 tau^2 + sigma^2 s_j) / (s_j + lam)^2
  (s_j the eigenvalues of X^T X, zeros included) has derivative sum_j 2 s_j (lam tau^2 - sigma^2)/(s_j + lam)^3,
  zero exactly at lam = sigma^2/tau^2 for every X. With the normalised objective
  (1/2n)||Xw - y||^2 + (lam/2)||w||^2 the same estimator has lam = sigma^2 / (n tau^2).
"""

from __future__ import annotations

import numpy as np

from numerics.random import SeedLike, rng

__all__ = [
    "zfb_gamma",
    "preconditioner_risk",
    "zfb_optimal_risk",
    "zfb_lsa_weights",
    "sample_gaussian_prompts",
    "preconditioned_predictions",
    "preconditioner_losses",
    "preconditioner_directional_derivatives",
    "min_norm_ls_risk",
    "averaging_risk",
    "min_norm_ls",
    "averaging_estimator",
    "ridge_estimator",
    "ridge_conditional_risk",
    "bayes_ridge_lambda",
]


def _spd(name: str, Lam) -> np.ndarray:
    L = np.asarray(Lam)
    if not np.issubdtype(L.dtype, np.floating):
        raise TypeError(f"{name} must be a float array, got dtype {L.dtype}")
    L = L.astype(np.float64)
    if L.ndim != 2 or L.shape[0] != L.shape[1] or L.shape[0] < 1:
        raise ValueError(f"{name} must be a square matrix, got shape {L.shape}")
    if not np.all(np.isfinite(L)):
        raise ValueError(f"{name} must be finite")
    if not np.allclose(L, L.T, rtol=0, atol=1e-12 * max(1.0, np.abs(L).max())):
        raise ValueError(f"{name} must be symmetric")
    if np.linalg.eigvalsh(L).min() <= 0:
        raise ValueError(f"{name} must be positive definite")
    return 0.5 * (L + L.T)


def _pos_int(name: str, v, minimum: int = 1) -> int:
    if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {v!r}")
    return int(v)


def _nonneg(name: str, v) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float | np.integer | np.floating):
        raise TypeError(f"{name} must be a real number, got {type(v).__name__}")
    if not np.isfinite(v) or v < 0:
        raise ValueError(f"{name} must be finite and >= 0, got {v!r}")
    return float(v)


def _square(name: str, A, d: int) -> np.ndarray:
    A = np.asarray(A)
    if not np.issubdtype(A.dtype, np.floating):
        raise TypeError(f"{name} must be a float array, got dtype {A.dtype}")
    if A.shape != (d, d):
        raise ValueError(f"{name} must have shape {(d, d)}, got {A.shape}")
    if not np.all(np.isfinite(A)):
        raise ValueError(f"{name} must be finite")
    return A.astype(np.float64)


# --- Zhang, Frei & Bartlett ----------------------------------------------------------------------


def zfb_gamma(Lam: np.ndarray, N: int, *, correction: bool = True) -> np.ndarray:
    """Gamma = (1 + 1/N) Lambda + (tr Lambda / N) I (Zhang et al. Theorem 4.1).

    ``correction=False`` returns Lambda itself (the infinite-prompt limit; a negative control)."""
    L = _spd("Lambda", Lam)
    N = _pos_int("N", N)
    if not correction:
        return L.copy()
    return (1.0 + 1.0 / N) * L + (np.trace(L) / N) * np.eye(L.shape[0])


def preconditioner_risk(A: np.ndarray, Lam: np.ndarray, N: int) -> float:
    """R(A) = E (x_q^T A S w - x_q^T w)^2 = tr(A^T Lam A Gamma Lam) - 2 tr(Lam A Lam) + tr Lam."""
    L = _spd("Lambda", Lam)
    A = _square("A", A, L.shape[0])
    G = zfb_gamma(L, N)
    return float(np.trace(A.T @ L @ A @ G @ L) - 2.0 * np.trace(L @ A @ L) + np.trace(L))


def zfb_optimal_risk(Lam: np.ndarray, N: int, *, correction: bool = True) -> float:
    """R* = tr Lambda - tr(Gamma^{-1} Lambda^2) (with Gamma = Lambda when correction is off: 0)."""
    L = _spd("Lambda", Lam)
    G = zfb_gamma(L, N, correction=correction)
    return float(np.trace(L) - np.trace(np.linalg.solve(G, L @ L)))


def zfb_lsa_weights(Lam: np.ndarray, N: int) -> tuple[np.ndarray, np.ndarray]:
    """The converged one-layer LSA in the merged convention (CONTRIBUTING.md section 4):
    W_KQ = [[Gamma^{-1}, 0], [0, 0]], W_PV = [[0, 0], [0, 1]], so f(Z)[d, N] = x_q^T Gamma^{-1} h
    with h = (1/N) sum y_i x_i (read with a plus sign)."""
    L = _spd("Lambda", Lam)
    d = L.shape[0]
    W_KQ = np.zeros((d + 1, d + 1))
    W_KQ[:d, :d] = np.linalg.inv(zfb_gamma(L, N))
    W_PV = np.zeros((d + 1, d + 1))
    W_PV[d, d] = 1.0
    return W_KQ, W_PV


def sample_gaussian_prompts(M: int, N: int, Lam: np.ndarray, seed: SeedLike, *, sigma: float = 0.0,
                            tau: float = 1.0) -> dict[str, np.ndarray]:
    """M prompts: X (M, N, d) rows ~ N(0, Lam), w (M, d) ~ N(0, tau^2 I), y = X w + sigma eps,
    x_q (M, d) ~ N(0, Lam), y_q = x_q^T w (noiseless target)."""
    M = _pos_int("M", M)
    N = _pos_int("N", N)
    L = _spd("Lambda", Lam)
    sigma, tau = _nonneg("sigma", sigma), _nonneg("tau", tau)
    g = rng(seed)
    d = L.shape[0]
    C = np.linalg.cholesky(L)
    X = g.standard_normal((M, N, d)) @ C.T
    xq = g.standard_normal((M, d)) @ C.T
    w = tau * g.standard_normal((M, d))
    y = np.einsum("mnd,md->mn", X, w) + sigma * g.standard_normal((M, N))
    return {"X": X, "y": y, "w": w, "xq": xq, "yq": np.einsum("md,md->m", xq, w)}


def preconditioned_predictions(A: np.ndarray, X: np.ndarray, y: np.ndarray, xq: np.ndarray) -> np.ndarray:
    """yhat_m = x_q^T A (1/N) sum_i y_i x_i for each prompt (batched)."""
    h = np.einsum("mn,mnd->md", y, X) / X.shape[1]
    return np.einsum("md,de,me->m", xq, A, h)


def preconditioner_losses(A: np.ndarray, prompts: dict[str, np.ndarray]) -> np.ndarray:
    """Per-prompt squared errors (yhat_A - y_q)^2 (their mean estimates R(A))."""
    d = prompts["X"].shape[2]
    A = _square("A", A, d)
    return (preconditioned_predictions(A, prompts["X"], prompts["y"], prompts["xq"]) - prompts["yq"]) ** 2


def preconditioner_directional_derivatives(A: np.ndarray, E: np.ndarray,
                                           prompts: dict[str, np.ndarray]) -> np.ndarray:
    """Per-prompt d/dt (yhat_{A + tE} - y_q)^2 at t = 0 = 2 (yhat_A - y_q) x_q^T E h."""
    d = prompts["X"].shape[2]
    A = _square("A", A, d)
    E = _square("E", E, d)
    X, y, xq = prompts["X"], prompts["y"], prompts["xq"]
    r = preconditioned_predictions(A, X, y, xq) - prompts["yq"]
    return 2.0 * r * preconditioned_predictions(E, X, y, xq)


# --- Garg et al. baselines -----------------------------------------------------------------------


def min_norm_ls_risk(d: int, k: int, sigma2: float = 0.0) -> float:
    """E||X^+ y - w||^2 for x ~ N(0, I_d), w ~ N(0, I_d), noise variance sigma2 (module docstring)."""
    d = _pos_int("d", d)
    k = _pos_int("k", k)
    s2 = _nonneg("sigma2", sigma2)
    if s2 == 0.0:
        return float(max(d - k, 0))
    if k <= d - 2:
        return float((d - k) + s2 * k / (d - k - 1))
    if k >= d + 2:
        return float(s2 * d / (k - d - 1))
    return float("inf")


def averaging_risk(d: int, k: int, sigma2: float = 0.0) -> float:
    """E||(1/k) sum y_i x_i - w||^2 = d (d + 1 + sigma2) / k."""
    d = _pos_int("d", d)
    k = _pos_int("k", k)
    return float(d * (d + 1 + _nonneg("sigma2", sigma2)) / k)


def min_norm_ls(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Batched minimum-norm least squares w = X^+ y (M, d): X^T (X X^T)^{-1} y when k < d,
    (X^T X)^{-1} X^T y when k >= d (Gaussian X has full rank almost surely)."""
    k, d = X.shape[1], X.shape[2]
    if k < d:
        G = np.einsum("mnd,mld->mnl", X, X)
        return np.einsum("mnd,mn->md", X, np.linalg.solve(G, y[..., None])[..., 0])
    G = np.einsum("mnd,mne->mde", X, X)
    return np.linalg.solve(G, np.einsum("mnd,mn->md", X, y)[..., None])[..., 0]


def averaging_estimator(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Batched w = (1/k) sum_i y_i x_i."""
    return np.einsum("mn,mnd->md", y, X) / X.shape[1]


def ridge_estimator(X: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    """Batched argmin (1/2)||X w - y||^2 + (lam/2)||w||^2 = (X^T X + lam I)^{-1} X^T y."""
    lam = _nonneg("lam", lam)
    d = X.shape[2]
    G = np.einsum("mnd,mne->mde", X, X) + lam * np.eye(d)
    return np.linalg.solve(G, np.einsum("mnd,mn->md", X, y)[..., None])[..., 0]


def ridge_conditional_risk(X: np.ndarray, lam: float, sigma2: float, tau2: float) -> np.ndarray:
    """E[||w_lam - w||^2 | X] = sum_j (lam^2 tau2 + sigma2 s_j)/(s_j + lam)^2 per prompt (batched)."""
    lam = _nonneg("lam", lam)
    s = np.linalg.eigvalsh(np.einsum("mnd,mne->mde", X, X))
    s = np.maximum(s, 0.0)
    return np.sum((lam**2 * tau2 + sigma2 * s) / (s + lam) ** 2, axis=1)


def bayes_ridge_lambda(sigma2: float, tau2: float, *, n: int | None = None) -> float:
    """lam* = sigma2 / tau2 for the unnormalised objective; sigma2 / (n tau2) when the data term
    is normalised by 1/(2n) (pass n)."""
    sigma2 = _nonneg("sigma2", sigma2)
    tau2 = _nonneg("tau2", tau2)
    if tau2 == 0:
        raise ValueError("tau2 must be positive")
    return sigma2 / tau2 if n is None else sigma2 / (_pos_int("n", n) * tau2)
