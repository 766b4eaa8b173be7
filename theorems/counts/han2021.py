"""Han, Xiao, Wu, Guo, Xu & Wang, "Transformer in Transformer", NeurIPS 2021 (arXiv 2103.00112),
Section 2.3 "Complexity analysis".

Claim checked (constructions.counts.tnt_macs / tnt_params, constructions.counts.tnt.tnt_block):

* ``han2021.block_cost`` -- the FLOPs (the paper's count is of multiply-accumulates) of one TNT block
  are 2nmc(6c + m) + nmcd + 2nd(6d + n) and its parameters 12c^2 + mcd + 12d^2. Independent count:
  the dot_general MACs of ``jax.make_jaxpr`` of a real TNT block (inner transformer on n x m words,
  the flatten-and-project aggregation, the outer transformer; traced with abstract shapes) and the
  2-D weight matrices of its parameter tree; the full count with biases and LayerNorms is reported
  beside it. For TNT-S (n = 196, d = 384, c = 24, m = 16): 429,305,856 MACs and 1,923,840 weights vs
  376,320,000 and 1,769,472 for a DeiT-S block, ratios 1.14 and 1.09 as printed in the paper.
  Controls: the inner attention's m^2 term dropped; the aggregation term nmcd dropped.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp

from constructions.counts import tnt as tn
from constructions.counts import tnt_macs, tnt_params
from numerics.random import rng
from theorems.counts._common import count_verdict, matrix_size, traced_macs, tree_size
from theorems.judges import plot_bound
from theorems.registry import Claim, Verdict, register

PAPER = "han2021"
TNT_S = (196, 384, 24, 16)
PAPER_FIGURES = {"tnt_macs": 429_305_856, "deit_macs": 376_320_000, "tnt_params": 1_923_840,
                 "deit_params": 1_769_472, "flops_ratio": 1.14, "params_ratio": 1.09}


def _heads(dim):
    return max(h for h in (1, 2, 3, 4, 6) if dim % h == 0)


def _count_tnt(n, d, c, m):
    params = jax.eval_shape(lambda k: tn.init_tnt_block(d, c, m, k), jax.random.PRNGKey(0))
    words = jax.ShapeDtypeStruct((n, m, c), jnp.float64)
    sentences = jax.ShapeDtypeStruct((n, d), jnp.float64)
    macs, _ = traced_macs(lambda p, w, s: tn.tnt_block(p, w, s, _heads(c), _heads(d)), params, words, sentences)
    return macs, matrix_size(params), tree_size(params)


def _count_vit(n, d):
    params = jax.eval_shape(lambda k: tn.init_vit_block(d, k), jax.random.PRNGKey(0))
    macs, _ = traced_macs(lambda p, x: tn.vit_block(p, x, _heads(d)), params, jax.ShapeDtypeStruct((n, d), jnp.float64))
    return macs, matrix_size(params), tree_size(params)


def study_block(profile: str, seed: int, *, drop: str = "") -> Verdict:
    g = rng(seed)
    sizes = [TNT_S] + [tuple(int(g.integers(1, hi)) for hi in (30, 48, 16, 20)) for _ in range(3 if profile == "fast" else 12)]
    labels, counted, formula, full = [], [], [], []
    for n, d, c, m in sizes:
        macs, mats, allp = _count_tnt(n, d, c, m)
        f = tnt_macs(n, d, c, m)
        if drop == "inner_m2":
            f -= 2 * n * m * c * m
        elif drop == "aggregation":
            f -= n * m * c * d
        labels += [f"TNT n={n} d={d} c={c} m={m} MACs", f"TNT d={d} c={c} m={m} weights"]
        counted += [macs, mats]
        formula += [f, tnt_params(d, c, m)]
        full.append(allp)
    n, d, c, m = TNT_S
    deit_macs, deit_mats, deit_all = _count_vit(n, d)
    labels += ["DeiT-S block MACs", "DeiT-S block weights"]
    counted += [deit_macs, deit_mats]
    formula += [tn.vit_block_macs_paper(n, d), 12 * d * d]
    published = [PAPER_FIGURES["tnt_macs"], PAPER_FIGURES["tnt_params"]] + [None] * (len(labels) - 4) + \
                [PAPER_FIGURES["deit_macs"], PAPER_FIGURES["deit_params"]]
    v = count_verdict(labels, counted, formula, published=published,
                      expected="formula == jaxpr MACs / weight matrices of the real block == the paper's figures")
    flops_ratio = counted[0] / deit_macs
    params_ratio = counted[1] / deit_mats
    ratios_ok = round(flops_ratio, 2) == PAPER_FIGURES["flops_ratio"] and round(params_ratio, 2) == PAPER_FIGURES["params_ratio"]
    measured = (v.measured + f"; TNT-S/DeiT-S MACs {counted[0]:,}/{deit_macs:,} = {flops_ratio:.4f}, "
                f"weights {counted[1]:,}/{deit_mats:,} = {params_ratio:.4f}; with biases and LayerNorms "
                f"{full[0]:,} (TNT-S) and {deit_all:,} (DeiT-S)")
    return Verdict(holds=v.holds and ratios_ok, measured=measured, expected=v.expected,
                   evidence=dict(v.evidence) | {"tnt_full_params": full[0], "deit_full_params": deit_all,
                                                "flops_ratio": flops_ratio, "params_ratio": params_ratio},
                   notes="MACs: dot_general only (softmax, LayerNorm, GELU, biases, residuals excluded)")


register(Claim(
    id="han2021.block_cost",
    paper=PAPER,
    where="Section 2.3 (complexity analysis), p. 4",
    statement="A TNT block costs 2nmc(6c + m) + nmcd + 2nd(6d + n) FLOPs and has 12c^2 + mcd + 12d^2 parameters; "
              "for TNT-S this is 1.14x the FLOPs and 1.09x the parameters of a DeiT-S block.",
    kind="complexity",
    expected="exact equality with the jaxpr count; the paper's figures and ratios 1.14 / 1.09",
    study=study_block,
    plot=plot_bound,
    controls={"inner attention m^2 term dropped": partial(study_block, drop="inner_m2"),
              "aggregation term nmcd dropped": partial(study_block, drop="aggregation")},
))
