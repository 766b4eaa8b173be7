"""Li, Kovachki, Azizzadenesheli, Liu, Bhattacharya, Stuart & Anandkumar 2020, "Fourier Neural
Operator for Parametric Partial Differential Equations" (arXiv 2010.08895), section 4, eq. (4)-(5):
the Fourier layer (K v)(x) = F^{-1}(R . (F v))(x) with the series truncated at k_max modes, built as
constructions.neural_operators.fno.spectral_conv (forward normalisation).

Claims checked here:

* spectral_conv_dense -- spectral_conv equals the dense circulant product out_o = sum_i K_io u_i,
  K_io[j, l] = kappa_io(j - l), kappa_io(m) = (1/N) Re w_0 + (2/N) sum_{k>=1} Re(w_k e^{2 pi i k m/N})
  (built entry by entry, no FFT), within c eps size cond (c = 4, size = N c_in k_max, cond =
  max_j sum |K||u| / max |out|), over drawn N (odd and even), c_in != c_out, k_max = 1 included.
* resolution_invariance -- a band-limited input (degree < N/2) gives at every N >= 2 k_max the
  samples of one function, the continuum formula with the exact coefficients (evaluated without
  FFT), within c eps (c = 4, size = N + k_max c_in). Controls: the coefficients of an unnormalised
  forward transform with the inverse as written (the mismatched pair grows like N), and an input
  with a frequency above N/2 on the coarsest grid (aliased onto a kept mode: O(1)).
* mode_truncation -- a pure mode cos(2 pi k x + phi) with k_max <= k <= N - k_max maps to 0 within
  c eps N (c = 4). Control: k = k_max - 1, the last kept mode, gives O(1).
* relu_aliasing_order2 / gelu_superalgebraic -- two spectral layers with a pointwise activation
  between them, K_2 sigma(K_1 u), on N samples against a fine reference (N = 2^16):
  sigma(K_1 u) is no longer band-limited, and the DFT on N nodes returns its Fourier coefficient
  c_k plus the aliases sum_{m != 0} c_{k + m N}; the second layer reads exactly those. The aliased
  sum is the trapezoid-rule error of the integral defining c_k. For ReLU the integrand has kinks
  (where a channel of K_1 u changes sign), |c_k| ~ k^-2, and the error falls like N^-2 (with a
  factor that depends on where the kinks fall between nodes: hence the mean over 8 drawn problems,
  fitted with their spread). For GELU (entire) the trapezoid rule on a periodic analytic integrand
  converges geometrically: super-algebraic. K_1 is scaled so that max |K_1 u| = 1.5 (GELU acts at
  unit scale; its analyticity strip, hence the geometric rate, shrinks like 1/amplitude). Controls: a step activation (jumps: order 1), and ReLU
  offered as super-algebraic.
"""

from __future__ import annotations

from functools import partial

import numpy as np
from scipy.special import erf

from constructions.neural_operators.fno import spectral_conv
from numerics import EPS
from numerics.rates import observed_order
from numerics.tolerance import compare
from theorems.judges import (
    identity_verdict,
    order_verdict,
    plot_identity,
    plot_order,
    regime_verdict,
)
from theorems.neural_operators._common import random_weights, trig_eval, trig_input
from theorems.registry import Claim, Verdict, register

PAPER = "li2020"


def circulant_reference(u: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, float]:
    """Dense circulant product (no FFT) and the condition factor max_j sum |K||u| / max |out|."""
    n, c_in = u.shape
    k_max, _, c_out = w.shape
    m = (np.arange(n)[:, None] - np.arange(n)[None, :]) % n  # j - l
    out = np.zeros((n, c_out))
    absum = np.zeros((n, c_out))
    ks = np.arange(1, k_max)
    phase = np.exp(2j * np.pi * np.multiply.outer(m, ks) / n)  # (n, n, k_max-1)
    for i in range(c_in):
        for o in range(c_out):
            kern = np.real(w[0, i, o]) / n + (2.0 / n) * np.real(phase @ w[1:, i, o]) if k_max > 1 else \
                np.full((n, n), np.real(w[0, i, o]) / n)
            out[:, o] += kern @ u[:, i]
            absum[:, o] += np.abs(kern) @ np.abs(u[:, i])
    scale = max(float(np.max(np.abs(out))), np.finfo(float).tiny)
    return out, float(np.max(absum) / scale)


def study_dense(profile: str, seed: int) -> Verdict:
    g = np.random.default_rng(seed)
    n_cases = 8 if profile == "fast" else 24
    cases = []
    for _ in range(n_cases):
        k_max = int(g.integers(1, 7))
        n = int(g.integers(2 * k_max, 2 * k_max + 40))
        c_in, c_out = int(g.integers(1, 4)), int(g.integers(1, 4))
        u = g.standard_normal((n, c_in))
        w = random_weights(g, k_max, c_in, c_out)
        ref, cond = circulant_reference(u, w)
        got = spectral_conv(u, w)
        cases.append((f"N={n},k={k_max},{c_in}->{c_out}", compare(got, ref, size=n * c_in * k_max, cond=cond, c=4.0)))
    return identity_verdict(cases, expected="spectral_conv == dense circulant product, <= 4 eps N c_in k_max cond")


