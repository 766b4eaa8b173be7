"""Calvello, Kovachki, Levine & Stuart (2024), "Continuum Attention for Neural Operators",
arXiv 2406.06486: attention as an integral operator, and its discretisations.

Claims checked (constructions in :mod:`constructions.integral_operators.continuum_attention`, :mod:`constructions.integral_operators.patching`
and :mod:`constructions.integral_operators.neural_operator`):

* ``continuum_reference`` -- the continuum operator A(u)(x) (sec. 3, the function-space definition of
  attention) evaluated with a fine tensor Gauss-Legendre rule agrees with adaptive scipy quad/dblquad
  (an independent route) for vector-valued u on [0,1] and [0,1]^2.
* ``mc_rate`` / ``mc_bias`` -- discrete attention on N i.i.d. points from mu is a (self-normalised)
  Monte Carlo estimator of A(u)(x) (the paper's "attention as implemented in practice is a Monte
  Carlo approximation"): RMSE sigma/sqrt(N) and bias b/N with sigma, b from their integral
  formulas (:mod:`numerics.montecarlo`).
* ``grid_closed_equal`` / ``grid_midpoint`` / ``grid_trapezoid_graded`` / ``grid_periodic`` -- on a
  grid it is a quadrature of A: plain attention on a closed grid is first order, midpoint and
  (graded) trapezoid weights second order, periodic fields super-algebraic; each with its constant.
* ``invariants`` -- Q = 0 gives the spatial average of V u; outputs lie in the convex hull of the
  values; permuting the samples and scaling all weights leave A_q unchanged.
* ``patching`` -- function-space patching (sec. on patched attention): L2 inner products of patch
  functions discretised on m x m pixels converge at O(m^-2).
* ``tno_discretization`` -- a transformer neural operator (continuum attention + pointwise maps)
  evaluated at increasing resolutions converges to one function (self-convergence, order 2).

Softmax scale: theorycheck uses exp(s <Q u(x), K u(y)>) with s = 1/sqrt(d_k) (CONTRIBUTING.md section 4); the unscaled
form differs by a rescaling of Q, so every statement here holds for either.
"""

from __future__ import annotations

import warnings
from functools import partial

import numpy as np
import scipy.integrate

from constructions.integral_operators.continuum_attention import (
    AttentionParams,
    attention_integrands,
    continuum_attention,
    discrete_attention,
    random_attention,
    random_field,
)
from numerics import EPS
from numerics.mc_tests import bonferroni_threshold, samples_for_power, z_power, z_test
from numerics.montecarlo import ratio_estimator_constants
from numerics.plotting import convergence_figure
from numerics.quadrature import gauss_legendre_nodes_weights, tensor_rule
from numerics.random import rng
from numerics.rates import observed_order
from numerics.tolerance import compare, constant_tolerance
from theorems.judges import (
    identity_verdict,
    order_verdict,
    plot_identity,
    plot_order,
    regime_verdict,
)
from theorems.registry import Claim, Verdict, register

PAPER = "calvello2024"


