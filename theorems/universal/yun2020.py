"""Yun, Bhojanapalli, Rawat, Reddi & Kumar (ICLR 2020), "Are Transformers universal approximators
of sequence-to-sequence functions?" (arXiv 1912.10077).

Claims
* ``yun2020.contextual_map`` -- Lemma 6 in exact rational arithmetic: on every grid input with
  distinct columns (small d, n, delta) the selective-shift attention stack gives ids that are
  (1) distinct within an input, (2) distinct across inputs that are not permutations of each
  other, (3) inside an explicit [t_l, t_r]; they are permutation equivariant, lie on the lattice
  delta Z (so distinct ids are at least delta apart; the measured gap is reported); the value
  table built on those ids has no conflict (measured on the ids here and by the public
  :func:`constructions.universal.yun.build_value_map`). Inputs with repeated columns are outside
  the lemma: with n = 3 their ids do collide with other inputs' ids (counted in the evidence:
  54 and 135 collisions on the n = 3 grids), which is why the value map leaves them out (output 0)
  for n >= 3. Control: a wrong shift factor (1 instead of delta^{-d}) collides ids.
* ``yun2020.lp_rate`` -- Theorem 2's error is in L^p: the three-stage construction (quantise,
  contextual map, value map) on a Lipschitz permutation-equivariant target has L^1 error O(delta)
  when the quantiser's ramps have width eta = delta^3; its sup error over face inputs does not
  decrease. Control: ramps of width delta/2 (the measure of the bad set does not shrink).
"""

from __future__ import annotations

import itertools
from fractions import Fraction
from functools import partial

import numpy as np

from constructions.universal.yun import (
    _differ,
    build_value_map,
    contextual_map_exact,
    id_bounds,
    three_stage_forward,
)
from numerics.plotting import ratio_figure
from numerics.random import rng
from numerics.rates import observed_order
from theorems.judges import order_verdict, plot_order
from theorems.registry import Claim, Verdict, register


def equivariant_target(X: np.ndarray) -> np.ndarray:
    """f(X)_{i,k} = sin(2 x_{i,k} + sum_l x_{0,l}) / 2 + x_{i,k}^2 / 4: continuous, permutation
    equivariant; max-to-max Lipschitz constant <= (2 + n)/2 + 1/2."""
    ctx = X[:, :1, :].sum(axis=2, keepdims=True)
    return 0.5 * np.sin(2.0 * X + ctx) + 0.25 * X**2


