"""Abbott, "Neural Circuit Diagrams: Robust Diagrams for the Communication, Implementation, and
Analysis of Deep Learning Architectures", TMLR 2024 (arXiv 2402.05424), Section 5 (backpropagation
of contractions: the cost of a gradient).

Claim checked:

* ``abbott2024.vjp_contraction_cost`` -- for a multilinear contraction (einsum) the VJP with respect
  to each operand is itself a contraction over the same index set, with the same multiply count as
  the forward, so the backward of a k-operand contraction (one VJP per operand) costs k times the
  forward. Checked on seeded random specs (batch, contracted, free and operand-only summed indices;
  k = 2 and k = 3): the forward MACs are counted from the jaxpr of ``jnp.einsum`` (dot_general) and
  checked against the product of the index sizes (k = 2); each operand's VJP is counted from the
  jaxpr of ``jax.linear_transpose`` of the map linear in that operand (other operands traced inputs),
  independently of ``numpy.einsum_path``. Also reported: the joint reverse-mode backward of all
  operands (``jax.vjp``), which shares partial products: 2x the forward for any pairwise evaluation.
  Control: a non-multilinear map (one operand used twice, x -> einsum(x, x)), whose VJP through
  ``jax.vjp`` (backward = jaxpr(vjp) - jaxpr(forward)) costs twice the forward.
"""

from __future__ import annotations

from functools import partial
from math import prod

import jax
import jax.numpy as jnp
import numpy as np

from numerics.random import rng
from theorems.counts._common import count_verdict, traced_macs
from theorems.judges import plot_bound
from theorems.registry import Claim, Verdict, register

PAPER = "abbott2024"
LETTERS = "abcdefghij"


def _draw_binary(g):
    """spec, shapes, sizes of a binary contraction with batch, contracted, free, summed-only indices."""
    it = iter(LETTERS)
    groups = {name: [next(it) for _ in range(int(g.integers(lo, 3)))]
              for name, lo in (("batch", 0), ("contract", 0), ("free_a", 0), ("free_b", 0), ("only_a", 0))}
    if not groups["contract"] and not groups["batch"]:
        groups["contract"] = [next(it)]
    size = {c: int(g.integers(1, 5)) for v in groups.values() for c in v}
    a = groups["batch"] + groups["contract"] + groups["free_a"] + groups["only_a"]
    b = groups["contract"] + groups["batch"] + groups["free_b"]
    out = groups["batch"] + groups["free_a"] + groups["free_b"]
    a, b = list(g.permutation(a)), list(g.permutation(b))
    spec = f"{''.join(a)},{''.join(b)}->{''.join(out)}"
    kept = groups["batch"] + groups["contract"] + groups["free_a"] + groups["free_b"]
    return spec, [tuple(size[c] for c in a), tuple(size[c] for c in b)], prod(size[c] for c in kept)


def _draw_chain(g):
    """A 3-operand chain 'ij,jk,kl->il' with drawn sizes (a batch index added at random)."""
    s = [int(g.integers(1, 6)) for _ in range(5)]
    if g.random() < 0.5:
        return "ij,jk,kl->il", [(s[0], s[1]), (s[1], s[2]), (s[2], s[3])], None
    return "bij,bjk,bkl->bil", [(s[4], s[0], s[1]), (s[4], s[1], s[2]), (s[4], s[2], s[3])], None


def _abstract(shapes):
    return [jax.ShapeDtypeStruct(sh, jnp.float64) for sh in shapes]


def _out_shape(spec, shapes):
    return jax.eval_shape(lambda *ops: jnp.einsum(spec, *ops), *_abstract(shapes))


def _vjp_cost_linear(spec, shapes, i):
    """MACs of the transpose of operand i's linear map (the other operands traced inputs)."""
    out = _out_shape(spec, shapes)

    def vjp_i(ops, ct):
        f = lambda x: jnp.einsum(spec, *ops[:i], x, *ops[i + 1:])  # noqa: E731
        return jax.linear_transpose(f, ops[i])(ct)

    return traced_macs(vjp_i, _abstract(shapes), out)[0]


def _vjp_cost_joint(spec, shapes, forward):
    out = _out_shape(spec, shapes)
    total = traced_macs(lambda ops, ct: jax.vjp(lambda *o: jnp.einsum(spec, *o), *ops)[1](ct), _abstract(shapes), out)[0]
    return total - forward


def study_vjp(profile: str, seed: int, *, repeated_operand: bool = False) -> Verdict:
    g = rng(seed)
    labels, counted, formula, joint_ratios = [], [], [], []
    count = 6 if profile == "fast" else 30
    for t in range(count):
        if repeated_operand:
            # control: x -> einsum('ij,jk->ik', x, x), quadratic in x; VJP by jax.vjp
            n = int(g.integers(2, 6))
            shapes = [(n, n)]
            fwd = traced_macs(lambda x: jnp.einsum("ij,jk->ik", x, x), *_abstract(shapes))[0]
            out = jax.ShapeDtypeStruct((n, n), jnp.float64)
            total = traced_macs(lambda x, ct: jax.vjp(lambda y: jnp.einsum("ij,jk->ik", y, y), x)[1](ct),
                                *_abstract(shapes), out)[0]
            labels.append(f"x->einsum(ij,jk->ik, x, x) n={n} VJP")
            counted.append(total - fwd)
            formula.append(fwd)
            continue
        spec, shapes, expected_fwd = _draw_binary(g) if t % 3 else _draw_chain(g)
        fwd = traced_macs(lambda *ops, spec=spec: jnp.einsum(spec, *ops), *_abstract(shapes))[0]
        if expected_fwd is not None:
            labels.append(f"{spec} {shapes} forward")
            counted.append(fwd)
            formula.append(expected_fwd)
        for i in range(len(shapes)):
            labels.append(f"{spec} VJP operand {i}")
            counted.append(_vjp_cost_linear(spec, shapes, i))
            formula.append(fwd)
        joint_ratios.append(_vjp_cost_joint(spec, shapes, fwd) / fwd)
    v = count_verdict(labels, counted, formula,
                      expected="each operand's VJP MACs == forward MACs (so k VJPs = k x forward); "
                               "binary forward == product of the index sizes")
    jr = np.array(joint_ratios or [np.nan])
    return Verdict(holds=v.holds, measured=v.measured + (f"; joint reverse-mode backward / forward in "
                                                           f"[{np.nanmin(jr):.3g}, {np.nanmax(jr):.3g}]" if joint_ratios else ""),
                   expected=v.expected, evidence=dict(v.evidence) | {"joint_backward_ratio": jr})


register(Claim(
    id="abbott2024.vjp_contraction_cost",
    paper=PAPER,
    where="Section 5 (backpropagation: the derivative of a contraction is a contraction)",
    statement="The VJP of a multilinear contraction with respect to each operand is a contraction over "
              "the same indices with the same number of multiplications, so backpropagating to all k "
              "operands costs k times the forward contraction.",
    kind="complexity",
    expected="exact equality of the jaxpr MAC counts",
    study=study_vjp,
    plot=plot_bound,
    controls={"non-multilinear: one operand used twice": partial(study_vjp, repeated_operand=True)},
))
