"""Akyürek et al. (2022), "What learning algorithm is in-context learning?", Section 3 and Appendix C:
the RAW (read-arithmetic-write) primitives ``mov``, ``mul``, ``div``, ``aff`` as decoder layers
built from softmax attention, GeLU MLPs and LayerNorm, and the programs built from them (one
gradient-descent step on the ridge objective; ridge regression by Sherman-Morrison).

Layout. The hidden state is ``H`` in R^{D x T}: one column per token (CONTRIBUTING.md section 4), rows
named by :class:`Layout` (one-hot position rows, a constant-one row, data rows, scratch rows).
Every sublayer is *residual*: it adds its output to ``H``; a primitive "writes" into scratch rows
that hold zero (or, through :func:`clear_layer`, are first set to zero).

The primitives are approximate by design, each with a scale parameter (as we read Appendix C):

* ``mov`` (attention): a softmax head whose query picks one key position with logit ``beta``; the
  other causal keys get weight ``1 / (e^beta + ...)``, so the error is O(T e^{-beta}).
* ``mul`` (GeLU MLP): GeLU(u) = u Phi(u) = u/2 + u^2/sqrt(2 pi) - u^4/(6 sqrt(2 pi)) + O(u^6), so
  xy = sqrt(pi/2)/c^2 [GeLU(c(x+y)) - GeLU(cx) - GeLU(cy)] - (c^2/12)(4x^3y + 6x^2y^2 + 4xy^3)
  + O(c^4): second order in the input scale ``c``.
* ``div`` (LayerNorm): LN of the mean-zero vector v = (b, -b, eps a, -eps a) is
  v / sqrt(mean v^2), whose a-part times 1/(eps sqrt(m+1)) is a / sqrt(b^2 + eps^2 |a|^2)
  = a/|b| - eps^2 |a|^2 a / (2 |b|^3) + O(eps^4): second order in ``eps`` (the paper's div divides
  by the absolute value |h_i'|; Appendix C.6, Lemma 8).
* ``aff`` (GeLU MLP): GeLU(u) - GeLU(-u) = u exactly, so an affine map is exact (to round-off).
  The paper instead bypasses the GeLU with a large offset N (Appendix C.4.2, Lemma 5):
  GeLU(u + N) - N = u - (u + N) Phi(-(u + N)), an error that vanishes faster than any power of
  1/N; ``aff_layer(..., bypass="offset", offset=N)`` builds that variant.

Conventions stated here because the paper leaves them open: attention logits are
<W_Q h_t, W_K h_j> / sqrt(k) with causal masking (j <= t); LayerNorm has no gain/bias (they are
folded into the read-out) and acts on a linear read-out of the hidden state (the scratch vector
``v``), with ``ln_eps = 0`` by default; the ridge objective is the paper's unnormalised
||X w - y||^2 + lam ||w||^2, whose GD step is w - 2 alpha (X^T (X w - y) + lam w).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.special import erf

from numerics.validation import as_float_array, check_int, check_positive

__all__ = [
    "gelu",
    "layer_norm",
    "Attention",
    "MLP",
    "NormBlock",
    "DecoderLayer",
    "Layout",
    "forward",
    "mov_layer",
    "mul_layer",
    "div_layer",
    "aff_layer",
    "clear_layer",
    "gd_step_program",
    "run_gd_step",
    "ridge_program",
    "run_ridge",
    "ridge_reference",
    "gd_step_reference",
    "mul_leading_error",
    "div_leading_error",
]


# --- building blocks --------------------------------------------------------------------------


def gelu(u: np.ndarray) -> np.ndarray:
    """Exact GeLU(u) = u Phi(u) = (u/2)(1 + erf(u / sqrt 2)) (not the tanh approximation)."""
    u = np.asarray(u, dtype=np.float64)
    return 0.5 * u * (1.0 + erf(u / np.sqrt(2.0)))


def layer_norm(v: np.ndarray, eps: float = 0.0) -> np.ndarray:
    """LN over axis 0 (the features of each column): (v - mean) / sqrt(var + eps), no gain/bias."""
    v = np.asarray(v, dtype=np.float64)
    centred = v - v.mean(axis=0, keepdims=True)
    var = np.mean(centred**2, axis=0, keepdims=True)
    denom = np.sqrt(var + eps)
    # a zero vector (a column whose scratch is empty) normalises to zero rather than NaN
    return np.divide(centred, denom, out=np.zeros_like(centred), where=denom > 0)


@dataclass(frozen=True)
class Attention:
    """One causal softmax head: out_t = sum_{j<=t} softmax_j(<W_Q h_t, W_K h_j>/sqrt k) W_V h_j.

    W_Q, W_K: (k, D); W_V: (D, D) (the value and output projections merged).
    """

    W_Q: np.ndarray
    W_K: np.ndarray
    W_V: np.ndarray

    def __call__(self, H: np.ndarray) -> np.ndarray:
        k = self.W_Q.shape[0]
        q = self.W_Q @ H
        kk = self.W_K @ H
        logits = (kk.T @ q) / np.sqrt(k)  # logits[j, t]
        T = H.shape[1]
        mask = np.tril(np.ones((T, T), dtype=bool)).T  # mask[j, t] = j <= t
        logits = np.where(mask, logits, -np.inf)
        logits = logits - logits.max(axis=0, keepdims=True)
        weights = np.exp(logits)
        weights /= weights.sum(axis=0, keepdims=True)
        return (self.W_V @ H) @ weights


@dataclass(frozen=True)
class MLP:
    """out = W2 GeLU(W1 h + b1) + b2 per column (b2 = 0 when omitted)."""

    W1: np.ndarray
    b1: np.ndarray
    W2: np.ndarray
    b2: np.ndarray | None = None

    def __call__(self, H: np.ndarray) -> np.ndarray:
        out = self.W2 @ gelu(self.W1 @ H + self.b1[:, None])
        return out if self.b2 is None else out + self.b2[:, None]


@dataclass(frozen=True)
class NormBlock:
    """out = W_out LN(W_in h) per column (the LayerNorm of a linear read-out)."""

    W_in: np.ndarray
    W_out: np.ndarray
    ln_eps: float = 0.0

    def __call__(self, H: np.ndarray) -> np.ndarray:
        return self.W_out @ layer_norm(self.W_in @ H, self.ln_eps)


@dataclass(frozen=True)
class DecoderLayer:
    """H <- H + Attn(H); H <- H + Norm(H); H <- H + MLP(H) (absent sublayers are skipped)."""

    attention: Attention | None = None
    norm: NormBlock | None = None
    mlp: MLP | None = None
    name: str = ""

    def __call__(self, H: np.ndarray) -> np.ndarray:
        if self.attention is not None:
            H = H + self.attention(H)
        if self.norm is not None:
            H = H + self.norm(H)
        if self.mlp is not None:
            H = H + self.mlp(H)
        return H


@dataclass
class Layout:
    """Named row ranges of the hidden state: ``pos`` (one-hot positions, T rows), ``one``
    (a constant-one row), then whatever :meth:`add` allocates (data and scratch rows)."""

    T: int
    slots: dict[str, range] = field(default_factory=dict)
    D: int = 0

    def __post_init__(self) -> None:
        _check_int("T", self.T, 1)
        self.add("pos", self.T)
        self.add("one", 1)

    def add(self, name: str, size: int) -> range:
        _check_int(f"size of {name!r}", size, 1)
        if name in self.slots:
            raise ValueError(f"Layout: slot {name!r} already exists")
        self.slots[name] = range(self.D, self.D + size)
        self.D += size
        return self.slots[name]

    def __getitem__(self, name: str) -> range:
        return self.slots[name]

    def empty_state(self) -> np.ndarray:
        H = np.zeros((self.D, self.T), dtype=np.float64)
        H[list(self["pos"]), np.arange(self.T)] = 1.0
        H[self["one"][0], :] = 1.0
        return H


def forward(H: np.ndarray, layers: Sequence[DecoderLayer]) -> np.ndarray:
    """Apply the layers in order to a validated float64 state."""
    H = _check_state(H)
    for layer in layers:
        if not isinstance(layer, DecoderLayer):
            raise TypeError(f"forward: layers must be DecoderLayer, got {type(layer).__name__}")
        H = layer(H)
    return H


# --- validation -------------------------------------------------------------------------------


def _check_int(name: str, value, minimum: int) -> int:
    # raw's public API has always raised ValueError for a non-int size as well.
    return check_int(name, value, minimum, type_error=ValueError)


def _check_state(H) -> np.ndarray:
    arr = np.asarray(H)
    if arr.dtype != np.float64:
        raise TypeError(f"hidden state must be float64, got {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(f"hidden state must be 2-D (D x T), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("hidden state must be finite (found NaN or inf)")
    return arr


def _check_rows(name: str, rows, D: int, size: int | None = None) -> list[int]:
    rows = list(rows)
    if not rows or any(not (0 <= r < D) for r in rows):
        raise ValueError(f"{name}: rows must be non-empty and within [0, {D}), got {rows}")
    if len(set(rows)) != len(rows):
        raise ValueError(f"{name}: rows must be distinct")
    if size is not None and len(rows) != size:
        raise ValueError(f"{name}: expected {size} rows, got {len(rows)}")
    return rows


# --- the four primitives ----------------------------------------------------------------------


def mov_layer(layout: Layout, src: Sequence[int], dst: Sequence[int], *, beta: float,
              offset: int | None = None, source: int | None = None) -> DecoderLayer:
    """mov: every column t adds h_s[src] to its rows ``dst``, with s = max(t - offset, 0)
    (relative) or s = source (absolute; meaningful for columns t >= source).

    One softmax head. Keys are the one-hot position rows; the query of column t is beta sqrt(k)
    times the one-hot of s (a shift of the position rows for ``offset``, the constant row for
    ``source``), so after the 1/sqrt(k) scaling the logit is beta on key s and 0 on the other
    causal keys j <= t. The weight on s is e^beta / (e^beta + t) and on each other key
    1 / (e^beta + t): the error is at most t e^{-beta} max_j |h_j[src] - h_s[src]| = O(T e^{-beta}).
    """
    D, T = layout.D, layout.T
    src = _check_rows("mov src", src, D)
    dst = _check_rows("mov dst", dst, D, len(src))
    beta = check_positive("mov beta", beta)
    if (offset is None) == (source is None):
        raise ValueError("mov: give exactly one of offset (relative) or source (absolute)")
    pos = list(layout["pos"])
    k = T
    W_K = np.zeros((k, D))
    W_K[np.arange(T), pos] = 1.0
    W_Q = np.zeros((k, D))
    scale = beta * np.sqrt(k)  # undo the 1/sqrt(k) of the logits
    if offset is not None:
        offset = _check_int("mov offset", offset, 0)
        for t in range(T):
            W_Q[max(t - offset, 0), pos[t]] = scale
    else:
        source = _check_int("mov source", source, 0)
        if source >= T:
            raise ValueError(f"mov: source {source} outside the {T} positions")
        W_Q[source, layout["one"][0]] = scale
    W_V = np.zeros((D, D))
    W_V[dst, src] = 1.0
    return DecoderLayer(attention=Attention(W_Q, W_K, W_V), name="mov")


def mul_layer(layout: Layout, shape: tuple[int, int, int], rows_a: Sequence[int],
              rows_b: Sequence[int], dst: Sequence[int], *, scale: float) -> DecoderLayer:
    """mul: in every column, read A (a x b, row-major at ``rows_a``) and B (b x c at ``rows_b``)
    and add A B (a x c, row-major) to ``dst``.

    One GeLU MLP with three neurons per product A_ik B_kj:
    A_ik B_kj ~= sqrt(pi/2)/c^2 [GeLU(c(A_ik + B_kj)) - GeLU(c A_ik) - GeLU(c B_kj)], error
    -(c^2/12)(4 A^3 B + 6 A^2 B^2 + 4 A B^3) + O(c^4) (see :func:`mul_leading_error`).
    """
    D = layout.D
    if len(shape) != 3:
        raise ValueError(f"mul: shape must be (a, b, c), got {shape}")
    a, b, c = (_check_int("mul shape", s, 1) for s in shape)
    rows_a = _check_rows("mul rows_a", rows_a, D, a * b)
    rows_b = _check_rows("mul rows_b", rows_b, D, b * c)
    dst = _check_rows("mul dst", dst, D, a * c)
    scale = check_positive("mul scale", scale)
    n_hidden = 3 * a * b * c
    W1 = np.zeros((n_hidden, D))
    W2 = np.zeros((D, n_hidden))
    kappa = np.sqrt(np.pi / 2.0) / scale**2
    h = 0
    for i in range(a):
        for j in range(c):
            for k in range(b):
                ra, rb = rows_a[i * b + k], rows_b[k * c + j]
                W1[h, ra] += scale
                W1[h, rb] += scale
                W1[h + 1, ra] = scale
                W1[h + 2, rb] = scale
                out = dst[i * c + j]
                W2[out, h], W2[out, h + 1], W2[out, h + 2] = kappa, -kappa, -kappa
                h += 3
    return DecoderLayer(mlp=MLP(W1, np.zeros(n_hidden), W2), name="mul")


def div_layer(layout: Layout, num: Sequence[int], den: int, dst: Sequence[int], *, scale: float,
              ln_eps: float = 0.0) -> DecoderLayer:
    """div: in every column add h[num] / |h[den]| to ``dst`` (h[den] != 0).

    A LayerNorm of the read-out v = (b, -b, eps a, -eps a) (mean zero, so LN only divides by the
    root mean square): the a-part of LN(v) times 1/(eps sqrt(m + 1)) is
    a / sqrt(b^2 + eps^2 |a|^2 + (m + 1) ln_eps) (see :func:`div_leading_error`).
    """
    D = layout.D
    num = _check_rows("div num", num, D)
    den = _check_rows("div den", [den], D)[0]
    dst = _check_rows("div dst", dst, D, len(num))
    eps = check_positive("div scale", scale)
    if isinstance(ln_eps, bool) or not np.isfinite(ln_eps) or ln_eps < 0:
        raise ValueError(f"div: ln_eps must be finite and >= 0, got {ln_eps!r}")
    m = len(num)
    W_in = np.zeros((2 + 2 * m, D))
    W_in[0, den], W_in[1, den] = 1.0, -1.0
    for i, r in enumerate(num):
        W_in[2 + 2 * i, r] = eps
        W_in[3 + 2 * i, r] = -eps
    W_out = np.zeros((D, 2 + 2 * m))
    for i, r in enumerate(dst):
        W_out[r, 2 + 2 * i] = 1.0 / (eps * np.sqrt(m + 1.0))
    return DecoderLayer(norm=NormBlock(W_in, W_out, float(ln_eps)), name="div")


def aff_layer(layout: Layout, dst: Sequence[int], terms: Sequence[tuple[Sequence[int], np.ndarray]],
              bias: np.ndarray | None = None, *, sign: float = -1.0, bypass: str = "difference",
              offset: float = 10.0) -> DecoderLayer:
    """aff: in every column add sum_k W_k h[rows_k] + bias to ``dst``.

    bypass "difference" (default): one GeLU MLP with two neurons per output,
    GeLU(u) - GeLU(-u) = u exactly. ``sign`` is the weight of the second neuron; anything but -1
    (e.g. the negative control +1, which computes GeLU(u) + GeLU(-u) = u erf(u/sqrt 2)) breaks it.

    bypass "offset" (the paper's Lemma 5): one neuron per output, GeLU(u + N) - N with N =
    ``offset`` (the -N through the constant row), exact only as N -> infinity:
    GeLU(u + N) - N - u = -(u + N) Phi(-(u + N)).
    """
    D = layout.D
    dst = _check_rows("aff dst", dst, D)
    n = len(dst)
    if not terms:
        raise ValueError("aff: need at least one (rows, W) term")
    if bypass not in ("difference", "offset"):
        raise ValueError(f"aff: bypass must be 'difference' or 'offset', got {bypass!r}")
    A = np.zeros((n, D))
    for rows, W in terms:
        rows = _check_rows("aff rows", rows, D)
        W = as_float_array("aff W", W, shape=(n, len(rows)))
        A[:, rows] += W
    b = np.zeros(n) if bias is None else as_float_array("aff bias", bias, shape=(n,))
    one = layout["one"][0]
    if bypass == "offset":
        N = check_positive("aff offset", offset)
        W2 = np.zeros((D, n))
        W2[dst, np.arange(n)] = 1.0
        b2 = np.zeros(D)
        b2[dst] = -N
        return DecoderLayer(mlp=MLP(A, b + N, W2, b2), name="aff")
    W1 = np.zeros((2 * n, D))
    W1[:n] = A
    W1[n:] = -A
    W1[:n, one] += b
    W1[n:, one] -= b
    W2 = np.zeros((D, 2 * n))
    W2[dst, np.arange(n)] = 1.0
    W2[dst, n + np.arange(n)] = float(sign)
    return DecoderLayer(mlp=MLP(W1, np.zeros(2 * n), W2), name="aff")


def clear_layer(layout: Layout, rows: Sequence[int]) -> DecoderLayer:
    """Set ``rows`` to zero (aff with W = -I on the rows themselves)."""
    rows = list(rows)
    return aff_layer(layout, rows, [(rows, -np.eye(len(rows)))])


# --- leading error terms (for the constants) --------------------------------------------------


def mul_leading_error(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """lim_{c->0} (mul_c(A, B) - A B) / c^2 = -(1/12) sum_k p(A_ik, B_kj),
    p(x, y) = (x + y)^4 - x^4 - y^4 = 4x^3y + 6x^2y^2 + 4xy^3."""
    A = np.asarray(A, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    x = A[:, :, None]
    y = B[None, :, :]
    return -np.sum(4 * x**3 * y + 6 * x**2 * y**2 + 4 * x * y**3, axis=1) / 12.0


def div_leading_error(a: np.ndarray, b: float) -> np.ndarray:
    """lim_{eps->0} (div_eps(a, b) - a/|b|) / eps^2 = -|a|^2 a / (2 |b|^3) (ln_eps = 0; the
    studies use b > 0)."""
    a = np.asarray(a, dtype=np.float64)
    return -np.dot(a, a) * a / (2.0 * abs(b) ** 3)


# --- programs ---------------------------------------------------------------------------------


def _scales(h: float) -> tuple[float, float, float]:
    """One scale parameter h drives all three approximations at second order:
    mul input scale c = h, div scale eps = h, mov logit beta = 2 log(1/h) (error ~ e^{-beta} = h^2)."""
    h = check_positive("scale h", h)
    if h >= 1:
        raise ValueError(f"scale h must lie in (0, 1), got {h}")
    return h, h, 2.0 * np.log(1.0 / h)


def gd_step_reference(X: np.ndarray, y: np.ndarray, w0: np.ndarray, alpha: float,
                      lam: float) -> np.ndarray:
    """Per example i: w0 - 2 alpha (x_i (w0^T x_i - y_i) + lam w0) (rows of the result)."""
    return w0[None, :] - 2.0 * alpha * (X * (X @ w0 - y)[:, None] + lam * w0[None, :])


def gd_step_program(d: int, n: int, *, h: float, alpha: float, lam: float,
                    decay_sign: float = 1.0) -> tuple[Layout, list[DecoderLayer]]:
    """Akyürek et al. Theorem 1 as RAW layers: the prompt is x_1, y_1, ..., x_n, y_n (T = 2n);
    every y-column t holds w (the current iterate) and, after the program, w' in row slot "w_new":

        mov  x_{t-1} -> xm           (attention, offset 1)
        mul  wx = w^T xm             (GeLU MLP)
        aff  r  = wx - y
        mul  xr = xm r
        aff  w_new = (1 - 2 alpha lam) w - 2 alpha xr    (the ridge GD step)

    ``decay_sign = -1`` writes (1 + 2 alpha lam) w instead: the step with the weight-decay sign
    flipped (the negative control; it agrees with GD only when lam = 0 or w = 0).
    """
    d = _check_int("d", d, 1)
    n = _check_int("n", n, 1)
    alpha = check_positive("alpha", alpha)
    if isinstance(lam, bool) or not np.isfinite(lam) or lam < 0:
        raise ValueError(f"lam must be finite and >= 0, got {lam!r}")
    c, _, beta = _scales(h)
    L = Layout(2 * n)
    for name, size in (("x", d), ("y", 1), ("w", d), ("xm", d), ("wx", 1), ("r", 1), ("xr", d),
                       ("w_new", d)):
        L.add(name, size)
    layers = [
        mov_layer(L, L["x"], L["xm"], beta=beta, offset=1),
        mul_layer(L, (1, d, 1), L["w"], L["xm"], L["wx"], scale=c),
        aff_layer(L, L["r"], [(L["wx"], np.eye(1)), (L["y"], -np.eye(1))]),
        mul_layer(L, (d, 1, 1), L["xm"], L["r"], L["xr"], scale=c),
        aff_layer(L, L["w_new"], [(L["w"], (1.0 - decay_sign * 2.0 * alpha * lam) * np.eye(d)),
                                  (L["xr"], -2.0 * alpha * np.eye(d))]),
    ]
    return L, layers


def _check_data(X, y, x_query=None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    X = as_float_array("X", X)
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"X must be 2-D (n x d), got shape {X.shape}")
    y = as_float_array("y", y, shape=(X.shape[0],))
    xq = None if x_query is None else as_float_array("x_query", x_query, shape=(X.shape[1],))
    return X, y, xq


def run_gd_step(X: np.ndarray, y: np.ndarray, w0: np.ndarray, *, h: float, alpha: float, lam: float,
                decay_sign: float = 1.0) -> np.ndarray:
    """Embed (x_i, y_i, w0) and run :func:`gd_step_program`; returns w' per example (n x d)."""
    X, y, _ = _check_data(X, y)
    n, d = X.shape
    w0 = as_float_array("w0", w0, shape=(d,))
    L, layers = gd_step_program(d, n, h=h, alpha=alpha, lam=lam, decay_sign=decay_sign)
    H = L.empty_state()
    xcols, ycols = np.arange(0, 2 * n, 2), np.arange(1, 2 * n, 2)
    H[np.ix_(list(L["x"]), xcols)] = X.T
    H[L["y"][0], ycols] = y
    H[np.ix_(list(L["w"]), ycols)] = w0[:, None]
    out = forward(H, layers)
    return out[np.ix_(list(L["w_new"]), ycols)].T.copy()


def ridge_reference(X: np.ndarray, y: np.ndarray, lam: float, x_query: np.ndarray
                    ) -> tuple[np.ndarray, float]:
    """argmin_w ||X w - y||^2 + lam ||w||^2 = (X^T X + lam I)^{-1} X^T y by numpy.linalg.solve,
    and its prediction w^T x_query."""
    X, y, xq = _check_data(X, y, x_query)
    lam = check_positive("lam", lam)
    w = np.linalg.solve(X.T @ X + lam * np.eye(X.shape[1]), X.T @ y)
    return w, float(w @ xq)


def ridge_program(d: int, n: int, *, h: float, lam: float, init_inverse: str = "1/lam"
                  ) -> tuple[Layout, list[DecoderLayer]]:
    """Akyürek et al. Theorem 2 (ridge by Sherman-Morrison) as RAW layers. Columns 0..n-1 hold
    (x_i, y_i); column n holds x_query and the state A_i = (lam I + sum_{j<=i} x_j x_j^T)^{-1},
    u_i = sum_{j<=i} y_j x_j. Per example i:

        clear scratch; mov x_i, y_i -> xm, ym (attention, absolute source i)
        mul  v = A xm;   mul s = xm^T v;   aff den = 1 + s;   div q = v / den
        mul  P = q v^T;  aff A = A - P;    mul yx = ym xm;    aff u = u + yx

    then mul w = A u and mul yhat = w^T x_query. A_0 = I/lam is embedded in the query column
    (``init_inverse = "lam"`` embeds lam I instead: the negative control).
    """
    d = _check_int("d", d, 1)
    n = _check_int("n", n, 1)
    lam = check_positive("lam", lam)
    if init_inverse not in ("1/lam", "lam"):
        raise ValueError(f"init_inverse must be '1/lam' or 'lam', got {init_inverse!r}")
    c, eps, beta = _scales(h)
    L = Layout(n + 1)
    for name, size in (("x", d), ("y", 1), ("A", d * d), ("u", d), ("xm", d), ("ym", 1),
                       ("v", d), ("s", 1), ("den", 1), ("q", d), ("P", d * d), ("yx", d),
                       ("w", d), ("yhat", 1)):
        L.add(name, size)
    scratch = [r for name in ("xm", "ym", "v", "s", "den", "q", "P", "yx") for r in L[name]]
    layers: list[DecoderLayer] = []
    for i in range(n):
        if i > 0:
            layers.append(clear_layer(L, scratch))
        layers += [
            mov_layer(L, list(L["x"]) + list(L["y"]), list(L["xm"]) + list(L["ym"]), beta=beta,
                      source=i),
            mul_layer(L, (d, d, 1), L["A"], L["xm"], L["v"], scale=c),
            mul_layer(L, (1, d, 1), L["xm"], L["v"], L["s"], scale=c),
            aff_layer(L, L["den"], [(L["s"], np.eye(1))], bias=np.ones(1)),
            div_layer(L, L["v"], L["den"][0], L["q"], scale=eps),
            mul_layer(L, (d, 1, d), L["q"], L["v"], L["P"], scale=c),
            aff_layer(L, L["A"], [(L["P"], -np.eye(d * d))]),
            mul_layer(L, (d, 1, 1), L["xm"], L["ym"], L["yx"], scale=c),
            aff_layer(L, L["u"], [(L["yx"], np.eye(d))]),
        ]
    layers += [
        mul_layer(L, (d, d, 1), L["A"], L["u"], L["w"], scale=c),
        mul_layer(L, (1, d, 1), L["w"], L["x"], L["yhat"], scale=c),
    ]
    return L, layers


def run_ridge(X: np.ndarray, y: np.ndarray, x_query: np.ndarray, *, h: float, lam: float,
              init_inverse: str = "1/lam") -> tuple[np.ndarray, float]:
    """Embed the prompt, run :func:`ridge_program`; returns (w, yhat) read from the query column."""
    X, y, xq = _check_data(X, y, x_query)
    n, d = X.shape
    L, layers = ridge_program(d, n, h=h, lam=lam, init_inverse=init_inverse)
    H = L.empty_state()
    H[np.ix_(list(L["x"]), np.arange(n))] = X.T
    H[L["y"][0], np.arange(n)] = y
    H[list(L["x"]), n] = xq
    A0 = np.eye(d) / lam if init_inverse == "1/lam" else lam * np.eye(d)
    H[list(L["A"]), n] = A0.ravel()
    out = forward(H, layers)
    return out[list(L["w"]), n].copy(), float(out[L["yhat"][0], n])
