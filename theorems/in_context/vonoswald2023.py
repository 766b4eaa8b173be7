"""von Oswald et al., "Transformers learn in-context by gradient descent", ICML 2023 (arXiv 2212.07677).

Claims checked (construction in :mod:`constructions.in_context.icl`, merged LSA convention of CONTRIBUTING.md section 4):

* ``vonoswald2023.prop1`` -- Proposition 1: one LSA layer with W_K = W_Q = [[I, 0], [0, 0]],
  W_V = [[0, 0], [w_0^T, -1]], P = (eta/N) I maps every token (x_j, y_j) to (x_j, y_j - Delta W x_j),
  Delta W = -eta grad L(W_0), L(w) = (1/2N) sum_i (w^T x_i - y_i)^2: one GD step; the query's
  y-slot becomes minus the prediction.
* ``vonoswald2023.multi_layer`` -- K such layers = K GD steps (section 3: "each layer ... one
  step of GD"), for every d, n (also n < d), eta (also eta > 2/lambda_max: divergent GD is still GD).
* ``vonoswald2023.gdpp`` -- section 4, "GD++": adding -gamma I to the x-block of P W_V transforms
  every x-token by (I - gamma S), S = X^T X / n, besides the GD step on the y-slots; the data
  covariance goes S -> (I - gamma S) S (I - gamma S), eigenvalues lambda -> lambda (1 - gamma lambda)^2.
* ``vonoswald2023.no_leak`` -- the prediction of a query has zero derivative with respect to
  every other query token (later tokens included) and depends on its own label slot only through
  the residual pass-through (d pred / d label = -1 exactly, von Oswald's minus sign), while it does
  depend on the context labels; checked with jax.jacrev for GD, GD++ and preconditioned layers.

Independent references: the GD iterates from a plain numpy loop w_{k+1} = w_k - eta X^T(X w_k - y)/n
(never the LSA matrices), eigenvalues from numpy.linalg.eigvalsh.

Tolerances (derived once, :func:`residual_error_bound`): the y-row after K layers is
r_K = A^K r_0 with A = I - (eta/n) X X^T on the context (queries are fed, not feeding). One layer's
rounding is at most (n + d + 3) u s_k (1 + |eta| B^2) per entry (a length-d dot product, a
length-n sum and one addition, Higham Lemma 3.1/3.5), with s_k = max|y| + max_j sum_l |x_jl w_kl|
the magnitude of the terms of the exact residuals and B = max_j ||x_j|| (context and query). The
2-norm of a context error grows by g = ||A||_2 = max(1, max_lambda |1 - eta lambda|) per later
layer (the sqrt(n) converts max-norm to 2-norm), and the query entry accumulates
||(eta/n) X x_q||_2 times the context error each layer. The numpy GD loop obeys the same first-order
bound, so the two errors sum to 2 u = eps per unit: tol = 1 * eps * (n + d + 3) * cond with
cond = M / max|reference|, M the bound with unit local error. c = 1 is therefore the worst case
(first order in u), not a tuned constant.
"""

from __future__ import annotations

from functools import partial

import numpy as np
from matplotlib.figure import Figure

import numerics.plotting as nplot
from constructions.in_context.icl import (
    embed,
    gd_layers,
    gdpp_layers,
    lsa_forward,
    preconditioned_gd_layers,
    read_prediction,
)
from numerics.random import rng
from numerics.tolerance import compare
from theorems.in_context._common import (
    draw_regression,
    gd_case,
    leak_cases,
    leak_jacobian,
)
from theorems.judges import identity_verdict, plot_identity
from theorems.registry import Claim, Verdict, register

# --- independent references and the tolerance model -------------------------------------------












# --- prop1 and multi_layer ------------------------------------------------------------------


def _draw_case(g: np.random.Generator, max_d: int, max_n: int, max_cond: float):
    d = int(g.integers(1, max_d + 1))
    n = int(g.integers(1, max_n + 1))
    cond = float(10.0 ** g.uniform(0.0, np.log10(max_cond)))
    eta = float(g.uniform(0.05, 2.5))  # lambda_max(S) = 1: eta > 2 is divergent GD, still GD
    return d, n, cond, eta


