"""The Legendre Memory Unit (LMU) memory cell: state space, discretisation, recurrence, read-out.

Voelker, Kajić & Eliasmith, "Legendre Memory Units: Continuous-Time Representation in Recurrent
Neural Networks" (NeurIPS 2019), Section 2: the memory m(t) in R^d obeys

    theta * m'(t) = A m(t) + B u(t),                                          (eqs. 1-2)
    A_ij = (2i + 1) * (-1              if i < j,
                       (-1)^(i-j+1)    if i >= j),       B_i = (2i + 1) (-1)^i,   i, j = 0..d-1,

and the window of the input is read out with the shifted Legendre polynomials:

    u(t - theta') ~ sum_i  P~_i(theta' / theta) m_i(t),    0 <= theta' <= theta,      (eq. 3)
    P~_i(r) = (-1)^i sum_j binom(i, j) binom(i + j, j) (-r)^j = P_i(2r - 1).

Here the 1/theta is folded into the matrices: ``lmu_matrices`` returns (A / theta, B / theta), so
that m' = A m + B u. LMUFormer (Liu, Datta, Li & Beerel, ICLR 2024) uses the same memory with the
zero-order-hold (ZOH) discretisation m_t = Abar m_{t-1} + Bbar u_t and trains it in parallel as a
causal convolution m_t = sum_{k<=t} Abar^(t-k) Bbar u_k evaluated by FFT.

Conventions (stated because papers differ):
* the input sample u_t is held over the interval ((t-1) dt, t dt] that *ends* at t dt (the LMU's
  m_t = Abar m_{t-1} + Bbar u_t); a smooth u sampled at the right end is therefore seen dt/2 early on
  average: a first-order sample-and-hold bias (theorems/sequence/voelker2019.py measures it);
* m_0 = 0 before the first sample; sequences are arrays of shape (T,) (one input channel).

Nothing here asserts; every public function validates its inputs and returns float64 arrays.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

import numerics  # noqa: F401  (float64 JAX before any array; this module itself is numpy)
from numerics.validation import as_float_array, check_int, check_positive

__all__ = [
    "lmu_matrices",
    "shifted_legendre",
    "legendre_readout",
    "zoh_discretise",
    "lmu_recurrence",
    "impulse_response",
    "lmu_convolution",
    "decode_window",
]


def lmu_matrices(d: int, theta: float) -> tuple[np.ndarray, np.ndarray]:
    """(A, B) of the LMU memory of order ``d`` and window ``theta``, with 1/theta folded in.

    A_ij = (2i + 1)/theta * (-1 if i < j else (-1)^(i-j+1)),  B_i = (2i + 1)(-1)^i / theta.
    """
    d = check_int("order d", d, 1)
    theta = check_positive("theta", theta)
    i = np.arange(d)[:, None]
    j = np.arange(d)[None, :]
    sign = np.where(i < j, -1.0, np.where((i - j) % 2 == 0, -1.0, 1.0))  # (-1)^(i-j+1) for i >= j
    A = sign * (2.0 * i + 1.0) / theta
    k = np.arange(d)
    B = (2.0 * k + 1.0) * np.where(k % 2 == 0, 1.0, -1.0) / theta
    return A.astype(np.float64), B.astype(np.float64)


def shifted_legendre(d: int, r) -> np.ndarray:
    """P~_i(r) = P_i(2r - 1) for i = 0..d-1 at the points r; shape (len(r), d).

    Evaluated by the three-term (Bonnet) recurrence in x = 2r - 1,
    (i + 1) P_{i+1}(x) = (2i + 1) x P_i(x) - i P_{i-1}(x), which is stable on [-1, 1]
    (the explicit binomial sum of eq. 3 cancels catastrophically for large d).
    """
    d = check_int("order d", d, 1)
    r = as_float_array("r", r, (0, 1))
    r = np.atleast_1d(r)
    x = 2.0 * r - 1.0
    out = np.empty((r.size, d), dtype=np.float64)
    out[:, 0] = 1.0
    if d > 1:
        out[:, 1] = x
    for i in range(1, d - 1):
        out[:, i + 1] = ((2 * i + 1) * x * out[:, i] - i * out[:, i - 1]) / (i + 1)
    return out


def legendre_readout(d: int, delay_fraction: float = 1.0) -> np.ndarray:
    """The read-out row C with C_i = P~_i(theta'/theta): u(t - theta') ~ C m(t). Shape (d,)."""
    r = float(delay_fraction)
    if not np.isfinite(r) or not 0.0 <= r <= 1.0:
        raise ValueError(f"delay_fraction theta'/theta must lie in [0, 1], got {delay_fraction!r}")
    return shifted_legendre(d, np.array([r]))[0]


def zoh_discretise(A, B, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """Zero-order hold: Abar = exp(A dt), Bbar = int_0^dt exp(A s) ds B (= A^{-1} (exp(A dt) - I) B
    for nonsingular A).

    Exact for inputs that are constant over each step. Both come from ONE matrix exponential of the
    augmented matrix M = [[A, B], [0, 0]] dt (Van Loan): exp(M) = [[Abar, Bbar], [0, I]]. Unlike
    A^{-1}(exp(A dt) - I) B, this has no cancellation in exp(A dt) - I for small steps (that form
    loses ~ eps / ||A dt|| relative accuracy: 1e-9 at dt = 1e-8) and needs no invertible A.
    """
    A = as_float_array("A", A, 2)
    if A.shape[0] != A.shape[1]:
        raise ValueError(f"A must be square, got shape {A.shape}")
    B = as_float_array("B", B, (1, 2))
    if B.shape[0] != A.shape[0]:
        raise ValueError(f"B must have {A.shape[0]} rows to match A, got shape {B.shape}")
    dt = check_positive("dt", dt)
    d = A.shape[0]
    Bm = B.reshape(d, -1)
    M = np.zeros((d + Bm.shape[1], d + Bm.shape[1]))
    M[:d, :d] = A * dt
    M[:d, d:] = Bm * dt
    E = scipy.linalg.expm(M)
    Abar = E[:d, :d]
    Bbar = E[:d, d:].reshape(B.shape)
    return np.ascontiguousarray(Abar, dtype=np.float64), np.ascontiguousarray(Bbar, dtype=np.float64)


def _check_system(Abar, Bbar, u) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    Abar = as_float_array("Abar", Abar, 2)
    if Abar.shape[0] != Abar.shape[1]:
        raise ValueError(f"Abar must be square, got shape {Abar.shape}")
    Bbar = as_float_array("Bbar", Bbar, 1)
    if Bbar.shape[0] != Abar.shape[0]:
        raise ValueError(f"Bbar must have length {Abar.shape[0]}, got shape {Bbar.shape}")
    u = as_float_array("u", u, 1)
    if u.size < 1:
        raise ValueError("u must hold at least one sample")
    return Abar, Bbar, u


def lmu_recurrence(Abar, Bbar, u) -> np.ndarray:
    """m_t = Abar m_{t-1} + Bbar u_t for t = 0..T-1 with m_{-1} = 0, step by step. Shape (T, d)."""
    Abar, Bbar, u = _check_system(Abar, Bbar, u)
    m = np.zeros(Abar.shape[0], dtype=np.float64)
    out = np.empty((u.size, Abar.shape[0]), dtype=np.float64)
    for t in range(u.size):
        m = Abar @ m + Bbar * u[t]
        out[t] = m
    return out


def impulse_response(Abar, Bbar, length: int) -> np.ndarray:
    """H_k = Abar^k Bbar for k = 0..length-1 (the LMU's convolution kernel). Shape (length, d)."""
    Abar, Bbar, _ = _check_system(Abar, Bbar, np.zeros(1))
    length = check_int("length", length, 1, type_error=ValueError)
    H = np.empty((int(length), Abar.shape[0]), dtype=np.float64)
    h = Bbar.copy()
    for k in range(int(length)):
        H[k] = h
        h = Abar @ h
    return H


def lmu_convolution(Abar, Bbar, u, *, pad: bool = True) -> np.ndarray:
    """The same memory as :func:`lmu_recurrence`, as a causal convolution evaluated by FFT.

    m_t = sum_{k=0}^{t} H_k u_{t-k}, H_k = Abar^k Bbar (LMUFormer's parallel form). The linear
    convolution is obtained from a circular one of length >= 2T - 1 (zero padding); ``pad=False``
    uses length T and therefore wraps around (circular convolution) -- kept only so that the
    negative control of the study can exercise that classic mistake.
    """
    Abar, Bbar, u = _check_system(Abar, Bbar, u)
    T = u.size
    H = impulse_response(Abar, Bbar, T)
    n = 1 << int(np.ceil(np.log2(2 * T - 1))) if (pad and T > 1) else T
    Uf = np.fft.rfft(u, n=n)
    Hf = np.fft.rfft(H, n=n, axis=0)
    m = np.fft.irfft(Hf * Uf[:, None], n=n, axis=0)[:T]
    return np.ascontiguousarray(m, dtype=np.float64)


def decode_window(m, delay_fractions) -> np.ndarray:
    """u(t - theta') ~ sum_i P~_i(theta'/theta) m_i(t) (eq. 3) for each row of m and each fraction.

    ``m`` has shape (d,) or (T, d); ``delay_fractions`` are theta'/theta in [0, 1]. Returns shape
    (len(fractions),) or (T, len(fractions)).
    """
    m = as_float_array("m", m, (1, 2))
    r = as_float_array("delay_fractions", delay_fractions, (0, 1))
    r = np.atleast_1d(r)
    if np.any(r < 0) or np.any(r > 1):
        raise ValueError("delay_fractions theta'/theta must lie in [0, 1]")
    P = shifted_legendre(m.shape[-1], r)  # (n_r, d)
    return np.asarray(m @ P.T, dtype=np.float64)
