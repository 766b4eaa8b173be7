"""Yang, Wang, Zhang, Shen & Kim (NeurIPS 2024): DeltaNet's chunkwise (WY/UT) algorithm.

"Parallelizing Linear Transformers with the Delta Rule over Sequence Length", arXiv 2406.06484.

Claims checked (constructions in :mod:`constructions.sequence.delta_rule`):

* ``yang2024.householder_wy`` -- the product of the chunk's generalised Householder factors is
  ``I - K^T T^T K`` with the UT transform ``T = (I + tril(diag(beta) K K^T, -1))^{-1} diag(beta)``
  (state layout d_v x d_k, factors applied on the right), and the zero-state update is
  ``U^T K`` with ``U = T V``.
* ``yang2024.chunkwise_equals_recurrent`` -- the chunkwise algorithm reproduces the recurrence
  S_t = S_{t-1}(I - beta_t k_t k_t^T) + beta_t v_t k_t^T, o_t = S_t q_t (outputs and final
  state) to the float64 floor for any length and chunk size, with an initial state, and when the
  sequence is split and the state passed on.
* ``yang2024.gradients`` -- jax.grad of a scalar loss through the chunkwise form equals the
  gradient through the recurrence (w.r.t. q, k, v, beta and S0).
* ``yang2024.flop_count`` -- the closed-form FLOP counts of both forms equal an instrumented count
  of the operations actually executed (2 FLOPs per multiply-add).

References are written here, independently: the recurrence is a plain loop with explicit
``np.eye(d_k) - beta k k^T`` factors (never :func:`constructions.sequence.delta_rule.recurrent`).
Negative controls: T without the inverse (first-order truncation), the transposed product
(W = T^T K, i.e. the factors in reverse order), a chunk boundary that forgets the state.
"""

from __future__ import annotations

from functools import partial

import numpy as np

import constructions.sequence.delta_rule as dr
from numerics import EPS
from numerics.plotting import ratio_figure
from numerics.random import rng
from numerics.tolerance import compare
from theorems.judges import identity_verdict, plot_identity
from theorems.registry import Claim, Verdict, register

# --- independent references -------------------------------------------------------------------


def reference_delta_rule(q, k, v, beta, S0=None):
    """Plain loop: S_t = S_{t-1} (I - beta_t k_t k_t^T) + beta_t v_t k_t^T, o_t = S_t q_t.

    Also returns the scales round-off is relative to: for the outputs max_t sigma_t ||q_t||, for
    the state max_t sigma_t, with sigma_t = ||S_{t-1}|| (1 + |beta_t| ||k_t||^2) + |beta_t| ||v_t|| ||k_t||
    the size of the update's summands (the state itself may be much smaller by cancellation).
    """
    L, d_k = k.shape
    S = np.zeros((v.shape[1], d_k)) if S0 is None else np.array(S0, dtype=np.float64)
    o = np.zeros((L, v.shape[1]))
    scale = state_scale = 0.0
    for t in range(L):
        # size of the two summands of the update (what round-off is relative to; the result may
        # be much smaller by cancellation)
        summands = (np.linalg.norm(S, 2) * (1.0 + abs(beta[t]) * (k[t] @ k[t]))
                    + abs(beta[t]) * np.linalg.norm(v[t]) * np.linalg.norm(k[t]))
        S = S @ (np.eye(d_k) - beta[t] * np.outer(k[t], k[t])) + beta[t] * np.outer(v[t], k[t])
        o[t] = S @ q[t]
        state_scale = max(state_scale, summands)
        scale = max(scale, summands * np.linalg.norm(q[t]))
    return o, S, scale, state_scale


def growth_factor(k, beta) -> float:
    """prod_t max(1, ||I - beta_t k_t k_t^T||_2) = prod_t max(1, |1 - beta_t ||k_t||^2|).

    The worst-case amplification of a perturbation of the state through the recurrence: 1 when
    every factor is a contraction (0 <= beta ||k||^2 <= 2), geometric growth otherwise.
    """
    nk2 = np.sum(np.asarray(k) ** 2, axis=1)
    return float(np.prod(np.maximum(1.0, np.abs(1.0 - np.asarray(beta) * nk2))))


