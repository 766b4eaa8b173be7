"""Zhang, Frei & Bartlett (2023), "Trained transformers learn linear models in-context" (JMLR 25
(2024), arXiv 2306.09927), Theorem 4.1 and its risk: the one-layer linear self-attention model
trained by gradient flow on prompts x_i ~ N(0, Lambda), w ~ N(0, I_d), y_i = w^T x_i converges to
the predictor yhat = x_q^T Gamma^{-1} (1/N) sum_i y_i x_i with
Gamma = (1 + 1/N) Lambda + (tr Lambda / N) I_d.

Claims:
* ``optimal_risk`` -- Monte Carlo risk of that predictor against the closed form
  R* = tr Lambda - tr(Gamma^{-1} Lambda^2) (derived in constructions/in_context/icl_theory.py), over a ladder of
  prompt lengths N (z-tests, Bonferroni).
* ``gamma_inverse_optimal`` -- Gamma^{-1} minimises the risk among preconditioners: the exact
  gradient vanishes, and the Monte Carlo directional derivatives at Gamma^{-1} vanish along the
  directions toward the near alternatives and random ones (z-tests with derived sample size).
* ``trained_lsa_converges`` -- training a one-layer LSA (Adam; numpy and JAX + optax backends) reaches
  the global minimiser of its pool's empirical risk within 5% (W_PV[d,d] W_KQ[:d,:d] against the
  least-squares minimiser icl_training.erm_product), and that minimiser is Gamma^{-1} up to the
  pool's sampling error (chi-square with the sandwich covariance); constructions/in_context/icl_training.py.

Negative controls: Gamma with one of its 1/N corrections written wrong (tr(Lambda)/(N+1) for
tr(Lambda)/N; (1 + 1/N) Lambda -> Lambda), the nearest alternatives, against which every
statistical acceptance states its power; a training run with learning rate zero.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from constructions.in_context import icl_theory as th
from numerics.mc_tests import samples_for_power, z_power, z_test
from numerics.plotting import ratio_figure, series_figure
from numerics.random import rng, spd_matrix
from numerics.tolerance import compare
from theorems.judges import Axis, adversarial_search, with_search
from theorems.registry import Claim, Verdict, register

PAPER = "zhang2023"
ALPHA = 1e-3  # family-wise false-failure probability of every statistical study below


def _covariance(d: int, seed: int) -> np.ndarray:
    """A non-isotropic Lambda with eigenvalues geometric from 1 to 1/4 and a random eigenbasis."""
    return spd_matrix(d, 4.0, seed)


# Every statistical acceptance below states its size and its power against named near alternatives
# (CONTRIBUTING.md section 5): the paper's Gamma with one of its own 1/N correction terms written
# wrong. The study derives its sample size from the required power, and the same samples must
# reject every alternative; each alternative is also a negative control (the whole study run with
# that Gamma).
ALTERNATIVES = {
    "tr(Lambda)/(N+1)": "Gamma = (1 + 1/N) Lambda + tr(Lambda)/(N+1) I",
    "(1 + 1/N) -> 1": "Gamma = Lambda + tr(Lambda)/N I",
}
BETA = 1e-3  # false-pass probability of each named alternative (power 1 - BETA)
PILOT = 20_000  # prompts of the pilot run that estimates the per-sample standard deviations
# head-room on the pilot's sd: the derivative samples are products of up to six Gaussians (heavy
# tails), and at 4000 pilot prompts their sd varied by a factor 2 over seeds 0-19
SD_MARGIN = 1.3


def gamma_variant(Lam: np.ndarray, N: int, variant: str = "paper") -> np.ndarray:
    """The paper's Gamma (``th.zfb_gamma``, the public construction) or a named near alternative."""
    if variant == "paper":
        return th.zfb_gamma(Lam, N)
    tr, eye = float(np.trace(Lam)), np.eye(Lam.shape[0])
    if variant == "tr(Lambda)/(N+1)":
        return (1.0 + 1.0 / N) * Lam + tr / (N + 1) * eye
    if variant == "(1 + 1/N) -> 1":
        return Lam + tr / N * eye
    raise ValueError(f"gamma variant must be 'paper' or one of {sorted(ALTERNATIVES)}, got {variant!r}")


