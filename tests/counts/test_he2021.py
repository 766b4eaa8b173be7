"""constructions.counts.reid and the he2021 claims."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from constructions.counts import reid
from theorems.registry import get


def test_paper_case():
    assert reid.overlapping_patch_count(256, 128, 16, 12) == 210
    assert reid.overlapping_patch_count(10, 10, 16, 12) == 0


@given(groups=st.integers(1, 6), per=st.integers(1, 30), data=st.data())
def test_jigsaw_is_a_permutation(groups, per, data):
    N = groups * per
    shift = data.draw(st.integers(1, N))
    idx = reid.jigsaw_indices(N, shift, groups)
    np.testing.assert_array_equal(np.sort(idx), np.arange(N))
    tokens = np.random.default_rng(N).normal(size=(2, N + 1, 3))
    out = reid.jigsaw_rearrange(tokens, shift, groups)
    np.testing.assert_array_equal(reid.jigsaw_inverse(out, shift, groups), tokens[:, 1:])


def test_official_fallback_repeats_a_token():
    idx = reid.jigsaw_indices(11, 3, 4, pad=True)
    assert idx.size == 12 and len(set(idx.tolist())) == 11
    with pytest.raises(ValueError, match="not divisible"):
        reid.jigsaw_indices(11, 3, 4)


@pytest.mark.parametrize("bad, err", [(-1, ValueError), (0, ValueError), (2.5, TypeError)])
def test_bad_sizes(bad, err):
    with pytest.raises(err):
        reid.overlapping_patch_count(bad, 10, 3, 2)
    with pytest.raises(err):
        reid.jigsaw_indices(bad, 1, 1)


@pytest.mark.parametrize("cid", ["he2021.overlapping_patches", "he2021.jigsaw_permutation"])
def test_claims_seed_2(cid):
    claim = get(cid)
    assert claim.check("fast", 2).holds
    assert not any(v.holds for v in claim.run_controls("fast", 2).values())


def test_overlapping_patch_embed_values_order_and_errors():
    # every token is the dot product of one P x P patch (stride S, VALID) with each filter, the
    # patches in row-major order; written out with numpy loops, independent of jax.lax
    rng = np.random.default_rng(0)
    B, C, H, W, D, P, S = 2, 3, 9, 7, 4, 3, 2
    images, weight = rng.normal(size=(B, C, H, W)), rng.normal(size=(D, C, P, P))
    out = np.asarray(reid.overlapping_patch_embed(images, weight, S))
    rows, cols = range(0, H - P + 1, S), range(0, W - P + 1, S)
    ref = np.array([[[np.sum(images[b, :, i:i + P, j:j + P] * weight[o]) for o in range(D)]
                     for i in rows for j in cols] for b in range(B)])
    assert out.shape == (B, reid.overlapping_patch_count(H, W, P, S), D) == ref.shape
    np.testing.assert_allclose(out, ref, rtol=0, atol=10 * np.finfo(float).eps * C * P * P * np.abs(ref).max())
    with pytest.raises(ValueError, match=r"^stride must be a positive int"):
        reid.overlapping_patch_embed(images, weight, 0)
    with pytest.raises(TypeError, match=r"^stride must be an int"):
        reid.overlapping_patch_embed(images, weight, 1.5)