def reference_householder_product(k, beta):
    """prod_{t=1..C} (I - beta_t k_t k_t^T), multiplied left to right."""
    P = np.eye(k.shape[1])
    for t in range(k.shape[0]):
        P = P @ (np.eye(k.shape[1]) - beta[t] * np.outer(k[t], k[t]))
    return P


def reference_zero_state_update(k, v, beta):
    """H_C from H_0 = 0 by the recurrence H_t = H_{t-1}(I - beta_t k_t k_t^T) + beta_t v_t k_t^T."""
    H = np.zeros((v.shape[1], k.shape[1]))
    for t in range(k.shape[0]):
        H = H @ (np.eye(k.shape[1]) - beta[t] * np.outer(k[t], k[t])) + beta[t] * np.outer(v[t], k[t])
    return H


# --- perturbed chunkwise forms (negative controls) ---------------------------------------------


def _t_matrix(K, b, variant, xp):
    if variant == "first_order":
        # Neumann series cut after the first term: (I + A)^{-1} ~ I - A. Exact only for C <= 2
        # (A is strictly lower triangular, so A^2 = 0 there).
        A = xp.tril(b[:, None] * (K @ K.T), -1)
        return (xp.eye(K.shape[0]) - A) * b[None, :]
    return dr.ut_transform(K, b)


def chunkwise_variant(q, k, v, beta, chunk, S0=None, *, variant="exact", xp=np):
    """The chunkwise algorithm assembled from the public pieces, optionally perturbed.

    variant: "exact" (same maths as :func:`constructions.sequence.delta_rule.chunkwise`), "first_order"
    (T without the inverse), "transposed" (W = T^T K: the state is carried through the factors
    in reverse order), "forget_state" (each chunk starts from S = 0).
    """
    L = q.shape[0]
    S = xp.zeros((v.shape[1], k.shape[1])) if S0 is None else S0
    outs = []
    for start in range(0, L, chunk):
        sl = slice(start, min(start + chunk, L))
        Q, K, V, b = q[sl], k[sl], v[sl], beta[sl]
        T = _t_matrix(K, b, variant, xp)
        W = (T.T if variant == "transposed" else T) @ K
        U = T @ V
        if variant == "forget_state":
            S = xp.zeros_like(S)
        O, S = dr.chunk_update(S, Q, K, W, U)
        outs.append(O)
    return xp.concatenate(outs, axis=0), S


# --- case generation -------------------------------------------------------------------------


def _draw(g, L, d_k, d_v, beta_range, normalise_keys=True, with_state=True):
    q = g.standard_normal((L, d_k))
    k = g.standard_normal((L, d_k))
    if normalise_keys:  # DeltaNet L2-normalises keys; then beta in [0, 2] gives contractions
        k /= np.linalg.norm(k, axis=1, keepdims=True)
    v = g.standard_normal((L, d_v))
    beta = g.uniform(*beta_range, size=L)
    S0 = g.standard_normal((d_v, d_k)) if with_state else None
    return q, k, v, beta, S0


# (L, chunk, d_k, d_v, beta range, unit keys, with S0)
_FAST_CASES = [
    (1, 1, 1, 1, (0.0, 1.0), True, False),
    (1, 4, 3, 2, (0.0, 1.0), True, True),
    (7, 1, 2, 3, (0.0, 1.0), True, True),
    (7, 3, 4, 2, (0.0, 1.0), True, True),
    (16, 4, 4, 4, (0.0, 1.0), True, False),
    (23, 8, 6, 5, (0.0, 2.0), True, True),
    (40, 16, 6, 6, (0.0, 1.0), True, True),
    (40, 7, 3, 1, (0.0, 2.0), True, True),
    (12, 50, 5, 3, (0.5, 1.5), True, True),
    (10, 3, 3, 2, (-0.5, 2.5), True, True),   # non-contractive factors: ||S|| may grow
    (10, 4, 2, 2, (0.0, 1.0), False, True),   # unnormalised keys: beta ||k||^2 up to ~10
]
_FULL_EXTRA = [
    (200, 16, 8, 8, (0.0, 1.0), True, True),
    (257, 32, 16, 8, (0.0, 2.0), True, True),
    (500, 64, 16, 16, (0.0, 1.0), True, True),
    (129, 5, 1, 7, (0.0, 1.0), True, True),
    (64, 64, 8, 8, (0.0, 1.0), True, True),
]


