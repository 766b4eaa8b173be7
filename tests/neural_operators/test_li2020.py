"""li2020 (FNO spectral convolution): exact case, the aliasing rates' mechanism, controls."""

import numpy as np

from constructions.neural_operators.fno import spectral_conv
from theorems.neural_operators import li2020


def test_resolution_invariance_at_odd_and_even_n():
    v = li2020.study_resolution("fast", 3)
    assert v.holds and v.evidence["max_ratio"] < 1.0


def test_mismatched_normalisation_grows_with_n():
    g = np.random.default_rng(0)
    w = g.standard_normal((2, 1, 1)) + 1j * g.standard_normal((2, 1, 1))
    outs = [li2020._mismatched_conv(np.cos(2 * np.pi * np.arange(n) / n)[:, None], w)[0, 0] for n in (8, 16)]
    assert abs(outs[1] / outs[0] - 2.0) < 1e-12


def test_truncation_control_is_order_one():
    v = li2020.study_truncation("fast", 0, offset=-1)
    assert not v.holds and v.evidence["max_rel_error"] > 1e-2


def test_nyquist_mode_is_annihilated():
    n = 16
    u = np.cos(np.pi * np.arange(n))[:, None]  # k = N/2
    w = np.ones((8, 1, 1), dtype=complex)
    assert np.max(np.abs(spectral_conv(u, w))) < 1e-14


def test_relu_rate_and_step_control():
    v = li2020.study_relu("fast", 1)
    assert v.holds, v.measured
    c = li2020.study_relu("fast", 1, activation="step")
    assert not c.holds and c.evidence["ci"][1] < 2.0
