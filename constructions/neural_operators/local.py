"""Liu-Schiaffini et al.'s discretisation-convergent local layers, as recommended by Berner et al.
2025, "Principled Approaches for Extending Neural Architectures to Function Spaces for Operator
Learning" (arXiv 2506.10973), section 4 (local integral / differential kernels).

On a periodic grid of spacing h (d = 1: N points, d = 2: N1 x N2 points, the same h on both axes)
a stencil k with odd side lengths is centred: entry idx sits at the integer offset
z = idx - (shape - 1)/2 (grid units), and

    conv(u, k)(x) = sum_z k_z u(x + z h)                 (cross-correlation: k is not flipped),
    fd_conv(u, k, h) = (conv(u, k) - (sum_z k_z) u) / h  = sum_z k_z (u(x + z h) - u(x)) / h.

As h -> 0 with k fixed, conv(u, k) -> (sum k) u (a pointwise map), while
fd_conv(u, k, h) -> sum_z k_z (z . grad u) (a directional derivative) with error
(h/2) sum_z k_z z^T D^2u z + O(h^2), and O(h^2) when k is antisymmetric (k_{-z} = -k_z).

:func:`kernel_conv` is the other recipe: a kernel kappa of fixed physical support, resampled with
the grid and weighted by the cell area h^d, sum_z h^d kappa(z h) u(x + z h) -> int kappa(y) u(x + y) dy
at the rate of the underlying quadrature (the trapezoid rule).
"""

from __future__ import annotations

import numpy as np

from numerics.validation import as_float_array, check_positive

__all__ = ["periodic_conv", "fd_conv", "kernel_conv", "stencil_offsets"]


def _check_stencil(u: np.ndarray, stencil) -> np.ndarray:
    k = as_float_array("stencil", stencil)
    if k.ndim != u.ndim:
        raise ValueError(f"stencil must have the dimension of u ({u.ndim}), got shape {k.shape}")
    for s in k.shape:
        if s < 1 or s % 2 == 0:
            raise ValueError(f"stencil side lengths must be odd, got shape {k.shape}")
        # a stencil longer than the grid is still defined on the periodic grid (offsets wrap around)
    return k


def stencil_offsets(shape: tuple[int, ...]) -> np.ndarray:
    """Offsets z = idx - (shape - 1)/2 of every stencil entry, shape (*shape, d), integers."""
    grids = np.meshgrid(*[np.arange(s) - (s - 1) // 2 for s in shape], indexing="ij")
    return np.stack(grids, axis=-1)


def periodic_conv(u, stencil) -> np.ndarray:
    """conv(u, k)(x) = sum_z k_z u(x + z h) on a periodic grid (u (N,) or (N1, N2))."""
    ua = as_float_array("u", u, ndim=(1, 2))
    k = _check_stencil(ua, stencil)
    out = np.zeros_like(ua)
    for idx in np.ndindex(*k.shape):
        z = tuple(int(i - (s - 1) // 2) for i, s in zip(idx, k.shape))
        if k[idx] != 0.0:
            # u(x + z h) at node j is u[j + z]: roll by -z
            out += k[idx] * np.roll(ua, shift=tuple(-zi for zi in z), axis=tuple(range(ua.ndim)))
    return out


def fd_conv(u, stencil, h) -> np.ndarray:
    """(conv(u, k) - (sum k) u) / h, the finite-difference convolution (module docstring)."""
    hh = check_positive("h", h)
    ua = as_float_array("u", u, ndim=(1, 2))
    k = _check_stencil(ua, stencil)
    out = np.zeros_like(ua)
    for idx in np.ndindex(*k.shape):
        z = tuple(int(i - (s - 1) // 2) for i, s in zip(idx, k.shape))
        if k[idx] != 0.0 and any(z):
            out += k[idx] * (np.roll(ua, shift=tuple(-zi for zi in z), axis=tuple(range(ua.ndim))) - ua)
    return out / hh


def kernel_conv(u, kernel, radius: float, h: float) -> np.ndarray:
    """sum_{|z h| <= radius} h^d kappa(z h) u(x + z h), periodic, d = u.ndim (kernel: callable on
    offsets of shape (..., d) in physical units); radius / h need not be an integer."""
    ua = as_float_array("u", u, ndim=(1, 2))
    hh = check_positive("h", h)
    r = check_positive("radius", radius)
    if not callable(kernel):
        raise TypeError("kernel must be callable on physical offsets of shape (..., d)")
    m = int(np.floor(r / hh + 1e-12))
    side = 2 * m + 1
    if any(side > n for n in ua.shape):
        raise ValueError(f"the kernel support (2 * {m} + 1 nodes) is longer than the periodic grid {ua.shape}")
    shape = (side,) * ua.ndim
    offs = stencil_offsets(shape) * hh
    weights = hh**ua.ndim * np.asarray(kernel(offs), dtype=np.float64).reshape(shape)
    return periodic_conv(ua, weights)