def _identity_tolerance(L, chunk, d_k, growth, kappa):
    """size = L (d_k + min(C, L)): every output is a sum of L state updates, each made of inner
    products of length d_k and (chunkwise) sums/solves over at most C rows; errors add along the
    sequence (they are not amplified when the factors are contractions, growth = 1).
    cond = growth * kappa, kappa = max_t sigma_t ||q_t|| / max |o_t| with sigma_t the size of the
    update's summands (round-off is relative to them; the comparison is to max |o|). c = 4: gamma_n-type bounds (Higham 3.5) for the two
    chained products per update, with a factor 2 for the norm inequality max <= 2-norm."""
    return dict(size=L * (d_k + min(chunk, L)), cond=growth * kappa, c=4.0)


def study_chunkwise(profile: str, seed: int, variant: str = "exact") -> Verdict:
    """Chunkwise vs the plain recurrence: outputs, final state, and a split-in-two run.

    ``variant="exact"`` checks the PUBLIC :func:`constructions.sequence.delta_rule.chunkwise` (one
    combined forward substitution for W and U per chunk), and the re-assembly
    :func:`chunkwise_variant` from ``ut_transform`` + ``chunk_update`` as an extra check; the other
    variants are the perturbed re-assemblies of the negative controls.
    """
    g = rng(seed)
    cases = list(_FAST_CASES) + (list(_FULL_EXTRA) if profile == "full" else [])
    forms = ([("", dr.chunkwise), (" (re-assembly)", partial(chunkwise_variant, variant="exact"))]
             if variant == "exact" else [("", partial(chunkwise_variant, variant=variant))])
    results = []
    for L, C, d_k, d_v, brange, unit, with_state in cases:
        q, k, v, beta, S0 = _draw(g, L, d_k, d_v, brange, unit, with_state)
        o_ref, S_ref, scale, state_scale = reference_delta_rule(q, k, v, beta, S0)
        growth = growth_factor(k, beta)
        kappa = max(1.0, scale / max(np.max(np.abs(o_ref)), 1e-300))
        tol = _identity_tolerance(L, C, d_k, growth, kappa)
        s_kappa = max(1.0, state_scale / max(np.max(np.abs(S_ref)), 1e-300))
        label = f"L={L},C={C},dk={d_k},dv={d_v},b={brange[0]:g}..{brange[1]:g}" + ("" if unit else ",raw k")
        m = int(g.integers(1, L)) if L >= 2 else 0
        for tag, forward in forms:
            o, S = forward(q, k, v, beta, C, S0)
            results.append((label + " o" + tag, compare(o, o_ref, **tol)))
            results.append((label + " S" + tag, compare(S, S_ref, **(tol | {"cond": growth * s_kappa}))))
            if L >= 2:  # split at m, pass the state on
                o1, S1 = forward(q[:m], k[:m], v[:m], beta[:m], C, S0)
                o2, S2 = forward(q[m:], k[m:], v[m:], beta[m:], C, S1)
                results.append((label + f" split@{m}" + tag, compare(np.vstack([o1, o2]), o_ref, **tol)))
    return identity_verdict(
        results,
        expected="chunkwise == recurrence: rel. error <= 4 eps L (d_k + C) growth kappa in every case",
        notes="public constructions.sequence.delta_rule.chunkwise" + (" and the ut_transform + chunk_update "
              "re-assembly" if variant == "exact" else "") + "; growth = prod max(1, |1 - beta ||k||^2|) (1 "
              "for contractive factors); kappa = max_t sigma_t ||q_t|| / max |o_t|, sigma_t = size of the "
              "update's summands",
    )


