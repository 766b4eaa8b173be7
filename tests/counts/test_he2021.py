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