def _convergence_evidence(g: np.random.Generator, steps: int) -> dict:
    """|pred_K - pred_ls| for K = 1..steps on one problem, with the GD contraction envelope
    ||x_q|| max_{lambda > 0} |1 - eta lambda|^K ||w_ls|| (w_ls = lstsq minimum-norm solution)."""
    d, n, eta = 4, 10, 1.0
    X, y, xq = draw_regression(g, d, n, 3.0)  # cond(S) = 9: rate 1 - 1/9 at eta = 1
    w_ls = np.linalg.lstsq(X, y, rcond=None)[0]
    lam = np.linalg.eigvalsh(X.T @ X / n)
    rate = float(np.max(np.abs(1.0 - eta * lam[lam > 1e-12 * lam.max()])))
    ks = np.arange(1, steps + 1)
    errs = []
    for k in ks:
        out = lsa_forward(embed(X, y, xq), gd_layers(d, eta, int(k)))
        errs.append(abs(float(read_prediction(out)) - float(w_ls @ xq)))
    envelope = np.linalg.norm(xq) * np.linalg.norm(w_ls) * rate ** ks
    return {"K": ks.astype(np.float64), "pred_error": np.array(errs), "envelope": envelope,
            "contraction": rate}


def study_gd(profile: str, seed: int, *, one_layer: bool = False, mask_query: bool = True,
             sign: float = 1.0, eta_factor: float = 1.0) -> Verdict:
    """Seeded draws of d, n (n < d included), cond(X) up to 1e6, eta in [0.05, 2.5]/lambda_max and
    K; compares the construction's y-row (context residuals and the read prediction) with the
    numpy GD loop, and checks the x-rows are untouched."""
    g = rng(seed)
    count = 24 if profile == "fast" else 200
    max_steps = 1 if one_layer else (8 if profile == "fast" else 30)
    cases = []
    for i in range(count):
        d, n, cond, eta = _draw_case(g, 6, 12, 1e6)
        if i == 0:
            d, n = 5, 2  # always include an n < d case
        steps = 1 if one_layer else int(g.integers(1, max_steps + 1))
        if i == 1 and not one_layer:
            steps = max_steps
        X, y, xq = draw_regression(g, d, n, cond)
        yrow, xrows = gd_case(X, y, xq, eta, steps, mask_query=mask_query, sign=sign, eta_factor=eta_factor)
        label = f"d={d},n={n},K={steps},eta={eta:.2f},cond={cond:.0e}"
        cases += [(label, yrow), (label + " x-rows", xrows)]
    verdict = identity_verdict(
        cases, expected="y-row of the LSA output = GD residuals and prediction: rel. error <= eps (n+d+3) cond")
    if one_layer:
        return verdict
    conv = _convergence_evidence(rng(seed + 1), 15 if profile == "fast" else 40)
    return Verdict(holds=verdict.holds, measured=verdict.measured, expected=verdict.expected,
                   evidence=dict(verdict.evidence) | conv, notes=verdict.notes)


def plot_multi_layer(verdict: Verdict) -> Figure:
    """Left: error/tolerance per case. Right: |pred_K - pred_ls| against the GD contraction."""
    ev = verdict.evidence
    fig = Figure(figsize=(10.0, 3.8), layout="constrained")
    ax1, ax2 = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    nplot.draw_ratios(ax1, ev["ratios"], ylabel="relative error / tolerance", title=verdict.measured[:160],
                threshold_label="tolerance", markersize=3)
    ax2.semilogy(ev["K"], ev["pred_error"], "o-", label="|<w_K - w_ls, x_q>| (K LSA layers)")
    ax2.semilogy(ev["K"], ev["envelope"], "--", label=f"||x_q|| ||w_ls|| {ev['contraction']:.3f}^K")
    ax2.set_xlabel("layers K")
    ax2.set_ylabel("prediction error vs least squares")
    ax2.legend(fontsize=7)
    for ax in (ax1, ax2):
        ax.grid(True, which="both", lw=0.3, alpha=0.5)
    return fig