def _claimed_risk(Lam: np.ndarray, N: int, variant: str) -> float:
    """tr Lambda - tr(Gamma^-1 Lambda^2) with the variant's Gamma (the paper's: th.zfb_optimal_risk)."""
    if variant == "paper":
        return th.zfb_optimal_risk(Lam, N)
    return float(np.trace(Lam) - np.trace(np.linalg.solve(gamma_variant(Lam, N, variant), Lam @ Lam)))


def _power_text(power: dict) -> str:
    return ", ".join(f"{k}: {v:.4f}" for k, v in power.items())


def study_optimal_risk(profile: str, seed: int, gamma: str = "paper") -> Verdict:
    """MC risk of yhat = x_q^T Gamma^{-1} h vs R* = tr Lambda - tr(Gamma^{-1} Lambda^2), N ladder.

    Size: ALPHA = 1e-3 over all N (Bonferroni; CLT for the squared errors, which have all moments).
    Power: against each named alternative (the predictor and the closed form both written with the
    alternative Gamma), whose exact risk gap R(A') - R*' = (tr Lambda / N(N+1)) tr(A' Lambda A'
    Lambda) (tr(Lambda)/(N+1)) comes from ``th.preconditioner_risk``; M is the smallest sample
    size at which the alternative is rejected with probability >= 1 - BETA at its best N, from a
    pilot's standard deviation (times SD_MARGIN). The same samples must reject each alternative.
    ``gamma`` names the Gamma of the predictor and of the closed form ('paper' or an alternative:
    the negative controls)."""
    d = 3
    Ns = [2, 4, 8, 16] if profile == "fast" else [2, 4, 8, 16, 32, 64]
    Lam = _covariance(d, seed)
    g = rng(seed)
    pilot_g = g.spawn(1)[0]
    # sample size from the required power (pilot prompts are independent of the main ones)
    need = {}
    for alt in ALTERNATIVES:
        best = None
        for N in Ns:
            A_alt = np.linalg.inv(gamma_variant(Lam, N, alt))
            effect = th.preconditioner_risk(A_alt, Lam, N) - _claimed_risk(Lam, N, alt)
            sd = float(np.std(th.preconditioner_losses(A_alt, th.sample_gaussian_prompts(PILOT, N, Lam, pilot_g)),
                              ddof=1))
            m = samples_for_power(effect, SD_MARGIN * sd, alpha=ALPHA, tests=len(Ns), beta=BETA)
            if best is None or m < best:
                best, design = m, (effect, SD_MARGIN * sd)
        need[alt] = (best, design)
    M = max(m for m, _ in need.values())
    power = {alt: z_power(e, sd, M, alpha=ALPHA, tests=len(Ns)) for alt, (_, (e, sd)) in need.items()}
    need = {alt: m for alt, (m, _) in need.items()}
    tests, mc, closed, alt_z = [], [], [], {alt: [] for alt in ALTERNATIVES}
    realised = {alt: 0.0 for alt in ALTERNATIVES}
    for N in Ns:
        prompts = th.sample_gaussian_prompts(M, N, Lam, g)
        A = np.linalg.inv(gamma_variant(Lam, N, gamma))
        t = z_test(th.preconditioner_losses(A, prompts), _claimed_risk(Lam, N, gamma), alpha=ALPHA, tests=len(Ns))
        tests.append(t)
        mc.append(t.mean)
        closed.append(t.reference)
        for alt in ALTERNATIVES:
            A_alt = np.linalg.inv(gamma_variant(Lam, N, alt))
            losses = th.preconditioner_losses(A_alt, prompts)
            alt_z[alt].append(z_test(losses, _claimed_risk(Lam, N, alt), alpha=ALPHA, tests=len(Ns)).z)
            effect = th.preconditioner_risk(A_alt, Lam, N) - _claimed_risk(Lam, N, alt)
            p_N = z_power(effect, float(np.std(losses, ddof=1)), M, alpha=ALPHA, tests=len(Ns))
            realised[alt] = 1.0 - (1.0 - realised[alt]) * (1.0 - p_N)  # rejected at some N (independent N)
    worst = max(tests, key=lambda t: abs(t.z))
    thr = worst.threshold
    rejected = {alt: bool(np.max(np.abs(z)) > thr) for alt, z in alt_z.items()}
    holds = all(t.ok for t in tests) and all(rejected.values())
    alt_text = "; ".join(f"alternative {alt}: max |z| {np.max(np.abs(z)):.2f} "
                         f"({'rejected' if rejected[alt] else 'NOT rejected'})" for alt, z in alt_z.items())
    return Verdict(
        holds=holds,
        measured=f"worst over N = {Ns}: {worst.describe()}; M = {M} prompts per N from power 1 - {BETA:g}; "
                 f"design power {_power_text(power)}; {alt_text}",
        expected=f"MC risk = tr Lambda - tr(Gamma^-1 Lambda^2) at family level {ALPHA:g}, with power >= "
                 f"1 - {BETA:g} against each named alternative Gamma, which the same samples reject",
        evidence={"N": np.array(Ns, dtype=np.float64), "mc_risk": np.array(mc),
                  "stderr": np.array([t.stderr for t in tests]), "closed_form": np.array(closed),
                  "z": np.array([t.z for t in tests]), "threshold": thr,
                  "alternative_z": {k: np.array(v) for k, v in alt_z.items()},
                  "power": power, "realised_power": realised, "samples_needed": need, "samples": M, "d": d,
                  "gamma": gamma},
        notes=f"Lambda eigenvalues {np.round(np.linalg.eigvalsh(Lam), 4).tolist()}; alternatives: "
              + "; ".join(f"{k} ({v})" for k, v in ALTERNATIVES.items()),
    )


