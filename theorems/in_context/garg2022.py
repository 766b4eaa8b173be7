"""Garg, Tsipras, Liang & Valiant (2022), "What can transformers learn in-context? A case study of
simple function classes" (NeurIPS 2022, arXiv 2208.01066), Section 3 / Figure 2: the baselines a
trained transformer is compared with on linear functions, x ~ N(0, I_d), w ~ N(0, I_d).

Garg et al. plot the baselines' errors against the number of in-context examples k; we check the
exact finite-k expressions behind those curves (derived in constructions/in_context/icl_theory.py, excess
risk E||w_hat - w||^2 = E (x_q^T (w_hat - w))^2; divide by d for Garg's normalised error):

    min-norm least squares   k <= d - 2: (d - k) + sigma^2 k/(d - k - 1);  k >= d + 2: sigma^2 d/(k - d - 1)
    averaging (1/k) sum y_i x_i:          d (d + 1 + sigma^2) / k

by Monte Carlo (fixed seeds, z-tests, Bonferroni over all (estimator, k, sigma) cells; k is kept
at least 6 away from d so that the squared errors have finite variance and the CLT applies).
The negative control sells ridge (lam = 1) as the min-norm least-squares baseline.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from constructions.in_context import icl_theory as th
from numerics.mc_tests import z_test
from numerics.plotting import series_figure
from numerics.random import rng
from theorems.registry import Claim, Verdict, register

PAPER = "garg2022"
ALPHA = 1e-3  # family-wise false-failure probability


def study_baselines(profile: str, seed: int, ls_ridge: float = 0.0) -> Verdict:
    """MC excess risks of min-norm LS and averaging vs their closed forms over a k ladder.

    False-failure probability ALPHA = 1e-3 over all cells (Bonferroni; CLT with finite variance:
    inverse-Wishart second moments exist for |k - d| >= 4, we use >= 6). ``ls_ridge > 0`` replaces
    the pseudo-inverse by ridge with that lam (negative control)."""
    d = 12 if profile == "fast" else 16
    M = 4_000 if profile == "fast" else 40_000
    sigma2s = (0.0, 0.25)
    ks = [1, 3, 6, 18, 24, 48] if profile == "fast" else [1, 2, 5, 10, 22, 26, 32, 48, 64]
    g = rng(seed)
    cells = []
    for s2 in sigma2s:
        for k in ks:
            if abs(k - d) < 6:
                continue
            cells.append((s2, k))
    n_tests = 2 * len(cells)
    tests, rows = [], []
    for s2, k in cells:
        p = th.sample_gaussian_prompts(M, k, np.eye(d), g, sigma=float(np.sqrt(s2)))
        if ls_ridge > 0:
            w_ls = th.ridge_estimator(p["X"], p["y"], ls_ridge)
        else:
            w_ls = th.min_norm_ls(p["X"], p["y"])
        w_avg = th.averaging_estimator(p["X"], p["y"])
        err_ls = np.sum((w_ls - p["w"]) ** 2, axis=1)
        err_avg = np.sum((w_avg - p["w"]) ** 2, axis=1)
        if s2 == 0.0 and k >= d:
            # noiseless and determined: LS is exact; an identity at round-off, not a z-test
            t_ls = None
            exact_ok = bool(np.max(err_ls) <= 1e-20 * d * k) if ls_ridge == 0 else False
        else:
            t_ls = z_test(err_ls, th.min_norm_ls_risk(d, k, s2), alpha=ALPHA, tests=n_tests)
            exact_ok = True
        t_avg = z_test(err_avg, th.averaging_risk(d, k, s2), alpha=ALPHA, tests=n_tests)
        tests.append((f"LS k={k} s2={s2}", t_ls, exact_ok))
        tests.append((f"avg k={k} s2={s2}", t_avg, True))
        rows.append((s2, k, float(err_ls.mean()), th.min_norm_ls_risk(d, k, s2), t_avg.mean, t_avg.reference))
    ok = all((t is None or t.ok) and e for _, t, e in tests)
    zs = [(lbl, t) for lbl, t, _ in tests if t is not None]
    worst_lbl, worst = max(zs, key=lambda p: abs(p[1].z))
    failed_exact = [lbl for lbl, _, e in tests if not e]
    measured = f"worst cell {worst_lbl}: {worst.describe()}"
    if failed_exact:
        measured += f"; noiseless determined LS not exact at {failed_exact}"
    rows_arr = np.array(rows, dtype=np.float64)
    return Verdict(
        holds=ok,
        measured=measured,
        expected=f"MC excess risks = closed forms in every cell (family level {ALPHA:g}); "
                 "noiseless LS exact for k >= d",
        evidence={"d": d, "samples": M, "sigma2": rows_arr[:, 0], "k": rows_arr[:, 1],
                  "ls_mc": rows_arr[:, 2], "ls_closed": rows_arr[:, 3], "avg_mc": rows_arr[:, 4],
                  "avg_closed": rows_arr[:, 5],
                  "z": np.array([t.z for _, t in zs]), "labels": [lbl for lbl, _ in zs],
                  "threshold": worst.threshold},
    )


def plot_baselines(verdict: Verdict):
    ev = verdict.evidence
    sel = ev["sigma2"] > 0
    k = ev["k"][sel]
    d = float(ev["d"])
    return series_figure(k, {"min-norm LS (MC) / d": ev["ls_mc"][sel] / d,
                             "min-norm LS closed form / d": ev["ls_closed"][sel] / d,
                             "averaging (MC) / d": ev["avg_mc"][sel] / d,
                             "averaging closed form / d": ev["avg_closed"][sel] / d},
                         xlabel="in-context examples k", ylabel="excess squared error / d",
                         logx=True, logy=True, title=verdict.measured[:90])


register(Claim(
    id="garg2022.baseline_errors",
    paper=PAPER,
    where="Section 3 and Figure 2 (least squares and averaging baselines for linear functions)",
    statement="For x, w ~ N(0, I_d) and noise sigma^2, min-norm least squares has excess risk "
              "(d - k) + sigma^2 k/(d-k-1) for k <= d-2 and sigma^2 d/(k-d-1) for k >= d+2; "
              "averaging has d(d + 1 + sigma^2)/k.",
    kind="distribution",
    expected="MC excess risks agree with the closed forms (z-tests, family level 1e-3)",
    study=study_baselines,
    plot=plot_baselines,
    controls={"ridge (lam = 1) sold as min-norm least squares": partial(study_baselines, ls_ridge=1.0)},
))
