"""Guibas et al. 2021, "Adaptive Fourier Neural Operators: Efficient Token Mixers for Transformers"
(arXiv 2111.13587, ICLR 2022), section 3 and the reference implementation (NVlabs AFNO-transformer,
``afno/afno2d.py``): the AFNO token mixer on an H x W grid of C-channel tokens.

Formulas (x real (H, W, C); num_blocks = k, block size b = C/k, hidden factor f; the weights in the
reference layout, index 0 the real and 1 the imaginary part):

    X = rfft2(x, axes (0, 1), norm)                        (H, W//2+1, C) complex, split into k blocks
    for every kept mode (all H rows, columns k_w < K):
        o1 = act(X_r W1r - X_i W1i + b1r)  +  i act(X_i W1r + X_r W1i + b1i)     (per block, b -> b f)
        o2 = (o1_r W2r - o1_i W2i + b2r)    +  i (o1_i W2r + o1_r W2i + b2i)      (per block, b f -> b)
    (modes that are not kept give o2 = 0)
    Y = S_lambda(Re o2) + i S_lambda(Im o2)        soft-shrink S_lambda(y) = sign(y) max(|y| - lambda, 0)
    out = irfft2(Y, s = (H, W), norm) + x          (residual)

i.e. o1 = act_split(X (W1r + i W1i) + b1), a complex block-diagonal matrix product with the
activation applied to real and imaginary parts separately (ReLU in the reference). K is the
reference code's count ``int((W//2 + 1) * hard_thresholding_fraction)``; ``kept_modes=None`` uses the
reference default fraction 1, i.e. K = W//2 + 1 (every column), and an int fixes K (0 <= K <= W//2+1).
As in the reference, the truncation acts on the rfft axis (columns) only: all H rows are kept.
``irfft2`` (numpy, as torch) discards the imaginary part of the self-conjugate entries (k_w = 0 and,
for even W, the Nyquist column after the inverse transform along H).

``norm`` is "ortho" (the reference) or "forward" (coefficients (1/HW) sum, inverse without a
factor: a band-limited input then has the same coefficients at every resolution). ``activation`` is
"relu" (the reference) or "identity" (which makes the mixer, with zero biases and lambda = 0, a
linear global convolution); it is an extension keyword, not in the reference code.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from numerics.validation import as_float_array, check_int

__all__ = ["afno_mixer", "softshrink", "afno_param_count", "afno_operation_count"]

_NORMS = ("ortho", "forward", "backward")
_ACTIVATIONS = ("relu", "identity")


def softshrink(y, lam: float):
    """S_lam(y) = sign(y) max(|y| - lam, 0), the proximal map of lam |.| (entrywise, real arrays)."""
    if isinstance(lam, bool) or not isinstance(lam, numbers.Real) or not np.isfinite(lam) or lam < 0:
        raise ValueError(f"softshrink: lam must be a finite real >= 0, got {lam!r}")
    y = np.asarray(y, dtype=np.float64)
    return np.sign(y) * np.maximum(np.abs(y) - float(lam), 0.0)


def _weight(name: str, w, shape: tuple[int, ...]) -> np.ndarray:
    arr = as_float_array(name, w)
    if arr.shape != shape:
        raise ValueError(f"{name} must have shape {shape} (2, num_blocks, ...), got {arr.shape}")
    return arr


def afno_mixer(x, w1, b1, w2, b2, *, num_blocks: int, sparsity_threshold: float, kept_modes: int | None = None,
               norm: str = "ortho", activation: str = "relu") -> np.ndarray:
    """The AFNO block (formulas in the module docstring): real (H, W, C) -> real (H, W, C).

    w1 (2, k, b, b f), b1 (2, k, b f), w2 (2, k, b f, b), b2 (2, k, b) with k = num_blocks, b = C/k.
    """
    xa = as_float_array("x", x, ndim=3)
    H, W, C = xa.shape
    if min(H, W, C) < 1:
        raise ValueError(f"x must have H, W, C >= 1, got shape {xa.shape}")
    k = check_int("num_blocks", num_blocks, 1)
    if C % k:
        raise ValueError(f"the channel count C = {C} must be divisible by num_blocks = {k}")
    b = C // k
    w1a = as_float_array("w1", w1, ndim=4)
    if w1a.shape[:3] != (2, k, b) or w1a.shape[3] < 1:
        raise ValueError(f"w1 must have shape (2, {k}, {b}, b*f), got {w1a.shape}")
    bf = w1a.shape[3]
    b1a = _weight("b1", b1, (2, k, bf))
    w2a = _weight("w2", w2, (2, k, bf, b))
    b2a = _weight("b2", b2, (2, k, b))
    lam = sparsity_threshold
    if isinstance(lam, bool) or not isinstance(lam, numbers.Real) or not np.isfinite(lam) or lam < 0:
        raise ValueError(f"sparsity_threshold must be a finite real >= 0, got {lam!r}")
    if norm not in _NORMS:
        raise ValueError(f"norm must be one of {_NORMS}, got {norm!r}")
    if activation not in _ACTIVATIONS:
        raise ValueError(f"activation must be one of {_ACTIVATIONS}, got {activation!r}")
    total = W // 2 + 1
    if kept_modes is None:
        K = int(total * 1.0)  # the reference: int(total_modes * hard_thresholding_fraction), fraction 1
    else:
        K = check_int("kept_modes", kept_modes, 0)  # 0 (the reference's int(total * small fraction)) keeps none
        if K > total:
            raise ValueError(f"kept_modes must be <= W//2 + 1 = {total}, got {K}")
    act = (lambda z: np.maximum(z, 0.0)) if activation == "relu" else (lambda z: z)

    X = np.fft.rfft2(xa, axes=(0, 1), norm=norm)[:, :K].reshape(H, K, k, b)
    Xr, Xi = X.real, X.imag
    mm = lambda A, Wt: np.einsum("hwki,kio->hwko", A, Wt)  # noqa: E731  per-block product
    o1r = act(mm(Xr, w1a[0]) - mm(Xi, w1a[1]) + b1a[0])
    o1i = act(mm(Xi, w1a[0]) + mm(Xr, w1a[1]) + b1a[1])
    o2r = mm(o1r, w2a[0]) - mm(o1i, w2a[1]) + b2a[0]
    o2i = mm(o1i, w2a[0]) + mm(o1r, w2a[1]) + b2a[1]
    Y = np.zeros((H, total, C), dtype=np.complex128)
    Y[:, :K] = (softshrink(o2r, lam) + 1j * softshrink(o2i, lam)).reshape(H, K, C)
    return np.fft.irfft2(Y, s=(H, W), axes=(0, 1), norm=norm) + xa


def afno_param_count(C: int, num_blocks: int, hidden_factor: int) -> int:
    """4 C^2 f / k + 2 C f + 2 C: the entries of w1, w2 (2 k b (b f) each), b1 (2 k b f), b2 (2 k b)."""
    C = check_int("C", C, 1)
    k = check_int("num_blocks", num_blocks, 1)
    f = check_int("hidden_factor", hidden_factor, 1)
    if C % k:
        raise ValueError(f"C = {C} must be divisible by num_blocks = {k}")
    return 4 * C * C * f // k + 2 * C * f + 2 * C


def _fft_flops(n: int) -> int:
    """Real flops of a radix-2 complex FFT of length n = 2^m: (n/2) m butterflies, each one complex
    multiply (6 flops) and two complex adds (4 flops)."""
    m = int(round(math.log2(n)))
    if 2**m != n:
        raise ValueError(f"the operation count assumes power-of-two lengths, got {n}")
    return 5 * n * m


def afno_operation_count(H: int, W: int, C: int, num_blocks: int, hidden_factor: int,
                         kept_modes: int | None = None) -> dict[str, int]:
    """Real flops (2 per multiply-add) of one AFNO block, counted stage by stage.

    FFTs (per channel; the inverse costs the same): a real transform of length W along each of the
    H rows, counted as half a radix-2 complex transform ((5/2) W log2 W flops), then complex radix-2
    transforms of length H along the W/2 + 1 columns (5 H log2 H each). MLP: per kept mode and block, four real (b x b f) products and four (b f x b), the
    additions joining them, the biases, the activation and the soft-shrink compare/subtract.
    """
    for name, v in (("H", H), ("W", W), ("C", C)):
        check_int(name, v, 1)
    k = check_int("num_blocks", num_blocks, 1)
    f = check_int("hidden_factor", hidden_factor, 1)
    if C % k:
        raise ValueError(f"C = {C} must be divisible by num_blocks = {k}")
    b = C // k
    total = W // 2 + 1
    K = total if kept_modes is None else check_int("kept_modes", kept_modes, 1)
    rfft_rows = H * (_fft_flops(W) // 2) if W > 1 else 0
    cfft_cols = total * (_fft_flops(H) if H > 1 else 0)
    fft = 2 * C * (rfft_rows + cfft_cols)
    modes = H * K
    mlp1 = k * (4 * 2 * b * (b * f) + 2 * (b * f) + 2 * (b * f) + 2 * (b * f))  # 4 products, joins, bias, act
    mlp2 = k * (4 * 2 * (b * f) * b + 2 * b + 2 * b)                             # 4 products, joins, bias
    shrink = 2 * C * 2
    residual = H * W * C
    return {"fft": int(fft), "mlp": int(modes * (mlp1 + mlp2 + shrink)), "residual": int(residual),
            "total": int(fft + modes * (mlp1 + mlp2 + shrink) + residual)}
