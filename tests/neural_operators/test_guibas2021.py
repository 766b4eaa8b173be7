"""guibas2021 (AFNO): linear-case identities and the two findings' minimal counterexamples."""

import numpy as np

from theorems.neural_operators import guibas2021


def test_minimal_shift_counterexample():
    m = guibas2021.minimal_shift_counterexample()
    np.testing.assert_allclose(m["branch"], [0.5, 0.5], atol=1e-15)
    np.testing.assert_allclose(m["branch_of_shifted"], [1.0, 0.0], atol=1e-15)
    assert abs(m["commutator"] - 1.0) < 1e-14
    assert guibas2021.minimal_shift_counterexample("identity")["commutator"] < 1e-15


def test_minimal_resolution_counterexample():
    m = guibas2021.minimal_resolution_counterexample("ortho")
    assert abs(m["branch_W2"] - (np.sqrt(2) - 0.5) / np.sqrt(2)) < 1e-14   # (sqrt(2) - 1/2)/sqrt(2)
    assert abs(m["branch_W4"] - 0.75) < 1e-14                              # (2 - 1/2)/2
    f = guibas2021.minimal_resolution_counterexample("forward")
    assert f["branch_W2"] == f["branch_W4"] == 0.5


def test_block_reference_is_independent_of_rfft():
    g = np.random.default_rng(2)
    w1, b1, w2, b2 = guibas2021.random_block(g, 4, 2, 2)
    x = g.standard_normal((5, 6, 4))
    ref = guibas2021.block_reference(x, w1, w2, 4)
    assert ref.shape == x.shape and np.all(np.isfinite(ref))


def test_cost_counts_are_exactly_quasi_linear():
    v = guibas2021.study_cost("fast", 0)
    assert v.holds
    lo = v.evidence["local_orders"]
    assert np.all((lo > 0.9) & (lo < 1.1)) and lo[-1] < lo.max()  # N log N: local orders just above 1, falling back


def test_fixed_modes_invariance_and_ortho_control():
    assert guibas2021.study_fixed_modes("fast", 4).holds
    assert not guibas2021.study_fixed_modes("fast", 4, norm="ortho").holds
