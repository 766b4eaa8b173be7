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


def test_overlapping_patch_count_boundaries_and_names():
    # N = floor((H + S - P)/S) floor((W + S - P)/S); a patch exactly the image's size gives 1, one
    # pixel less (in either side) gives 0
    assert reid.overlapping_patch_count(16, 16, 16, 12) == 1
    assert reid.overlapping_patch_count(15, 16, 16, 12) == 0 == reid.overlapping_patch_count(16, 15, 16, 12)
    assert reid.overlapping_patch_count(256, 10, 16, 12) == 0
    assert reid.overlapping_patch_count(7, 5, 3, 2) == 3 * 2
    assert reid.overlapping_patch_count(4, 4, 1, 1) == 16  # P = S = 1 (the minimum): every pixel
    for i, name in enumerate(("H", "W", "P", "S")):
        args = [8, 8, 3, 2]
        args[i] = 0
        with pytest.raises(ValueError, match=rf"^{name} must be a positive int"):
            reid.overlapping_patch_count(*args)


def test_overlapping_patch_embed_stride_one_and_batch_of_one():
    rng = np.random.default_rng(1)
    images, weight = rng.normal(size=(1, 2, 4, 3)), rng.normal(size=(3, 2, 2, 2))
    out = np.asarray(reid.overlapping_patch_embed(images, weight, 1))
    ref = np.array([[[np.sum(images[0, :, i:i + 2, j:j + 2] * weight[o]) for o in range(3)]
                     for i in range(3) for j in range(2)]])
    assert out.shape == (1, 6, 3)
    np.testing.assert_allclose(out, ref, rtol=0, atol=10 * np.finfo(float).eps * 8 * np.abs(ref).max())


def test_jigsaw_indices_follow_the_documented_shift_and_shuffle():
    # shifted = [shift - 1, ..., N - 1, 0, ..., shift - 2]; output position j * groups + g holds
    # shifted[g * (N / groups) + j]
    for N, shift, groups in ((12, 1, 3), (12, 5, 4), (12, 12, 2), (6, 3, 1), (1, 1, 1), (8, 2, 8)):
        shifted = list(range(shift - 1, N)) + list(range(0, shift - 1))
        per = N // groups
        ref = [shifted[g * per + j] for j in range(per) for g in range(groups)]
        got = reid.jigsaw_indices(N, shift, groups)
        np.testing.assert_array_equal(got, ref, err_msg=str((N, shift, groups)))
    # the official fallback: the second-to-last shifted token repeated, then the same shuffle
    shifted = list(range(2, 11)) + [0, 1]
    padded = shifted + [shifted[-2]]
    np.testing.assert_array_equal(reid.jigsaw_indices(11, 3, 4, pad=True), [padded[g * 3 + j] for j in range(3) for g in range(4)])
    np.testing.assert_array_equal(reid.jigsaw_indices(12, 3, 4, pad=True), reid.jigsaw_indices(12, 3, 4))  # divisible: no pad
    with pytest.raises(ValueError, match=r"^even padded, 6 tokens do not split into 4 groups"):
        reid.jigsaw_indices(5, 1, 4, pad=True)
    with pytest.raises(ValueError, match=r"^shift = 5 exceeds num_patches = 4"):
        reid.jigsaw_indices(4, 5, 2)
    with pytest.raises(ValueError, match=r"^num_patches = 11 is not divisible by groups = 4"):
        reid.jigsaw_indices(11, 3, 4)
    for name, args in (("num_patches", (0, 1, 1)), ("shift", (4, 0, 1)), ("groups", (4, 1, 0))):
        with pytest.raises(ValueError, match=rf"^{name} must be a positive int"):
            reid.jigsaw_indices(*args)


def test_jigsaw_rearrange_and_inverse_values_and_errors():
    import jax.numpy as jnp

    rng = np.random.default_rng(2)
    tokens = rng.normal(size=(2, 1 + 8, 3))
    idx = reid.jigsaw_indices(8, 3, 2)
    out = reid.jigsaw_rearrange(tokens, 3, 2)
    np.testing.assert_array_equal(out, tokens[:, 1 + idx])  # the [cls] token is dropped
    np.testing.assert_array_equal(np.asarray(reid.jigsaw_rearrange(jnp.asarray(tokens), 3, 2)), out)
    np.testing.assert_array_equal(reid.jigsaw_rearrange(tokens.tolist(), 3, 2), out)
    np.testing.assert_array_equal(reid.jigsaw_inverse(out, 3, 2), tokens[:, 1:])
    one = reid.jigsaw_rearrange(tokens[:, :2], 1, 1)  # N = 1 (the minimum): the one patch token
    np.testing.assert_array_equal(one, tokens[:, 1:2])
    pad = reid.jigsaw_rearrange(tokens[:, :8], 2, 2, pad=True)  # N = 7: padded to 8
    np.testing.assert_array_equal(pad, tokens[:, 1 + reid.jigsaw_indices(7, 2, 2, pad=True)])
    for bad in (tokens[0], tokens[:, :1], tokens[None]):
        with pytest.raises(ValueError, match=r"^tokens must be \(batch, 1 \+ N, dim\) with N >= 1"):
            reid.jigsaw_rearrange(bad, 1, 1)
    with pytest.raises(ValueError, match=r"^rearranged must be \(batch, N, dim\)"):
        reid.jigsaw_inverse(out[0], 3, 2)
