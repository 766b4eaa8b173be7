"""He, Luo, Wang, Wang, Li & Jiang, "TransReID: Transformer-based Object Re-Identification", ICCV 2021
(arXiv 2102.04378), Section 3.1 (overlapping patches, eq. 2) and Section 3.2 (jigsaw patch module).

Claims checked (constructions.counts.reid):

* ``he2021.overlapping_patches`` -- N = floor((H + S - P)/S) x floor((W + S - P)/S) is the output size
  of a real strided P x P convolution (``overlapping_patch_embed``, run on the paper's 256 x 128 case:
  210 patches for P = 16, S = 12; output shapes of the same convolution by ``jax.eval_shape`` for drawn
  sizes) and of an explicit enumeration of the patch corners. Control: floor((H - P)/S) per side.
* ``he2021.jigsaw_permutation`` -- the shift + patch-shuffle of the official ``shuffle_unit`` is a
  permutation of the N patch tokens with an exact inverse, and agrees with a transcription of the
  official tensor operations (concatenate, view, transpose). Control: the official code's fallback for
  N not divisible by the group count, which pads with a repeated token (a repeated index).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from constructions.counts import reid
from numerics.random import rng
from theorems.counts._common import count_verdict
from theorems.judges import plot_bound
from theorems.registry import Claim, Verdict, register

PAPER = "he2021"


def study_patches(profile: str, seed: int, *, plus_stride: bool = True) -> Verdict:
    g = rng(seed)
    cases = [(256, 128, 16, 12)]
    for _ in range(10 if profile == "fast" else 60):
        P = int(g.integers(1, 20))
        cases.append((int(g.integers(P, 300)), int(g.integers(P, 200)), P, int(g.integers(1, P + 1))))
    labels, counted, formula, corners, published = [], [], [], [], []
    for i, (H, W, P, S) in enumerate(cases):
        weight = jnp.ones((1, 1, P, P))
        if i == 0:
            out = reid.overlapping_patch_embed(jnp.zeros((1, 1, H, W)), weight, S)  # run for real
        else:
            out = jax.eval_shape(lambda im, w, S=S: reid.overlapping_patch_embed(im, w, S),
                                 jax.ShapeDtypeStruct((1, 1, H, W), jnp.float64), weight)
        f = reid.overlapping_patch_count(H, W, P, S) if plus_stride else ((H - P) // S) * ((W - P) // S)
        labels.append(f"{H}x{W} P={P} S={S}")
        counted.append(out.shape[1])
        formula.append(f)
        corners.append(len(range(0, H - P + 1, S)) * len(range(0, W - P + 1, S)))
        published.append(210 if i == 0 else None)
    v = count_verdict(labels, counted, formula, published=published,
                      expected="formula == output size of the strided convolution == corner enumeration (210 at 256x128)")
    ok = v.holds and corners == counted
    return Verdict(holds=ok, measured=v.measured + f"; corner enumeration agrees: {corners == counted}",
                   expected=v.expected, evidence=v.evidence)


register(Claim(
    id="he2021.overlapping_patches",
    paper=PAPER,
    where="Section 3.1, eq. (2)",
    statement="With patch size P and stride S the image H x W is split into N = N_H x N_W = "
              "floor((H + S - P)/S) x floor((W + S - P)/S) overlapping patches.",
    kind="identity",
    expected="exact equality with the real convolution's output size",
    study=study_patches,
    plot=plot_bound,
    controls={"floor((H - P)/S) per side (+1 missing)": partial(study_patches, plus_stride=False)},
))


def _official_shuffle(features, shift, group):
    """Transcription of TransReID's shuffle_unit (begin = 1) in numpy, tensor op by tensor op."""
    begin = 1
    x = np.concatenate([features[:, begin - 1 + shift:], features[:, begin:begin - 1 + shift]], axis=1)
    b, _, dim = x.shape
    x = x.reshape(b, group, -1, dim)
    x = np.transpose(x, (0, 2, 1, 3))
    return x.reshape(b, -1, dim)


def study_jigsaw(profile: str, seed: int, *, padded: bool = False) -> Verdict:
    g = rng(seed)
    rows, bad = [], []
    for i in range(10 if profile == "fast" else 80):
        groups = int(g.integers(1, 6))
        if padded:
            groups = int(g.integers(3, 6))
            N = groups * int(g.integers(2, 20)) + int(g.integers(1, groups - 1)) + 1
            if (N + 1) % groups:
                N = groups * (N // groups) + groups - 1  # one pad token completes the last group
        else:
            N = groups * int(g.integers(1, 40)) if i else 210
            groups = 2 if i == 0 else groups
        shift = int(g.integers(1, N + 1)) if i else 5
        idx = reid.jigsaw_indices(N, shift, groups, pad=padded)
        tokens = g.normal(size=(2, 1 + N, 3))
        perm = idx.size == N and np.array_equal(np.sort(idx), np.arange(N))
        inverse_ok = matches = False
        if perm:
            out = reid.jigsaw_rearrange(tokens, shift, groups)
            inverse_ok = np.array_equal(reid.jigsaw_inverse(out, shift, groups), tokens[:, 1:])
            matches = np.array_equal(out, _official_shuffle(tokens, shift, groups))
        rows.append((N, shift, groups, perm, inverse_ok, matches))
        if not (perm and inverse_ok and matches):
            bad.append(f"N={N},shift={shift},groups={groups}")
    arr = np.array(rows, dtype=np.float64)
    return Verdict(holds=not bad,
                   measured=f"{len(rows) - len(bad)}/{len(rows)} cases a permutation with exact inverse and equal "
                            f"to the official ops" + (f"; fails at {bad[:3]}" if bad else ""),
                   expected="a permutation (sorted indices = 0..N-1), exact inverse, == official shuffle_unit",
                   evidence={"labels": [f"N={int(r[0])} s={int(r[1])} k={int(r[2])}" for r in arr],
                             "ratios": 1.0 + (1.0 - arr[:, 3] * arr[:, 4] * arr[:, 5]), "max_ratio": 1.0})


register(Claim(
    id="he2021.jigsaw_permutation",
    paper=PAPER,
    where="Section 3.2 (jigsaw patch module: shift operation and patch shuffle operation)",
    statement="The shift operation moves the first m patches to the end and the patch shuffle regroups the "
              "shifted patches into k groups; the rearrangement is a shuffle of the patch embeddings.",
    kind="identity",
    expected="permutation with exact inverse in every drawn case",
    study=study_jigsaw,
    plot=plot_bound,
    controls={"official fallback for N not divisible by k (repeated token)": partial(study_jigsaw, padded=True)},
))
