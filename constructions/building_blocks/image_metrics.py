"""Fidelity metrics of super-resolution benchmarks (li2026): PSNR, SSIM, bicubic resampling.

Li et al., "Beyond Visual Fidelity" (GeoSR-Bench, arXiv 2605.00310), score super-resolution models by
PSNR and SSIM. Definitions (grey 2-D images x, y of equal shape, dynamic range L = data_range):

* PSNR = 10 log10(L^2 / MSE), MSE = mean (x - y)^2; +inf when x == y.
* SSIM (Wang, Bovik, Sheikh & Simoncelli, IEEE TIP 13(4), 2004, eq. (13) with the Gaussian window of
  Section III.C): local statistics with the normalised Gaussian window w of sigma = 1.5 truncated at
  radius r = int(3.5 sigma + 0.5) = 5 (11 taps), applied separably,
      mu_x = w * x,  sigma_x^2 = w * x^2 - mu_x^2,  sigma_xy = w * (x y) - mu_x mu_y
  (population moments, no n/(n-1) factor), C1 = (0.01 L)^2, C2 = (0.03 L)^2,
      S = (2 mu_x mu_y + C1)(2 sigma_xy + C2) / ((mu_x^2 + mu_y^2 + C1)(sigma_x^2 + sigma_y^2 + C2)),
  and SSIM = the mean of S over the pixels at least r from every edge. The window is applied to
  the image extended by half-sample symmetric reflection (d c b a | a b c d), so the cropped pixels
  see only genuine data plus reflected data near the border. This is exactly what
  ``skimage.metrics.structural_similarity(x, y, data_range=L, gaussian_weights=True, sigma=1.5,
  use_sample_covariance=False)`` computes (its defaults truncate = 3.5, scipy.ndimage's
  mode 'reflect', and a crop of (win_size - 1)/2 = 5); like it, both sides must be >= 11.
* ``bicubic_resize``: separable cubic convolution (Keys 1981, a = -1/2, the kernel of MATLAB's and
  PIL's "bicubic") on pixel centres (output centre i sits at input coordinate
  (i + 1/2) n_in / n_out - 1/2), edge pixels replicated beyond the border, no antialiasing prefilter.
"""

from __future__ import annotations

import numbers

import numpy as np

from numerics.validation import as_float_array, check_int, check_positive

__all__ = ["SSIM_K1", "SSIM_K2", "SSIM_SIGMA", "SSIM_RADIUS", "gaussian_window", "psnr", "ssim",
           "ssim_map", "keys_kernel", "bicubic_resize"]

SSIM_K1 = 0.01
SSIM_K2 = 0.03
SSIM_SIGMA = 1.5
SSIM_RADIUS = int(3.5 * SSIM_SIGMA + 0.5)  # = 5: an 11-tap window


def _pair(x, y) -> tuple[np.ndarray, np.ndarray]:
    a = as_float_array("x", x, ndim=2)
    b = as_float_array("y", y, ndim=2)
    if a.shape != b.shape:
        raise ValueError(f"x and y must have the same shape, got {a.shape} and {b.shape}")
    if a.size == 0:
        raise ValueError("images must not be empty")
    return a, b


def _data_range(data_range) -> float:
    if not isinstance(data_range, numbers.Real) or isinstance(data_range, bool):
        raise TypeError(f"data_range must be a real number, got {type(data_range).__name__}")
    return check_positive("data_range", data_range)


def psnr(x, y, data_range) -> float:
    """10 log10(data_range^2 / mean((x - y)^2)) in dB; +inf for identical images."""
    a, b = _pair(x, y)
    L = _data_range(data_range)
    mse = float(np.mean((a - b) ** 2))
    if mse == 0.0:
        return float("inf")
    return float(10.0 * np.log10(L * L / mse))