def plot_optimal_risk(verdict: Verdict):
    ev = verdict.evidence
    return series_figure(ev["N"], {"MC risk of Gamma^-1": ev["mc_risk"],
                                   "closed form tr L - tr(G^-1 L^2)": ev["closed_form"]},
                         xlabel="prompt length N", ylabel="risk E(yhat - y_q)^2", logx=True, logy=True,
                         title=verdict.measured,
                         yerr={"MC risk of Gamma^-1": ev["stderr"]} if np.shape(ev.get("stderr")) == np.shape(ev["mc_risk"]) else None)


def _unit(E: np.ndarray) -> np.ndarray:
    return E / np.linalg.norm(E)


def _exact_derivative(A: np.ndarray, E: np.ndarray, Lam: np.ndarray, N: int) -> float:
    """<grad R(A), E> with grad R(A) = 2 (Lam A Gamma Lam - Lam^2), Gamma the true E[h h^T] Lam^-1
    (the paper's, from th.zfb_gamma): R is quadratic in A."""
    G = th.zfb_gamma(Lam, N)
    return float(np.sum(2.0 * (Lam @ A @ G @ Lam - Lam @ Lam) * E))


def study_gamma_stationary(profile: str, seed: int, gamma: str = "paper") -> Verdict:
    """Gamma^{-1} is the stationary point of the risk R(A), checked two ways.

    (i) Exact: the closed-form gradient 2 (Lam A Gamma Lam - Lam^2) at A = Gamma_variant^{-1}
    vanishes, i.e. Lam A Gamma Lam = Lam^2 within 8 eps d cond(Gamma) (c = 8: three products of
    d x d matrices and one inverse).
    (ii) Monte Carlo (independent of the closed form): the per-prompt directional derivatives
    2 (yhat_A - y_q) x_q^T E h along each direction have mean 0, z-tests at family level ALPHA
    (Bonferroni over all directions). Directions: toward each named alternative,
    E_j = (A_j - A_paper)/||.||_F (the direction in which a wrong Gamma moves the minimiser), and
    K random unit directions. Power: at A_j the exact derivative along E_j is delta_j (a first-order
    quantity, 0.05 for tr(Lambda)/(N+1) at N = 4); M is derived from delta_j and the pilot's sd so
    that each alternative is rejected with probability >= 1 - BETA, and the same samples must
    reject each. ``gamma`` = an alternative evaluates the derivatives at A_j (negative controls).
    False-failure probability of the claim <= ALPHA + len(ALTERNATIVES) BETA."""
    d, N = 3, 4
    K = 2 if profile == "fast" else 6
    Lam = _covariance(d, seed)
    g = rng(seed)
    pilot_g = g.spawn(1)[0]
    A_paper = np.linalg.inv(th.zfb_gamma(Lam, N))
    A_alt = {alt: np.linalg.inv(gamma_variant(Lam, N, alt)) for alt in ALTERNATIVES}
    dirs = {f"toward {alt}": _unit(A_alt[alt] - A_paper) for alt in ALTERNATIVES}
    for k in range(K):
        dirs[f"random E{k}"] = _unit(g.standard_normal((d, d)))
    n_tests = len(dirs)
    pilot = th.sample_gaussian_prompts(PILOT, N, Lam, pilot_g)
    effect, need, sd_design = {}, {}, {}
    for alt in ALTERNATIVES:
        E = dirs[f"toward {alt}"]
        effect[alt] = _exact_derivative(A_alt[alt], E, Lam, N)
        sd = float(np.std(th.preconditioner_directional_derivatives(A_alt[alt], E, pilot), ddof=1))
        need[alt] = samples_for_power(effect[alt], SD_MARGIN * sd, alpha=ALPHA, tests=n_tests, beta=BETA)
        sd_design[alt] = SD_MARGIN * sd
    M = max(need.values())
    power = {alt: z_power(effect[alt], sd_design[alt], M, alpha=ALPHA, tests=n_tests) for alt in ALTERNATIVES}
    prompts = th.sample_gaussian_prompts(M, N, Lam, g)
    A = np.linalg.inv(gamma_variant(Lam, N, gamma))
    tests = {name: z_test(th.preconditioner_directional_derivatives(A, E, prompts), 0.0, alpha=ALPHA,
                          tests=n_tests) for name, E in dirs.items()}
    exact = {name: _exact_derivative(A, E, Lam, N) for name, E in dirs.items()}
    alt_tests, realised = {}, {}
    for alt in ALTERNATIVES:
        E = dirs[f"toward {alt}"]
        samples = th.preconditioner_directional_derivatives(A_alt[alt], E, prompts)
        alt_tests[alt] = z_test(samples, 0.0, alpha=ALPHA, tests=n_tests)
        realised[alt] = z_power(effect[alt], float(np.std(samples, ddof=1)), M, alpha=ALPHA, tests=n_tests)
    G = th.zfb_gamma(Lam, N)
    grad_check = compare(Lam @ A @ G @ Lam, Lam @ Lam, size=d, cond=float(np.linalg.cond(G)), c=8.0)
    worst = max(tests.values(), key=lambda t: abs(t.z))
    rejected = {alt: not t.ok for alt, t in alt_tests.items()}
    holds = grad_check.ok and all(t.ok for t in tests.values()) and all(rejected.values())
    z = np.array([t.z for t in tests.values()])
    alt_text = "; ".join(f"at A = Gamma'^-1 ({alt}): exact derivative {effect[alt]:.4f}, z = {t.z:+.2f} "
                         f"({'rejected' if rejected[alt] else 'NOT rejected'})" for alt, t in alt_tests.items())
    return Verdict(
        holds=holds,
        measured=f"exact gradient: {grad_check.describe()}; MC worst of {n_tests} directions: {worst.describe()}; "
                 f"M = {M} from power 1 - {BETA:g}; design power {_power_text(power)}; {alt_text}",
        expected=f"closed-form gradient 0 within 8 eps d cond(Gamma); MC directional derivatives consistent with 0 at "
                 f"family level {ALPHA:g}, with power >= 1 - {BETA:g} against each named alternative, which the "
                 "same samples reject",
        evidence={"labels": list(dirs), "z": z, "threshold": worst.threshold,
                  "ratios": np.abs(z) / worst.threshold, "exact_derivative": np.array(list(exact.values())),
                  "mc_derivative": np.array([t.mean for t in tests.values()]),
                  "alternative_z": {k: t.z for k, t in alt_tests.items()}, "alternative_effect": effect,
                  "power": power, "realised_power": realised, "samples_needed": need, "gradient_rel_error": grad_check.rel_error,
                  "gradient_tolerance": grad_check.tol, "samples": M, "N": N, "d": d, "gamma": gamma},
        notes="alternatives: " + "; ".join(f"{k} ({v})" for k, v in ALTERNATIVES.items()),
    )


