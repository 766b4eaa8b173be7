"""von Oswald, Niklasson, Randazzo, Sacramento, Mordvintsev, Zhmoginov & Vladymyrov (2023),
"Transformers learn in-context by gradient descent" (ICML 2023, arXiv 2212.07677), section 3 and
Figure 2: a single linear self-attention layer *trained* on random linear-regression tasks
(d = N = 10, x ~ U(-0.5, 0.5)^d, w ~ N(0, I), y = w^T x) reaches the loss of one gradient-descent
step with the best learning rate (about 0.2 in the paper's L = (1/2B) sum (yhat - y)^2), and its
predictions and sensitivities d yhat / d x_q align with that GD step.

(The claim belongs to the paper key vonoswald2023; its construction side, Proposition 1, is
checked in theorems/in_context/vonoswald2023.py. This module holds the training claim only.)

Reference values are closed forms (constructions/in_context/icl_training.py): eta* = E[y_q x_q^T h] /
E[(x_q^T h)^2] and L_GD = (1/2)(d/12 - cross^2/quad) with E x x^T = I/12, E x^4 = 1/80; for
d = N = 10: eta* = 6.0606, L_GD = 0.206229. On a held-out test set (common random numbers for the
trained layer and GD) we require

* the MC GD loss is consistent with the closed form (z-test at level 1e-3: checks the formula);
* the trained layer's test loss is within 5% of the GD test loss (the paper's "reaches");
* von Oswald's alignment metrics: mean cosine similarity of the sensitivities >= 0.99 and the
  relative L2 prediction difference ||yhat_LSA - yhat_GD|| / ||yhat_GD|| <= 0.1.

The fast profile runs the same d = N = 10 with 300 Adam steps of batch 512 (JIT compile included,
about 4 s); the full profile 3000 steps of batch 2048 and a larger test set. Negative controls: a
run with learning rate 0 (the weights stay at the initialisation); the z-test against the
Gaussian-moment closed form; and the near one, the trained layer compared with the GD step of the
wrong size 0.89 eta* (STEP_OFFSET: the smallest wrong step the study's 0.1 resolves, derived there).
"""

from __future__ import annotations

from functools import partial

import numpy as np

from constructions.in_context import icl_training as tr
from numerics.mc_tests import samples_for_power, z_power, z_test
from numerics.plotting import series_figure
from theorems.judges import Axis, adversarial_search, with_search
from theorems.registry import Claim, Verdict, register

PAPER = "vonoswald2023"
D = N = 10


def _ridge_test_loss(X, y, xq, yq, lam: float) -> float:
    G = np.einsum("bnd,bne->bde", X, X) + lam * np.eye(X.shape[-1])
    w = np.linalg.solve(G, np.einsum("bnd,bn->bd", X, y)[..., None])[..., 0]
    return float(0.5 * np.mean((np.einsum("bd,bd->b", w, xq) - yq) ** 2))


PRED_TOL = 0.1  # the claim's relative prediction difference
# The near control: the GD comparator with the step eta* (1 + STEP_OFFSET). GD predictions are linear
# in the step, so with y_LSA = (1 + a) y_GD + e (e orthogonal to y_GD, p = ||e|| / ||y_GD||; the study
# reports a and p as pred_diff_along / pred_diff_across) the comparator 1 + x off gives exactly
#     pred_diff(x) = sqrt((a - x)^2 + p^2) / |1 + x|.
# The loss check cannot see it (the GD loss is flat at eta*: + (cross^2 / 2 quad) x^2, 1% of L_GD at
# x = 0.1), nor the cosine (scale-free): only the prediction difference <= 0.1 can, so the nearest
# wrong step it rejects is about 10% off, not 1e-3. Measured on the claim's runs (seeds fast 0-19,
# full 0-4): a = -0.0059 +- 0.0066 / -0.0032 +- 0.0060 (mean +- sd), range [-0.018, +0.013];
# p = 0.0701 +- 0.0046 / 0.0485 +- 0.0022, smallest 0.0452 (full, seed 4). At the 3-sd corner of each
# profile (a = mean - 3 sd, p = mean - 3 sd) the smallest |x| in steps of 0.01 with pred_diff(x) > 0.1
# is x = -0.11 (a too-small step, roots 0.0963 fast and 0.1008 full); a too-large step needs x = +0.12
# (roots 0.1094, 0.1184: the 1 / (1 + x) shrinks the difference), so -0.11 is the nearer. Predicted at
# the measured seeds: pred_diff >= 0.129 (fast) and >= 0.123 (full).
STEP_OFFSET = -0.11