def gaussian_window(sigma: float = SSIM_SIGMA, radius: int = SSIM_RADIUS) -> np.ndarray:
    """w_k proportional to exp(-k^2 / (2 sigma^2)), k = -radius..radius, summing to 1."""
    s = check_positive("sigma", sigma)
    r = check_int("radius", radius, minimum=0)
    k = np.arange(-r, r + 1, dtype=np.float64)
    w = np.exp(-0.5 * (k / s) ** 2)
    return w / w.sum()


def _smooth(img: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Separable correlation with w after half-sample symmetric extension by len(w)//2 per side
    (valid because every side is >= the radius)."""
    r = w.size // 2
    p = np.pad(img, r, mode="symmetric")
    n0, n1 = img.shape
    rows = sum(w[k] * p[k:k + n0, :] for k in range(w.size))
    return sum(w[k] * rows[:, k:k + n1] for k in range(w.size))


def ssim_map(x, y, data_range) -> np.ndarray:
    """The SSIM index S at every pixel (before the border crop); see the module docstring."""
    a, b = _pair(x, y)
    L = _data_range(data_range)
    win = 2 * SSIM_RADIUS + 1
    if min(a.shape) < win:
        raise ValueError(f"images must be at least {win} x {win} pixels for the 11-tap window, got {a.shape}")
    w = gaussian_window()
    mx, my = _smooth(a, w), _smooth(b, w)
    vx = _smooth(a * a, w) - mx * mx
    vy = _smooth(b * b, w) - my * my
    vxy = _smooth(a * b, w) - mx * my
    c1, c2 = (SSIM_K1 * L) ** 2, (SSIM_K2 * L) ** 2
    return ((2 * mx * my + c1) * (2 * vxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))


def ssim(x, y, data_range) -> float:
    """Mean SSIM over the pixels at distance >= 5 from the border (Gaussian sigma 1.5, population
    covariances, C1 = (0.01 L)^2, C2 = (0.03 L)^2); both image sides >= 11."""
    S = ssim_map(x, y, data_range)
    r = SSIM_RADIUS
    return float(S[r:S.shape[0] - r, r:S.shape[1] - r].mean())


def keys_kernel(s) -> np.ndarray:
    """Keys' cubic convolution kernel with a = -1/2: 1.5|s|^3 - 2.5|s|^2 + 1 on |s| <= 1,
    -0.5|s|^3 + 2.5|s|^2 - 4|s| + 2 on 1 < |s| < 2, 0 beyond."""
    t = np.abs(np.asarray(s, dtype=np.float64))
    inner = (1.5 * t - 2.5) * t * t + 1.0
    outer = ((-0.5 * t + 2.5) * t - 4.0) * t + 2.0
    return np.where(t <= 1.0, inner, np.where(t < 2.0, outer, 0.0))


def _resize_taps(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """(indices, weights), each (n_out, 4): output i = sum_t weights[i, t] * input[indices[i, t]]."""
    u = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
    j0 = np.floor(u).astype(np.int64)
    offsets = np.arange(-1, 3)
    j = j0[:, None] + offsets[None, :]
    return np.clip(j, 0, n_in - 1), keys_kernel(u[:, None] - j)


def _resize_axis0(img: np.ndarray, n_out: int) -> np.ndarray:
    idx, w = _resize_taps(img.shape[0], n_out)
    return sum(w[:, t, None] * img[idx[:, t], :] for t in range(4))


def bicubic_resize(image, shape) -> np.ndarray:
    """Resample a 2-D image to ``shape`` = (rows, cols) by separable Keys cubic convolution
    (see the module docstring: pixel-centre alignment, replicated edges, no antialiasing)."""
    img = as_float_array("image", image, ndim=2)
    if img.size == 0:
        raise ValueError("image must not be empty")
    if not isinstance(shape, tuple | list) or len(shape) != 2:
        raise ValueError(f"shape must be a pair (rows, cols), got {shape!r}")
    m = check_int("shape[0]", shape[0])
    n = check_int("shape[1]", shape[1])
    return _resize_axis0(_resize_axis0(img, m).T, n).T
