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
Negative controls: ridge (lam = 1) sold as the min-norm least-squares baseline, and the nearest
wrong closed forms (k - d - 1 -> k - d in least squares, d + 1 -> d in averaging), against which
the sample size is derived for power 1 - 1e-3.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from constructions.in_context import icl_theory as th
from numerics.mc_tests import samples_for_power, z_power, z_test
from numerics.plotting import series_figure
from numerics.random import rng
from theorems.registry import Claim, Verdict, register

PAPER = "garg2022"
ALPHA = 1e-3  # family-wise false-failure probability
BETA = 1e-3  # false-pass probability of each named alternative (power 1 - BETA)
PILOT = 2000  # prompts per cell of the pilot that estimates the per-sample standard deviations
SD_MARGIN = 1.3  # head-room on the pilot sd (squared errors of Wishart-type quantities: heavy tails)


def _ls_alt(d: int, k: int, s2: float) -> float:
    """Min-norm LS with the inverse-Wishart correction dropped: sigma^2 k/(d - k), sigma^2 d/(k - d)."""
    if s2 == 0.0:
        return float(max(d - k, 0))
    return float((d - k) + s2 * k / (d - k)) if k < d else float(s2 * d / (k - d))


def _avg_alt(d: int, k: int, s2: float) -> float:
    """Averaging with the fourth-moment term dropped: d (d + sigma^2)/k instead of d (d + 1 + sigma^2)/k."""
    return float(d * (d + s2) / k)


# the nearest wrong closed forms: each drops one of the paper's own finite-k correction terms
ALTERNATIVES = {"LS without the -1 of k - d - 1 / d - k - 1": ("LS", _ls_alt),
                "averaging without the +1 of d + 1 + sigma^2": ("avg", _avg_alt)}


def study_baselines(profile: str, seed: int, ls_ridge: float = 0.0, formula: str = "paper") -> Verdict:
    """MC excess risks of min-norm LS and averaging vs their closed forms over a k ladder.

    False-failure probability ALPHA = 1e-3 over all cells (Bonferroni; CLT with finite variance:
    inverse-Wishart second moments exist for |k - d| >= 4, we use >= 6). ``ls_ridge > 0`` replaces
    the pseudo-inverse by ridge with that lam (negative control).

    Power: against each named alternative closed form (ALTERNATIVES: one finite-k correction term
    of the paper's formulas dropped), M is the smallest sample size at which the alternative is
    rejected with probability >= 1 - BETA in its best cell (pilot sd x SD_MARGIN), at least the
    profile's floor; the same samples must reject each alternative. ``formula`` = an alternative
    judges the samples against that closed form (the near negative controls)."""
    d = 12 if profile == "fast" else 16
    M_floor = 4_000 if profile == "fast" else 40_000
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
    closed = {"LS": th.min_norm_ls_risk, "avg": th.averaging_risk}
    if formula != "paper":
        est, alt = ALTERNATIVES[formula]
        closed[est] = alt

    def errors(p):
        w_ls = th.ridge_estimator(p["X"], p["y"], ls_ridge) if ls_ridge > 0 else th.min_norm_ls(p["X"], p["y"])
        w_avg = th.averaging_estimator(p["X"], p["y"])
        return {"LS": np.sum((w_ls - p["w"]) ** 2, axis=1), "avg": np.sum((w_avg - p["w"]) ** 2, axis=1)}

    # sample size from the required power against each alternative (pilot independent of the main draw)
    pilot_g = g.spawn(1)[0]
    need, design = {}, {}
    for s2, k in cells:
        e = errors(th.sample_gaussian_prompts(PILOT, k, np.eye(d), pilot_g, sigma=float(np.sqrt(s2))))
        for name, (est, alt) in ALTERNATIVES.items():
            effect = (th.min_norm_ls_risk if est == "LS" else th.averaging_risk)(d, k, s2) - alt(d, k, s2)
            if effect == 0.0 or (est == "LS" and s2 == 0.0):
                continue
            sd = SD_MARGIN * float(np.std(e[est], ddof=1))
            m = samples_for_power(effect, sd, alpha=ALPHA, tests=n_tests, beta=BETA)
            if name not in need or m < need[name]:
                need[name], design[name] = m, (effect, sd)
    M = max(M_floor, max(need.values()))
    power = {name: z_power(eff, sd, M, alpha=ALPHA, tests=n_tests) for name, (eff, sd) in design.items()}
    tests, rows, alt_z = [], [], {name: [] for name in ALTERNATIVES}
    for s2, k in cells:
        p = th.sample_gaussian_prompts(M, k, np.eye(d), g, sigma=float(np.sqrt(s2)))
        e = errors(p)
        err_ls, err_avg = e["LS"], e["avg"]
        if s2 == 0.0 and k >= d:
            # noiseless and determined: LS is exact; an identity at round-off, not a z-test
            t_ls = None
            exact_ok = bool(np.max(err_ls) <= 1e-20 * d * k) if ls_ridge == 0 else False
        else:
            t_ls = z_test(err_ls, closed["LS"](d, k, s2), alpha=ALPHA, tests=n_tests)
            exact_ok = True
        t_avg = z_test(err_avg, closed["avg"](d, k, s2), alpha=ALPHA, tests=n_tests)
        for name, (est, alt) in ALTERNATIVES.items():
            if est == "LS" and s2 == 0.0:
                continue
            alt_z[name].append(z_test(e[est], alt(d, k, s2), alpha=ALPHA, tests=n_tests).z)
        tests.append((f"LS k={k} s2={s2}", t_ls, exact_ok))
        tests.append((f"avg k={k} s2={s2}", t_avg, True))
        rows.append((s2, k, float(err_ls.mean()), th.min_norm_ls_risk(d, k, s2), t_avg.mean, t_avg.reference))
    zs = [(lbl, t) for lbl, t, _ in tests if t is not None]
    worst_lbl, worst = max(zs, key=lambda p: abs(p[1].z))
    rejected = {name: bool(np.max(np.abs(z)) > worst.threshold) for name, z in alt_z.items()}
    ok = all((t is None or t.ok) and e for _, t, e in tests) and all(rejected.values())
    failed_exact = [lbl for lbl, _, e in tests if not e]
    measured = (f"worst cell {worst_lbl}: {worst.describe()}; M = {M} from power 1 - {BETA:g}; design power "
                + ", ".join(f"{k}: {v:.4f}" for k, v in power.items()) + "; "
                + "; ".join(f"alternative {k}: max |z| {np.max(np.abs(z)):.2f} "
                            f"({'rejected' if rejected[k] else 'NOT rejected'})" for k, z in alt_z.items()))
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
                  "threshold": worst.threshold, "power": power, "samples_needed": need,
                  "alternative_z": {k: np.array(v) for k, v in alt_z.items()}},
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
    expected="MC excess risks agree with the closed forms (z-tests, family level 1e-3; power >= 0.999 against "
             "each formula with a finite-k correction term dropped, which the same samples reject)",
    study=study_baselines,
    plot=plot_baselines,
    controls={"ridge (lam = 1) sold as min-norm least squares": partial(study_baselines, ls_ridge=1.0)}
    | {f"closed form: {name}": partial(study_baselines, formula=name) for name in ALTERNATIVES},
))
