"""berner2025 (local layers): the continuum convolution closed form and the pointwise limit."""

import numpy as np
import scipy.integrate

from constructions.neural_operators.local import fd_conv, periodic_conv
from theorems.neural_operators import berner2025


def test_continuum_hat_closed_form_against_quad():
    r, x0 = 0.125, 0.3
    modes = [(0.7, 2, 0.4)]
    ref, _ = scipy.integrate.quad(lambda y: (1 - abs(y) / r) * 0.7 * np.cos(4 * np.pi * (x0 + y) + 0.4), -r, r,
                                  points=[0.0], epsabs=1e-14)
    assert abs(berner2025.continuum_hat_conv(np.array([x0]), r, modes)[0] - ref) < 1e-13


def test_fd_conv_of_a_linear_stencil_is_exact_on_linear_functions_locally():
    n = 64
    h = 1 / n
    u = np.sin(2 * np.pi * np.arange(n) * h)
    k = np.array([-0.5, 0.0, 0.5])  # central difference: u' + O(h^2)
    err = np.max(np.abs(fd_conv(u, k, h) - 2 * np.pi * np.cos(2 * np.pi * np.arange(n) * h)))
    assert err < (2 * np.pi) ** 3 * h**2 / 6 * 1.01


def test_plain_conv_tends_to_the_stencil_sum():
    n = 4096
    u = np.cos(2 * np.pi * np.arange(n) / n)
    k = np.array([0.2, -1.0, 3.0, 0.5, 0.1])
    assert np.max(np.abs(periodic_conv(u, k) - k.sum() * u)) < 10 * 2 * np.pi / n * np.sum(np.abs(k))


def test_antisymmetric_control_is_rejected():
    assert not berner2025.study_fd("fast", 0, antisymmetric=True, sym_part=5e-2).holds