def plot_stationary(verdict: Verdict):
    ev = verdict.evidence
    return ratio_figure(ev["labels"], ev["ratios"], ylabel="|z| / Bonferroni threshold",
                        title=verdict.measured[:90])


register(Claim(
    id="zhang2023.optimal_risk",
    paper=PAPER,
    where="Theorem 4.1 (limit of the trained LSA) and its prediction error",
    statement="The predictor x_q^T Gamma^{-1} (1/N) sum y_i x_i, Gamma = (1 + 1/N) Lambda + tr(Lambda)/N I, "
              "has risk tr Lambda - tr(Gamma^{-1} Lambda^2) on x ~ N(0, Lambda), w ~ N(0, I).",
    kind="distribution",
    expected="MC risk agrees with the closed form at every N (z-tests, family level 1e-3; power >= 0.999 "
             "against tr(Lambda)/(N+1) and against (1 + 1/N) -> 1, both rejected by the same samples)",
    study=study_optimal_risk,
    plot=plot_optimal_risk,
    controls={f"Gamma with {alt}": partial(study_optimal_risk, gamma=alt) for alt in ALTERNATIVES},
))

register(Claim(
    id="zhang2023.gamma_inverse_optimal",
    paper=PAPER,
    where="Theorem 4.1 (the limit is the risk minimiser among linear-attention predictors)",
    statement="Gamma^{-1} is a stationary point (the minimiser) of the risk over preconditioners A of "
              "yhat = x_q^T A (1/N) sum y_i x_i.",
    kind="distribution",
    expected="closed-form gradient at Gamma^-1 zero to float64; MC directional derivatives consistent with 0 "
             "(z-tests, family level 1e-3; power >= 0.999 against tr(Lambda)/(N+1) and (1 + 1/N) -> 1, both "
             "rejected by the same samples)",
    study=study_gamma_stationary,
    plot=plot_stationary,
    controls={f"A = Gamma^-1 with {alt}": partial(study_gamma_stationary, gamma=alt) for alt in ALTERNATIVES},
))


