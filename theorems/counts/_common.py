"""Study helpers of the counts family: independent counts of a real computation.

* :func:`dot_macs` walks a jaxpr (``jax.make_jaxpr`` of the real forward pass, possibly traced with
  abstract ``jax.ShapeDtypeStruct`` inputs, which costs no FLOPs) and adds the multiply-accumulates
  of every ``dot_general``: prod(lhs shape) * prod(rhs dimensions that are neither contracted nor
  batch) = (output size) x (contraction size). Sub-jaxprs (pjit, custom_jvp/vjp calls, remat) are
  walked; a ``scan`` multiplies its body by its length; ``while`` loops are refused (no static trip
  count). Every other primitive is tallied as *excluded* (softmax, LayerNorm, GELU, bias and
  residual additions, gathers, the mask) and reported next to the count.
* :func:`tree_size` / :func:`matrix_size`: parameters of a parameter tree (all leaves / the 2-D
  weight matrices only), from the arrays' shapes.
"""

from __future__ import annotations

from collections import Counter
from math import prod

import jax
import jax.extend.core as jcore

__all__ = ["dot_macs", "traced_macs", "tree_size", "matrix_size", "abstract", "count_verdict"]


def _sub_jaxprs(value):
    if isinstance(value, jcore.ClosedJaxpr):
        yield value.jaxpr
    elif isinstance(value, jcore.Jaxpr):
        yield value
    elif isinstance(value, tuple | list):
        for v in value:
            yield from _sub_jaxprs(v)


def dot_macs(jaxpr, excluded: Counter | None = None) -> tuple[int, Counter]:
    """(MACs of all dot_general equations, Counter of the other primitives) of a (Closed)Jaxpr."""
    if isinstance(jaxpr, jcore.ClosedJaxpr):
        jaxpr = jaxpr.jaxpr
    excluded = Counter() if excluded is None else excluded
    total = 0
    for eqn in jaxpr.eqns:
        name = eqn.primitive.name
        if name == "dot_general":
            lhs, rhs = (v.aval.shape for v in eqn.invars)
            (_, rc), (_, rb) = eqn.params["dimension_numbers"]
            total += prod(lhs) * prod(s for i, s in enumerate(rhs) if i not in set(rc) | set(rb))
            continue
        if name == "while":
            raise ValueError("dot_macs: a while loop has no static trip count")
        subs = [j for v in eqn.params.values() for j in _sub_jaxprs(v)]
        if subs:
            reps = int(eqn.params.get("length", 1)) if name == "scan" else 1
            if name == "cond":
                raise ValueError("dot_macs: cond branches are not counted")
            for j in subs:
                m, _ = dot_macs(j, excluded)
                total += reps * m
        else:
            excluded[name] += 1
    return int(total), excluded


def traced_macs(fn, *args) -> tuple[int, Counter]:
    """dot_macs of jax.make_jaxpr(fn)(*args); args may be jax.ShapeDtypeStruct trees."""
    return dot_macs(jax.make_jaxpr(fn)(*args))


def abstract(tree):
    """The ShapeDtypeStruct tree of a (possibly abstract) tree."""
    return jax.tree_util.tree_map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype), tree)


def tree_size(tree) -> int:
    return int(sum(prod(a.shape) for a in jax.tree_util.tree_leaves(tree)))


def matrix_size(tree) -> int:
    return int(sum(prod(a.shape) for a in jax.tree_util.tree_leaves(tree) if len(a.shape) == 2))


def count_verdict(labels, counted, formula, *, expected: str, published=None, notes: str = "",
                  extra: dict | None = None):
    """Exact integer agreement of a formula with an independent count in every case (and with the
    published figure where one is given: None entries are skipped). Evidence: ratios formula/count."""
    import numpy as np

    from theorems.registry import Verdict

    counted = [int(c) for c in counted]
    formula = [int(f) for f in formula]
    bad = [lbl for lbl, c, f in zip(labels, counted, formula, strict=True) if c != f]
    pub_bad = []
    if published is not None:
        pub_bad = [lbl for lbl, c, p in zip(labels, counted, published, strict=True) if p is not None and c != p]
    ratios = np.array([f / c if c else (1.0 if f == 0 else np.inf) for c, f in zip(counted, formula, strict=True)],
                      dtype=np.float64)
    worst = int(np.argmax(np.abs(np.log(np.where(ratios > 0, ratios, 1e-300)))))
    measured = (f"formula == count in {len(labels) - len(bad)}/{len(labels)} cases"
                + (f" (differs at {bad[:3]}: formula {formula[worst]:,} vs count {counted[worst]:,})" if bad else "")
                + (f"; published figure matched in all {sum(p is not None for p in published)}"
                   if published is not None and not pub_bad else "")
                + (f"; published figure missed at {pub_bad}" if pub_bad else ""))
    evidence = {"labels": [str(x) for x in labels], "counted": np.array(counted, dtype=np.float64),
                "formula": np.array(formula, dtype=np.float64), "ratios": ratios,
                "max_ratio": float(ratios[worst])}
    if extra:
        evidence |= extra
    return Verdict(holds=not bad and not pub_bad, measured=measured, expected=expected, evidence=evidence,
                   notes=notes)
