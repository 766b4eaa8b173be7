"""Tests for theorems.universal.gumaan2025: the equivariance lower bound behind the finding, float64 evidence,
and the claims' fast verdicts with their controls (also run by test_claims)."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from numerics.random import rng
from theorems.registry import get
from theorems.universal.gumaan2025 import _random_layer_no_pe, broadcast_first, sine_target


def reversal(X):
    return X[:, :, ::-1]


@given(seed=st.integers(0, 10_000), n=st.integers(2, 4), target=st.sampled_from(["broadcast", "reversal"]))
def test_equivariant_layers_obey_the_lower_bound(seed, n, target):
    """For any equivariant g and permutation P: max(err(X), err(PX)) >= |f(PX) - P f(X)|_max / 2."""
    f = broadcast_first if target == "broadcast" else reversal
    g = rng(seed)
    layer = _random_layer_no_pe(g, 1)
    X = g.uniform(size=(1, 1, n))
    perm = np.roll(np.arange(n), 1)
    PX = X[:, :, perm]
    out, outp = layer(X[0]), layer(PX[0])
    # equivariance to round-off (a few dozen operations of size <= |out|)
    assert np.abs(outp - out[:, perm]).max() <= 64 * np.finfo(float).eps * max(1.0, np.abs(out).max())
    lower = 0.5 * np.abs(f(PX)[0] - f(X)[0][:, perm]).max()
    err = max(np.abs(out - f(X)[0]).max(), np.abs(outp - f(PX)[0]).max())
    assert err >= lower - 1e-12


def test_reversal_counterexample_n3():
    """Reversal with n = 3 is not equivariant: X = (0, 0, 1) has x_1 = x_2, so an equivariant g
    has g_1 = g_2 while f(X) = (1, 0, 0): error >= 1/2."""
    X = np.array([[[0.0, 0.0, 1.0]]])
    PX = X[:, :, [1, 0, 2]]
    assert np.array_equal(PX, X)
    fX = reversal(X)[0]
    assert 0.5 * abs(fX[0, 0] - fX[0, 1]) == 0.5


def test_sine_target_lipschitz_constant_is_an_upper_bound():
    f, L, fmax = sine_target(2, 2, 5)
    g = np.random.default_rng(1)
    X = g.uniform(size=(200, 2, 2))
    Y = np.clip(X + g.uniform(-1e-3, 1e-3, size=X.shape), 0, 1)
    ratio = np.abs(f(X) - f(Y)).max(axis=(1, 2)) / np.abs(X - Y).max(axis=(1, 2))
    assert ratio.max() <= L
    assert np.abs(f(X)).max() <= fmax


def test_verdicts_are_float64_and_controls_rejected():
    for cid in ["gumaan2025.modulus_bound", "gumaan2025.param_count", "gumaan2025.needs_positional_encoding"]:
        claim = get(cid)
        v = claim.check("fast")
        assert v.holds, v.measured
        for val in v.evidence.values():
            if isinstance(val, np.ndarray):
                assert val.dtype != np.float32
        assert not any(c.holds for c in claim.run_controls("fast").values())