def study_householder(profile: str, seed: int, variant: str = "exact") -> Verdict:
    """prod (I - beta_t k_t k_t^T) == I - K^T T^T K and H_C == U^T K, T from the UT transform."""
    g = rng(seed)
    sizes = [(1, 1), (1, 3), (2, 2), (3, 2), (5, 4), (8, 3), (16, 8), (16, 16), (32, 6)]
    if profile == "full":
        sizes += [(64, 16), (64, 64), (128, 32)]
    results = []
    for C, d_k in sizes:
        for brange in ((0.0, 1.0), (0.0, 2.0)):
            k = g.standard_normal((C, d_k))
            k /= np.linalg.norm(k, axis=1, keepdims=True)
            v = g.standard_normal((C, 3))
            beta = g.uniform(*brange, size=C)
            T = _t_matrix(k, beta, "first_order" if variant == "first_order" else "exact", np)
            P = np.eye(d_k) - k.T @ (T if variant == "transposed" else T.T) @ k
            P_ref = reference_householder_product(k, beta)
            H_ref = reference_zero_state_update(k, v, beta)
            # size C d_k: C factors, each an outer product and a product of length d_k (and a
            # solve over <= C rows); contractions, so cond = ||P_ref||_2 / max|P_ref| >= 1.
            cond = max(1.0, np.linalg.norm(P_ref, 2) / np.max(np.abs(P_ref)))
            lbl = f"C={C},dk={d_k},b<={brange[1]:g}"
            results.append((lbl + " P", compare(P, P_ref, size=C * (d_k + C), cond=cond, c=4.0)))
            H = (T @ v).T @ k
            condH = max(1.0, np.linalg.norm(H_ref, 2) / np.max(np.abs(H_ref)))
            results.append((lbl + " H", compare(H, H_ref, size=C * (d_k + C), cond=condH, c=4.0)))
    return identity_verdict(results, expected="rel. error <= 4 eps C (d_k + C) cond in every case")


# --- gradients ---------------------------------------------------------------------------------


def _loss(o, S, jnp):
    return jnp.sum(jnp.sin(o)) + 0.5 * jnp.sum(S * S)


_JITTED: dict = {}


def _jitted_gradients(variant: str, C: int):
    """jit(grad) of the loss through the recurrence (variant "recurrent") or a chunkwise variant,
    built once per (variant, C) and cached, so that repeated studies (seeds, controls) reuse the
    XLA compilation (about 0.6 s per function on a CPU)."""
    import jax
    import jax.numpy as jnp

    key = (variant, C)
    if key not in _JITTED:
        if variant == "recurrent":
            def f(q, k, v, beta, S0):
                o, S = dr.recurrent(q, k, v, beta, S0)
                return _loss(o, S, jnp)
        elif variant == "exact":
            def f(q, k, v, beta, S0):
                o, S = dr.chunkwise(q, k, v, beta, C, S0)
                return _loss(o, S, jnp)
        else:
            def f(q, k, v, beta, S0):
                o, S = chunkwise_variant(q, k, v, beta, C, S0, variant=variant, xp=jnp)
                return _loss(o, S, jnp)
        _JITTED[key] = jax.jit(jax.grad(f, argnums=(0, 1, 2, 3, 4)))
    return _JITTED[key]