# Size and power of the z-test of the GD loss against its closed form (CONTRIBUTING.md section 5):
# size Z_ALPHA; power >= 1 - Z_BETA against the nearest wrong closed form of its kind, the same
# formula with the fourth moment of a Gaussian of the same variance, E x^4 = 3 (1/12)^2 = 1/48,
# instead of the uniform's 1/80 (the (1/N) E x^4 term is the formula's own finite-N correction).
# The test-set size is the larger of the profile's and the one samples_for_power derives from a
# pilot (independent prompts, sd times SD_MARGIN); the same test set must reject the alternative.
Z_ALPHA = 1e-3
Z_BETA = 1e-3
SD_MARGIN = 1.2
FOURTH_MOMENTS = {"uniform": 1.0 / 80.0, "gaussian": 3.0 / 144.0}


def gd_loss_with_fourth_moment(d: int, N: int, m4: float) -> float:
    """(1/2)(d/12 - cross^2/quad) with E x^4 = m4 in quad (m4 = 1/80: the uniform closed form of
    constructions.in_context.icl_training.uniform_gd_optimal_loss; 1/48: the Gaussian-moment alternative)."""
    cross = d / 144.0
    quad = (d / 12.0) * ((1.0 / N) * (m4 + (d - 1) / 144.0) + (1.0 - 1.0 / N) / 144.0)
    return 0.5 * (d / 12.0 - cross**2 / quad)


