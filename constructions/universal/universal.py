"""An explicit single-layer transformer approximator of sequence-to-sequence maps (issue: Gumaan 2025).

Gumaan, "Universal Approximation Theorem for a Single-Layer Transformer" (arXiv 2507.10581, 2025)
states that one softmax self-attention layer followed by a position-wise ReLU feed-forward layer
approximates any continuous sequence-to-sequence map on a compact set. This module builds such a
layer *explicitly* for f : [0,1]^{d x n} -> R^{d x n} and a grid width delta = 1/N, exports its
weights as float64 arrays and runs them through a reference forward pass.

What the construction uses (be honest about it)
-----------------------------------------------
* **Positional encodings** (one-hot e_k appended to token k). Without them every layer is
  permutation equivariant and non-equivariant targets are out of reach (see ``theorems.universal.gumaan2025``).
* **One extra "sink" token** (a fixed column appended to the sequence; the read-out ignores it).
* **H = D (N - 1) heads of head dimension 1** (D = d n), so exp(<W_Q z, W_K z'>/sqrt(1)) is the
  standard scaled dot-product score.

Attention: soft thresholds. Head h = (p, i, j) (position p, coordinate i, threshold t_j = j delta,
j = 1..N-1) has a constant query (the bias channel) and the key score

    s_l = (beta - t_j/tau) [l = p] + x_{l,i}/tau + beta [l = sink],   beta = 1/tau + 40,

and value v_l = [l = p]. Every query therefore receives

    S_{p,i,j} = e^{beta + (x_{p,i} - t_j)/tau} / (e^{beta + (x_{p,i}-t_j)/tau} + e^{beta} + sum_{l != p} e^{x_{l,i}/tau})
              = sigma((x_{p,i} - t_j)/tau) (1 - O(n e^{-40})),

a logistic step of width tau at t_j, written to its own register channel. With S_0 = 1, S_N = 0,
T_m = S_m - S_{m+1} (m = 0..N-1) is a one-dimensional partition of unity (soft cell indicators).

Feed-forward layer (one hidden ReLU layer): for every cell G in {0..N-1}^D and output position k,

    h_{G,k} = ReLU( sum_{(p,i)} T_{G_{p,i}}(x_{p,i}) - D + e_k[token] ),

(the Lukasiewicz t-norm of the D soft indicators, gated by the token's own position), and the
layer writes sum_G f(c_G)_{:,k} h_{G,k} - x_k into the x-channels (c_G = cell centre; the -x_k
cancels the residual through ReLU(x) - ReLU(-x)). Read-out: channels 0..d-1 of columns 0..n-1.

Error (proved in ``theorems.universal.gumaan2025`` and measured there): on the set K of inputs with at most
one coordinate within eta = 40 tau of an interior face, the output is a convex combination of
f(c_G) over cells whose centres lie within delta/2 + eta of X in the max-norm, so

    |T(X) - f(X)|_max <= omega_f(delta/2 + eta) + O(D e^{-40}) ||f||_inf   (c = 1/2 + eta/delta).

At corners (two coordinates on faces at once) the t-norm loses mass and the output is not a
convex combination: sup-norm approximation there needs another layer; L^p errors still converge.

Parameter count (exact, see :func:`parameter_count`): n N^D hidden cell units with 2D + 2
non-zero inputs each, i.e. Theta(delta^{-dn}) parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import scipy.sparse

from numerics.validation import check_int

__all__ = [
    "SingleLayerApproximator",
    "build_single_layer",
    "export_weights",
    "reference_forward",
    "structured_forward",
    "parameter_count",
    "embedding_width",
    "LEAK_MARGIN",
]

LEAK_MARGIN = 40.0
"""beta - 1/tau: how far the non-selected tokens' scores sit below the sink (leakage e^{-40})."""

