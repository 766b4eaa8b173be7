"""Splitting methods with exact sub-flows: orders, leading error terms, conjugacy (Hairer, Lubich &
Wanner, *Geometric Numerical Integration*, 2nd ed., Springer 2006, sections II.4-II.5, III.4).

For x' = (A + B) x with exact sub-flows phi^A_h = expm(h A), phi^B_h = expm(h B) (scipy.linalg.expm)
and the convention "a then b" (numerics.splitting):

* Lie–Trotter  L_h = e^{hB} e^{hA} = exp(h(A+B) + (h^2/2)[B, A] + O(h^3))   (BCH), so the local
  error is (h^2/2)[B, A] x + O(h^3) and the global order 1;
* Strang       S_h = e^{hA/2} e^{hB} e^{hA/2}
                   = exp(h(A+B) + h^3((1/12)[B,[B,A]] - (1/24)[A,[A,B]]) + O(h^5))   (symmetric BCH),
  local error h^3((1/12)[B,[B,A]] - (1/24)[A,[A,B]]) x + O(h^4), global order 2;
* commuting A, B: L_h = e^{h(A+B)} exactly: the error is round-off and no slope may be fitted;
* conjugacy (from the group property phi_s o phi_t = phi_{s+t} of exact flows): n Lie steps are n
  Strang steps conjugated by a half step of a,
      (phi^b_h o phi^a_h)^n = phi^a_{-h/2} o (S_h)^n o phi^a_{h/2},
  so Lie with the pre-/post-processing phi^a_{-h/2}, phi^a_{h/2} is second order.

The matrices are random, normalised to spectral norm 1, drawn from the study's seed; errors are
max-norm errors relative to ||x0|| = O(1). Constants are compared at h_c = 2^-10 within twice the
exact next term of the expansion there (O(h_c) ~ 1e-3 relative) plus round-off (eps / (C h_c^p)).
"""

from __future__ import annotations

from functools import partial

import numpy as np
import scipy.linalg

from numerics import EPS
from numerics.flows import linear_exact_flow
from numerics.plotting import convergence_figure
from numerics.random import rng
from numerics.rates import observed_order
from numerics.splitting import global_errors, integrate, lie_trotter, local_errors, strang
from numerics.tolerance import compare, constant_tolerance, derived_tolerance
from theorems.judges import (
    combine,
    identity_verdict,
    order_verdict,
    plot_identity,
    plot_order,
    regime_verdict,
)
from theorems.registry import Claim, Verdict, register
from theorems.splitting._common import (
    H_CONSTANT,
    lie_leading_term,
    noncommuting_pair,
    split_next_term,
    strang_leading_term,
)

# --- local and global orders with exact sub-flows --------------------------------------------

_SCHEMES = {"lie": (lie_trotter, lie_leading_term), "strang": (strang, strang_leading_term)}
# the claimed step as a product of exponentials, leftmost first (numerics.splitting: "a then b")
_FACTORS = {"lie": [(1.0, "B"), (1.0, "A")], "strang": [(0.5, "A"), (1.0, "B"), (0.5, "A")]}