def study_trained_matches_gd(profile: str, seed: int, learning_rate: float = 0.05, gd_step_scale: float = 1.0,
                             fourth_moment: str = "uniform") -> Verdict:
    """Train, then compare with the optimal one-step GD on a held-out test set (see module doc).

    False-failure probability of the statistical part: 1e-3 (one z-test). Its power against the
    Gaussian-fourth-moment closed form (E x^4 = 1/48 instead of 1/80: 0.21825 vs 0.20623) is
    computed from the test set's sd and must be >= 1 - 1e-3, and the same test set must reject that
    alternative; ``fourth_moment='gaussian'`` (a control) z-tests against the alternative instead.
    The 5% / 0.99 / 0.1 criteria are the claim's stated accuracy, not statistical thresholds.

    Adversarial search (:func:`theorems.judges.adversarial_search`) over the admissible query
    x_q in [-1/2, 1/2]^d: the relative prediction difference ||y_LSA - y_GD|| / ||y_GD|| over 2000
    held-out contexts all asked at that query, divided by 0.1 (the sweep draws x_q at random).
    Reported beside the test-set figure, not judged: the claim is a mean over queries, and the
    per-query worst case exceeds 0.1 after the fast profile's training (see the notes).

    ``gd_step_scale`` scales the step of the GD comparator the trained layer is compared with
    (loss gap, sensitivities, predictions, search): eta = eta* gd_step_scale; the z-tests of the
    closed form keep eta*. The near control runs it 11% off (STEP_OFFSET: why 11%); only the
    prediction difference rejects it."""
    steps, batch, n_test = (300, 512, 20_000) if profile == "fast" else (3000, 2048, 100_000)
    r = tr.train_lsa(D, N, steps=steps, batch=batch, learning_rate=learning_rate, seed=seed,
                     distribution="uniform")
    eta = tr.uniform_gd_optimal_step(D, N)
    L_uniform = tr.uniform_gd_optimal_loss(D, N)
    L_alt = gd_loss_with_fourth_moment(D, N, FOURTH_MOMENTS["gaussian"])
    effect = L_alt - L_uniform
    # pilot (prompts independent of the test set) for the test-set size the power requires
    Xp, yp, xqp, yqp = tr.sample_pool(5000, N, D, seed + 2_000_003, distribution="uniform")
    pilot_sd = float(np.std(0.5 * (np.asarray(tr.gd_predict(eta, Xp, yp, xqp), dtype=np.float64) - yqp) ** 2, ddof=1))
    n_needed = samples_for_power(effect, SD_MARGIN * pilot_sd, alpha=Z_ALPHA, beta=Z_BETA)
    n_test = max(n_test, n_needed)
    X, y, xq, yq = tr.sample_pool(n_test, N, D, seed + 1_000_003, distribution="uniform")
    L_closed = gd_loss_with_fourth_moment(D, N, FOURTH_MOMENTS[fourth_moment]) if fourth_moment != "uniform" \
        else L_uniform
    y_lsa = np.asarray(tr.lsa_predict(r.W_KQ, r.W_PV, X, y, xq), dtype=np.float64)
    y_gd = np.asarray(tr.gd_predict(eta, X, y, xq), dtype=np.float64)
    eta_cmp = eta * gd_step_scale  # the comparator's step (eta* unless a control)
    y_cmp = np.asarray(tr.gd_predict(eta_cmp, X, y, xq), dtype=np.float64)
    sq_gd = 0.5 * (y_gd - yq) ** 2
    t_gd = z_test(sq_gd, L_closed, alpha=Z_ALPHA)
    t_alt = z_test(sq_gd, L_alt, alpha=Z_ALPHA)
    sd_gd = float(np.std(sq_gd, ddof=1))
    power = z_power(effect, sd_gd, n_test, alpha=Z_ALPHA)
    L_lsa = float(np.mean(0.5 * (y_lsa - yq) ** 2))
    L_gd = float(np.mean(0.5 * (y_cmp - yq) ** 2))
    s_lsa = tr.lsa_sensitivity(r.W_KQ, r.W_PV, X, y)
    s_gd = tr.gd_sensitivity(eta_cmp, X, y)
    cos = np.einsum("bd,bd->b", s_lsa, s_gd) / (np.linalg.norm(s_lsa, axis=1) * np.linalg.norm(s_gd, axis=1)
                                                 + 1e-300)
    mean_cos = float(cos.mean())
    pred_diff = float(np.linalg.norm(y_lsa - y_cmp) / np.linalg.norm(y_cmp))
    # the difference from the eta* GD step split along and across its predictions (module constants)
    diff_along = float(np.dot(y_lsa - y_gd, y_gd) / np.dot(y_gd, y_gd))
    diff_across = float(np.linalg.norm(y_lsa - y_gd - diff_along * y_gd) / np.linalg.norm(y_gd))
    loss_gap = L_lsa / L_gd - 1.0
    tol = PRED_TOL
    Xs, ys = X[:2000], y[:2000]

    def query_ratio(**coords):
        q = np.broadcast_to(np.array([coords[f"x{i}"] for i in range(D)]), (Xs.shape[0], D))
        a = np.asarray(tr.lsa_predict(r.W_KQ, r.W_PV, Xs, ys, q), dtype=np.float64)
        b = np.asarray(tr.gd_predict(eta_cmp, Xs, ys, q), dtype=np.float64)
        return float(np.linalg.norm(a - b) / np.linalg.norm(b)) / tol

    budget = {"starts": 2, "evaluations": 40} if profile == "fast" else {"starts": 6, "evaluations": 150}
    search = adversarial_search(query_ratio, {f"x{i}": Axis(-0.5, 0.5) for i in range(D)}, seed=seed, **budget)
    checks = {"GD loss closed form (z-test)": t_gd.ok,
              "Gaussian-moment closed form rejected": not t_alt.ok,
              f"power >= {1 - Z_BETA:g}": power >= 1.0 - Z_BETA,
              "loss within 5% of GD": abs(loss_gap) <= 0.05,
              "mean sensitivity cosine >= 0.99": mean_cos >= 0.99,
              f"relative prediction difference <= {tol:g}": pred_diff <= tol}
    failed = [k for k, v in checks.items() if not v]
    ridge = min(_ridge_test_loss(X[:5000], y[:5000], xq[:5000], yq[:5000], lam)
                for lam in (1e-4, 1e-3, 1e-2))
    return with_search(Verdict(
        holds=not failed,
        measured=(f"failed: {', '.join(failed)} (rel. pred. diff {pred_diff:.4f}); " if failed else "")
                 + f"test loss LSA {L_lsa:.4f} vs GD {L_gd:.4f} ({100 * loss_gap:+.2f}%), closed form "
                 f"{L_closed:.4f} (z = {t_gd.z:+.2f}, |z| <= {t_gd.threshold:.2f}, size 1e-3; Gaussian-moment "
                 f"closed form {L_alt:.4f}: z = {t_alt.z:+.2f}, power {power:.6f} >= {1 - Z_BETA:g} with {n_test} "
                 f"test prompts, {n_needed} derived from the pilot); mean cos {mean_cos:.4f}; rel. pred. diff "
                 f"{pred_diff:.4f}" + (f" against the GD step {eta_cmp:.4f} = {gd_step_scale:g} eta*"
                                       if gd_step_scale != 1.0 else ""),
        expected="loss within 5% of one-step GD (closed form 0.2062; z-test size 1e-3, power >= 0.999 against "
                 "the Gaussian-moment closed form 0.2183, which the same test set rejects), cos >= 0.99, "
                 "pred. diff <= 0.1",
        evidence={"loss_curve": r.losses, "lsa_test_loss": L_lsa, "gd_test_loss": L_gd,
                  "gd_closed_form": L_closed, "eta_star": eta, "z": t_gd.z, "alternative_z": t_alt.z,
                  "alternative_closed_form": L_alt, "power": power, "gd_loss_sd": sd_gd, "n_test": n_test, "n_test_needed": n_needed, "mean_cos": mean_cos,
                  "pred_diff": pred_diff, "pred_diff_along": diff_along, "pred_diff_across": diff_across,
                  "gd_step": eta_cmp, "failed_checks": failed, "max_ratio": pred_diff / tol, "ridge_test_loss": ridge, "steps": steps, "batch": batch,
                  "learned_scale": float(r.W_PV[D, D] * np.trace(r.W_KQ[:D, :D]) / D)},
        notes=f"learned W_PV[d,d] * mean diag W_KQ = {r.W_PV[D, D] * np.trace(r.W_KQ[:D, :D]) / D:.4f} "
              f"vs eta* = {eta:.4f}; best ridge (lam in 1e-4..1e-2) test loss {ridge:.2e} "
              "(N = d: least squares interpolates the noiseless data)",
    ), search, judged=False,
        why_not_judged="the claim (and its 0.1) is a mean over the task distribution; the search attacks the "
                       "per-query version, the operator-norm analogue of that mean (seed 0: 1.07 after the fast "
                       "profile's 300 steps, 0.86 after the full profile's 3000)")