Target = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class SingleLayerApproximator:
    """The construction: target values at cell centres and the soft-threshold width tau.

    values -- array of shape (N,)*D + (d, n): f(c_G) for every cell G (row-major over (p, i),
              coordinate (i, p) of X is flattened as p * d + i).
    """

    d: int
    n: int
    N: int
    tau: float
    values: np.ndarray

    @property
    def D(self) -> int:
        return self.d * self.n

    @property
    def delta(self) -> float:
        return 1.0 / self.N

    @property
    def beta(self) -> float:
        return 1.0 / self.tau + LEAK_MARGIN


def _check_inputs(X, d: int, n: int) -> np.ndarray:
    arr = np.asarray(X)
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        raise TypeError(f"inputs must be a real numeric array, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[1:] != (d, n):
        raise ValueError(f"inputs must have shape (batch, {d}, {n}) or ({d}, {n}), got {np.shape(X)}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("inputs must be finite (found NaN or inf)")
    if np.any(arr < 0) or np.any(arr > 1):
        raise ValueError("inputs must lie in the compact domain [0, 1]^{d x n}")
    return arr


def cell_centres(N: int, D: int) -> np.ndarray:
    """All cell centres c_G, shape (N**D, D), G in row-major order."""
    c = (np.arange(N) + 0.5) / N
    grids = np.meshgrid(*([c] * D), indexing="ij")  # row-major, as itertools.product
    return np.stack([g.ravel() for g in grids], axis=1).astype(np.float64)


def build_single_layer(f: Target, d: int, n: int, delta: float, *, tau: float | None = None
                       ) -> SingleLayerApproximator:
    """Build the single-layer approximator of ``f`` on the delta-grid (delta = 1/N).

    ``f`` maps a batch (B, d, n) of inputs to (B, d, n) outputs. ``tau`` (the logistic width,
    inverse softmax temperature 1/tau) defaults to 1e-6 * delta, small enough that on random inputs
    two coordinates are within 40 tau of a face with probability ~ (D choose 2)(80e-6)^2.
    """
    d = check_int("d", d, 1, type_error=ValueError)
    n = check_int("n", n, 1, type_error=ValueError)
    if not isinstance(delta, float | int) or not np.isfinite(delta) or delta <= 0 or delta > 1:
        raise ValueError(f"delta must be a number in (0, 1], got {delta!r}")
    N = int(round(1.0 / delta))
    if N < 1 or abs(N * delta - 1.0) > 1e-9:
        raise ValueError(f"delta must be 1/N for an integer N, got {delta!r}")
    D = d * n
    if N**D > 5_000_000:
        raise ValueError(f"grid too large: N^D = {N}^{D} cells (the grid grows like delta^(-d n))")
    if tau is None:
        tau = 1e-6 / N
    if not np.isfinite(tau) or tau <= 0:
        raise ValueError(f"tau must be finite and positive, got {tau!r}")
    centres = cell_centres(N, D)
    X = centres.reshape(-1, n, d).transpose(0, 2, 1)  # flat index p * d + i -> X[i, p]
    vals = np.asarray(f(X), dtype=np.float64)
    if vals.shape != (N**D, d, n):
        raise ValueError(f"target must map (B, {d}, {n}) to (B, {d}, {n}), got {vals.shape}")
    if not np.all(np.isfinite(vals)):
        raise ValueError("target values at the cell centres are not finite")
    return SingleLayerApproximator(d, n, N, float(tau), vals.reshape((N,) * D + (d, n)))


# --- exported weights ------------------------------------------------------------------------


def embedding_width(d: int, n: int, N: int) -> int:
    """E = d (x) + n (positions) + 1 (bias) + 1 (sink flag) + D (N - 1) (registers).

    d, n, N must be positive ints (a ValueError names the one that is not)."""
    d, n, N = _check_sizes(d, n, N)
    return d + n + 2 + d * n * (N - 1)


def _check_sizes(d, n, N) -> tuple[int, int, int]:
    return (check_int("d", d, 1, type_error=ValueError), check_int("n", n, 1, type_error=ValueError),
            check_int("N", N, 1, type_error=ValueError))


def export_weights(c: SingleLayerApproximator, *, sparse: bool = False) -> dict:
    """The layer as a dict of float64 arrays (layout below; E = :func:`embedding_width`).

    Tokens are columns of Z in R^{E x (n+1)}: column k < n is
    ``embed_x @ x_k + embed_pos[:, k] + embed_bias``; column n is ``sink``.
    Attention (H heads, head dim 1, softmax over keys, no masking):
        A = sum_h W_O[h] W_V[h] Z softmax_keys((W_K[h] Z)^T (W_Q[h] Z)),   Z1 = Z + A.
    Feed-forward: Z2 = Z1 + W_2 ReLU(W_1 Z1 + b_1) + b_2.
    Output: readout @ Z2[:, :n]  (shape (d, n)).
    Channels: [0, d) x; [d, d+n) one-hot position; d+n bias; d+n+1 sink flag; then register
    r(p, i, j) = d + n + 2 + ((p d + i)(N - 1) + j - 1) for j = 1..N-1.
    Hidden units: u = k N^D + (row-major index of the cell G) for position k, then 2 d units that
    cancel the residual x.

    ``sparse=True`` stores W_1 and W_2 (the n N^D-unit feed-forward layer, Theta(delta^{-dn})
    non-zeros but Theta(delta^{-dn-1}) dense entries) as ``scipy.sparse.csr_array`` with the same
    entries; :func:`reference_forward` runs either form.
    """
    d, n, N, D = c.d, c.n, c.N, c.D
    E = embedding_width(d, n, N)
    bias, sink = d + n, d + n + 1
    H = D * (N - 1)
    beta, tau = c.beta, c.tau

    # attention: head h = q (N - 1) + (j - 1), q = p d + i
    q_of = np.repeat(np.arange(D), N - 1)
    j_of = np.tile(np.arange(1, N), D)
    p_of, i_of = q_of // d, q_of % d
    heads = np.arange(H)
    W_Q = np.zeros((H, 1, E))
    W_K = np.zeros((H, 1, E))
    W_V = np.zeros((H, 1, E))
    W_O = np.zeros((H, E, 1))
    W_Q[heads, 0, bias] = 1.0
    W_K[heads, 0, d + p_of] = beta - (j_of / N) / tau
    W_K[heads, 0, i_of] = 1.0 / tau
    W_K[heads, 0, sink] = beta
    W_V[heads, 0, d + p_of] = 1.0
    W_O[heads, d + n + 2 + q_of * (N - 1) + (j_of - 1), 0] = 1.0

    # feed-forward: one unit per (position k, cell G)
    cells = N**D
    G = np.stack(np.unravel_index(np.arange(cells), (N,) * D), axis=1) if D else np.zeros((1, 0), int)
    hidden = n * cells + 2 * d
    rows, cols, data = [], [], []
    for k in range(n):
        u = k * cells + np.arange(cells)
        for q in range(D):
            m = G[:, q]
            lo = m >= 1  # + S_m (S_0 = 1 is the bias constant below)
            rows.append(u[lo])
            cols.append(d + n + 2 + q * (N - 1) + (m[lo] - 1))
            data.append(np.ones(int(lo.sum())))
            hi = m + 1 <= N - 1  # - S_{m+1} (S_N = 0)
            rows.append(u[hi])
            cols.append(d + n + 2 + q * (N - 1) + m[hi])
            data.append(-np.ones(int(hi.sum())))
        rows.append(u)
        cols.append(np.full(cells, d + k))
        data.append(np.ones(cells))
    for i in range(d):  # cancel the residual x: -x = -ReLU(x) + ReLU(-x)
        u = n * cells + 2 * i
        rows.append(np.array([u, u + 1]))
        cols.append(np.array([i, i]))
        data.append(np.array([1.0, -1.0]))
    rows, cols, data = (np.concatenate(a) for a in (rows, cols, data))
    b_1 = np.zeros(hidden)
    b_1[:n * cells] = np.tile((G == 0).sum(axis=1) - D, n).astype(np.float64)
    vals = c.values.reshape(cells, d, n)  # row-major over G
    w2_rows = np.concatenate([np.tile(np.arange(d), n * cells)] + [np.array([i, i]) for i in range(d)])
    w2_cols = np.concatenate([np.repeat(np.arange(n * cells), d)]
                             + [np.array([n * cells + 2 * i, n * cells + 2 * i + 1]) for i in range(d)])
    w2_data = np.concatenate([vals.transpose(2, 0, 1).reshape(-1)] + [np.array([-1.0, 1.0]) for _ in range(d)])
    W_1 = scipy.sparse.csr_array((data, (rows, cols)), shape=(hidden, E), dtype=np.float64)
    W_2 = scipy.sparse.csr_array((w2_data, (w2_rows, w2_cols)), shape=(E, hidden), dtype=np.float64)
    if not sparse:
        W_1, W_2 = W_1.toarray(), W_2.toarray()

    embed_x = np.zeros((E, d))
    embed_x[:d, :d] = np.eye(d)
    embed_pos = np.zeros((E, n))
    embed_pos[d:d + n, :] = np.eye(n)
    embed_bias = np.zeros(E)
    embed_bias[bias] = 1.0
    sink_col = np.zeros(E)
    sink_col[bias] = 1.0
    sink_col[sink] = 1.0
    readout = np.zeros((d, E))
    readout[:, :d] = np.eye(d)
    return {"embed_x": embed_x, "embed_pos": embed_pos, "embed_bias": embed_bias, "sink": sink_col,
            "W_Q": W_Q, "W_K": W_K, "W_V": W_V, "W_O": W_O, "W_1": W_1, "b_1": b_1,
            "W_2": W_2, "b_2": np.zeros(E), "readout": readout}


def _softmax_keys(S: np.ndarray) -> np.ndarray:
    S = S - S.max(axis=-2, keepdims=True)
    e = np.exp(S)
    return e / e.sum(axis=-2, keepdims=True)


def _as_csr(name: str, W, shape: tuple[int, int]) -> scipy.sparse.csr_array:
    """A weight matrix (dense or scipy.sparse) as float64 CSR of the given shape."""
    if scipy.sparse.issparse(W):
        M = scipy.sparse.csr_array(W, dtype=np.float64)
    else:
        A = np.asarray(W, dtype=np.float64)
        M = scipy.sparse.csr_array(A.reshape(shape))
    if M.shape != shape:
        raise ValueError(f"weights[{name!r}] has shape {M.shape}, expected {shape}")
    if not np.all(np.isfinite(M.data)):
        raise ValueError(f"weights[{name!r}] must be finite")
    return M


_WEIGHT_KEYS = ("embed_x", "embed_pos", "embed_bias", "sink", "W_Q", "W_K", "W_V", "W_O", "W_1", "b_1",
                "W_2", "b_2", "readout")


def _dense(name: str, W, ndim: int, shape: tuple | None = None) -> np.ndarray:
    """A dense weight (array, nested list, any real dtype) as finite float64 of the given rank and
    shape (None: any length on that axis)."""
    try:
        A = np.asarray(W, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"weights[{name!r}] must be a real numeric array ({exc})") from None
    if A.ndim != ndim or (shape is not None and any(s is not None and s != a for s, a in zip(shape, A.shape))):
        want = "(" + ", ".join("*" if s is None else str(s) for s in (shape or (None,) * ndim)) + ("," if ndim == 1 else "") + ")"
        raise ValueError(f"weights[{name!r}] has shape {A.shape}, expected {want}")
    if not np.all(np.isfinite(A)):
        raise ValueError(f"weights[{name!r}] must be finite")
    return A


def reference_forward(weights: dict, X, *, block: int = 4_000_000) -> np.ndarray:
    """Run exported weights on inputs X (shape (d, n) or (B, d, n)); returns (B, d, n) float64.

    Computes exactly the layer documented in :func:`export_weights` from the arrays in
    ``weights`` (dense numpy arrays or, for W_1 and W_2, scipy.sparse matrices), with every
    product taken as a sparse-times-dense product so that the cost is (non-zeros) x (tokens), and
    the batch processed in blocks of at most ``block`` hidden pre-activations at a time.
    """
    if not isinstance(weights, Mapping):
        raise TypeError(f"weights must be a dict of arrays (export_weights' output), got {type(weights).__name__}")
    missing = [k for k in _WEIGHT_KEYS if k not in weights]
    if missing:
        raise ValueError(f"weights is missing {missing} (export_weights' keys are {list(_WEIGHT_KEYS)})")
    embed_x = _dense("embed_x", weights["embed_x"], 2)
    E, d = embed_x.shape
    embed_pos = _dense("embed_pos", weights["embed_pos"], 2, (E, None))
    n = embed_pos.shape[1]
    embed_bias = _dense("embed_bias", weights["embed_bias"], 1, (E,))
    sink = _dense("sink", weights["sink"], 1, (E,))
    readout = _dense("readout", weights["readout"], 2, (d, E))
    b2 = _dense("b_2", weights["b_2"], 1, (E,))[:, None]
    b1 = _dense("b_1", weights["b_1"], 1)[:, None]
    Xb = _check_inputs(X, d, n)
    B = Xb.shape[0]
    q_shape = np.shape(weights["W_Q"])
    if len(q_shape) != 3 or q_shape[2] != E:
        raise ValueError(f"weights['W_Q'] has shape {q_shape}, expected (heads, m, {E})")
    H, m = q_shape[0], q_shape[1]
    WQ = _as_csr("W_Q", weights["W_Q"], (H * m, E))
    WK = _as_csr("W_K", weights["W_K"], (H * m, E))
    WV = _as_csr("W_V", weights["W_V"], (H * m, E))
    WO = _as_csr("W_O", np.transpose(np.asarray(weights["W_O"], dtype=np.float64), (1, 0, 2)), (E, H * m))
    hidden = b1.shape[0]
    W1 = _as_csr("W_1", weights["W_1"], (hidden, E))
    W2 = _as_csr("W_2", weights["W_2"], (E, hidden))
    T = n + 1
    # Z[:, b, t]: tokens of input b (columns 0..n-1), then the sink
    Z = np.empty((E, B, T))
    Z[:, :, :n] = np.einsum("ed,bdk->ebk", embed_x, Xb) + embed_pos[:, None, :] + embed_bias[:, None, None]
    Z[:, :, n] = sink[:, None]
    Zf = Z.reshape(E, B * T)
    Q = (WQ @ Zf).reshape(H, m, B, T)
    K = (WK @ Zf).reshape(H, m, B, T)
    V = (WV @ Zf).reshape(H, m, B, T)
    P = _softmax_keys(np.einsum("hmbl,hmbk->hblk", K, Q))  # (H, B, keys, queries)
    U = np.einsum("hmbl,hblk->hmbk", V, P).reshape(H * m, B * T)
    Z1 = (Zf + WO @ U).reshape(E, B, T)[:, :, :n]  # the read-out needs the n token columns only
    out = np.empty_like(Xb)
    per = max(1, int(block) // max(1, hidden * n))
    for s in range(0, B, per):
        Zs = Z1[:, s:s + per, :].reshape(E, -1)
        Z2 = Zs + W2 @ np.maximum(W1 @ Zs + b1, 0.0) + b2
        out[s:s + per] = (readout @ Z2).reshape(d, -1, n).transpose(1, 0, 2)
    return out


def soft_thresholds(c: SingleLayerApproximator, Xb: np.ndarray) -> np.ndarray:
    """S[b, q, j] for j = 0..N (S_0 = 1, S_N = 0): the attention heads' outputs, in closed form.

    The head (p, i, j) softmax is evaluated exactly as the ratio in the module docstring
    (scores shifted by their maximum), including the leakage of the non-selected tokens.
    """
    d, n, N = c.d, c.n, c.N
    B = Xb.shape[0]
    S = np.zeros((B, c.D, N + 1))
    S[:, :, 0] = 1.0
    t = np.arange(1, N) / N
    beta, tau = c.beta, c.tau
    for p in range(n):
        for i in range(d):
            xi = Xb[:, i, :]  # (B, n)
            s_sel = beta + (xi[:, p, None] - t[None, :]) / tau  # (B, N-1)
            others = np.delete(xi, p, axis=1) / tau  # (B, n-1)
            m = np.maximum(np.maximum(s_sel, beta), others.max(axis=1, initial=-np.inf)[:, None])
            num = np.exp(s_sel - m)
            den = num + np.exp(beta - m) + np.exp(others[:, :, None] - m[:, None, :]).sum(axis=1)
            S[:, p * d + i, 1:N] = num / den
    return S


def structured_forward(c: SingleLayerApproximator, X) -> np.ndarray:
    """The same layer evaluated cell-sparsely: sum_G f(c_G)_k ReLU(sum_q T_{G_q} - D + 1).

    Only cells whose every soft indicator exceeds a per-coordinate threshold can have a positive
    pre-activation (see the comment below), so the sum over the product of per-coordinate
    supports equals the full sum over N^D cells exactly. Cost per input: prod_q |supp_q|.
    """
    Xb = _check_inputs(X, c.d, c.n)
    S = soft_thresholds(c, Xb)
    T = S[:, :, :-1] - S[:, :, 1:]  # (B, D, N)
    D = c.D
    out = np.zeros_like(Xb)
    for b in range(Xb.shape[0]):
        # pre = T_q - sum_{q' != q} (1 - T_{q'}) <= T_q - sum_{q' != q} (1 - max T_{q'}) =: T_q - thr_q,
        # so only indices with T_q > max(thr_q, 0) can contribute (exact pruning).
        slack = 1.0 - T[b].max(axis=1)
        thr = np.maximum(slack.sum() - slack, 0.0)
        supports = [np.flatnonzero(T[b, q] > thr[q]) for q in range(D)]
        if any(s.size == 0 for s in supports):
            continue
        pre = np.full(tuple(s.size for s in supports), 1.0 - D)
        for q, s in enumerate(supports):
            shape = [1] * D
            shape[q] = s.size
            pre = pre + T[b, q, s].reshape(shape)
        w = np.maximum(pre, 0.0)
        out[b] = np.tensordot(w, c.values[np.ix_(*supports)], axes=D)
    return out


def parameter_count(d: int, n: int, N: int) -> dict[str, int]:
    """Exact counts for the exported layer (``dense`` = all stored entries, ``nonzero`` = non-zeros).

    Non-zeros (generic target, f(c_G) != 0 entrywise): attention 6 per head (query 1, key 3,
    value 1, output 1), H = D (N-1) heads; per position k and cell G: W_1 has 1 (position) +
    sum_q ([G_q >= 1] + [G_q <= N-2]) entries, b_1 is non-zero unless G = 0, W_2 has d entries;
    summed over cells, W_1 gives N^D + 2 D (N-1) N^{D-1}. Residual cancellation 4 d; embedding
    d + n + 1, sink 2, read-out d. Leading term: n (2 D + 2 + d) N^D = Theta(delta^{-dn}).
    d, n, N must be positive ints (N = 1/delta); a ValueError names the one that is not.
    """
    d, n, N = _check_sizes(d, n, N)
    D = d * n
    E = embedding_width(d, n, N)
    H = D * (N - 1)
    cells = N**D
    hidden = n * cells + 2 * d
    dense = (4 * H * E) + hidden * E + hidden + E * hidden + E + E * d + E * n + E + E + d * E
    attn_nz = 6 * H
    # W_1 non-zeros of one cell unit: 1 (position) + sum_q ([G_q >= 1] + [G_q <= N - 2]).
    # Summed over cells: N^D + D N^{D-1} * ((N - 1) + (N - 1)) = N^D + 2 D (N-1) N^{D-1}.
    w1_cells = cells + 2 * D * (N - 1) * N ** (D - 1) if N > 1 else cells
    # b_1 = (#{q: G_q = 0}) - D is zero only when every G_q = 0: one cell per position.
    b1 = cells - 1
    w2 = d * cells  # generic target: f(c_G) entries non-zero
    nonzero = attn_nz + n * (w1_cells + b1 + w2) + 4 * d + (d + n + 1 + 2) + d
    return {"dense": int(dense), "nonzero": int(nonzero), "heads": int(H), "hidden": int(hidden),
            "width": int(E)}
