"""Study helpers shared by the neural-operator papers: seeded random spectral weights and
band-limited trigonometric inputs with their exact Fourier coefficients."""

from __future__ import annotations

import numpy as np

__all__ = ["random_weights", "trig_input", "trig_eval"]


def random_weights(g: np.random.Generator, k_max: int, c_in: int, c_out: int) -> np.ndarray:
    """Complex Gaussian weights (k_max, c_in, c_out), entries of unit variance per part."""
    return g.standard_normal((k_max, c_in, c_out)) + 1j * g.standard_normal((k_max, c_in, c_out))


def trig_input(g: np.random.Generator, degree: int, channels: int) -> np.ndarray:
    """Fourier coefficients a_k (k = 0..degree, channels) of a real trigonometric polynomial
    u(x) = Re a_0 + 2 Re sum_{k>=1} a_k e^{2 pi i k x} (a_0 real)."""
    a = g.standard_normal((degree + 1, channels)) + 1j * g.standard_normal((degree + 1, channels))
    a[0] = a[0].real
    return a


def trig_eval(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """u(x) of :func:`trig_input` at points x (exact sum, no FFT): (len(x), channels)."""
    k = np.arange(a.shape[0])
    weight = np.where(k == 0, 1.0, 2.0)[:, None]
    return np.real(np.exp(2j * np.pi * np.outer(x, k)) @ (weight * a))