# --- training converges to Gamma^{-1} ---------------------------------------------------------


TRAINED_RTOL = 0.05  # the claim's stated accuracy of the trained product (see study_trained_lsa)
ERM_SIZE = 1e-3  # family-wise size of the chi-square tests of the pool's minimiser against Gamma^-1


def trained_distance(*, cond: float, N: int, profile: str, seed: int, learning_rate: float = 0.05) -> float:
    """||P - P_ERM||_F / ||P_ERM||_F after training on Lambda with condition ``cond`` (eigenvalues
    geometric from 1 to 1/cond, the seed's eigenbasis) and prompt length N: P the trained product,
    P_ERM the global minimiser of the same pool's empirical risk (icl_training.erm_product)."""
    from constructions.in_context import icl_training as tr

    d = 3
    steps, batch = (300, 512) if profile == "fast" else (3000, 2048)
    Lam = spd_matrix(d, cond, seed)
    r = tr.train_lsa(d, N, steps=steps, batch=batch, learning_rate=learning_rate, seed=seed, covariance=Lam)
    P_erm, _ = tr.erm_product(d, N, seed=seed, covariance=Lam)
    return float(np.linalg.norm(r.W_PV[d, d] * r.W_KQ[:d, :d] - P_erm) / np.linalg.norm(P_erm))