def _gl_rule(dim: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    x, w = gauss_legendre_nodes_weights(0.0, 1.0, n)
    return tensor_rule(x, w, dim)


def _problem(dim: int, seed: int, *, gain: float = 2.0, periodic: bool = False):
    """A random analytic field u: [0,1]^dim -> R^3 and attention with d_k = d_v = 2."""
    field = random_field(3, dim, 1000 + seed, periodic=periodic)
    params = random_attention(3, 2, 2, 2000 + seed, gain=gain)
    return field, params


# --- claim 1: the continuum operator against adaptive quadrature -----------------------------


def _quad_reference(field, params: AttentionParams, x: np.ndarray, dim: int) -> np.ndarray:
    """A(u)(x) by scipy's adaptive quad (dim 1) or dblquad (dim 2), component by component."""

    def integrand(*args):
        *ys, comp = args
        y = np.array([ys[::-1]]) if dim == 2 else np.array([[ys[0]]])  # dblquad calls f(y1, y0)
        w, v = attention_integrands(field, x[None, :], params, y)
        return float(w[0, 0] * (1.0 if comp < 0 else v[0, comp]))

    opts = dict(epsabs=0.0, epsrel=1e-13)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", scipy.integrate.IntegrationWarning)
        if dim == 1:
            def q(c):
                return scipy.integrate.quad(integrand, 0.0, 1.0, args=(c,), limit=200, **opts)[0]
        else:
            def q(c):
                return scipy.integrate.dblquad(integrand, 0.0, 1.0, 0.0, 1.0, args=(c,), **opts)[0]
        den = q(-1)
        return np.array([q(c) for c in range(params.d_v)]) / den


def _unnormalised_attention(field, xq, params, nodes, weights):
    """Negative control: the numerator int w V u dmu without dividing by int w dmu."""
    w, v = attention_integrands(field, xq, params, nodes)
    return (w * weights[None, :]) @ v


def study_continuum_reference(profile: str, seed: int, evaluate=continuum_attention) -> Verdict:
    """Tensor Gauss-Legendre (48 points per axis) against adaptive quad/dblquad (epsrel 1e-13).

    Tolerance c eps size cond with size = number of rule nodes (the longest sum), cond = sum p |V u|
    / |sum p V u| (conditioning of the weighted average), c = 8: a few roundings per term plus the
    adaptive rule's requested relative accuracy 1e-13 ~ 450 eps, which is below c * size (>= 384).
    """
    g = rng(seed)
    cases = []
    n_query = {1: 3, 2: 2} if profile == "fast" else {1: 8, 2: 5}
    for dim in (1, 2):
        field, params = _problem(dim, seed)
        nodes, weights = _gl_rule(dim, 48)
        xq = g.uniform(0.0, 1.0, size=(n_query[dim], dim))
        got = evaluate(field, xq, params, nodes, weights)
        w, v = attention_integrands(field, xq, params, nodes)
        for i in range(xq.shape[0]):
            ref = _quad_reference(field, params, xq[i], dim)
            p = w[i] * weights
            p = p / p.sum()
            cond = float(np.max(p @ np.abs(v)) / np.max(np.abs(p @ v)))
            cases.append((f"D={dim}, x={np.round(xq[i], 3).tolist()}",
                          compare(got[i], ref, size=nodes.shape[0], cond=cond, c=8.0)))
    return identity_verdict(cases, expected="Gauss-Legendre A(u)(x) = adaptive quad/dblquad A(u)(x), "
                                            "rel. error <= 8 eps n_nodes cond")


register(Claim(
    id="calvello2024.continuum_reference",
    paper=PAPER,
    where="Section 3 (continuum attention operator, function-space definition of attention)",
    statement="A(u)(x) = int exp<Qu(x), Ku(y)> Vu(y) dmu(y) / int exp<Qu(x), Ku(s)> dmu(s) is well defined "
              "for vector-valued u on [0,1]^D (D = 1, 2); a fine Gauss rule and adaptive quadrature agree.",
    kind="identity",
    expected="rel. error <= 8 eps n_nodes cond in every case",
    study=study_continuum_reference,
    plot=plot_identity,
    controls={"normaliser dropped": partial(study_continuum_reference, evaluate=_unnormalised_attention)},
))


# --- claims 2, 3: Monte Carlo -----------------------------------------------------------------


def _mc_setup(seed: int):
    """D = 2 problem with moderate logits (gain 1): peaked weights (large var w / (E w)^2) delay
    the asymptotic regime of the ratio estimator to N >> var w / (E w)^2."""
    dim = 2
    field, params = _problem(dim, seed, gain=1.0)
    xq = np.array([[0.3, 0.7], [0.8, 0.2]])
    nodes, weights = _gl_rule(dim, 48)
    w, v = attention_integrands(field, xq, params, nodes)
    consts = [ratio_estimator_constants(w[i], v, weights) for i in range(xq.shape[0])]
    limit = np.concatenate([c.limit for c in consts])
    sigma = float(np.sqrt(sum(c.sigma_total**2 for c in consts)))
    bias = np.concatenate([c.bias for c in consts])
    wbar = np.array([c.wbar for c in consts])
    return field, params, xq, limit, sigma, bias, wbar


def _sample(g: np.random.Generator, n: int, dim: int, density: str):
    """Points from mu = uniform (``density="mu"``) or from rho = Beta(2, 1)^dim (the control)."""
    if density == "mu":
        return g.uniform(0.0, 1.0, size=(n, dim))
    return g.beta(2.0, 1.0, size=(n, dim))


def _prefix_estimates(field, params, xq, y, levels):
    """R_N for every prefix length N in ``levels`` (nested samples), flattened over queries."""
    w, v = attention_integrands(field, xq, params, y)  # (M, Nmax), (Nmax, dv)
    cw = np.cumsum(w, axis=1)
    cwv = np.cumsum(w[:, :, None] * v[None, :, :], axis=1)
    idx = np.asarray(levels) - 1
    return (cwv[:, idx, :] / cw[:, idx, None]).transpose(1, 0, 2).reshape(len(levels), -1)


# Size and power of the Monte Carlo acceptances (CONTRIBUTING.md section 5). Each constant is
# z-tested at level MC_ALPHA (the order fit is the study's other assertion: family level 2e-3), and
# each study states its power against a named near alternative -- the constant off by SIGMA_ALT
# (sigma) or BIAS_ALT (b) -- and must reach MC_POWER: the number of seeds / batches is derived from
# that requirement (numerics.mc_tests.samples_for_power, from a pilot's standard deviation times
# SD_MARGIN_*), never the other way round, and the same samples must reject the alternative. The
# paper's own correction terms (O(1/N) relative at the largest N) are far below what any affordable
# sample resolves (a 1e-4 relative shift needs ~1e9 seeds), so the alternatives are the smallest
# relative errors the budget can reject with power 1 - 1e-3.
MC_ALPHA = 1e-3
MC_BETA = 1e-3
MC_POWER = 1.0 - MC_BETA
SIGMA_ALT = 0.20  # sigma' = 1.2 sigma: the MSE constant 44% high
BIAS_ALT = 0.25  # b' = 1.25 |b|
# head-room on the pilot's standard deviation: N ||R_N - A||^2 is heavy-tailed (peaked attention
# weights), and at 50 pilot seeds its sd came out up to 1.9 times low (seed 1); the bias's batch
# means are near-normal (means of 150 prompts), 12 pilot batches give their sd within ~20%
SD_MARGIN_SIGMA = 2.0
SD_MARGIN_BIAS = 1.5
PILOT_SEEDS = 200
PILOT_BATCHES = 12


def study_mc_rate(profile: str, seed: int, density: str = "mu", sigma_scale: float = 1.0) -> Verdict:
    """RMSE of plain attention on N i.i.d. uniform points, nested over N = 2^6..2^14 (fast; 2^16 full).

    The order is fitted to the mean squared error over seeds (order -1; RMSE order is half of it)
    with a 99.9% interval. The constant: E[N ||R_N - A||^2] = sigma^2 + O(1/N), so the seeds'
    N * squared errors at the largest N are z-tested against sigma^2 from the integral formula
    (numerics.mc_tests.z_test, level 1e-3; false-failure probability <= 2e-3 with the fit). Power:
    against sigma' = (1 + SIGMA_ALT) sigma the test must reject with probability >= MC_POWER; the
    number of seeds is the larger of the profile's and the one samples_for_power derives from a
    pilot (independent seeds), the power is recomputed from the main run's sd and checked, and the
    same samples must reject sigma'. ``sigma_scale`` multiplies the predicted sigma (the control).
    """
    field, params, xq, limit, sigma, _, _ = _mc_setup(seed)
    sigma = sigma * sigma_scale
    top = 14 if profile == "fast" else 16
    levels = 2 ** np.arange(6, top + 1)  # from N = 64: the O(1/N^2) terms of the MSE are below ~2%
    n_big = float(levels[-1])
    g = rng(seed)
    pilot_g = g.spawn(1)[0]

    def squared_errors(gen, count, density=density):
        sq = np.empty((levels.size, count))
        for s in range(count):
            y = _sample(gen, int(levels[-1]), 2, density)
            est = _prefix_estimates(field, params, xq, y, levels)
            sq[:, s] = np.sum((est - limit[None, :]) ** 2, axis=1)
        return sq

    alt_sigma2 = ((1.0 + SIGMA_ALT) * sigma) ** 2
    effect = alt_sigma2 - sigma**2
    # the design (pilot) samples mu whatever the run samples: a control runs the claim's design
    pilot_sd = float(np.std(n_big * squared_errors(pilot_g, PILOT_SEEDS, density="mu")[-1], ddof=1))
    needed = samples_for_power(effect, SD_MARGIN_SIGMA * pilot_sd, alpha=MC_ALPHA, beta=MC_BETA)
    n_seeds = max(200 if profile == "fast" else 400, needed)
    sq = squared_errors(g, n_seeds)
    fit = observed_order(levels.astype(np.float64), sq, expected=-1.0, confidence=0.999)
    mse = sq.mean(axis=1)
    sigma_hat = float(np.sqrt(n_big * mse[-1]))
    t = z_test(n_big * sq[-1], sigma**2, alpha=MC_ALPHA)
    t_alt = z_test(n_big * sq[-1], alt_sigma2, alpha=MC_ALPHA)
    sample_sd = float(np.std(n_big * sq[-1], ddof=1))
    power = z_power(effect, sample_sd, n_seeds, alpha=MC_ALPHA)
    c_ok = t.ok and not t_alt.ok and power >= MC_POWER
    rmse = np.sqrt(mse)
    rmse_se = sq.std(axis=1, ddof=1) / np.sqrt(n_seeds) / (2.0 * rmse)  # delta method, for error bars
    v = order_verdict(fit, -1.0, extra={"rmse": rmse, "predicted_sigma": sigma, "measured_sigma": sigma_hat,
                                        "levels": levels.astype(np.float64), "rmse_se": rmse_se,
                                        "n_seeds": n_seeds, "seeds_needed": needed, "z": t.z, "threshold": t.threshold,
                                        "alternative_z": t_alt.z, "power": power,
                                        "sample_sd": sample_sd, "effect": effect},
                      xlabel="N", ylabel="mean squared error")
    lo, hi = fit.ci
    measured = (f"RMSE order {fit.order / 2:.3f} [{lo / 2:.3f}, {hi / 2:.3f}] (MSE: {v.measured}); "
                f"sigma {sigma_hat:.4f} vs integral formula {sigma:.4f}: N MSE {t.mean:.4f} +- {t.stderr:.2g} vs "
                f"sigma^2 {sigma**2:.4f}, z = {t.z:+.2f} (|z| <= {t.threshold:.2f}, size 1e-3); alternative "
                f"sigma' = {1 + SIGMA_ALT:g} sigma: z = {t_alt.z:+.2f} ({'rejected' if not t_alt.ok else 'NOT rejected'}), "
                f"power {power:.6f} (>= {MC_POWER:g}) with {n_seeds} seeds ({needed} derived from the pilot)")
    return Verdict(holds=v.holds and c_ok, measured=measured,
                   expected=f"RMSE order -1/2 (99.9% CI); N MSE = sigma^2 (z-test, size 1e-3) with power >= {MC_POWER:g} "
                            f"against sigma' = {1 + SIGMA_ALT:g} sigma, which the same seeds reject",
                   evidence=v.evidence, notes=v.notes)


def plot_mc_rate(verdict: Verdict):
    ev = verdict.evidence
    n = ev["levels"]
    return convergence_figure(n, ev["rmse"], expected_order=-0.5, xlabel="N (i.i.d. samples)",
                              ylabel="RMSE of attention vs A(u)(x)", title=verdict.measured,
                              yerr=ev.get("rmse_se"), yerr_label=f"+- 1 s.e. over {ev.get('n_seeds', '?')} seeds",
                              series={"sigma / sqrt(N) (delta method)": (n, ev["predicted_sigma"] / np.sqrt(n)),
                                      "fit: sqrt(C N^p), p from the MSE fit": (
                                          n, np.sqrt(ev["constant"] * n ** ev["order"]))})


register(Claim(
    id="calvello2024.mc_rate",
    paper=PAPER,
    where="Section 3 (attention as a Monte Carlo approximation of the continuum operator)",
    statement="Attention on N i.i.d. samples y_j ~ mu is a Monte Carlo estimate of A(u)(x): its RMSE is "
              "sigma/sqrt(N) with sigma^2 = int w^2 (Vu - A)^2 dmu / (int w dmu)^2.",
    kind="rate",
    expected="RMSE order -1/2 (99.9% CI); N MSE = sigma^2 (z-test, size 1e-3) with power >= 0.999 against a "
             "20% wrong sigma, which the same seeds reject",
    study=study_mc_rate,
    plot=plot_mc_rate,
    controls={"samples from rho != mu without importance weights": partial(study_mc_rate, density="rho"),
              "sigma 20% high": partial(study_mc_rate, sigma_scale=1.2)},
))


def study_mc_bias(profile: str, seed: int, density: str = "mu", bias_scale: float = 1.0) -> Verdict:
    """Bias of the self-normalised estimator: E R_N - R = b/N + O(N^-2), b = -int w^2 (Vu - A) dmu / Wbar^2.

    The bias is a small mean under O(N^-1/2) noise; the mean-zero linear term of the delta
    expansion L_N = sum_i w_i (Vu_i - A) / (N Wbar) (E L_N = 0 exactly for samples from mu) is
    subtracted as a control variate, which leaves the mean unchanged and the noise O(1/N).
    The error is projected on b/|b|; batch means (levels x batches) go to observed_order (99.9%
    interval); the constant N * bias at the largest N must match |b| within t s.e. plus the O(1/N)
    relative remainder (allowance t N s.e. + 4|b|/N, t = 3.29 for size 1e-3, 4/N from the O(N^-2)
    term of the expansion). False-failure probability <= 2e-3 (Bonferroni over two assertions).
    Power: against b' = (1 + BIAS_ALT) b the same test (with b''s allowance) must reject with
    probability >= MC_POWER; the number of batches is the larger of the profile's and the one
    samples_for_power derives from a pilot (effect BIAS_ALT |b| - 4|b'|/N, pilot sd times
    SD_MARGIN_BIAS); the power is recomputed from the main run and checked, and the same batches must
    reject b'. ``bias_scale`` multiplies the predicted b (the control).
    """
    field, params, xq, limit, _, bias, wbar = _mc_setup(seed)
    dim = 2
    # from N = 16: the O(N^-2) term of the bias is a few per cent of b/N there
    levels = 2 ** np.arange(4, 12 if profile == "fast" else 14)
    n_default, per = (12, 150) if profile == "fast" else (40, 250)
    g = rng(seed)
    pilot_g = g.spawn(1)[0]
    unit = bias / np.linalg.norm(bias)
    nmax = int(levels[-1])
    idx = levels - 1

    def batch_means(gen, count, density=density):
        means = np.empty((levels.size, count))
        for b in range(count):
            y = _sample(gen, per * nmax, dim, density)
            w, v = attention_integrands(field, xq, params, y)  # (M, per*nmax), (per*nmax, dv)
            M, dv = w.shape[0], v.shape[1]
            w = w.reshape(M, per, nmax)
            v = v.reshape(per, nmax, dv)
            cw = np.cumsum(w, axis=2)[:, :, idx]
            cwv = np.cumsum(w[..., None] * v[None], axis=2)[:, :, idx, :]
            est = cwv / cw[..., None]  # (M, per, L, dv)
            lim = limit.reshape(M, 1, 1, dv)
            resid = v[None] - limit.reshape(M, 1, 1, dv)  # (M, per, nmax, dv)
            lin = (np.cumsum(w[..., None] * resid, axis=2)[:, :, idx, :]
                   / (levels[None, None, :, None] * wbar[:, None, None, None]))
            rem = est - lim - lin  # (M, per, L, dv)
            proj = np.einsum("mpld,md->pl", rem, unit.reshape(M, dv))
            means[:, b] = proj.mean(axis=0)
        return means

    b_norm = float(np.linalg.norm(bias)) * bias_scale
    b_alt = (1.0 + BIAS_ALT) * b_norm
    n_top = float(levels[-1])
    effect = BIAS_ALT * b_norm - 4.0 / n_top * b_alt  # what the alternative's allowance leaves to the noise
    # the design (pilot) samples mu whatever the run samples: a control runs the claim's design
    pilot_sd = float(np.std(n_top * batch_means(pilot_g, PILOT_BATCHES, density="mu")[-1], ddof=1))
    needed = samples_for_power(effect, SD_MARGIN_BIAS * pilot_sd, alpha=MC_ALPHA, beta=MC_BETA)
    n_batches = max(n_default, needed)
    means = batch_means(g, n_batches)
    if np.any(means <= 0):
        fit = None
    else:
        fit = observed_order(levels.astype(np.float64), means, expected=-1.0, confidence=0.999)
    mean = means.mean(axis=1)
    se = means.std(axis=1, ddof=1) / np.sqrt(n_batches)
    b_hat = float(n_top * mean[-1])
    t = bonferroni_threshold(MC_ALPHA)
    allowance = t * n_top * se[-1] + 4.0 / n_top * b_norm
    alt_allowance = t * n_top * se[-1] + 4.0 / n_top * b_alt
    c_ok = abs(b_hat - b_norm) <= allowance
    alt_rejected = abs(b_hat - b_alt) > alt_allowance
    power = z_power(effect, float(n_top * se[-1] * np.sqrt(n_batches)), n_batches, alpha=MC_ALPHA)
    if fit is None:
        return Verdict(holds=False, measured="projected bias changes sign: no 1/N law",
                       expected="bias order -1 with constant |b|",
                       evidence={"levels": levels.astype(np.float64), "bias": mean, "predicted_b": b_norm})
    v = order_verdict(fit, -1.0, xlabel="N", ylabel="projected bias <E R_N - R, b/|b|>",
                      extra={"predicted_b": b_norm, "measured_b": b_hat, "levels": levels.astype(np.float64),
                             "bias_se": se, "n_batches": n_batches, "batches_needed": needed, "power": power,
                             "alternative_b": b_alt})
    return Verdict(holds=v.holds and c_ok and alt_rejected and power >= MC_POWER,
                   measured=v.measured + f"; N * bias {b_hat:.4f} vs |b| = {b_norm:.4f} (allowance {allowance:.3f} = "
                            f"{t:.2f} s.e. + 4|b|/N); alternative b' = {1 + BIAS_ALT:g} |b| = {b_alt:.4f}: "
                            f"{'rejected' if alt_rejected else 'NOT rejected'} (allowance {alt_allowance:.3f}), power "
                            f"{power:.6f} (>= {MC_POWER:g}) with {n_batches} batches of {per} ({needed} derived from "
                            "the pilot)",
                   expected=f"bias order -1 (99.9% CI) with constant |b| within 3.29 s.e. + 4/N (size 1e-3); power >= "
                            f"{MC_POWER:g} against b' = {1 + BIAS_ALT:g} b, which the same batches reject",
                   evidence=v.evidence, notes=v.notes)


def plot_mc_bias(verdict: Verdict):
    ev = verdict.evidence
    n = ev["levels"]
    fig = plot_order(verdict)
    if "bias_se" in ev:
        e = np.asarray(ev["errors"], dtype=float)
        se = np.asarray(ev["bias_se"], dtype=float)
        if e.shape == se.shape:
            fig.axes[0].errorbar(ev["params"], e, yerr=[np.minimum(se, 0.999 * e), se], fmt="none", ecolor="C0",
                                 elinewidth=0.8, capsize=2, label="+- 1 s.e. over batches")
    fig.axes[0].plot(n, ev["predicted_b"] / n, "k--", lw=0.8, label="|b| / N (delta method)")
    fig.axes[0].legend(fontsize=7)
    return fig


register(Claim(
    id="calvello2024.mc_bias",
    paper=PAPER,
    where="Section 3 (attention as a Monte Carlo approximation; self-normalised estimator)",
    statement="The Monte Carlo estimate is self-normalised, hence biased: E A_N(u)(x) - A(u)(x) = b/N + O(N^-2) "
              "with b = -int w^2 (Vu - A) dmu / (int w dmu)^2.",
    kind="rate",
    expected="bias order -1 (99.9% CI) with constant |b| within 3.29 s.e. + 4/N (size 1e-3); power >= 0.999 "
             "against a 25% wrong b, which the same batches reject",
    study=study_mc_bias,
    plot=plot_mc_bias,
    controls={"samples from rho != mu without importance weights": partial(study_mc_bias, density="rho"),
              "bias constant 25% high": partial(study_mc_bias, bias_scale=1.25)},
))


# --- claims 4-7: grid rules are quadratures of A ---------------------------------------------

_GRID_QUERIES = np.array([[0.13], [0.5], [0.91]])


def _derivative(field, params, xq, y: np.ndarray, order: int):
    """d^k/dy^k (k = 1, 2) of w(x_i, y) and w(x_i, y) V u(y) at the points y (D = 1), from the
    analytic derivatives of the field (product and chain rules; independent of every rule).
    Returns (n, M) and (n, M, d_v)."""
    y = np.asarray(y, dtype=np.float64).reshape(-1, 1)
    qk = (field(xq) @ params.Q.T) @ params.K * params.scale  # (M, d_u)
    u0, u1, u2 = field(y), field.derivative(y, 1), field.derivative(y, 2)
    w = np.exp(u0 @ qk.T)  # (n, M)
    a1, a2 = u1 @ qk.T, u2 @ qk.T  # derivatives of the logit
    v0, v1, v2 = u0 @ params.V.T, u1 @ params.V.T, u2 @ params.V.T
    w1 = w * a1
    w2 = w * (a1**2 + a2)
    if order == 1:
        return w1, w1[:, :, None] * v0[:, None, :] + w[:, :, None] * v1[:, None, :]
    if order == 2:
        g2 = w2[:, :, None] * v0[:, None, :] + 2.0 * w1[:, :, None] * v1[:, None, :] + w[:, :, None] * v2[:, None, :]
        return w2, g2
    raise ValueError(f"order must be 1 or 2, got {order}")


def _grid_limit(field, params, xq, panels: int = 1):
    """A(u)(x) by Gauss-Legendre, 64 points (``panels`` = 1) or ``panels`` panels of 32 points."""
    if panels == 1:
        nodes, weights = _gl_rule(1, 64)
    else:
        parts = [gauss_legendre_nodes_weights(p / panels, (p + 1) / panels, 32) for p in range(panels)]
        nodes = np.concatenate([x for x, _ in parts])[:, None]
        weights = np.concatenate([w for _, w in parts])
    w, v = attention_integrands(field, xq, params, nodes)
    iw = w @ weights
    return (w * weights) @ v / iw[:, None], iw


def _graded_map(t):
    beta = 2.0
    return np.expm1(beta * t) / np.expm1(beta), beta * np.exp(beta * t) / np.expm1(beta)


def _grid_rule(rule: str, n: int):
    """(nodes (k, 1), weights (k,)) of the grid rules and of their perturbed controls."""
    from numerics.quadrature import (
        closed_equal_nodes_weights,
        midpoint_nodes_weights,
        nonuniform_trapezoid_weights,
        periodic_nodes_weights,
    )

    if rule == "closed_equal":
        x, w = closed_equal_nodes_weights(0.0, 1.0, n)
    elif rule == "closed_equal_drop_end":  # control: the right end point left out
        x, w = closed_equal_nodes_weights(0.0, 1.0, n)
        x, w = x[:-1], w[:-1]
    elif rule == "midpoint":
        x, w = midpoint_nodes_weights(0.0, 1.0, n)
    elif rule == "midpoint_shifted":  # control: nodes a quarter cell off the midpoints
        x, w = midpoint_nodes_weights(0.0, 1.0, n)
        x = x + 0.25 / n
    elif rule == "graded":
        x = _graded_map(np.linspace(0.0, 1.0, n + 1))[0]
        w = nonuniform_trapezoid_weights(x)
    elif rule == "graded_equal":  # control: graded nodes, weights that ignore the grading
        x = _graded_map(np.linspace(0.0, 1.0, n + 1))[0]
        w = np.full(n + 1, 1.0 / (n + 1))
    elif rule == "periodic":
        x, w = periodic_nodes_weights(0.0, 1.0, n)
    else:
        raise ValueError(f"unknown grid rule {rule!r}")
    return x[:, None], w


def _grid_constant(rule: str, field, params, xq, limit, iw) -> tuple[float, np.ndarray]:
    """(order p, C) with A_N - A = C h^p + ..., h = 1/N, from the rule's error formula."""
    if rule.startswith("closed_equal"):
        ends = np.array([[0.0], [1.0]])
        w, v = attention_integrands(field, xq, params, ends)  # (M, 2), (2, dv)
        r = v[None, :, :] - limit[:, None, :]
        return 1.0, np.sum(w[:, :, None] * r, axis=1) / (2.0 * iw[:, None])
    if rule.startswith("midpoint"):
        dw, dg = _derivative(field, params, xq, np.array([0.0, 1.0]), 1)
        ew = -(dw[1] - dw[0]) / 24.0  # midpoint error -(h^2/24)(f'(1) - f'(0))
        eg = -(dg[1] - dg[0]) / 24.0
        return 2.0, (eg - limit * ew[:, None]) / iw[:, None]
    if rule.startswith("graded"):
        t, qt = gauss_legendre_nodes_weights(0.0, 1.0, 64)
        phi, dphi = _graded_map(t)
        dw, dg = _derivative(field, params, xq, phi, 2)
        c3 = qt * dphi**3
        ew = np.einsum("n,nm->m", c3, dw) / 12.0  # trapezoid error +(1/(12 N^2)) int f''(phi) phi'^3 dt
        eg = np.einsum("n,nmd->md", c3, dg) / 12.0
        return 2.0, (eg - limit * ew[:, None]) / iw[:, None]
    raise ValueError(rule)


def study_grid_rule(profile: str, seed: int, rule: str = "midpoint", claimed: str = "midpoint") -> Verdict:
    """Attention on grid nodes with the rule's weights vs A(u)(x) (64-point Gauss-Legendre limit).

    Order fitted on the max-norm error against h = 1/N; the constant N^p (A_N - A) at the finest
    fitted level must match the rule's error formula (relative, 2-norm) within a derived tolerance:
    twice the next term of the expansion (Richardson, :func:`_best_constant_level`) plus round-off
    4 eps N max|A| / h^p, at the used level where that is smallest.
    """
    field, params = _problem(1, seed)
    xq = _GRID_QUERIES
    limit, iw = _grid_limit(field, params, xq)
    p_claim, C = _grid_constant(claimed, field, params, xq, limit, iw)
    top = 14 if profile == "fast" else 16  # strongly peaked kernels need N >> 1 to be asymptotic
    if p_claim == 2.0:
        top -= 1
    if rule.startswith("graded"):
        # the map coarsens the grid by up to max phi' = 2.3 near x = 1: N = 8..32 were pre-asymptotic
        # (seeds 2, 6, 12: 2.1 decades, no slack; seed 12 spanned 1.8 before the rates rework)
        top += 1
    ns = 2 ** np.arange(3, top + 1)
    errs, diffs = [], []
    for n in ns:
        nodes, weights = _grid_rule(rule, int(n))
        d = discrete_attention(field(xq), field(nodes), params, weights) - limit
        diffs.append(d)
        errs.append(float(np.max(np.abs(d))))
    errs = np.array(errs)
    h = 1.0 / ns
    fit = observed_order(h, errs, expected=p_claim, scale=float(np.max(np.abs(limit))))
    consts = [diffs[i] / h[i] ** p_claim for i in range(len(ns))]
    scale = float(np.max(np.abs(limit)))
    k, rtol, parts = _best_constant_level(consts, C, h, p_claim, list(fit.used), len(ns),
                                          roundoff=lambda i: 4.0 * EPS * ns[i] * scale / h[i] ** p_claim)
    c_meas = consts[k]
    c_rel = float(np.linalg.norm(c_meas - C) / np.linalg.norm(C))
    v = order_verdict(fit, p_claim, exclude=p_claim - 1.0 if p_claim > 1 else None, xlabel="h = 1/N",
                      ylabel="max |A_N(u)(x) - A(u)(x)|",
                      extra={"predicted_constant": float(np.linalg.norm(C)),
                             "measured_constant": float(np.linalg.norm(c_meas)), "constant_rel_error": c_rel,
                             "constant_rtol": rtol})
    return Verdict(holds=v.holds and c_rel <= rtol,
                   measured=v.measured + f"; constant |C| {np.linalg.norm(c_meas):.5g} vs formula "
                                         f"{np.linalg.norm(C):.5g} at N = {ns[k]} (rel. diff {c_rel:.2e}, derived "
                                         f"tolerance {rtol:.2e} = 2 (next term {parts[0]:.1e} + round-off {parts[1]:.1e}))",
                   expected=f"order {p_claim:g} with the constant of the rule's error formula within 2 (next term "
                            "+ round-off)", evidence=v.evidence, notes=v.notes)


def _best_constant_level(consts, C, h, p, used, count, *, roundoff):
    """The level (among the fit's used levels past the first) where the derived constant tolerance
    is smallest, with that tolerance and its parts (CONTRIBUTING.md section 3).

    The next term of the error expansion relative to the leading one at level i is estimated by
    Richardson from levels i - 1 and i, assuming it is O(h) relative (the general case; for an
    O(h^2) next term this overestimates it by 3/2): c_{i-1} - c_i = D (h_{i-1} - h_i), so
    |D h_i| = |c_{i-1} - c_i| h_i / (h_{i-1} - h_i). Round-off from ``roundoff(i)`` (absolute, in
    units of the constant), divided by |C|."""
    nc = float(np.linalg.norm(C))

    def parts(i):
        nt = float(np.linalg.norm(consts[i - 1] - consts[i])) / nc * h[i] / (h[i - 1] - h[i])
        return nt, float(roundoff(i)) / float(np.max(np.abs(C)))

    cand = [i for i in used if i >= 1] or [count - 1]
    k = min(cand, key=lambda i: constant_tolerance(parts(i)[0], roundoff=parts(i)[1]))
    nt, ro = parts(k)
    return k, constant_tolerance(nt, roundoff=ro), (nt, ro)


def plot_grid(verdict: Verdict):
    ev = verdict.evidence
    h = np.asarray(ev["params"])
    fig = plot_order(verdict)
    p = ev["expected_order"]
    fig.axes[0].plot(h, ev["predicted_constant"] * h**p, "k--", lw=0.8, label="|C| h^p (error formula)")
    fig.axes[0].legend(fontsize=7)
    return fig


register(Claim(
    id="calvello2024.grid_closed_equal",
    paper=PAPER,
    where="Section 3 (attention on a grid as a quadrature of the continuum operator)",
    statement="Plain attention (equal weights) on the closed grid j/N, j = 0..N, approximates A(u)(x) with "
              "error C/N, C = [w(0)(Vu(0) - A) + w(1)(Vu(1) - A)] / (2 int w): first order only.",
    kind="rate",
    expected="order 1 (95% CI), constant within 2 (next term + round-off)",
    study=partial(study_grid_rule, rule="closed_equal", claimed="closed_equal"),
    plot=plot_grid,
    controls={"right end point dropped": partial(study_grid_rule, rule="closed_equal_drop_end",
                                                 claimed="closed_equal")},
))

register(Claim(
    id="calvello2024.grid_midpoint",
    paper=PAPER,
    where="Section 3 (attention on a grid as a quadrature of the continuum operator)",
    statement="Attention at cell midpoints approximates A(u)(x) at O(N^-2), constant from the midpoint "
              "error -(h^2/24)(f'(1) - f'(0)) applied to numerator and denominator.",
    kind="rate",
    expected="order 2 (95% CI) excluding 1, constant within 2 (next term + round-off)",
    study=partial(study_grid_rule, rule="midpoint", claimed="midpoint"),
    plot=plot_grid,
    controls={"nodes shifted by h/4": partial(study_grid_rule, rule="midpoint_shifted", claimed="midpoint")},
))

register(Claim(
    id="calvello2024.grid_trapezoid_graded",
    paper=PAPER,
    where="Section 3 (attention with quadrature weights on a non-uniform grid)",
    statement="On a graded grid x_j = phi(j/N) attention with the non-uniform trapezoid weights approximates "
              "A(u)(x) at O(N^-2), constant -(1/12) int f''(phi) phi'^3 dt applied to numerator and denominator.",
    kind="rate",
    expected="order 2 (95% CI) excluding 1, constant within 2 (next term + round-off)",
    study=partial(study_grid_rule, rule="graded", claimed="graded"),
    plot=plot_grid,
    controls={"graded nodes with equal weights": partial(study_grid_rule, rule="graded_equal", claimed="graded")},
))


def study_grid_periodic(profile: str, seed: int, periodic: bool = True) -> Verdict:
    """Periodic field, N equispaced nodes with weights 1/N: error faster than any power of 1/N.

    Field frequencies 2 pi k, |k| <= 2: a draw with every k = 0 (a constant field, probability
    1/125, e.g. seed 14) makes attention exact at every N, so it is redrawn (bounded, deterministic
    in the seed). Reference: 16 panels x 32 Gauss-Legendre points (agrees with 32 x 32 to 2e-15 over
    seeds 0-199; the single 64-point rule of the other grid claims is off by up to 4e-4 for these
    oscillatory, peaked integrands, a false floor).

    False-failure probability (fast profile), measured over the field draws of seeds 0-999: 3 in
    1000 (0.3 %, Wilson 95 % upper end 0.9 %), of two kinds, both outside seeds 0-19. (a) The error
    reaches the float64 floor within 3-4 levels (seeds 190, 770: N <= 10, a single low frequency
    and a flat kernel), too few levels to tell growing local orders from the even/odd aliasing
    oscillation, so the regime is unsettled. (b) A strongly peaked kernel is pre-asymptotic over the
    whole fast ladder (seed 337: the error is still 3e-4 at N = 64 and oscillates); the full
    profile's ladder (to N = 96) reports it super-algebraic. Over 20 seeds the expected number of
    such failures is 0.06.
    """
    field, params = _problem(1, seed, periodic=periodic)
    for t in range(1, 9):
        if np.any(field.frequencies != 0.0):
            break
        field = random_field(3, 1, 1000 + seed + 100_000 * t, periodic=periodic)
    xq = _GRID_QUERIES
    limit, _ = _grid_limit(field, params, xq, panels=16)
    # Step 2: on a ladder with a constant step exp(-cN) gives local orders that grow at every level;
    # the geometric rate has an even/odd oscillation (integer frequencies alias differently on odd
    # and even N) that an odd step would expose. N from 2: fields whose error reaches round-off by
    # N ~ 12 (seed 15) still show >= 5 levels; up to 64 (fast): strongly peaked kernels start late.
    ns = np.arange(2, 65 if profile == "fast" else 97, 2)
    errs = []
    for n in ns:
        nodes, weights = _grid_rule("periodic", int(n))
        errs.append(float(np.max(np.abs(discrete_attention(field(xq), field(nodes), params, weights) - limit))))
    fit = observed_order(1.0 / ns, np.array(errs), expected=1.0, scale=float(np.max(np.abs(limit))))
    return regime_verdict(fit, "super-algebraic", expected="super-algebraic (faster than any power of 1/N)",
                          xlabel="h = 1/N", ylabel="max |A_N(u)(x) - A(u)(x)|")


register(Claim(
    id="calvello2024.grid_periodic",
    paper=PAPER,
    where="Section 3 (attention on a uniform periodic grid as a trapezoid rule)",
    statement="For a smooth periodic u on the torus, plain attention on N equispaced points converges to "
              "A(u)(x) faster than any power of 1/N.",
    kind="rate",
    expected="super-algebraic regime reported, no slope fitted (fast profile: false-failure probability 0.3 %, "
             "3 of the field draws of seeds 0-999)",
    study=study_grid_periodic,
    plot=plot_order,
    controls={"non-periodic field on the same grid": partial(study_grid_periodic, periodic=False)},
))


# --- claim 8: invariants --------------------------------------------------------------------


def _weights_in_numerator_only(u_query, u_samples, params, weights=None):
    """Negative control: quadrature weights in the numerator, a plain sum in the normaliser."""
    qk = (np.asarray(u_query) @ params.Q.T) @ params.K
    s = params.scale * qk @ np.asarray(u_samples).T
    e = np.exp(s - s.max(axis=1, keepdims=True))
    q = np.ones(e.shape[1]) if weights is None else np.asarray(weights)
    return (e * q[None, :]) @ (np.asarray(u_samples) @ params.V.T) / e.sum(axis=1, keepdims=True)


def _exact_average(field, params: AttentionParams) -> np.ndarray:
    """int_{[0,1]^D} V u(y) dy in closed form: int cos(<a, y> + phi) = Re e^{i phi} prod (e^{i a_k} - 1)/(i a_k)."""
    a = field.frequencies
    with np.errstate(invalid="ignore", divide="ignore"):
        factors = np.where(np.abs(a) > 0, (np.exp(1j * a) - 1.0) / (1j * np.where(a == 0, 1.0, a)), 1.0)
    modes = np.real(np.exp(1j * field.phases) * np.prod(factors, axis=1))  # (n_modes,)
    return params.V @ (field.amplitudes @ modes)


def study_invariants(profile: str, seed: int, attention=discrete_attention) -> Verdict:
    """Four invariants of A_q on random problems (D = 1, 2):

    * Q = 0: A_q(u)(x) = int V u dmu (Gauss-Legendre 24^D nodes, exact to round-off for the analytic
      field; the reference is the closed-form average);
    * convex hull: <d, A_q(u)(x)> <= max_j <d, V u(y_j)> for random directions d (violation / scale);
    * permutation of (y_j, q_j) and a common scaling q_j -> lambda q_j (lambda in [1e-3, 1e3]) leave
      A_q unchanged.
    Tolerances c eps size cond: size = number of nodes (sums), cond = sum p |Vu| / |sum p Vu|,
    c = 8 (exp, products and the division round a few times per term).
    """
    g = rng(seed)
    cases = []
    reps = 4 if profile == "fast" else 25
    for r in range(reps):
        for dim in (1, 2):
            field = random_field(3, dim, g)
            params = random_attention(3, 2, 2, g, gain=float(g.uniform(0.5, 3.0)))
            x, w1 = gauss_legendre_nodes_weights(0.0, 1.0, 24)
            nodes, weights = tensor_rule(x, w1, dim)
            xq = g.uniform(0.0, 1.0, size=(3, dim))
            uq, us = field(xq), field(nodes)
            n = nodes.shape[0]
            vals = us @ params.V.T
            # Q = 0
            p0 = AttentionParams(np.zeros_like(params.Q), params.K, params.V, params.scale)
            got0 = attention(uq, us, p0, weights)
            exact = _exact_average(field, params)
            cond0 = float(np.max(weights @ np.abs(vals)) / np.max(np.abs(exact)))
            cases.append((f"Q=0 D={dim} r={r}", compare(got0, np.tile(exact, (3, 1)), size=n, cond=cond0, c=8.0)))
            # convex hull
            out = attention(uq, us, params, weights)
            d = g.standard_normal((16, params.d_v))
            scale = float(np.max(np.abs(vals @ d.T)))
            viol = np.maximum(0.0, out @ d.T - np.max(vals @ d.T, axis=0)[None, :]) / scale
            cases.append((f"hull D={dim} r={r}", compare(viol, np.zeros_like(viol), size=n, c=8.0)))
            # permutation and weight scaling
            wq, vq = attention_integrands(field, xq, params, nodes)
            pq = wq * weights
            pq /= pq.sum(axis=1, keepdims=True)
            cond = float(np.max((pq @ np.abs(vq)) / np.maximum(np.abs(pq @ vq), 1e-300)))
            perm = g.permutation(n)
            cases.append((f"permutation D={dim} r={r}",
                          compare(attention(uq, us[perm], params, weights[perm]), out, size=n, cond=cond, c=8.0)))
            lam = float(10.0 ** g.uniform(-3, 3))
            cases.append((f"scaling x{lam:.3g} D={dim} r={r}",
                          compare(attention(uq, us, params, lam * weights), out, size=n, cond=cond, c=8.0)))
    return identity_verdict(cases, expected="Q = 0 average, convex hull, permutation and weight-scaling "
                                            "invariance to c eps size cond (c = 8)")


register(Claim(
    id="calvello2024.invariants",
    paper=PAPER,
    where="Section 3 (continuum attention; properties of the softmax kernel as a probability density)",
    statement="exp<Qu(x), Ku(.)> / int exp<Qu(x), Ku> dmu is a probability density: with Q = 0, A(u)(x) is the "
              "spatial average of Vu; A(u)(x) lies in the convex hull of the values; A_q is invariant to "
              "permuting the samples and to a common scaling of the quadrature weights.",
    kind="identity",
    expected="every invariant to c eps size cond (c = 8)",
    study=study_invariants,
    plot=plot_identity,
    controls={"weights missing from the normaliser": partial(study_invariants, attention=_weights_in_numerator_only)},
))


# --- claim 9: function-space patching -------------------------------------------------------


def study_patching(profile: str, seed: int, cell_area: bool = True) -> Verdict:
    """P = 4 patches per side fixed, m x m pixels per patch, m = 2..256 (fast).

    Scores s_pq (L^2 inner products of patch functions, midpoint rule on pixels) against a 24^2-point
    Gauss-Legendre reference: order 2 and constant -(1/24) s int Laplacian <Qu_p, Ku_q> within a
    derived tolerance (next term by Richardson + round-off 4 eps m^2 max|s| m^2, :func:`_best_constant_level`);
    outputs (A u)_p(z) at fixed local points: order 2 as well.
    """
    from constructions.integral_operators.patching import (
        patch_attention,
        patch_scores,
        patch_scores_laplacian,
    )

    P = 4
    field, params = _problem(2, seed)
    nodes, weights = _gl_rule(2, 24)
    ref = patch_scores(field, P, params, nodes=nodes, weights=weights)
    C = -patch_scores_laplacian(field, P, params, nodes, weights) / 24.0
    z_eval = np.array([[0.25, 0.25], [0.5, 0.9], [0.8, 0.4]])
    out_ref = patch_attention(field, P, params, z_eval, scores=ref)
    ms = 2 ** np.arange(1, 9 if profile == "fast" else 11)
    e_s, e_o, c_rel, top, all_scores = [], [], [], [], []
    for m in ms:
        s = patch_scores(field, P, params, m=int(m), cell_area=cell_area)
        all_scores.append(s)
        e_s.append(float(np.max(np.abs(s - ref))))
        e_o.append(float(np.max(np.abs(patch_attention(field, P, params, z_eval, scores=s) - out_ref))))
        c_rel.append(float(np.linalg.norm((s - ref) * m**2 - C) / np.linalg.norm(C)))
        a = np.exp(s - s.max(axis=1, keepdims=True))
        top.append(float(np.mean(np.max(a / a.sum(axis=1, keepdims=True), axis=1))))
    h = 1.0 / ms
    fit_s = observed_order(h, np.array(e_s), expected=2.0, scale=float(np.max(np.abs(ref))))
    fit_o = observed_order(h, np.array(e_o), expected=2.0, scale=float(np.max(np.abs(out_ref))))
    vs = order_verdict(fit_s, 2.0, exclude=1.0, xlabel="h = 1/m (pixel side, local units)",
                       ylabel="max |s_pq(m) - s_pq|",
                       extra={"output_errors": np.array(e_o), "predicted_constant": float(np.linalg.norm(C)),
                              "constant_rel_error": np.array(c_rel), "mean_top_weight": np.array(top)})
    vo = order_verdict(fit_o, 2.0, exclude=1.0)
    consts = [(s - ref) * m**2 for s, m in zip(all_scores, ms, strict=True)]
    ref_max = float(np.max(np.abs(ref)))
    k, rtol, parts = _best_constant_level(consts, C, h, 2.0, list(fit_s.used), len(ms),
                                          roundoff=lambda i: 4.0 * EPS * float(ms[i]) ** 2 * ref_max * float(ms[i]) ** 2)
    c_ok = c_rel[k] <= rtol
    return Verdict(holds=vs.holds and vo.holds and c_ok,
                   measured=f"scores: {vs.measured}; outputs: {vo.measured}; score constant rel. diff "
                            f"{c_rel[k]:.2e} at m = {ms[k]} vs derived tolerance {rtol:.2e} = 2 (next term "
                            f"{parts[0]:.1e} + round-off {parts[1]:.1e}); mean largest softmax weight {top[-1]:.3f} "
                            f"at m = {ms[-1]}",
                   expected="scores and outputs order 2 (excluding 1), score constant within 2 (next term + round-off)",
                   evidence=vs.evidence, notes="; ".join(filter(None, [vs.notes, vo.notes])))


def plot_patching(verdict: Verdict):
    ev = verdict.evidence
    h = np.asarray(ev["params"])
    fig = plot_order(verdict)
    ax = fig.axes[0]
    ax.plot(h, ev["output_errors"], "s-", ms=3, lw=0.8, label="outputs max |(Au)_p(z) error|")
    ax.plot(h, ev["predicted_constant"] * h**2, "k--", lw=0.8, label="|C| h^2 (midpoint formula)")
    ax.legend(fontsize=7)
    return fig


register(Claim(
    id="calvello2024.patching",
    paper=PAPER,
    where="Section on patching (function-space generalisation of ViT patch attention, ViT neural operator)",
    statement="With the patch grid fixed and L^2 inner products of patch functions as scores, patch attention "
              "on m x m pixels per patch converges to its continuum limit at the quadrature rate O(m^-2).",
    kind="rate",
    expected="scores and outputs order 2 excluding 1; score constant -(1/24) s int Laplacian within 2 (next term + round-off)",
    study=study_patching,
    plot=plot_patching,
    controls={"pixel area h^2 dropped (attention collapses)": partial(study_patching, cell_area=False)},
))


# --- claim 10: discretisation convergence of a transformer neural operator --------------------


def study_tno(profile: str, seed: int, rule: str = "midpoint") -> Verdict:
    """Three layers (width 4) on [0,1], midpoint rules with N = 8..4096 cells (fast), output at
    fixed query points; self-convergence (differences of successive levels) must show order 2
    excluding 1. Control: plain attention on the closed grid (first order) sold as second order.
    """
    from constructions.integral_operators.neural_operator import random_tno, tno_apply
    from numerics.quadrature import closed_equal_nodes_weights, midpoint_nodes_weights
    from numerics.rates import self_convergence_order

    xq = np.linspace(0.05, 0.95, 7)[:, None]
    # The fit must start by N ~ 20 to span 2 decades below N = 2048 (an 8192 level would cost ~7 s
    # CPU): a draw that the coarse grids do not resolve (midpoint N = 16 vs 32 differ by more than
    # 0.5% of the output scale; seeds 9 and 20: 0.8%, 5%, with N = 8, 16 pre-asymptotic) is redrawn,
    # bounded and seeded, for claim and control alike (a resolution test, not the rate).
    for t in range(9):
        field = random_field(2, 1, 3000 + seed + 100_000 * t)
        params = random_tno(2, 1, 4, 3, 4000 + seed + 100_000 * t, d_out=2)
        coarse = [tno_apply(params, field, xq, x[:, None], w)
                  for x, w in (midpoint_nodes_weights(0.0, 1.0, m) for m in (16, 32, 64))]
        if np.max(np.abs(coarse[0] - coarse[1])) <= 5e-3 * np.max(np.abs(coarse[2])):
            break
    ns = 2 ** np.arange(3, 13 if profile == "fast" else 14)
    sols = []
    for n in ns:
        if rule == "midpoint":
            x, w = midpoint_nodes_weights(0.0, 1.0, int(n))
        else:
            x, w = closed_equal_nodes_weights(0.0, 1.0, int(n))
        sols.append(tno_apply(params, field, xq, x[:, None], w))
    h = 1.0 / ns
    fit = self_convergence_order(h, sols, expected=2.0, scale=float(np.max(np.abs(sols[-1]))))
    return order_verdict(fit, 2.0, exclude=1.0, xlabel="h = 1/N", ylabel="max |G_N(u)(x) - G_2N(u)(x)|",
                         notes="self-convergence: differences of successive resolutions")


register(Claim(
    id="calvello2024.tno_discretization",
    paper=PAPER,
    where="Section on transformer neural operators (discretisation invariance of the TNO)",
    statement="A transformer neural operator (lifting, continuum-attention layers with pointwise maps, projection) "
              "evaluated with a quadrature of the domain converges, as the resolution grows, to one function of x; "
              "with midpoint weights the differences between resolutions fall at O(N^-2).",
    kind="rate",
    expected="self-convergence order 2 (95% CI) excluding 1",
    study=study_tno,
    plot=plot_order,
    controls={"plain attention on a closed grid (first order)": partial(study_tno, rule="closed_equal")},
))