def study_gradients(profile: str, seed: int, variant: str = "exact") -> Verdict:
    """jax.grad of sum(sin(o)) + |S_L|^2 / 2 w.r.t. (q, k, v, beta, S0): chunkwise vs recurrence.

    The reference gradient differentiates the recurrence (lax.scan); the chunkwise gradient
    differentiates a different algorithm (triangular solves, masked matmuls), so agreement checks
    the identity of the two functions to first order, not code against itself.
    """
    import jax.numpy as jnp

    g = rng(seed)
    # One shape in the fast profile (each new shape costs a JIT compile of both gradients).
    cases = [(7, 4, 3, 2, True)]  # two chunks (4 + 3): ragged, state passed on
    if profile == "full":
        cases += [(9, 16, 2, 3, False), (33, 8, 5, 4, True), (10, 1, 3, 3, True), (64, 16, 8, 8, True)]
    results = []
    for L, C, d_k, d_v, with_state in cases:
        q, k, v, beta, S0 = _draw(g, L, d_k, d_v, (0.0, 1.0), True, True)
        if not with_state:
            S0 = np.zeros_like(S0)
        args = tuple(jnp.asarray(a) for a in (q, k, v, beta, S0))
        g_ref = _jitted_gradients("recurrent", 0)(*args)
        g_chk = _jitted_gradients(variant, C)(*args)
        for name, a, b in zip(("q", "k", "v", "beta", "S0"), g_chk, g_ref):
            a, b = np.asarray(a), np.asarray(b)
            assert a.dtype == np.float64
            # Reverse mode replays the forward products transposed: twice the forward size. cond 1:
            # unit keys and beta in [0, 1] make every factor (and its adjoint) a contraction, and
            # the loss (sum sin(o) + |S|^2/2) has bounded derivatives; no cancellation is built in.
            results.append((f"L={L},C={C} d/d{name}",
                            compare(a, b, size=2 * L * (d_k + min(C, L)), cond=1.0, c=4.0)))
    return identity_verdict(results, expected="gradients agree: rel. error <= 4 eps 2 L (d_k + C)")


# --- FLOP counts -----------------------------------------------------------------------------