# --- GD++ -------------------------------------------------------------------------------------


def gdpp_reference(X, y, Xq, eta: float, gamma: float, steps: int):
    """Plain loop of GD++ (no LSA matrices): per step, with S_k = X_k^T X_k / n,
    r <- r - (eta/n) X_k X_k^T r,  q <- q - (eta/n) Xq_k X_k^T r,  X_{k+1} = X_k (I - gamma S_k),
    Xq_{k+1} = Xq_k (I - gamma S_k)  (all from the state entering the step). q is the queries'
    y-slot, i.e. minus the GD++ prediction."""
    n, d = X.shape
    X, Xq = X.copy(), np.atleast_2d(Xq).copy()
    r, q = y.copy(), np.zeros(Xq.shape[0])
    for _ in range(steps):
        S = X.T @ X / n
        g_vec = X.T @ r / n
        r, q = r - eta * X @ g_vec, q - eta * Xq @ g_vec
        T = np.eye(d) - gamma * S
        X, Xq = X @ T, Xq @ T  # T is symmetric
    return X, Xq, r, q


def study_gdpp(profile: str, seed: int, *, gamma_factor: float = 1.0, layers_gamma_zero: bool = False) -> Verdict:
    """GD++ layers against the plain GD++ loop (full output), and the spectral map of one layer:
    eig(S_1) = {lambda (1 - gamma lambda)^2 : lambda in eig(S_0)} via numpy.linalg.eigvalsh.

    Tolerance of the loop comparison: the state is (X_k, r_k, q_k); one layer's local rounding is
    <= (n + d + 3) u (1 + (|eta| + |gamma|) B_k^2) times the entries' size and it is propagated by at
    most (1 + (|eta| + |gamma|) B_k^2) per later layer (max-norm, entries of X_k included);
    two computations -> c = 1 with cond = prod_k (1 + (|eta| + |gamma|) B_k^2) * scale / max|ref|.
    Spectral map: S_1 = X_1^T X_1 / n from the LSA output has entrywise error
    <= (n + d + 3) u (1 + |gamma| B^2)^2 lambda_max-size terms, eigvalsh is backward stable
    (error <= p(d) u ||S||, Higham 2002 s. 8 / Golub-Van Loan 8.1): c = 4 covers both, size n+d+3,
    cond = (1 + |gamma| B^2)^2 lambda_max(S_0) / max|mapped eigenvalue|.
    """
    g = rng(seed)
    count = 16 if profile == "fast" else 120
    cases = []
    for i in range(count):
        d = int(g.integers(1, 6))
        n = int(g.integers(1, 11)) if i else 2
        cond = float(10.0 ** g.uniform(0.0, 2.0))
        eta = float(g.uniform(0.1, 1.5))
        gamma = float(g.uniform(0.1, 1.5))
        steps = int(g.integers(1, 5 if profile == "fast" else 7))
        X, y, Xq = draw_regression(g, d, n, cond, m=2)
        gamma_used = 0.0 if layers_gamma_zero else gamma * gamma_factor
        out = lsa_forward(embed(X, y, Xq), gdpp_layers(d, eta, gamma_used, steps), n_context=n)
        Xr, Xqr, r, q = gdpp_reference(X, y, Xq, eta, gamma, steps)
        reference = np.vstack([np.hstack([Xr.T, Xqr.T]), np.concatenate([r, q])[None, :]])
        cond_loop, scale = 1.0, float(np.max(np.abs(np.hstack([X.T, Xq.T])))) + float(np.max(np.abs(y)))
        Xk, Xqk = X.copy(), Xq.copy()
        for _ in range(steps):
            b2 = float(np.max(np.sum(np.vstack([Xk, Xqk]) ** 2, axis=1)))
            cond_loop *= 1.0 + (abs(eta) + abs(gamma)) * b2
            T = np.eye(d) - gamma * Xk.T @ Xk / n
            Xk, Xqk = Xk @ T, Xqk @ T
        cond_loop *= scale / max(float(np.max(np.abs(reference))), np.finfo(float).tiny)
        label = f"d={d},n={n},K={steps},eta={eta:.2f},gamma={gamma:.2f}"
        cases.append((label, compare(out, reference, size=n + d + 3, cond=cond_loop, c=1.0)))
        # spectral map of the first layer's data transformation
        out1 = lsa_forward(embed(X, y, Xq), gdpp_layers(d, eta, gamma_used, 1), n_context=n)
        X1 = out1[:d, :n].T
        lam0 = np.linalg.eigvalsh(X.T @ X / n)
        mapped = np.sort(lam0 * (1.0 - gamma * lam0) ** 2)
        measured = np.sort(np.linalg.eigvalsh(X1.T @ X1 / n))
        b2 = float(np.max(np.sum(X * X, axis=1)))
        cond_spec = (1.0 + abs(gamma) * b2) ** 2 * float(lam0.max()) / max(float(mapped.max()), np.finfo(float).tiny)
        cases.append((label + " spectrum", compare(measured, mapped, size=n + d + 3, cond=cond_spec, c=4.0)))
    return identity_verdict(cases, expected="GD++ layers = GD++ loop, and eig(S_1) = lambda (1 - gamma lambda)^2 "
                                            "to eps (n+d+3) cond")


