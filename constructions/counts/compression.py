"""Building blocks of inference optimisation surveyed by Chitty-Venkata, Mittal, Emani, Vishwanath &
Somani, "A Survey of Techniques for Optimizing Transformer Inference" (J. Syst. Archit. 2023, arXiv
2307.07982): uniform affine quantisation, 2:4 structured sparsity, temperature-scaled distillation.

* ``quantize_affine(x, bits, lo, hi)``: scale s = (hi - lo)/(2^b - 1), integer zero point
  z = round(-lo/s), codes q = clip(round(x/s) + z, 0, 2^b - 1); ``dequantize(q, s, z)`` = s (q - z).
  Inside [lo, hi] the reconstruction error is at most s/2 (the grid s(q - z) has spacing s and
  reaches within s/2 of lo and hi because z is rounded).
* ``prune_2_4(w)``: in every group of 4 consecutive entries of the last axis keep the 2 of largest
  magnitude (ties to the lower index), zero the others (NVIDIA Ampere 2:4 sparsity).
* ``distillation_loss(z_s, z_t, tau)`` = tau^2 KL(softmax(z_t/tau) || softmax(z_s/tau)) (Hinton, Vinyals
  & Dean 2015), averaged over the leading batch axis if any; its gradient in z_s is
  tau (softmax(z_s/tau) - softmax(z_t/tau)), which tends to (z_s - z_t)/N for zero-mean logits as tau
  grows, with error (1/(2 N tau)) [(z_s^2 - mean z_s^2) - (z_t^2 - mean z_t^2)] + O(tau^-2).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from numerics.validation import as_float_array, check_int, check_positive

__all__ = ["quantize_affine", "dequantize", "prune_2_4", "distillation_loss"]


def quantize_affine(x, bits: int, lo: float, hi: float):
    """(codes as int64 array, scale s, zero point z) of uniform affine quantisation of x to ``bits`` bits."""
    bits = check_int("bits", bits, 1)
    if bits > 32:
        raise ValueError(f"bits must be <= 32, got {bits}")
    x = as_float_array("x", x)
    lo, hi = float(lo), float(hi)
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"need finite lo < hi, got lo = {lo}, hi = {hi}")
    levels = 2**bits - 1
    s = (hi - lo) / levels
    z = int(np.round(-lo / s))
    q = np.clip(np.round(x / s) + z, 0, levels).astype(np.int64)
    return q, s, z


def dequantize(q, scale: float, zero_point: int) -> np.ndarray:
    scale = check_positive("scale", scale)
    return scale * (np.asarray(q, dtype=np.float64) - zero_point)


def prune_2_4(w) -> np.ndarray:
    """Keep the 2 largest-magnitude entries of every group of 4 along the last axis (float64, w's shape;
    an empty w gives the empty array)."""
    w = as_float_array("w", w)
    if w.ndim == 0 or w.shape[-1] % 4:
        raise ValueError(f"the last axis must have a length divisible by 4, got shape {w.shape}")
    # the group count is explicit: a -1 cannot be inferred for an empty array (shape (0, 4) or
    # (3, 0)), whose 2:4 pruning is the empty array of the same shape
    g = w.reshape(*w.shape[:-1], w.shape[-1] // 4, 4)
    # stable sort on -|w|: ties keep the lower index first
    order = np.argsort(-np.abs(g), axis=-1, kind="stable")
    mask = np.zeros(g.shape, dtype=bool)
    np.put_along_axis(mask, order[..., :2], True, axis=-1)
    return np.where(mask, g, 0.0).reshape(w.shape)


def distillation_loss(z_s, z_t, tau: float):
    """tau^2 KL(softmax(z_t / tau) || softmax(z_s / tau)); jax-differentiable in z_s."""
    tau = check_positive("tau", tau)
    z_s = jnp.asarray(z_s, dtype=jnp.float64)
    z_t = jnp.asarray(z_t, dtype=jnp.float64)
    if z_s.shape != z_t.shape or z_s.ndim not in (1, 2):
        raise ValueError(f"z_s and z_t must have one shape (N,) or (B, N), got {z_s.shape}, {z_t.shape}")
    log_ps = jax.nn.log_softmax(z_s / tau, axis=-1)
    log_pt = jax.nn.log_softmax(z_t / tau, axis=-1)
    kl = jnp.sum(jnp.exp(log_pt) * (log_pt - log_ps), axis=-1)
    return tau**2 * jnp.mean(kl)