def _padded_chunkwise_flops(L, C, d_k, d_v):
    """Negative control: a formula that bills every chunk as full (ceil(L / C) chunks of C)."""
    return -(-L // C) * dr.chunk_flops(C, d_k, d_v)


def study_flops(profile: str, seed: int, formula: str = "exact") -> Verdict:
    """Closed-form FLOPs == instrumented count (FlopCounter) for both forms, many shapes."""
    g = rng(seed)
    shapes = [(1, 1, 1, 1), (1, 5, 2, 3), (8, 4, 4, 4), (9, 4, 4, 4), (30, 7, 3, 5), (64, 16, 8, 8),
              (65, 16, 8, 8), (5, 64, 6, 2), (40, 1, 2, 2)]
    if profile == "full":
        shapes += [(1000, 64, 16, 16), (777, 32, 8, 4), (256, 256, 4, 4)]
    labels, counted, closed = [], [], []
    for L, C, d_k, d_v in shapes:
        q, k, v, beta, S0 = _draw(g, L, d_k, d_v, (0.0, 1.0), True, True)
        labels.append(f"chunk L={L},C={C},dk={d_k},dv={d_v}")
        counted.append(dr.counted_flops(q, k, v, beta, C, S0))
        closed.append(dr.chunkwise_flops(L, C, d_k, d_v) if formula == "exact"
                      else _padded_chunkwise_flops(L, C, d_k, d_v))
        labels.append(f"rec L={L},dk={d_k},dv={d_v}")
        counted.append(dr.counted_flops(q, k, v, beta, None, S0))
        closed.append(dr.recurrent_flops(L, d_k, d_v))
    counted_a = np.array(counted, dtype=np.float64)
    closed_a = np.array(closed, dtype=np.float64)
    exact = [c == f for c, f in zip(counted, closed)]
    ratios = counted_a / closed_a
    worst = int(np.argmax(np.abs(ratios - 1.0)))
    L, C, d_k, d_v = 4096, 64, 64, 64
    chunk_over_rec = dr.chunkwise_flops(L, C, d_k, d_v) / dr.recurrent_flops(L, d_k, d_v)
    return Verdict(
        holds=all(exact),
        measured=(f"{sum(exact)}/{len(exact)} shapes exact; worst counted/formula {ratios[worst]:.6g} "
                  f"at {labels[worst]}; chunkwise/recurrent FLOPs at L=4096, C=d=64: {chunk_over_rec:.4f}"),
        expected="instrumented FLOPs == closed form in every case (exact integers)",
        evidence={"labels": labels, "counted": counted_a, "formula": closed_a, "ratios": ratios,
                  "max_ratio": float(np.max(np.abs(ratios - 1.0))), "chunk_over_recurrent": chunk_over_rec},
        notes="FLOPs = 2 per multiply-add, 1 per elementwise add/multiply; chunk C: "
              "C^2 (5 d_k + 3 d_v + 1) + 6 C d_k d_v + 2 C d_v + d_k d_v; recurrence: 6 d_k d_v + 2 d_v per token",
    )


def plot_flops(verdict: Verdict):
    ev = verdict.evidence
    return ratio_figure(ev["labels"], ev["ratios"], ylabel="counted FLOPs / closed form",
                        title=verdict.measured[:90])


# --- registration ------------------------------------------------------------------------------

register(Claim(
    id="yang2024.householder_wy",
    paper="yang2024",
    where="Section 3 (WY representation of products of Householder matrices; UT transform)",
    statement="For a chunk with keys K (C x d_k) and rates beta, prod_{t=1..C} (I - beta_t k_t k_t^T) "
              "= I - K^T T^T K with T = (I + tril(diag(beta) K K^T, -1))^{-1} diag(beta), and the "
              "zero-state update sum_t (prod_{s>t} ...) beta_t v_t k_t^T = (T V)^T K (state layout d_v x d_k; "
              "in the d_k x d_v layout the same product reads I - K^T T K).",
    kind="identity",
    expected="rel. error <= 4 eps C (d_k + C) cond",
    study=study_householder,
    plot=plot_identity,
    controls={
        "T without the inverse (first-order truncation)": partial(study_householder, variant="first_order"),
        "transposed product I - K^T T K": partial(study_householder, variant="transposed"),
    },
))

register(Claim(
    id="yang2024.chunkwise_equals_recurrent",
    paper="yang2024",
    where="Section 3 (chunkwise parallel form) vs. the delta-rule recurrence of Section 2",
    statement="The chunkwise algorithm (UT transform per chunk, state passed between chunks) computes "
              "exactly the delta-rule recurrence S_t = S_{t-1}(I - beta_t k_t k_t^T) + beta_t v_t k_t^T, "
              "o_t = S_t q_t, for any chunk size, with an initial state, and composes across a split.",
    kind="identity",
    expected="rel. error <= 4 eps L (d_k + C) growth kappa",
    study=study_chunkwise,
    plot=plot_identity,
    controls={
        "T without the inverse (first-order truncation)": partial(study_chunkwise, variant="first_order"),
        "transposed product (W = T^T K)": partial(study_chunkwise, variant="transposed"),
        "chunk boundary forgets the state": partial(study_chunkwise, variant="forget_state"),
    },
))

register(Claim(
    id="yang2024.gradients",
    paper="yang2024",
    where="Section 3 (the chunkwise form is used for training: its gradients are the recurrence's)",
    statement="Gradients of a scalar loss through the chunkwise form equal those through the recurrence "
              "(w.r.t. q, k, v, beta and the initial state).",
    kind="identity",
    expected="rel. error <= 4 eps 2 L (d_k + C)",
    study=study_gradients,
    plot=plot_identity,
    controls={"T without the inverse (first-order truncation)": partial(study_gradients, variant="first_order")},
))

register(Claim(
    id="yang2024.flop_count",
    paper="yang2024",
    where="Section 3 (complexity of the chunkwise form, O(L C d + L d^2))",
    statement="The chunkwise form costs C^2 (5 d_k + 3 d_v + 1) + 6 C d_k d_v + 2 C d_v + d_k d_v FLOPs per "
              "chunk (O(L C d + L d^2) in total) and the recurrence 6 d_k d_v + 2 d_v per token; the closed "
              "forms equal an instrumented count of the operations executed.",
    kind="complexity",
    expected="instrumented FLOPs == closed form, exactly, for every shape (ragged last chunk included)",
    study=study_flops,
    plot=plot_flops,
    controls={"formula billing a ragged last chunk as full": partial(study_flops, formula="padded")},
))

__all__ = ["EPS", "reference_delta_rule", "growth_factor", "chunkwise_variant"]