def study_splitting_order(profile: str, seed: int, scheme: str = "strang", claimed: int = 2,
                          term: str | None = None, swap: bool = False) -> Verdict:
    """Local order claimed + 1 with the predicted leading term at h_c, global order claimed.

    Leading-term tolerance (numerics.tolerance.constant_tolerance, c = 2): the exact next term of
    the claimed scheme's local error, h_c^(p+2) N x with N from the Taylor series of the factors
    (theorems.splitting._common.split_next_term), relative to the predicted term, plus round-off
    8 eps d ||x|| / ||predicted|| (a few roundings per matrix-vector product of the two flows).

    ``scheme`` builds the step, ``term`` names the predicted leading term (default: the scheme's);
    ``swap`` runs the scheme with the flows in the order b, a (the convention check).
    """
    d = 4 if profile == "fast" else 6
    A, B = noncommuting_pair(d, seed)
    x0 = rng(seed + 1).standard_normal(d)
    x0 /= np.max(np.abs(x0))
    fa, fb = linear_exact_flow(A), linear_exact_flow(B)
    build = _SCHEMES[scheme][0]
    predict = _SCHEMES[term or scheme][1]
    step = build(fb, fa) if swap else build(fa, fb)
    exact = linear_exact_flow(A + B)

    # local errors: a ladder from h = 1/2 down to where the error is ~1e-13 (above round-off)
    k_max = {1: 16, 2: 11}.get(claimed, 11) if profile == "fast" else {1: 18, 2: 13}.get(claimed, 12)
    h_loc = 2.0 ** -np.arange(1, k_max + 1)
    e_loc = local_errors(step, exact, x0, h_loc)
    fit_loc = observed_order(h_loc, e_loc, expected=float(claimed + 1))
    v_loc = order_verdict(fit_loc, float(claimed + 1), exclude=float(claimed), xlabel="h", ylabel="local error")

    # leading term at h_c: relative max-norm distance between measured and predicted error vectors
    hc = H_CONSTANT
    measured_vec = step(x0, hc) - exact(x0, hc)
    predicted_vec = predict(A, B, x0, hc)
    rel = float(np.max(np.abs(measured_vec - predicted_vec)) / np.max(np.abs(predicted_vec)))
    scheme_claimed = term or scheme
    nxt = hc ** (claimed + 2) * (split_next_term(_FACTORS[scheme_claimed], A, B, claimed + 2) @ x0)
    pred_max = float(np.max(np.abs(predicted_vec)))
    rtol = constant_tolerance(float(np.max(np.abs(nxt))) / pred_max,
                              roundoff=8.0 * EPS * d * float(np.max(np.abs(x0))) / pred_max)
    c_measured = float(np.max(np.abs(measured_vec)) / hc ** (claimed + 1))
    c_predicted = float(np.max(np.abs(predicted_vec)) / hc ** (claimed + 1))

    # global errors at T = 1
    T = 1.0
    ns = 2 ** np.arange(1, (12 if claimed == 1 else 10) + (0 if profile == "fast" else 2))
    reference = exact(x0, T)
    e_glob = global_errors(step, x0, T, ns, reference)
    fit_glob = observed_order(T / ns, e_glob, expected=float(claimed))
    v_glob = order_verdict(fit_glob, float(claimed), exclude=float(claimed - 1), xlabel="h = T/n",
                           ylabel="global error at T = 1")
    series = {"local error": (h_loc, e_loc),
              f"predicted leading term C h^{claimed + 1}": (h_loc, c_predicted * h_loc ** (claimed + 1))}
    return combine(
        [("global", v_glob), ("local", v_loc)],
        [("leading term", rel <= rtol,
          f"|measured - predicted| / |predicted| = {rel:.2e} at h = 2^-10 vs derived tolerance {rtol:.2e} "
          f"(C {c_measured:.5g} vs {c_predicted:.5g})")],
        expected=f"global order {claimed}, local order {claimed + 1}, leading term within 2 (next term + round-off)",
        extra={"series": series, "leading_term_rel_error": rel, "leading_term_rtol": rtol, "c_measured": c_measured,
               "c_predicted": c_predicted, "d": d},
    )


# --- commuting fields: exact ------------------------------------------------------------------