# --- no leak ------------------------------------------------------------------------------------






def study_no_leak(profile: str, seed: int, *, mask_query: bool = True) -> Verdict:
    """GD, GD++ and preconditioned-GD layers on n context tokens and m = 3 query tokens."""
    g = rng(seed)
    draws = 2 if profile == "fast" else 12
    m = 3
    cases, dependence, heat = [], [], None
    for i in range(draws):
        # fast: one shape for all draws (eager jax compiles every primitive once per shape)
        d = 3 if profile == "fast" else int(g.integers(1, 5))
        n = 5 if profile == "fast" else int(g.integers(2, 8))
        X, y, Xq = draw_regression(g, d, n, 10.0, m=m)
        Z = embed(X, y, Xq)
        A = [g.standard_normal((d, d)) for _ in range(2)]
        constructions = {
            "GD": gd_layers(d, 0.7, 3),
            "GD++": gdpp_layers(d, 0.5, 0.3, 3),
            "preconditioned": preconditioned_gd_layers(A, 0.5),
        }
        for what, layers in constructions.items():
            fwd = partial(lsa_forward, layers=layers, mask_query=mask_query, n_context=n)
            J = leak_jacobian(fwd, read_prediction, Z, n, m)
            c, dep = leak_cases(J, n, m, label_row=d, own_label_derivative=-1.0, what=f"{what} #{i}")
            cases += c
            dependence += dep
            if heat is None:
                heat = np.abs(J[0])
    verdict = identity_verdict(cases, expected="d pred/d (other query tokens) = 0 and d pred/d (own label) = -1 "
                                               "exactly; d pred/d (context labels) != 0")
    depends = bool(min(dependence) > 0.0)
    return Verdict(
        holds=verdict.holds and depends,
        measured=verdict.measured + f"; min over queries of max |d pred/d y_context| = {min(dependence):.3g}",
        expected=verdict.expected,
        evidence=dict(verdict.evidence) | {"jacobian_abs_first": heat, "context_dependence": np.array(dependence)},
        notes="the own-label derivative -1 is the residual stream read with von Oswald's minus sign; with the "
              "placeholder 0 of embed() the label never enters",
    )