def study_trained_lsa(profile: str, seed: int, learning_rate: float = 0.05, rtol_scale: float = 1.0,
                      variant: str = "paper") -> Verdict:
    """Train one LSA layer (constructions/in_context/icl_training.py: Zhang et al.'s initialisation, Adam,
    minibatches of 512 (fast) / 2048 (full) from a pool of 2^16 prompts) and compare the weight
    product P = W_PV[d, d] W_KQ[:d, :d] with the global minimiser of the same pool's empirical risk,
    P_ERM (icl_training.erm_product: linear least squares in Zhang et al.'s invariant class, an
    independent reference that involves no training): ||P - P_ERM||_F / ||P_ERM||_F <= 5%, the
    optimiser's residual the claim allows.

    That P_ERM is Gamma^{-1} up to the pool's sampling error is checked separately: the statistic
    T = vec(P_ERM - Gamma^-1)^T cov^-1 vec(P_ERM - Gamma^-1) (sandwich covariance) is chi-square with
    d^2 = 9 dof when the population minimiser is Gamma^{-1} (Theorem 4.1's limit); each N is tested at
    size 1e-3 / len(Ns) (family-wise 1e-3, Bonferroni; measured under Gamma^-1: T 2.8-17.7 at fast
    seeds 0-19, 2.8-12.4 at full seeds 0-4, thresholds 27.9 and 30.7). ``variant`` replaces Gamma by a
    named near alternative in that test: with (1 + 1/N) Lambda -> Lambda (the control) T is 242-337
    (fast, seeds 0-19) and at least 116 (full, the largest over N, seeds 0-4), so the same pool rejects
    it with power ~1; tr(Lambda)/(N + 1) for tr(Lambda)/N differs by O(1/N^2) and is resolved only at
    short prompts (T 100-400 at N = 2-4, 28-54 at N = 8, 3-12 at N = 16), so it is not a control here
    (gamma_inverse_optimal rejects it). A 5% distance of P to Gamma^{-1} itself is not a sound check: the pool's own minimiser is
    2-7% from Gamma^{-1} at cond 10, N = 2 (seeds 0-4), which 12000 Adam steps at seed 2 reproduce
    (7.2%) rather than beat.

    The blocks Zhang et al. prove stay zero (W_PV[d, :d], W_KQ[d, :]...) are reported, not judged.
    ``learning_rate = 0`` (weights frozen at the initialisation) is the negative control. Adversarial
    search (:func:`theorems.judges.adversarial_search`) over the admissible training inputs (fast,
    300 steps: cond(Lambda) in [1, 4], N in [4, 32]; full, 3000 steps: cond in [1, 10], N in [2, 16])
    for the largest ||P - P_ERM|| / 5%; ``rtol_scale = 0.5`` (the 5% halved) is the control the
    search must break."""
    from scipy import stats

    from constructions.in_context import icl_training as tr

    d = 3
    Ns = [8] if profile == "fast" else [4, 8, 16]
    steps, batch = (300, 512) if profile == "fast" else (3000, 2048)
    Lam = _covariance(d, seed)
    errors, to_gamma, chi2, curves, off = [], [], [], {}, []
    for N in Ns:
        r = tr.train_lsa(d, N, steps=steps, batch=batch, learning_rate=learning_rate, seed=seed,
                         covariance=Lam)
        P = r.W_PV[d, d] * r.W_KQ[:d, :d]
        P_erm, cov = tr.erm_product(d, N, seed=seed, covariance=Lam)
        Gi = np.linalg.inv(gamma_variant(Lam, N, variant))
        errors.append(float(np.linalg.norm(P - P_erm) / np.linalg.norm(P_erm)))
        to_gamma.append(float(np.linalg.norm(P - Gi) / np.linalg.norm(Gi)))
        dev = (P_erm - Gi).ravel()
        chi2.append(float(dev @ np.linalg.solve(cov, dev)))
        off.append(float(max(np.abs(r.W_PV[d, :d]).max(), np.abs(r.W_KQ[d, :]).max(),
                             np.abs(r.W_KQ[:d, d]).max())))
        curves[N] = r.losses
    worst = int(np.argmax(errors))
    N0 = Ns[0]
    rtol = TRAINED_RTOL * rtol_scale
    threshold = float(stats.chi2.ppf(1.0 - ERM_SIZE / len(Ns), d * d))
    # the admissible box each training budget is claimed for: 300 steps reach 5% of P_ERM only up
    # to cond(Lambda) = 4 (at cond 10 the fast run is still 4-47% away, seeds 0-2)
    budget = {"starts": 2, "evaluations": 5} if profile == "fast" else {"starts": 1, "evaluations": 6}
    box = {"cond": Axis(1.0, 4.0, log=True), "N": Axis(4, 32, log=True, integer=True)} if profile == "fast" else \
        {"cond": Axis(1.0, 10.0, log=True), "N": Axis(2, 16, log=True, integer=True)}
    search = adversarial_search(
        lambda cond, N: trained_distance(cond=cond, N=N, profile=profile, seed=seed,
                                         learning_rate=learning_rate) / rtol, box, seed=seed, **budget)
    return with_search(Verdict(
        holds=bool(max(errors) <= rtol and max(chi2) <= threshold),
        measured=f"max ||P - P_ERM||_F / ||P_ERM||_F = {errors[worst]:.4f} at N = {Ns[worst]} "
                 f"({steps} Adam steps, batch {batch}); P_ERM vs Gamma^-1: chi-square "
                 f"{', '.join(f'{t:.1f}' for t in chi2)} (9 dof, threshold {threshold:.1f}); "
                 f"||P - Gamma^-1|| / ||Gamma^-1|| up to {max(to_gamma):.4f}; largest off-block weight {max(off):.2e}",
        expected=f"relative Frobenius distance of W_PV[d,d] W_KQ[:d,:d] to the pool's minimiser <= {rtol:g}; "
                 f"that minimiser consistent with Gamma^-1 (chi-square, size {ERM_SIZE:g})",
        evidence={"N": np.array(Ns, dtype=np.float64), "rel_errors": np.array(errors), "max_ratio": max(errors) / rtol,
                  "to_gamma": np.array(to_gamma), "chi2": np.array(chi2), "chi2_threshold": threshold,
                  "off_block": np.array(off), "loss_curve": curves[N0], "curve_N": N0,
                  "optimal_loss": 0.5 * th.zfb_optimal_risk(Lam, N0), "steps": steps, "batch": batch},
    ), search, judged=profile == "full",
        why_not_judged="the fast profile's 300 Adam steps do not reach 5% of the pool's minimiser over the whole "
                       "box; the claim is convergence, judged in the full profile (3000 steps)")