def study_lie_commuting(profile: str, seed: int, commuting: bool = True) -> Verdict:
    """B = p(A) commutes with A, so Lie is exact: the estimator must report round-off."""
    d = 4 if profile == "fast" else 6
    A, B = noncommuting_pair(d, seed)
    if commuting:
        B = 0.3 * A @ A - 0.5 * A + 0.2 * np.eye(d)
    x0 = rng(seed + 1).standard_normal(d)
    x0 /= np.max(np.abs(x0))
    step = lie_trotter(linear_exact_flow(A), linear_exact_flow(B))
    T = 1.0
    ns = 2 ** np.arange(1, 9 if profile == "fast" else 11)
    reference = scipy.linalg.expm(T * (A + B)) @ x0
    errors = global_errors(step, x0, T, ns, reference)
    # Round-off of n steps of d-term matrix-vector products: c = 4 (Higham's gamma_d per product
    # with head-room), size = n_max * d, times ||x(T)|| (absolute errors).
    floor = derived_tolerance(size=float(ns.max() * d), c=4.0) * float(np.max(np.abs(reference)))
    fit = observed_order(T / ns, errors, expected=1.0, floor=floor)
    return regime_verdict(fit, "round-off", expected="round-off (Lie exact for commuting fields), no slope",
                          extra={"floor": floor}, xlabel="h = T/n", ylabel="global error at T = 1")


# --- conjugacy of Lie and Strang ---------------------------------------------------------------


def study_conjugacy(profile: str, seed: int, conjugator: str = "a") -> Verdict:
    """(phi^b_h o phi^a_h)^n x == phi^c_{-h/2} o S_h^n o phi^c_{h/2} x with c = a (to round-off)."""
    g = rng(seed)
    cases = []
    count = 12 if profile == "fast" else 60
    for k in range(count):
        d = int(g.integers(2, 7))
        A, B = noncommuting_pair(d, int(g.integers(0, 2**31)))
        shape = (d,) if k % 2 == 0 else (d, int(g.integers(1, 4)))  # vectors and batches of them
        x0 = g.standard_normal(shape)
        h = float(g.uniform(0.01, 0.3))
        n = int(g.integers(1, 30))
        fa, fb = linear_exact_flow(A), linear_exact_flow(B)
        fc = fa if conjugator == "a" else fb
        lie_n = integrate(lie_trotter(fa, fb), x0, n * h, n)
        strang_n = fc(integrate(strang(fa, fb), fc(x0, 0.5 * h), n * h, n), -0.5 * h)
        # Both sides are ~2n+2 products with exp(+-hA), exp(hB), each of d-term inner products:
        # size = (2n + 2) d; cond = the amplification of the chain, bounded by
        # (||e^{hA}|| ||e^{hB}||)^n ||e^{hA/2}|| ||e^{-hA/2}|| ||x0|| / ||result||; c = 4 as above.
        na, nb = np.linalg.norm(scipy.linalg.expm(h * A), 2), np.linalg.norm(scipy.linalg.expm(h * B), 2)
        nh = np.linalg.norm(scipy.linalg.expm(0.5 * h * A), 2) * np.linalg.norm(scipy.linalg.expm(-0.5 * h * A), 2)
        cond = float((na * nb) ** n * nh * np.max(np.abs(x0)) / np.max(np.abs(lie_n)))
        cases.append((f"d={d},n={n},h={h:.3f}", compare(strang_n, lie_n, size=(2 * n + 2) * d, cond=cond, c=4.0)))
    return identity_verdict(cases, expected="(b o a)^n = a_{-h/2} o Strang^n o a_{h/2}: rel. error <= 4 eps (2n+2) d cond")


def study_processed_lie(profile: str, seed: int, processed: bool = True) -> Verdict:
    """Lie with pre-processing phi^a_{-h/2} and post-processing phi^a_{h/2}: global order 2."""
    d = 4 if profile == "fast" else 6
    A, B = noncommuting_pair(d, seed)
    x0 = rng(seed + 1).standard_normal(d)
    x0 /= np.max(np.abs(x0))
    fa, fb = linear_exact_flow(A), linear_exact_flow(B)
    lie = lie_trotter(fa, fb)
    T = 1.0
    ns = 2 ** np.arange(1, 10 if profile == "fast" else 12)
    reference = scipy.linalg.expm(T * (A + B)) @ x0
    errs = []
    for n in ns:
        h = T / n
        if processed:
            x = fa(integrate(lie, fa(x0, -0.5 * h), T, int(n)), 0.5 * h)
        else:
            x = integrate(lie, x0, T, int(n))
        errs.append(float(np.max(np.abs(x - reference))))
    fit = observed_order(T / ns, np.array(errs), expected=2.0)
    return order_verdict(fit, 2.0, exclude=1.0, xlabel="h = T/n", ylabel="global error at T = 1")


