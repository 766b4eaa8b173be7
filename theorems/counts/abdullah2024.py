"""Abdullah & Aydin, "Activator: GLU Activations as The Core Functions of a Vision Transformer"
(arXiv 2405.15953): a GLU-gated MLP replaces multi-head self-attention in a ViT block.

Claims checked (constructions.counts.glu):

* ``abdullah2024.no_token_mixing`` -- a GLU-MLP block (GLU, GEGLU, SwiGLU, ReGLU) acts on each token
  separately: its Jacobian d out_i / d x_j (``jax.jacfwd``) is exactly zero for i != j, while an
  MHSA + MLP block's is not. Controls: the MHSA + MLP block judged by the same test; a GLU block whose
  LayerNorm normalises over the token axis instead of the feature axis.
* ``abdullah2024.block_counts`` -- parameters (weight matrices) and MACs of the GLU-MLP block
  (3dh, 3ndh) and of the MHSA + MLP block (4d^2 + 2df, n(4d^2 + 2df) + 2n^2 d) equal the counts of the
  real blocks (their parameter trees and the dot_general MACs of their jaxprs). Control: the
  attention's 2 n^2 d dropped from the MHSA + MLP count (the term the replacement removes).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from constructions.counts import glu
from constructions.counts import tnt as tn
from numerics.random import rng
from theorems.counts._common import count_verdict, matrix_size, traced_macs
from theorems.judges import plot_bound
from theorems.registry import Claim, Verdict, register

PAPER = "abdullah2024"


def _token_axis_ln_block(p, x, variant):
    """Near control: the GLU block with its LayerNorm statistics taken over the tokens (axis 0)."""
    mu = jnp.mean(x, axis=0, keepdims=True)
    y = (x - mu) / jnp.sqrt(jnp.mean((x - mu) ** 2, axis=0, keepdims=True) + 1e-6) * p["ln"]["g"] + p["ln"]["b"]
    gate = glu.GLU_VARIANTS[variant](y @ p["gate"]["w"] + p["gate"]["b"])
    return x + (gate * (y @ p["up"]["w"] + p["up"]["b"])) @ p["down"]["w"] + p["down"]["b"]


def study_mixing(profile: str, seed: int, *, block: str = "glu") -> Verdict:
    g = rng(seed)
    labels, off, diag = [], [], []
    reps = 1 if profile == "fast" else 2
    for variant in sorted(glu.GLU_VARIANTS):
        if block == "mhsa":
            fn = lambda p, x: tn.vit_block(p, x, 1)  # noqa: E731
        elif block == "token_ln":
            fn = lambda p, x, v=variant: _token_axis_ln_block(p, x, v)  # noqa: E731
        else:
            fn = lambda p, x, v=variant: glu.glu_block(p, x, v)  # noqa: E731
        # eager jacfwd: with one shape per variant in the fast profile, every primitive compiles once
        # per process and the controls and later seeds reuse it
        jac = jax.jacfwd(fn, argnums=1)
        for r in range(reps):
            # a fixed shape first, drawn shapes in the full profile
            n, d, h = (4, 5, 6) if r == 0 else (int(g.integers(2, 6)), int(g.integers(2, 7)), int(g.integers(2, 9)))
            key = jax.random.PRNGKey(int(g.integers(2**31)))
            x = jnp.asarray(g.normal(size=(n, d)))
            if block == "mhsa":
                p = tn.init_vit_block(d, key)
                p = jax.tree_util.tree_map(lambda a: a * 20.0 if a.ndim == 2 else a, p)
            else:
                p = glu.init_glu_block(d, h, key)
            J = np.asarray(jac(p, x))  # (n, d, n, d)
            mask = ~np.eye(n, dtype=bool)
            blocks = np.abs(J).max(axis=(1, 3))  # (n, n) max over feature pairs
            labels.append(f"{block if block != 'glu' else variant} n={n} d={d}")
            off.append(float(blocks[mask].max()))
            diag.append(float(blocks[~mask].min()))
    off, diag = np.array(off), np.array(diag)
    holds = bool(np.all(off == 0.0) and np.all(diag > 0))
    return Verdict(holds=holds,
                   measured=f"max |d out_i/d x_j| (i != j) = {off.max():.3g}; min diagonal block {diag.min():.3g} "
                            f"over {len(labels)} blocks",
                   expected="off-diagonal token blocks of the Jacobian exactly 0, diagonal blocks non-zero",
                   evidence={"labels": labels, "off_diagonal": off, "diagonal": diag,
                             "ratios": 1.0 + off / np.maximum(diag, 1e-300), "max_ratio": float(1.0 + off.max())})


register(Claim(
    id="abdullah2024.no_token_mixing",
    paper=PAPER,
    where="Section 3 (the GLU-based MLP replaces the attention mechanism)",
    statement="The GLU-gated MLP block processes every token independently (no token mixing), unlike "
              "scaled dot-product attention.",
    kind="identity",
    expected="Jacobian block-diagonal across tokens, exactly (jax.jacfwd)",
    study=study_mixing,
    plot=plot_bound,
    controls={"MHSA + MLP block": partial(study_mixing, block="mhsa"),
              "LayerNorm over the token axis": partial(study_mixing, block="token_ln")},
))


def study_counts(profile: str, seed: int, *, drop_attention: bool = False) -> Verdict:
    g = rng(seed)
    sizes = [(197, 384, 1536)] + [(int(g.integers(1, 40)), 2 * int(g.integers(1, 20)), int(g.integers(1, 64)))
                                  for _ in range(3 if profile == "fast" else 12)]
    labels, counted, formula = [], [], []
    for n, d, f in sizes:
        key = jax.random.PRNGKey(0)
        gp = jax.eval_shape(lambda k, d=d, f=f: glu.init_glu_block(d, f, k), key)
        gm, _ = traced_macs(lambda p, x: glu.glu_block(p, x, "swiglu"), gp, jax.ShapeDtypeStruct((n, d), jnp.float64))
        vp = jax.eval_shape(lambda k, d=d, f=f: tn.init_vit_block(d, k, mlp_ratio=1) | {
            "fc1": {"w": jnp.zeros((d, f)), "b": jnp.zeros(f)}, "fc2": {"w": jnp.zeros((f, d)), "b": jnp.zeros(d)}}, key)
        vm, _ = traced_macs(lambda p, x: tn.vit_block(p, x, 2), vp, jax.ShapeDtypeStruct((n, d), jnp.float64))
        mh = glu.mhsa_mlp_macs(n, d, f) - (2 * n * n * d if drop_attention else 0)
        labels += [f"GLU n={n} d={d} h={f} MACs", f"GLU d={d} h={f} weights",
                   f"MHSA+MLP n={n} d={d} f={f} MACs", f"MHSA+MLP d={d} f={f} weights"]
        counted += [gm, matrix_size(gp), vm, matrix_size(vp)]
        formula += [glu.glu_block_macs(n, d, f), glu.glu_block_params(d, f), mh, glu.mhsa_mlp_params(d, f)]
    return count_verdict(labels, counted, formula,
                         expected="formulas == weight matrices of the parameter trees and jaxpr MACs of the real blocks",
                         notes="MACs: dot_general only (activations, LayerNorm, softmax, biases excluded)")


register(Claim(
    id="abdullah2024.block_counts",
    paper=PAPER,
    where="Section 3 (computational cost of the Activator block vs the attention block)",
    statement="Replacing MHSA by a GLU-MLP of hidden width h changes the block's cost from "
              "n(4d^2 + 2df) + 2n^2 d MACs and 4d^2 + 2df weights to 3ndh MACs and 3dh weights.",
    kind="complexity",
    expected="exact equality with the counts of the real blocks",
    study=study_counts,
    plot=plot_bound,
    controls={"attention 2 n^2 d dropped from the MHSA count": partial(study_counts, drop_attention=True)},
))