def plot_trained_lsa(verdict: Verdict):
    ev = verdict.evidence
    loss = np.asarray(ev["loss_curve"])
    window = max(1, loss.size // 50)
    smooth = np.convolve(loss, np.ones(window) / window, mode="valid")
    steps = np.arange(smooth.size) + window
    return series_figure(steps, {"training loss (moving average)": smooth,
                                 "R*/2 of Gamma^-1 (closed form)": np.full(smooth.size, ev["optimal_loss"])},
                         xlabel="Adam step", ylabel="loss (1/2B) sum (yhat - y)^2", logy=True,
                         title=verdict.measured[:90])


register(Claim(
    id="zhang2023.trained_lsa_converges",
    paper=PAPER,
    where="Theorem 4.1 (convergence of gradient flow to the global minimum)",
    statement="A one-layer LSA trained on prompts x ~ N(0, Lambda), w ~ N(0, I) from the paper's "
              "initialisation converges to W_PV[d,d] W_KQ[:d,:d] = Gamma^{-1}.",
    kind="bound",
    expected="relative Frobenius distance to the pool's global minimiser <= 5% after training (fast: N = 8, "
             "300 steps), and that minimiser consistent with Gamma^-1 (chi-square, 9 dof, family-wise size 1e-3)",
    study=study_trained_lsa,
    plot=plot_trained_lsa,
    controls={"learning rate 0": partial(study_trained_lsa, learning_rate=0.0),
              "(1 + 1/N) -> 1 in Gamma": partial(study_trained_lsa, variant="(1 + 1/N) -> 1")},
))