def _plot_regime(verdict: Verdict):
    ev = verdict.evidence
    return convergence_figure(ev["params"], ev["errors"], xlabel=ev["xlabel"], ylabel=ev["ylabel"],
                              title=verdict.measured[:90],
                              series={"round-off floor": (ev["params"], np.full(len(ev["params"]), ev["floor"]))})


register(Claim(
    id="hairer2006.lie_order1",
    paper="hairer2006",
    where="Section II.5 (Lie–Trotter splitting) and Section III.4 (BCH formula)",
    statement="With exact sub-flows the Lie–Trotter step phi^B_h o phi^A_h for x' = (A+B)x has local "
              "error (h^2/2)[B, A] x + O(h^3) and global order 1.",
    kind="rate",
    expected="local order 2, leading term (h^2/2)[B,A]x within 2 (exact next term + round-off), global order 1 (95% CIs)",
    study=partial(study_splitting_order, scheme="lie", claimed=1),
    plot=plot_order,
    controls={
        "flows swapped (b then a) judged against the a-then-b term":
            partial(study_splitting_order, scheme="lie", claimed=1, swap=True),
    },
))

register(Claim(
    id="hairer2006.strang_order2",
    paper="hairer2006",
    where="Section II.5 (Strang splitting) and Section III.4 (symmetric BCH formula)",
    statement="With exact sub-flows the Strang step phi^A_{h/2} o phi^B_h o phi^A_{h/2} has local error "
              "h^3((1/12)[B,[B,A]] - (1/24)[A,[A,B]]) x + O(h^4) and global order 2.",
    kind="rate",
    expected="local order 3, double-commutator leading term within 2 (exact next term + round-off), global order 2 excluding 1",
    study=partial(study_splitting_order, scheme="strang", claimed=2),
    plot=plot_order,
    controls={
        "Lie (first order) labelled second order":
            partial(study_splitting_order, scheme="lie", claimed=2, term="strang"),
    },
))

register(Claim(
    id="hairer2006.lie_commuting_exact",
    paper="hairer2006",
    where="Section II.5 (splitting is exact when the sub-flows commute)",
    statement="If [A, B] = 0 then e^{hB} e^{hA} = e^{h(A+B)}: Lie–Trotter is exact, its error is round-off.",
    kind="rate",
    expected="regime round-off (no slope fitted)",
    study=study_lie_commuting,
    plot=_plot_regime,
    controls={"non-commuting fields": partial(study_lie_commuting, commuting=False)},
))

register(Claim(
    id="hairer2006.lie_strang_conjugacy",
    paper="hairer2006",
    where="Section II.5 (Lie–Trotter and Strang splitting); identity derived from the group property "
          "of exact flows",
    statement="(phi^b_h o phi^a_h)^n = phi^a_{-h/2} o (phi^a_{h/2} o phi^b_h o phi^a_{h/2})^n o phi^a_{h/2}: "
              "n Lie steps are n Strang steps conjugated by a half step of a.",
    kind="identity",
    expected="rel. error <= 4 eps (2n+2) d cond",
    study=study_conjugacy,
    plot=plot_identity,
    controls={"conjugated by a half step of b": partial(study_conjugacy, conjugator="b")},
))

register(Claim(
    id="hairer2006.processed_lie_order2",
    paper="hairer2006",
    where="Section II.5; consequence of the conjugacy (processing)",
    statement="Lie–Trotter with pre-processing phi^a_{-h/2} and post-processing phi^a_{h/2} converges "
              "with global order 2.",
    kind="rate",
    expected="order 2 excluding 1",
    study=study_processed_lie,
    plot=plot_order,
    controls={"Lie without processing": partial(study_processed_lie, processed=False)},
))
