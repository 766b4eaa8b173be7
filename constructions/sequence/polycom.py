"""Polynomial composition activations (PolyCom): PolyReLU and PolyNorm, and explicit networks.

Zhuo, Wang, Zeng, Li, Zhou & Ma, "Polynomial Composition Activations: Unleashing the Dynamics of
Large Language Models" (arXiv 2411.03884, ICLR 2025). The two PolyCom activations of order r are

    PolyReLU(x) = sum_{i=0}^{r} a_i ReLU(x)^i          (ReLU(x)^0 := 1, so a_0 is a bias),
    PolyNorm(x) = a_0 + sum_{i=1}^{r} a_i x^i / N(x^i),  x^i taken entrywise over the last axis,

where the paper writes N = the L2 norm ||.||_2 and the official code (github.com/BryceZhuo/PolyCom,
``polynorm`` in dense_model/megatron_patch/model/llama2/transformer.py) uses the RMS with a
regulariser, N(v) = sqrt(mean(v^2) + 1e-6); ``polynorm(..., norm=...)`` computes either. The two
differ by sqrt(d) per term (theorems/sequence/zhuo2024.py records this as a finding). In the code r = 3 and
the coefficients (a_1..a_3, a_0) are per-layer scalars shared by all neurons.

Networks. A one-hidden-layer PolyReLU network on scalar inputs is

    y(x) = c + sum_k v_k rho_k(w_k x + b_k),   rho_k(z) = sum_i a_{k,i} ReLU(z)^i,

with activation coefficients either shared (a_k = a, as in the code) or per neuron (a strict
generalisation, used where stated). Constructions here:

* :func:`polynomial_layer` -- any polynomial of degree <= r as an exact width-2 layer on all of R,
  from x^i = ReLU(x)^i + (-1)^i ReLU(-x)^i (neuron 1 sees x with a_i = c_i, neuron 2 sees -x with
  a_i = (-1)^i c_i: per-neuron coefficients);
* :func:`shifted_polynomial_layer` -- the same polynomial as a width-1 layer with one *shared*
  coefficient vector, exact on [lo, inf): ReLU(x - lo) = x - lo there, so a = coefficients of
  p(z + lo);
* :func:`compose_layers` -- depth-L networks by composition (e.g. Chebyshev T_m o T_n = T_mn);
* :func:`bspline_relu3_layer` -- the cubic B-spline quasi-interpolant of a function as a ReLU^3
  (PolyReLU with a = e_3) layer: B-splines are fourth differences of truncated cubes, so the
  approximant is an explicit width-(M + 7) layer with closed-form weights.

Nothing here asserts; inputs are validated; outputs are float64.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from math import comb

import numpy as np

import numerics  # noqa: F401  (float64 JAX before any array; this module itself is numpy)
from numerics.validation import as_float_array, check_int

__all__ = [
    "relu_power",
    "polyrelu",
    "PolyReLULayer",
    "polyrelu_layer",
    "polynomial_layer",
    "shifted_polynomial_layer",
    "compose_layers",
    "bspline_relu3_layer",
    "relu_interpolant_layer",
    "polynorm",
]


def relu_power(x, r: int) -> np.ndarray:
    """ReLU(x)^r entrywise (ReLU(x)^0 = 1)."""
    r = check_int("power r", r, 0)
    x = as_float_array("x", x)
    return np.maximum(x, 0.0) ** r if r > 0 else np.ones_like(x)


def polyrelu(x, coeffs) -> np.ndarray:
    """PolyReLU(x) = sum_{i=0}^{r} a_i ReLU(x)^i with a = ``coeffs`` (increasing powers)."""
    x = as_float_array("x", x)
    a = as_float_array("coeffs", coeffs, 1)
    if a.size < 1:
        raise ValueError("coeffs must hold at least a_0")
    z = np.maximum(x, 0.0)
    powers = z[..., None] ** np.arange(a.size)
    return np.asarray(powers @ a, dtype=np.float64)


@dataclass(frozen=True)
class PolyReLULayer:
    """y(x) = c + sum_k v_k rho_k(w_k x + b_k) on scalar inputs x.

    w, b, v: shape (width,); coeffs: (r + 1,) shared by all neurons, or (width, r + 1) per neuron.
    """

    w: np.ndarray
    b: np.ndarray
    v: np.ndarray
    c: float
    coeffs: np.ndarray

    @property
    def width(self) -> int:
        return int(self.w.size)

    @property
    def shared(self) -> bool:
        return self.coeffs.ndim == 1

    @property
    def n_params(self) -> int:
        """Weights w, b, v per neuron, the output bias, and the activation coefficients."""
        return 3 * self.width + 1 + int(self.coeffs.size)

    def __call__(self, x) -> np.ndarray:
        return polyrelu_layer(x, self)


def _make_layer(w, b, v, c, coeffs) -> PolyReLULayer:
    w = as_float_array("w", w, 1)
    b = as_float_array("b", b, 1)
    v = as_float_array("v", v, 1)
    a = as_float_array("coeffs", coeffs, (1, 2))
    if not (w.shape == b.shape == v.shape) or w.size < 1:
        raise ValueError(f"w, b, v must share one non-empty shape, got {w.shape}, {b.shape}, {v.shape}")
    if a.ndim == 2 and a.shape[0] != w.size:
        raise ValueError(f"per-neuron coeffs must have {w.size} rows, got shape {a.shape}")
    c = float(c)
    if not np.isfinite(c):
        raise ValueError("output bias c must be finite")
    return PolyReLULayer(w, b, v, c, a)


def polyrelu_layer(x, layer: PolyReLULayer) -> np.ndarray:
    """Evaluate a one-hidden-layer PolyReLU network at scalar inputs x (any shape)."""
    if not isinstance(layer, PolyReLULayer):
        raise TypeError(f"layer must be a PolyReLULayer, got {type(layer).__name__}")
    x = as_float_array("x", x)
    h = x[..., None] * layer.w + layer.b  # (..., width)
    z = np.maximum(h, 0.0)
    r = layer.coeffs.shape[-1] - 1
    powers = z[..., None] ** np.arange(r + 1)  # (..., width, r + 1)
    act = (powers @ layer.coeffs) if layer.shared else np.einsum("...ki,ki->...k", powers, layer.coeffs)
    return np.asarray(act @ layer.v + layer.c, dtype=np.float64)


def polynomial_layer(poly_coeffs) -> PolyReLULayer:
    """p(x) = sum_i c_i x^i (degree r) as an exact width-2 PolyReLU layer on all of R.

    x^i = ReLU(x)^i + (-1)^i ReLU(-x)^i for i >= 1, hence
    p(x) = c_0 + rho_1(x) + rho_2(-x) with rho_1 = (0, c_1, .., c_r), rho_2 = (0, -c_1, c_2, .., (-1)^r c_r).
    The two neurons need different activation coefficients (per-neuron PolyReLU).
    """
    c = as_float_array("poly_coeffs", poly_coeffs, 1)
    if c.size < 1:
        raise ValueError("poly_coeffs must hold at least c_0")
    a1 = c.copy()
    a1[0] = 0.0
    a2 = a1 * (-1.0) ** np.arange(c.size)
    return _make_layer([1.0, -1.0], [0.0, 0.0], [1.0, 1.0], c[0], np.stack([a1, a2]))


def shifted_polynomial_layer(poly_coeffs, lo: float) -> PolyReLULayer:
    """p(x) as a width-1 PolyReLU layer with a single (shared) coefficient vector, exact for x >= lo.

    On x >= lo, ReLU(x - lo) = x - lo, so rho(x - lo) = p(x) when a_k are the Taylor coefficients of
    p at lo: a_k = sum_{i >= k} c_i binom(i, k) lo^(i - k).
    """
    c = as_float_array("poly_coeffs", poly_coeffs, 1)
    if c.size < 1:
        raise ValueError("poly_coeffs must hold at least c_0")
    lo = float(lo)
    if not np.isfinite(lo):
        raise ValueError("lo must be finite")
    n = c.size
    # numpy float64 powers: an overflow gives inf (rejected below), not Python's OverflowError;
    # zero coefficients contribute nothing (not 0 * inf)
    nz = [i for i in range(n) if c[i] != 0.0]
    with np.errstate(over="ignore", invalid="ignore"):
        a = np.array([sum(c[i] * comb(i, k) * np.float64(lo) ** (i - k) for i in nz if i >= k) for k in range(n)],
                     dtype=np.float64)
    if not np.all(np.isfinite(a)):
        raise ValueError(
            f"lo = {lo!r} is too large for these poly_coeffs: the Taylor coefficients "
            f"a_k = sum_i c_i binom(i, k) lo^(i - k) of p at lo overflow float64"
        )
    return _make_layer([1.0], [-lo], [1.0], 0.0, a)


def compose_layers(layers: Sequence[PolyReLULayer]) -> Callable[[np.ndarray], np.ndarray]:
    """x -> layer_L(... layer_1(x)): a deep PolyReLU network of scalar-to-scalar layers."""
    layers = list(layers)
    if not layers or not all(isinstance(la, PolyReLULayer) for la in layers):
        raise TypeError("compose_layers needs a non-empty sequence of PolyReLULayer")

    def network(x) -> np.ndarray:
        y = as_float_array("x", x)
        for la in layers:
            y = polyrelu_layer(y, la)
        return y

    return network


def _uniform_knots(M, lo, hi) -> tuple[int, float, float, float]:
    M = check_int("number of intervals M", M, 1, type_error=ValueError)
    lo, hi = float(lo), float(hi)
    if not (np.isfinite(lo) and np.isfinite(hi) and hi > lo):
        raise ValueError(f"need a finite interval lo < hi, got [{lo}, {hi}]")
    return M, lo, hi, (hi - lo) / M


def bspline_relu3_layer(f: Callable[[np.ndarray], np.ndarray], M: int, lo: float = -1.0,
                        hi: float = 1.0) -> tuple[PolyReLULayer, np.ndarray, np.ndarray]:
    """The cubic B-spline quasi-interpolant of f on M uniform intervals as a ReLU^3 layer.

    Knots t_j = lo + (j - 3) h, j = 0..M+6 (h = (hi - lo)/M); the M + 3 cubic B-splines B_k
    (support [t_k, t_{k+4}]) that meet [lo, hi] carry the quasi-interpolation coefficients
    lambda_k = (-f(s - h) + 8 f(s) - f(s + h)) / 6 at their centres s = t_{k+2} (exact on cubics,
    so the sup error is O(h^n) for f in W^{n, inf}, n <= 4; f must be defined on
    [lo - 2h, hi + 2h]). Since B_k(x) = (1/(6 h^3)) sum_{j=0}^{4} (-1)^j binom(4, j) ReLU(x - t_{k+j})^3,
    the approximant is sum_j g_j ReLU(x - t_j)^3: a PolyReLU layer of width M + 7 with the shared
    activation a = (0, 0, 0, 1). Returns (layer, knots t, B-spline coefficients lambda).

    The truncated-power form cancels: on [lo, hi] the terms reach ~ (2/h)^3 |lambda| / 6, so its
    float64 evaluation carries a relative error ~ eps (hi - lo)^3 / h^3 (reported by the studies).
    """
    M, lo, hi, h = _uniform_knots(M, lo, hi)
    t = lo + h * np.arange(-3, M + 4)
    centres = t[2 : 2 + M + 3]
    fm, f0, fp = (as_float_array("f values", f(centres + s)) for s in (-h, 0.0, h))
    lam = (-fm + 8.0 * f0 - fp) / 6.0
    stencil = np.array([1.0, -4.0, 6.0, -4.0, 1.0]) / (6.0 * h**3)
    g = np.zeros(t.size)
    for k in range(lam.size):
        g[k : k + 5] += lam[k] * stencil
    layer = _make_layer(np.ones(t.size), -t, g, 0.0, np.array([0.0, 0.0, 0.0, 1.0]))
    return layer, t, lam


def relu_interpolant_layer(f: Callable[[np.ndarray], np.ndarray], M: int, lo: float = -1.0,
                           hi: float = 1.0) -> PolyReLULayer:
    """The piecewise-linear interpolant of f on M uniform intervals as a plain ReLU layer (r = 1).

    s(x) = f(t_0) + sum_j (slope_j - slope_{j-1}) ReLU(x - t_j) with slope_{-1} = 0 and the first
    neuron at t_0 = lo carrying slope_0: width M, activation a = (0, 1).
    """
    M, lo, hi, h = _uniform_knots(M, lo, hi)
    t = lo + h * np.arange(M + 1)
    y = as_float_array("f values", f(t))
    slopes = np.diff(y) / h
    v = np.diff(np.concatenate([[0.0], slopes]))
    return _make_layer(np.ones(M), -t[:-1], v, float(y[0]), np.array([0.0, 1.0]))


def polynorm(x, weights, bias: float = 0.0, *, norm: str = "l2", eps: float = 0.0) -> np.ndarray:
    """PolyNorm(x) = bias + sum_{i=1}^{r} a_i x^i / N(x^i) over the last axis of x.

    ``weights`` = (a_1, .., a_r) in increasing powers (the official code stores (a_3, a_2, a_1)).
    ``norm="l2"``: N(v) = sqrt(sum v^2 + eps) (the paper's ||v||_2 when eps = 0);
    ``norm="rms"``: N(v) = sqrt(mean v^2 + eps) (the official code, with eps = 1e-6).
    """
    x = as_float_array("x", x)
    if x.ndim < 1 or x.shape[-1] < 1:
        raise ValueError(f"x must have a non-empty last axis, got shape {x.shape}")
    a = as_float_array("weights", weights, 1)
    if a.size < 1:
        raise ValueError("weights must hold at least a_1")
    if norm not in ("l2", "rms"):
        raise ValueError(f"norm must be 'l2' or 'rms', got {norm!r}")
    eps = float(eps)
    if not np.isfinite(eps) or eps < 0:
        raise ValueError(f"eps must be finite and >= 0, got {eps!r}")
    bias = float(bias)
    if not np.isfinite(bias):
        raise ValueError("bias must be finite")
    out = np.full(x.shape, bias, dtype=np.float64)
    for i, ai in enumerate(a, start=1):
        p = x**i
        sq = np.sum(p * p, axis=-1, keepdims=True)
        if norm == "rms":
            sq = sq / x.shape[-1]
        den = np.sqrt(sq + eps)
        if np.any(den == 0):
            raise ValueError("PolyNorm of an all-zero vector is undefined without eps > 0")
        out = out + ai * p / den
    return out