def study_contextual_map(profile: str, seed: int, shift: Fraction | None = None) -> Verdict:
    """All of Lemma 6's properties on every grid input with distinct columns, exactly."""
    del seed
    configs = [(1, 2, 4), (1, 3, 4), (2, 2, 2), (1, 2, 8), (2, 2, 3), (1, 3, 6)]
    if profile == "full":
        configs += [(1, 2, 32), (1, 3, 10), (2, 2, 4), (1, 4, 5), (2, 3, 2)]
    rows = []
    total_bad = 0
    for d, n, N in configs:
        delta = Fraction(1, N)
        tl, tr = id_bounds(N, d, n)
        owner: dict[Fraction, tuple] = {}
        value: dict[Fraction, np.ndarray] = {}  # id -> f(cell centre)_{:,k}: the value map's table
        within = across = outside = non_equivariant = conflicts = 0
        duplicate_ids: list[tuple[Fraction, np.ndarray]] = []
        for flat in itertools.product(range(N), repeat=d * n):
            M = np.array(flat).reshape(d, n)
            cols = [tuple(M[:, j]) for j in range(n)]
            L = [[Fraction(int(M[i, j]), N) for j in range(n)] for i in range(d)]
            fv = equivariant_target(((M + 0.5) / N)[None])[0]
            if len(set(cols)) < n:
                if n >= 3 and shift is None:  # outside Lemma 6: only their collisions are counted
                    q = contextual_map_exact(L, delta, skip_noop=True)
                    duplicate_ids += [(x, fv[:, k]) for k, x in enumerate(q)]
                continue
            q = contextual_map_exact(L, delta, shift=shift, skip_noop=True)
            within += len(set(q)) < n
            outside += sum(not (tl <= x <= tr) for x in q)
            key = tuple(sorted(cols))
            for k, x in enumerate(q):
                if owner.setdefault(x, key) != key:
                    across += 1
                if x in value:
                    conflicts += int(_differ(value[x], fv[:, k], n))
                else:
                    value[x] = fv[:, k]
            if n <= 3 and flat == tuple(sorted(flat)):  # equivariance on one representative
                for perm in itertools.permutations(range(n)):
                    Lp = [[row[j] for j in perm] for row in L]
                    qp = contextual_map_exact(Lp, delta, shift=shift, skip_noop=True)
                    non_equivariant += qp != [q[j] for j in perm]
        ids = sorted(owner)
        gap = min(b - a for a, b in zip(ids, ids[1:])) if len(ids) > 1 else Fraction(0)
        # The public value map must agree: its table (distinct-column cells) has no conflict.
        public_conflicts = build_value_map(equivariant_target, d, n, N)[1] if shift is None else 0
        # Inputs with repeated columns are outside Lemma 6; for n >= 3 their ids can land on another
        # input's id with another value (counted, not judged: the value map sends them to 0).
        seen = dict(value)
        duplicate_collisions = 0
        for x, v in duplicate_ids:  # against the table and against each other
            if x in seen:
                duplicate_collisions += int(_differ(seen[x], v, n))
            else:
                seen[x] = v
        bad = within + across + outside + non_equivariant + conflicts + public_conflicts + int(gap < delta)
        total_bad += bad
        rows.append({"config": f"d={d},n={n},1/delta={N}", "within": within, "across": across,
                     "outside": outside, "non_equivariant": non_equivariant, "conflicts": conflicts,
                     "public_table_conflicts": public_conflicts,
                     "duplicate_column_collisions": duplicate_collisions, "gap_over_delta": float(gap / delta)})
    gaps = np.array([r["gap_over_delta"] for r in rows], dtype=np.float64)
    return Verdict(
        holds=total_bad == 0,
        measured=f"{total_bad} violations over {len(configs)} grids (collisions within/across, "
                 f"outside [t_l, t_r], equivariance, value-table conflicts measured on the ids and by "
                 f"build_value_map); min id gap / delta = {gaps.min():.0f}; repeated-column inputs "
                 f"(outside the lemma) collide {sum(r['duplicate_column_collisions'] for r in rows)} times",
        expected="no violation; distinct ids at least delta apart",
        evidence={"labels": [r["config"] for r in rows], "gap_over_delta": gaps,
                  "violations": np.array([r["within"] + r["across"] + r["outside"] + r["non_equivariant"]
                                          + r["conflicts"] + r["public_table_conflicts"] for r in rows],
                                         dtype=np.int64),
                  "duplicate_column_collisions": np.array([r["duplicate_column_collisions"] for r in rows],
                                                          dtype=np.int64),
                  "rows": rows},
        notes="t_l = s^{n+1}(s-1)^n delta, t_r = delta^{-(2n+2)d+1} + delta^{-(n+1)d+1}, s = delta^{-d} "
              "(derived in constructions.universal.yun.id_bounds)",
    )


def plot_contextual_map(verdict: Verdict):
    ev = verdict.evidence
    return ratio_figure(ev["labels"], ev["gap_over_delta"], ylabel="min id gap / delta (must be >= 1)",
                        title=verdict.measured[:90])


