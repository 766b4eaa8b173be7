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


# --- issue 11 section 6: every public function of image_metrics, its defaults and its errors ------------

def _keys(s):
    """Keys (1981) cubic convolution kernel, a = -1/2, written out piecewise."""
    t = abs(float(s))
    if t <= 1:
        return 1.5 * t**3 - 2.5 * t**2 + 1
    if t < 2:
        return -0.5 * t**3 + 2.5 * t**2 - 4 * t + 2
    return 0.0


def _resize_loop(img, m, n):
    """Pixel-centre bicubic resampling with replicated edges, one output pixel at a time."""
    def axis(rows, n_out):
        n_in = rows.shape[0]
        out = np.zeros((n_out,) + rows.shape[1:])
        for i in range(n_out):
            u = (i + 0.5) * n_in / n_out - 0.5
            j0 = math.floor(u)
            for j in range(j0 - 1, j0 + 3):
                out[i] += _keys(u - j) * rows[min(max(j, 0), n_in - 1)]
        return out
    return axis(axis(np.asarray(img, float), m).T, n).T


def test_constants_and_gaussian_window_defaults():
    from constructions.building_blocks import image_metrics as im

    assert (im.SSIM_K1, im.SSIM_K2, im.SSIM_SIGMA, im.SSIM_RADIUS) == (0.01, 0.03, 1.5, 5)
    w = im.gaussian_window()
    k = np.arange(-5, 6)
    ref = np.exp(-k**2 / (2 * 1.5**2))
    np.testing.assert_allclose(w, ref / ref.sum(), rtol=4 * 2.2e-16)
    w2 = im.gaussian_window(0.7, 2)
    ref2 = np.exp(-np.arange(-2, 3) ** 2 / (2 * 0.49))
    np.testing.assert_allclose(w2, ref2 / ref2.sum(), rtol=4 * 2.2e-16)
    np.testing.assert_array_equal(im.gaussian_window(2.0, 0), [1.0])  # radius 0 is admissible
    with pytest.raises(ValueError, match=r"^radius must be a non-negative int"):
        im.gaussian_window(1.0, -1)
    with pytest.raises(TypeError, match=r"^radius must be an int"):
        im.gaussian_window(1.0, 2.0)
    for bad in (0.0, -1.0, np.nan, np.inf):
        with pytest.raises(ValueError, match=r"^sigma must be finite and positive"):
            im.gaussian_window(bad, 2)


def test_psnr_hand_values_and_argument_errors():
    x = np.zeros((3, 4))
    assert abs(psnr(x, np.full((3, 4), 0.1), 1.0) - 20.0) <= 1e-12  # 10 log10(1 / 0.01)
    # L = 4, mse = 1 on half the pixels: 10 log10(16 / 0.5)
    y = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert abs(psnr(np.zeros((2, 2)), y, 4) - 10 * math.log10(32.0)) <= 1e-12
    assert abs(psnr(np.zeros((2, 2)), y, np.float32(4.0)) - 10 * math.log10(32.0)) <= 1e-12
    assert psnr(y, y, 1.0) == math.inf
    # argument errors, anchored at the argument's name (x and y of a non-2-D kind, 1-D and 3-D)
    for xx, yy, name in ((np.zeros(4), np.zeros((2, 2)), "x"), (np.zeros((2, 2, 1)), np.zeros((2, 2)), "x"),
                         (np.zeros((2, 2)), np.zeros(4), "y"), (np.zeros((2, 2)), np.zeros((2, 2, 1)), "y")):
        for f in (psnr, ssim, ssim_map_):
            with pytest.raises(ValueError, match=rf"^{name} must have ndim in \(2,\)"):
                f(xx, yy, 1.0)
    with pytest.raises(ValueError, match=r"^y must be finite"):
        psnr(np.zeros((2, 2)), [[0, np.inf], [0, 0]], 1.0)
    with pytest.raises(ValueError, match=r"^x and y must have the same shape"):
        psnr(np.zeros((2, 3)), np.zeros((3, 2)), 1.0)
    with pytest.raises(ValueError, match=r"^images must not be empty"):
        psnr(np.zeros((0, 3)), np.zeros((0, 3)), 1.0)
    for bad in (True, "1", None, 1j):
        with pytest.raises(TypeError, match=r"^data_range must be a real number"):
            psnr(x, x, bad)
    for bad in (0, -1.0, np.nan, np.inf):
        with pytest.raises(ValueError, match=r"^data_range must be finite and positive"):
            psnr(x, x, bad)


