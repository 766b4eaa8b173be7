"""li2026: psnr and ssim against scikit-image (a test-only dependency) on square and non-square
images and several data ranges, the SSIM properties, bicubic_resize exactness and input errors."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from constructions.building_blocks.image_metrics import bicubic_resize, psnr, ssim
from numerics.random import rng
from theorems.building_blocks import li2026 as li
from theorems.registry import get


@settings(max_examples=25)
@given(rows=st.integers(11, 40), cols=st.integers(11, 40), L=st.sampled_from([1.0, 2.0, 255.0, 65535.0]),
       noise=st.floats(0.0, 0.5), seed=st.integers(0, 2**31 - 1))
def test_equal_to_scikit_image(rows, cols, L, noise, seed):
    g = rng(seed)
    x = L * g.random((rows, cols))
    y = np.clip(x + noise * L * g.standard_normal((rows, cols)), 0, L)
    ref = structural_similarity(x, y, data_range=L, gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
    assert abs(ssim(x, y, L) - ref) <= 4 * 2.2e-16 * 121 * (1 + 1 / 0.03**2) * max(abs(ref), 1e-3)
    if np.any(x != y):
        assert abs(psnr(x, y, L) - peak_signal_noise_ratio(x, y, data_range=L)) <= 1e-12 * abs(psnr(x, y, L))


def test_integer_images_and_identical():
    g = rng(0)
    x = g.integers(0, 256, (16, 20))
    y = np.clip(x + g.integers(-5, 6, (16, 20)), 0, 255)
    ref = structural_similarity(x.astype(float), y.astype(float), data_range=255, gaussian_weights=True, sigma=1.5,
                                use_sample_covariance=False)
    assert abs(ssim(x, y, 255) - ref) <= 1e-12
    assert psnr(x, x, 255) == math.inf and ssim(x, x, 255) == 1.0
    assert ssim(x, y, 255) == ssim(y, x, 255) < 1.0


@pytest.mark.parametrize("x,y,L,err", [
    (np.zeros((10, 12)), np.zeros((10, 12)), 1.0, ValueError),   # smaller than the 11-tap window
    (np.zeros((12, 12)), np.zeros((12, 13)), 1.0, ValueError),
    (np.zeros((12, 12)), np.zeros((12, 12)), 0.0, ValueError),
    (np.zeros((12, 12)), np.zeros((12, 12)), True, TypeError),
    (np.zeros(12), np.zeros(12), 1.0, ValueError),
    (np.full((12, 12), np.nan), np.zeros((12, 12)), 1.0, ValueError),
])
def test_bad_input(x, y, L, err):
    with pytest.raises(err):
        ssim(x, y, L)


def test_bicubic_reproduces_quadratics_in_the_interior_and_constants_everywhere():
    i, j = np.meshgrid(np.arange(40.0), np.arange(30.0), indexing="ij")
    quad = 0.01 * i**2 - 0.02 * i * j + 0.3 * j + 1.0
    up = bicubic_resize(quad[::1], (80, 60))
    ii, jj = np.meshgrid((np.arange(80) + 0.5) / 2 - 0.5, (np.arange(60) + 0.5) / 2 - 0.5, indexing="ij")
    exact = 0.01 * ii**2 - 0.02 * ii * jj + 0.3 * jj + 1.0
    assert np.abs(up - exact)[4:-4, 4:-4].max() <= 1e-12
    assert np.abs(bicubic_resize(np.full((7, 5), 3.0), (13, 9)) - 3.0).max() <= 8 * 3.0 * 2.2e-16
    assert li.keys_error_coefficient(0.5) == 0.0 and li.keys_error_coefficient(0.25) != 0.0
    with pytest.raises(ValueError):
        bicubic_resize(np.ones((4, 4)), (0, 3))


def test_claim_figures():
    for cid in ("li2026.psnr_ssim_definitions", "li2026.bicubic_round_trip_rate", "li2026.experimental_design_count"):
        claim = get(cid)
        v = claim.check("fast", 1)
        assert v.holds, v.measured
        assert claim.plot(v).axes