def study_lp_rate(profile: str, seed: int, ramp: str = "delta^3") -> Verdict:
    """L^1 error (Monte Carlo, fixed uniform inputs on every level) of the three-stage
    construction vs delta, d = 1, n = 2; sup over face inputs reported (it does not converge)."""
    d, n = 1, 2
    # From N = 16: below it the error constant is still settling (error/delta falls from 0.34 at
    # N = 2 to 0.20 by N = 64), which the weighted fit would otherwise average in.
    Ns = [2 ** k for k in range(4, 14 if profile == "fast" else 15)]
    # The L1 error is a Monte Carlo mean over fixed uniform inputs (the same on every level); it is
    # split into independent batches so that the fit weights levels by their sampling spread.
    count = 2000 if profile == "fast" else 12000
    batches = 10
    g = rng(seed)
    X = g.uniform(size=(count, d, n))
    fX = equivariant_target(X)
    l1, sup_face, conflicts = [], [], 0
    for N in Ns:
        eta = (1.0 / N) ** 3 if ramp == "delta^3" else 0.5 / N
        out, c = three_stage_forward(X, equivariant_target, N, eta)
        conflicts += c
        # per-batch L1 means: the seed-to-seed spread that observed_order's stochastic fit needs
        err = np.abs(out - fX).reshape(count, -1).mean(axis=1)
        l1.append(err.reshape(batches, -1).mean(axis=1))
        Xf = X[:50].copy()
        Xf[:, 0, 0] = (1 + g.integers(0, N - 1, size=50)) / N + eta / 2  # on a ramp
        of, _ = three_stage_forward(Xf, equivariant_target, N, eta)
        sup_face.append(float(np.abs(of - equivariant_target(Xf)).max()))
    delta = 1.0 / np.array(Ns, dtype=np.float64)
    # 99.9% interval: the false-failure probability of this statistical check is about 1e-3.
    fit = observed_order(delta, np.array(l1), expected=1.0, confidence=0.999)
    v = order_verdict(fit, 1.0, exclude=0.0, xlabel="grid width delta", ylabel="L1 error (Monte Carlo)",
                      extra={"sup_face_errors": np.array(sup_face), "conflicts": conflicts},
                      notes=f"sup error on ramp inputs stays {min(sup_face):.3f}..{max(sup_face):.3f} "
                            "(no sup-norm convergence)")
    return Verdict(holds=v.holds and conflicts == 0, measured=v.measured + f"; table conflicts {conflicts}",
                   expected=v.expected, evidence=v.evidence, notes=v.notes)


def plot_lp_rate(verdict: Verdict):
    fig = plot_order(verdict)
    ax = fig.axes[0]
    ax.loglog(verdict.evidence["params"], verdict.evidence["sup_face_errors"], "^", mfc="none",
              color="C3", label="sup on ramp inputs")
    ax.legend(fontsize=7)
    return fig


register(Claim(
    id="yun2020.contextual_map",
    paper="yun2020",
    where="Lemma 6 (contextual mapping by selective-shift attention)",
    statement="delta^{-d} + 1 hardmax self-attention layers (2 heads, head size 1) compute q(L) = u^T g_c(L) "
              "whose entries are distinct within each L with distinct columns, distinct across L, L' that "
              "are not permutations of each other, and lie in some [t_l, t_r].",
    kind="identity",
    expected="no collision, no id outside [t_l, t_r], exact permutation equivariance, gaps >= delta",
    study=study_contextual_map,
    plot=plot_contextual_map,
    controls={"shift factor 1 instead of delta^-d": partial(study_contextual_map, shift=Fraction(1))},
))

register(Claim(
    id="yun2020.lp_rate",
    paper="yun2020",
    where="Theorem 2 (L^p approximation of permutation-equivariant maps) with its three-step proof",
    statement="Quantisation + contextual mapping + value mapping approximates a continuous permutation-"
              "equivariant f in L^p; for Lipschitz f and ramps of width delta^3 the L^1 error is O(delta).",
    kind="rate",
    expected="order 1 in delta (99.9% CI: the fit's stated false-failure probability 1e-3), excluding 0; no id conflicts",
    study=study_lp_rate,
    plot=plot_lp_rate,
    controls={"quantiser ramps of width delta/2": partial(study_lp_rate, ramp="delta/2")},
))
