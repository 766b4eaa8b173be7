"""Li et al. 2020, "Fourier Neural Operator for Parametric Partial Differential Equations"
(arXiv 2010.08895), eq. (4)-(5): the spectral convolution (K v)(x) = F^{-1}(R . F v)(x) with the
Fourier series truncated to the k_max lowest modes.

Convention (the "forward" normalisation that makes the layer resolution-invariant). For real samples
u_j = u(x_j), x_j = j/N, j = 0..N-1, of a 1-periodic function with c_in channels,

    u^_k = (1/N) sum_j u_j e^{-2 pi i k j/N},          k = 0..k_max-1,
    v^_k = u^_k @ weights[k]                            (weights complex, (k_max, c_in, c_out)),
    out_j = Re v^_0 + 2 Re sum_{k=1}^{k_max-1} v^_k e^{2 pi i k j/N}.

For a trigonometric polynomial u of degree < N/2 the u^_k are its exact Fourier coefficients, so
out_j are samples of one continuous output function, the same for every N >= 2 k_max: the layer
is resolution-invariant. Modes k >= k_max (up to N - k_max) are annihilated exactly.
Only the real part of v^_0 is kept (the k = 0 mode of a real function is real), which is what
``numpy.fft.irfft`` does with the imaginary part of its first entry.

:func:`fno1d_apply` is a small 1-D FNO (lift, Fourier layers with a pointwise path, GELU,
projection) in JAX with the same spectral convention, used by the trained frequency-bias
reproduction (theorems.neural_operators.xie2026).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from numerics.validation import as_float_array

__all__ = ["spectral_conv", "spectral_conv_jax", "fno1d_apply", "fno1d_init"]


def _complex_weights(weights) -> np.ndarray:
    w = np.asarray(weights)
    if w.dtype.kind not in "fiuc":
        raise TypeError(f"weights must be a numeric (complex or real) array, got dtype {w.dtype}")
    if w.ndim != 3:
        raise ValueError(f"weights must have shape (k_max, c_in, c_out), got shape {w.shape}")
    if min(w.shape) < 1:
        raise ValueError(f"weights must have k_max, c_in, c_out >= 1, got shape {w.shape}")
    w = w.astype(np.complex128)
    if not np.all(np.isfinite(w)):
        raise ValueError("weights must be finite (found NaN or inf)")
    return w


def spectral_conv(u, weights) -> np.ndarray:
    """FNO spectral convolution of real samples ``u`` (N, c_in) -> real (N, c_out).

    See the module docstring for the formula. Raises ValueError unless u is 2-D with u.shape[1] ==
    weights.shape[1] and N >= 2 k_max (fewer samples cannot represent the k_max kept modes).
    """
    w = _complex_weights(weights)
    x = as_float_array("u", u, ndim=2)
    n, c_in = x.shape
    k_max, w_in, c_out = w.shape
    if c_in != w_in:
        raise ValueError(f"u has {c_in} channels but weights expect c_in = {w_in}")
    if n < 2 * k_max:
        raise ValueError(f"spectral_conv needs N >= 2 k_max, got N = {n}, k_max = {k_max}")
    uh = np.fft.rfft(x, axis=0)[:k_max] / n          # (k_max, c_in), forward normalisation
    vh = np.einsum("ki,kio->ko", uh, w)               # (k_max, c_out)
    spec = np.zeros((n // 2 + 1, c_out), dtype=np.complex128)
    spec[:k_max] = vh
    # irfft(spec) * N = Re spec_0 + 2 Re sum_{k>=1} spec_k e^{2 pi i k j/N} (k_max - 1 < N/2: no Nyquist term)
    return np.fft.irfft(spec, n=n, axis=0) * n


def spectral_conv_jax(u, weights):
    """The same map in jax.numpy (differentiable), u (N, c_in), weights complex (k_max, c_in, c_out)."""
    n = u.shape[0]
    k_max = weights.shape[0]
    if n < 2 * k_max:
        raise ValueError(f"spectral_conv_jax needs N >= 2 k_max, got N = {n}, k_max = {k_max}")
    uh = jnp.fft.rfft(u, axis=0)[:k_max] / n
    vh = jnp.einsum("ki,kio->ko", uh, weights)
    spec = jnp.zeros((n // 2 + 1, weights.shape[2]), dtype=jnp.complex128).at[:k_max].set(vh)
    return jnp.fft.irfft(spec, n=n, axis=0) * n


def fno1d_init(key, *, c_in: int, width: int, k_max: int, n_layers: int, c_out: int = 1) -> dict:
    """Seeded FNO parameters: lift P (c_in, width), per layer complex R (k_max, width, width) stored
    as (re, im), pointwise W (width, width) and bias b (width,), projection Q (width, c_out)."""
    keys = jax.random.split(key, 3 + 3 * n_layers)
    scale_r = 1.0 / width
    params = {
        "P": jax.random.normal(keys[0], (c_in, width)) / np.sqrt(c_in),
        "Q": jax.random.normal(keys[1], (width, c_out)) / np.sqrt(width),
        "q0": jnp.zeros((c_out,)),
        "layers": [],
    }
    for layer in range(n_layers):
        k1, k2, k3 = keys[3 + 3 * layer: 6 + 3 * layer]
        params["layers"].append({
            "R": scale_r * jax.random.normal(k1, (2, k_max, width, width)),
            "W": jax.random.normal(k2, (width, width)) / np.sqrt(width),
            "b": 0.01 * jax.random.normal(k3, (width,)),
        })
    return params


def fno1d_apply(params: dict, x):
    """1-D FNO on inputs x (N, c_in): v = x P; per layer v <- gelu(K_R v + v W + b) (no activation
    after the last layer); out = v Q + q0. K_R is :func:`spectral_conv_jax` with R = re + i im."""
    v = x @ params["P"]
    n_layers = len(params["layers"])
    for i, layer in enumerate(params["layers"]):
        R = layer["R"][0] + 1j * layer["R"][1]
        v = spectral_conv_jax(v, R) + v @ layer["W"] + layer["b"]
        if i < n_layers - 1:
            v = jax.nn.gelu(v, approximate=False)
    return v @ params["Q"] + params["q0"]