def ssim_map_(x, y, L):
    from constructions.building_blocks.image_metrics import ssim_map

    return ssim_map(x, y, L)


def test_ssim_map_equals_scikit_images_full_map_and_the_window_minimum():
    g = rng(7)
    x = g.random((11, 13))
    y = np.clip(x + 0.2 * g.standard_normal((11, 13)), 0, 1)
    _, ref = structural_similarity(x, y, data_range=2.0, gaussian_weights=True, sigma=1.5,
                                   use_sample_covariance=False, full=True)
    S = ssim_map_(x, y, 2.0)
    assert S.shape == (11, 13)
    assert np.abs(S - ref).max() <= 4 * 2.2e-16 * 121 * (1 + 1 / 0.03**2)
    assert ssim(x, y, 2.0) == pytest.approx(float(S[5:6, 5:8].mean()), abs=1e-15)  # the 1 x 3 interior
    for shape in ((10, 11), (11, 10)):
        with pytest.raises(ValueError, match=r"^images must be at least 11 x 11 pixels"):
            ssim(np.zeros(shape), np.zeros(shape), 1.0)


def test_keys_kernel_values():
    from constructions.building_blocks.image_metrics import keys_kernel

    s = np.array([0.0, 0.25, 0.5, 1.0, 1.25, 1.5, 1.999, 2.0, 2.5, -0.5, -1.5, -3.0])
    # the two evaluation orders differ by rounding of terms up to 0.5 t^3 = 4 (t < 2): 16 eps
    np.testing.assert_allclose(keys_kernel(s), [_keys(v) for v in s], rtol=0, atol=16 * 2.2e-16)
    assert keys_kernel(0.5) == 0.5625 and keys_kernel(1.5) == -0.0625 and keys_kernel(0.0) == 1.0
    assert np.asarray(keys_kernel(0.3)).shape == ()
    u = np.linspace(0, 1, 7)[:, None]  # partition of unity over the four taps
    np.testing.assert_allclose(keys_kernel(u - np.arange(-1, 3)).sum(axis=1), 1.0, rtol=0, atol=16 * 2.2e-16)


@pytest.mark.parametrize("shape_in,shape_out", [((5, 7), (9, 4)), ((6, 3), (6, 3)), ((4, 4), (1, 1)), ((1, 3), (2, 5)),
                                                ((8, 2), (3, 6))])
def test_bicubic_resize_against_a_pixel_loop(shape_in, shape_out):
    img = rng(sum(shape_in + shape_out)).standard_normal(shape_in)
    out = bicubic_resize(img, shape_out)
    assert out.shape == shape_out
    np.testing.assert_allclose(out, _resize_loop(img, *shape_out), rtol=0, atol=1e-13)
    if shape_in == shape_out:
        np.testing.assert_array_equal(out, img)  # same size: the taps are 0, 1, 0, 0
    np.testing.assert_array_equal(bicubic_resize(img, list(shape_out)), out)


def test_bicubic_resize_errors_name_the_argument():
    img = np.ones((4, 4))
    with pytest.raises(ValueError, match=r"^image must have ndim"):
        bicubic_resize(np.ones(4), (2, 2))
    with pytest.raises(ValueError, match=r"^image must not be empty"):
        bicubic_resize(np.ones((0, 4)), (2, 2))
    with pytest.raises(TypeError, match=r"^image must be a real numeric array"):
        bicubic_resize(np.ones((2, 2), dtype=complex), (2, 2))
    for bad in ((2,), (2, 2, 2), 4, "ab"):
        with pytest.raises(ValueError, match=r"^shape must be a pair \(rows, cols\)"):
            bicubic_resize(img, bad)
    with pytest.raises(ValueError, match=r"^shape\[0\] must be a positive int"):
        bicubic_resize(img, (0, 3))
    with pytest.raises(ValueError, match=r"^shape\[1\] must be a positive int"):
        bicubic_resize(img, (3, 0))
    with pytest.raises(TypeError, match=r"^shape\[1\] must be an int"):
        bicubic_resize(img, (3, 2.0))
