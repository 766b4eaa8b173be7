"""TransReID (He, Luo, Wang, Wang, Li & Jiang, ICCV 2021, arXiv 2102.04378), Section 3.1-3.2:
overlapping patch embedding and the jigsaw patch module's shift + patch-shuffle.

* Overlapping patches: a P x P convolution with stride S < P over an H x W image gives
  N = floor((H + S - P)/S) x floor((W + S - P)/S) patches (the paper's eq. 2; 21 x 10 = 210 for
  256 x 128, P = 16, S = 12). ``overlapping_patch_embed`` is that convolution (VALID padding).
* Jigsaw patch module (official code, ``shuffle_unit``): with the [cls] token at index 0 and N patch
  tokens, the shift operation moves the first ``shift - 1`` patches to the end,
  [f_shift, ..., f_N, f_1, ..., f_{shift-1}], and the patch shuffle reshapes the N tokens to
  (groups, N/groups) and transposes, so that position j*groups + g holds shifted token
  g*(N/groups) + j. When N is not divisible by ``groups`` the official code pads by repeating the
  second-to-last token (``torch.cat([x, x[:, -2:-1, :]])``) before the reshape; that fallback is
  available as ``pad=True`` and is NOT a permutation (a token is duplicated).
"""

from __future__ import annotations

import jax
import numpy as np

from numerics.validation import check_int

__all__ = ["overlapping_patch_count", "overlapping_patch_embed", "jigsaw_indices", "jigsaw_rearrange",
           "jigsaw_inverse"]


def overlapping_patch_count(H: int, W: int, P: int, S: int) -> int:
    """floor((H + S - P)/S) * floor((W + S - P)/S); 0 when the patch exceeds the image."""
    H, W, P, S = (check_int(k, v, 1) for k, v in (("H", H), ("W", W), ("P", P), ("S", S)))
    if H < P or W < P:
        return 0
    return ((H + S - P) // S) * ((W + S - P) // S)


def overlapping_patch_embed(images, weight, stride: int):
    """images (B, C, H, W), weight (D, C, P, P) -> tokens (B, N, D) by a strided VALID convolution."""
    stride = check_int("stride", stride, 1)
    out = jax.lax.conv_general_dilated(images, weight, (stride, stride), "VALID",
                                       dimension_numbers=("NCHW", "OIHW", "NCHW"))
    b, d = out.shape[:2]
    return out.reshape(b, d, -1).transpose(0, 2, 1)


def jigsaw_indices(num_patches: int, shift: int, groups: int, *, pad: bool = False) -> np.ndarray:
    """Source patch index (0-based, [cls] excluded) of every output position of shift + shuffle."""
    N = check_int("num_patches", num_patches, 1)
    shift = check_int("shift", shift, 1)
    groups = check_int("groups", groups, 1)
    if shift > N:
        raise ValueError(f"shift = {shift} exceeds num_patches = {N}")
    idx = np.concatenate([np.arange(shift - 1, N), np.arange(0, shift - 1)])
    if N % groups:
        if not pad:
            raise ValueError(f"num_patches = {N} is not divisible by groups = {groups} "
                             "(the official code then pads with a repeated token: pad=True)")
        idx = np.concatenate([idx, idx[-2:-1]])
        if idx.size % groups:
            raise ValueError(f"even padded, {idx.size} tokens do not split into {groups} groups")
    return idx.reshape(groups, -1).T.reshape(-1)


def jigsaw_rearrange(tokens, shift: int, groups: int, *, pad: bool = False):
    """tokens (B, 1 + N, D) with [cls] first -> the rearranged patch tokens (B, N, D)."""
    tokens = np.asarray(tokens) if not isinstance(tokens, jax.Array) else tokens
    if tokens.ndim != 3 or tokens.shape[1] < 2:
        raise ValueError(f"tokens must be (batch, 1 + N, dim) with N >= 1, got {tokens.shape}")
    idx = jigsaw_indices(tokens.shape[1] - 1, shift, groups, pad=pad)
    return tokens[:, 1:][:, idx]


def jigsaw_inverse(rearranged, shift: int, groups: int):
    """Undo jigsaw_rearrange (patch tokens only): (B, N, D) -> the original order (B, N, D)."""
    if rearranged.ndim != 3:
        raise ValueError(f"rearranged must be (batch, N, dim), got {rearranged.shape}")
    idx = jigsaw_indices(rearranged.shape[1], shift, groups)
    inv = np.empty_like(idx)
    inv[idx] = np.arange(idx.size)
    return rearranged[:, inv]