def _mismatched_conv(u, w):
    """Control: coefficients of the unnormalised forward DFT (sum, no 1/N), inverse as written."""
    return spectral_conv(u, w) * u.shape[0]


def study_resolution(profile: str, seed: int, conv=spectral_conv, alias: bool = False) -> Verdict:
    g = np.random.default_rng(seed)
    k_max, c_in, c_out, degree = 4, 2, 3, 5
    w = random_weights(g, k_max, c_in, c_out)
    a = trig_input(g, degree, c_in)
    ns = [11, 12, 16, 23, 32, 64] + ([128, 255, 512] if profile == "full" else [])
    if alias:  # a frequency above N/2 of the coarsest grid that lands on a kept mode there
        n0 = ns[0]
        extra = np.zeros((n0 + 2, c_in), dtype=complex)
        extra[: degree + 1] = a
        extra[n0 + 1] = 0.5 * (1 + 1j)  # frequency n0 + 1 aliases onto mode 1 at N = n0
        a = extra
    # the continuum output: v_k = a_k @ w_k for k < k_max, evaluated without FFT
    vh = np.einsum("ki,kio->ko", a[:k_max], w)
    cases = []
    for n in ns:
        x = np.arange(n) / n
        got = conv(trig_eval(a, x), w)
        ref = trig_eval(vh, x)
        cases.append((f"N={n}", compare(got, ref, size=n + k_max * c_in, c=4.0)))
    return identity_verdict(cases, expected="the same output function at every N (<= 4 eps (N + k_max c_in))",
                            notes="input degree 5 < N/2 on every grid" if not alias else
                            "control: the input has frequency N0 + 1 > N0/2 on the coarsest grid")