def plot_no_leak(verdict: Verdict) -> Figure:
    """|d pred_0 / d Z| per token (columns) and slot (rows) for the first construction, log10."""
    ev = verdict.evidence
    fig, ax = nplot.new_figure(width=6.0, height=3.2)
    J = np.asarray(ev["jacobian_abs_first"], dtype=float)
    im = ax.imshow(np.log10(J + 1e-300), vmin=-17, vmax=max(1.0, float(np.log10(J.max() + 1e-300))),
                   cmap="viridis", aspect="auto")
    fig.colorbar(im, ax=ax, label="log10 |d pred_q0 / d Z| (-17: exact 0)")
    ax.set_xlabel("token (context ..., q0, q1, q2)")
    ax.set_ylabel("slot (x ..., y)")
    ax.set_title(verdict.measured[:90], fontsize=8)
    return fig


# --- registration -----------------------------------------------------------------------------------

register(Claim(
    id="vonoswald2023.prop1",
    paper="vonoswald2023",
    where="Proposition 1 (section 2)",
    statement="One linear self-attention layer with W_K = W_Q = [[I, 0], [0, 0]], W_V = [[0, 0], [w_0^T, -1]], "
              "P = (eta/N) I transforms every token e_j = (x_j, y_j) into (x_j, y_j - Delta W x_j) with "
              "Delta W = -eta grad L(W_0): one gradient-descent step on L(W) = (1/2N) sum ||W x_i - y_i||^2; "
              "the query's y-slot (0) becomes minus the GD prediction.",
    kind="identity",
    expected="y-row after one layer = residuals y - X w_1 and prediction <w_1, x_q> (read with the minus sign), "
             "rel. error <= eps (n+d+3) cond; x-rows unchanged",
    study=partial(study_gd, one_layer=True),
    plot=plot_identity,
    controls={
        "flipped read-out sign": partial(study_gd, one_layer=True, sign=-1.0),
        "step 1.01 eta": partial(study_gd, one_layer=True, eta_factor=1.01),
    },
))

register(Claim(
    id="vonoswald2023.multi_layer",
    paper="vonoswald2023",
    where="Section 3 (K-layer LSA = K GD steps; Proposition 1 applied layer by layer)",
    statement="K stacked layers of the Proposition 1 construction perform K steps of gradient descent from "
              "w_0 = 0 on L(w) = (1/2n)||Xw - y||^2, for every d, n (including n < d) and step size.",
    kind="identity",
    expected="y-row after K layers = GD residuals and K-step prediction, rel. error <= eps (n+d+3) cond",
    study=study_gd,
    plot=plot_multi_layer,
    controls={
        "query unmasked (key/value)": partial(study_gd, mask_query=False),
        "flipped read-out sign": partial(study_gd, sign=-1.0),
        "step 1.01 eta": partial(study_gd, eta_factor=1.01),
    },
))

register(Claim(
    id="vonoswald2023.gdpp",
    paper="vonoswald2023",
    where="Section 4 (GD++)",
    statement="GD++: a layer that besides the GD step on the y-slots transforms every x-token by "
              "x <- (I - gamma X^T X / n) x (our normalisation of gamma); the data covariance then maps "
              "eigenvalue by eigenvalue lambda -> lambda (1 - gamma lambda)^2.",
    kind="identity",
    expected="LSA output = GD++ loop, eig(S_1) = lambda (1 - gamma lambda)^2, rel. error <= c eps (n+d+3) cond",
    study=study_gdpp,
    plot=plot_identity,
    controls={
        "gamma 1.01x in the layers": partial(study_gdpp, gamma_factor=1.01),
        "plain GD layers sold as GD++": partial(study_gdpp, layers_gamma_zero=True),
    },
))

register(Claim(
    id="vonoswald2023.no_leak",
    paper="vonoswald2023",
    where="Proposition 1 and section 4 (the query token is not a key/value: no label leak)",
    statement="In the GD, GD++ and preconditioned-GD constructions a query's prediction does not depend on any "
              "other query token (later tokens included) and sees its own label slot only through the residual "
              "stream, but does depend on the context labels.",
    kind="identity",
    expected="exact zeros (tol = eps) for d pred/d(other queries) and d pred/d(own label) + 1; non-zero "
             "d pred/d(context labels)",
    study=study_no_leak,
    plot=plot_no_leak,
    controls={"query unmasked / acausal attention": partial(study_no_leak, mask_query=False)},
))