def plot_trained_matches_gd(verdict: Verdict):
    ev = verdict.evidence
    loss = np.asarray(ev["loss_curve"])
    window = max(1, loss.size // 50)
    smooth = np.convolve(loss, np.ones(window) / window, mode="valid")
    steps = np.arange(smooth.size) + window
    return series_figure(steps, {"trained LSA (training loss, moving average)": smooth,
                                 "one-step GD, best eta (closed form)": np.full(smooth.size, ev["gd_closed_form"]),
                                 "ridge, best lam (test set)": np.full(smooth.size, max(ev["ridge_test_loss"], 1e-6))},
                         xlabel="Adam step", ylabel="loss (1/2B) sum (yhat - y)^2", logy=True,
                         title=verdict.measured[:90])


register(Claim(
    id="vonoswald2023.trained_matches_gd",
    paper=PAPER,
    where="Section 3 and Figure 2 (single trained LSA layer vs one GD step)",
    statement="A single LSA layer trained on d = N = 10 regression tasks with x ~ U(-0.5, 0.5)^d "
              "reaches the loss of one GD step with tuned learning rate (about 0.2) and its "
              "predictions and sensitivities align with that GD step.",
    kind="bound",
    expected="test loss within 5% of one-step GD (closed form 0.2062; its z-test has size 1e-3 and power >= 0.999 "
             "against the Gaussian-moment closed form 0.2183, which the same test set rejects), sensitivity "
             "cosine >= 0.99, relative prediction difference <= 0.1",
    study=study_trained_matches_gd,
    plot=plot_trained_matches_gd,
    controls={"learning rate 0": partial(study_trained_matches_gd, learning_rate=0.0),
              f"GD comparator step {1 + STEP_OFFSET:g} eta* (the best step {-STEP_OFFSET:.0%} off)":
                  partial(study_trained_matches_gd, gd_step_scale=1.0 + STEP_OFFSET),
              "closed form with the Gaussian fourth moment 1/48": partial(study_trained_matches_gd,
                                                                          fourth_moment="gaussian")},
))