def study_truncation(profile: str, seed: int, offset: int = 0) -> Verdict:
    g = np.random.default_rng(seed)
    cases = []
    for n in ([16, 33, 64] if profile == "fast" else [16, 33, 64, 127, 256, 1024]):
        for k_max in (1, 3, 5):
            w = random_weights(g, k_max, 2, 2)
            x = np.arange(n) / n
            # pure modes k_max <= k <= N - k_max; the control takes k = k_max - 1
            for k in ([k_max, k_max + 1, n // 2, n - k_max] if offset == 0 else [k_max - 1]):
                phi = g.uniform(0, 2 * np.pi, 2)
                u = np.cos(2 * np.pi * k * x[:, None] + phi[None, :])
                out = spectral_conv(u, w)
                scale = float(np.max(np.abs(w)))
                # the reference is exactly 0: compare the absolute output, scaled by |w| max|u|
                cases.append((f"N={n},k_max={k_max},k={k}",
                              compare(out / scale, np.zeros_like(out), size=n, c=4.0)))
    return identity_verdict(cases, expected="pure modes k >= k_max map to 0 (<= 4 eps N |w|)")


def _relu(v):
    return np.maximum(v, 0.0)


def _gelu(v):
    return 0.5 * v * (1.0 + erf(v / np.sqrt(2.0)))


def _step(v):
    return (v > 0).astype(np.float64)


ACTIVATIONS = {"relu": _relu, "gelu": _gelu, "step": _step}


def _two_layer_problem(g: np.random.Generator, hidden: int = 16):
    k_max, c_in, c_out, degree = 4, 2, 2, 2
    w1 = random_weights(g, k_max, c_in, hidden)
    w2 = random_weights(g, k_max, hidden, c_out)
    a = trig_input(g, degree, c_in)
    # scale K1 so that max |K1 u| = 1.5: the activation acts at unit scale (GELU's analyticity
    # strip, hence its geometric rate, shrinks like 1/amplitude; ReLU is homogeneous)
    v = spectral_conv(trig_eval(a, np.arange(256) / 256), w1)
    return a, w1 * (1.5 / np.max(np.abs(v))), w2


def _two_layer_coeffs(a, w1, w2, n: int, act) -> np.ndarray:
    x = np.arange(n) / n
    out = spectral_conv(act(spectral_conv(trig_eval(a, x), w1)), w2)
    return np.fft.rfft(out, axis=0)[: w2.shape[0]] / n


def aliasing_errors(profile: str, seed: int, act, ns) -> np.ndarray:
    """Relative error of the output coefficients at N against N = 2^16, (levels, problems)."""
    g = np.random.default_rng(seed)
    problems = [_two_layer_problem(g) for _ in range(8)]
    n_ref = 2**16 if profile == "full" else 2**15
    errs = np.zeros((len(ns), len(problems)))
    for j, (a, w1, w2) in enumerate(problems):
        ref = _two_layer_coeffs(a, w1, w2, n_ref, act)
        for i, n in enumerate(ns):
            errs[i, j] = np.linalg.norm(_two_layer_coeffs(a, w1, w2, int(n), act) - ref) / np.linalg.norm(ref)
    return errs


def study_relu(profile: str, seed: int, activation: str = "relu") -> Verdict:
    ns = 2 ** np.arange(4, 12 if profile == "fast" else 13)
    errs = aliasing_errors(profile, seed, ACTIVATIONS[activation], ns)
    fit = observed_order(1.0 / ns, errs, expected=2.0)
    return order_verdict(fit, 2.0, exclude=1.0, xlabel="1/N", ylabel="rel. error of K2 sigma(K1 u) (mean of 8)",
                         notes=f"activation {activation}; mean over 8 drawn problems, fitted with their spread")


def study_gelu(profile: str, seed: int, activation: str = "gelu") -> Verdict:
    ns = np.arange(8, 48 if profile == "fast" else 80, 4)
    errs = aliasing_errors(profile, seed, ACTIVATIONS[activation], ns).max(axis=1)
    fit = observed_order(1.0 / ns, errs, expected=1.0)
    return regime_verdict(fit, "super-algebraic", expected="super-algebraic (geometric) convergence in N",
                          xlabel="1/N", ylabel="max rel. error over 8 problems")


WHERE = "Section 4, eq. (4)-(5) (Fourier layer, truncation to k_max modes), p. 4-5"

register(Claim(
    id="li2020.spectral_conv_dense", paper=PAPER, where=WHERE,
    statement="The Fourier layer with truncated modes is a convolution: F^{-1}(R . F u) equals a dense "
              "circulant (convolution) matrix product.",
    kind="identity", expected="relative error <= 4 eps N c_in k_max cond in every drawn case",
    study=study_dense, plot=plot_identity,
    controls={"mismatched normalisation (unnormalised forward DFT)":
              lambda profile, seed: _control_dense(profile, seed)},
))


def _control_dense(profile: str, seed: int) -> Verdict:
    g = np.random.default_rng(seed)
    cases = []
    for _ in range(4):
        k_max = int(g.integers(1, 5))
        n = int(g.integers(2 * k_max + 1, 2 * k_max + 20))
        u = g.standard_normal((n, 2))
        w = random_weights(g, k_max, 2, 3)
        ref, cond = circulant_reference(u, w)
        cases.append((f"N={n}", compare(_mismatched_conv(u, w), ref, size=n * 2 * k_max, cond=cond, c=4.0)))
    return identity_verdict(cases)


register(Claim(
    id="li2020.resolution_invariance", paper=PAPER, where=WHERE + "; section 1 (discretisation invariance)",
    statement="The Fourier layer is discretisation-invariant: a band-limited input sampled on any grid with "
              "N >= 2 k_max gives samples of the same output function.",
    kind="identity", expected="<= 4 eps (N + k_max c_in) at N = 11, 12, 16, 23, 32, 64 (..., 512 full)",
    study=study_resolution, plot=plot_identity,
    controls={"unnormalised forward transform with the inverse as written": partial(study_resolution, conv=_mismatched_conv),
              "aliased input frequency N0 + 1 > N0/2": partial(study_resolution, alias=True)},
))

register(Claim(
    id="li2020.mode_truncation", paper=PAPER, where=WHERE,
    statement="Truncating the Fourier series at k_max modes: the layer maps every mode k >= k_max to zero.",
    kind="identity", expected="output of a pure mode k_max <= k <= N - k_max is 0 within 4 eps N |w|",
    study=study_truncation, plot=plot_identity,
    controls={"the last kept mode k = k_max - 1": partial(study_truncation, offset=-1)},
))

register(Claim(
    id="li2020.relu_aliasing_order2", paper=PAPER, where="Section 4 (Fourier layers with a pointwise nonlinearity sigma), p. 5",
    statement="(Derived, not stated in the paper.) With ReLU between two Fourier layers, resolution invariance "
              "holds only up to aliasing of sigma(K1 u): the discrepancy to the fine reference falls as N^-2.",
    kind="rate", expected="order 2 in 1/N (95% CI), excluding 1",
    study=study_relu, plot=plot_order,
    controls={"step activation (jumps instead of kinks)": partial(study_relu, activation="step")},
))

register(Claim(
    id="li2020.gelu_superalgebraic", paper=PAPER, where="Section 4 (Fourier layers with a pointwise nonlinearity sigma), p. 5",
    statement="(Derived.) With GELU (an entire function) between two Fourier layers the aliasing discrepancy "
              "falls super-algebraically in N.",
    kind="rate", expected="super-algebraic regime",
    study=study_gelu, plot=plot_order,
    controls={"ReLU offered as super-algebraic": partial(study_gelu, activation="relu")},
))

__all__ = ["circulant_reference", "aliasing_errors", "EPS"]
