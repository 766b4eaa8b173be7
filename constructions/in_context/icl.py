"""Transformers that run gradient descent in context: explicit weights.

* von Oswald, Niklasson, Randazzo, Sacramento, Mordvintsev, Zhmoginov, Vladymyrov, "Transformers
  learn in-context by gradient descent", ICML 2023 (arXiv 2212.07677), Proposition 1: one linear
  self-attention (LSA) layer with the weights of :func:`gd_layers` performs one gradient-descent
  step on L(w) = (1/2n) ||X w - y||^2; K such layers perform K steps.
* von Oswald et al., section 4 ("GD++"): a layer that in addition transforms every x-token
  x <- (I - gamma X^T X / n) x; see :func:`gdpp_layers`.
* Ahn, Cheng, Daneshmand, Sra, "Transformers learn to implement preconditioned gradient descent
  for in-context learning", NeurIPS 2023 (arXiv 2306.00297), Lemma 1: LSA layers with
  Q_l = [[-A_l, 0], [0, 0]], P_l = [[0, 0], [0, 1]] perform preconditioned GD; see
  :func:`preconditioned_gd_layers`.

Merged LSA convention (CONTRIBUTING.md section 4)
------------------------------------------
Tokens are the columns of Z in R^{(d+1) x T}: the first n columns are the context tokens
(x_i, y_i), the remaining T - n columns are query tokens (x_query, 0) (T = n + 1: one query, the
last column). One layer is

    f(Z) = Z + (1/n) W_PV Z M (Z^T W_KQ Z),     M = diag(1, ..., 1, 0, ..., 0)   (n ones),

so that column j receives (1/n) sum_{i <= n} W_PV z_i (z_i^T W_KQ z_j): queries attend to the
context but are neither keys nor values (``mask_query=True``). With ``mask_query=False``, M = I:
every token, the queries included, is a key and a value (the 1/n stays).

In the paper's own notation a head is e_j <- e_j + P W_V sum_i e_i (e_i^T W_K^T W_Q e_j), so
W_KQ = W_K^T W_Q and W_PV = n P W_V (the paper puts the 1/N into P; we put it in front).

Read-out sign
-------------
For the GD constructions the y-slot of context token i holds the residual y_i - <w_k, x_i> after k
layers and the y-slot of a query holds y_slot_in - <w_k, x_query>; with the placeholder 0 that is
MINUS the GD prediction (von Oswald et al. read the prediction as -y). :func:`read_prediction`
returns  -Z_out[d, column] = <w_K, x_query>  (for the placeholder 0).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

import numerics  # noqa: F401  (float64 JAX before any array is created)

__all__ = [
    "LSALayer",
    "TokenMatrix",
    "embed",
    "lsa_forward",
    "read_prediction",
    "gd_layers",
    "preconditioned_gd_layers",
    "gdpp_layers",
    "ReLUAttentionLayer",
    "ridge_embed",
    "ridge_gd_layers",
    "relu_attention_forward",
    "ridge_read_weights",
    "ridge_read_prediction",
]


# --- validation helpers -----------------------------------------------------------------------


def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a positive int, got {type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive int (>= 1), got {value}")
    return int(value)


def _finite_real(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a finite real number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def _is_jax(x) -> bool:
    return isinstance(x, jax.Array)


def _is_tracer(x) -> bool:
    return isinstance(x, jax.core.Tracer)


def _check_numeric_dtype(name: str, dtype) -> None:
    dtype = np.dtype(dtype)
    if dtype == np.bool_ or not (np.issubdtype(dtype, np.floating) or np.issubdtype(dtype, np.integer)):
        raise TypeError(f"{name} must be a real floating (or integer) array, got dtype {dtype}")


def _as_float64(name: str, x, ndim: int | tuple[int, ...]):
    """x as a float64 array (jax stays jax, everything else becomes numpy), validated."""
    ndims = (ndim,) if isinstance(ndim, int) else ndim
    if _is_jax(x):
        _check_numeric_dtype(name, x.dtype)
        arr = jnp.asarray(x, dtype=jnp.float64)
    else:
        if isinstance(x, str | bytes) or x is None:
            raise TypeError(f"{name} must be an array, got {type(x).__name__}")
        raw = np.asarray(x)
        if raw.dtype == object:
            raise TypeError(f"{name} must be a numeric array, got dtype object")
        _check_numeric_dtype(name, raw.dtype)
        arr = raw.astype(np.float64)
    if arr.ndim not in ndims:
        raise ValueError(f"{name} must have ndim in {ndims}, got shape {tuple(arr.shape)}")
    if not _is_tracer(arr) and not bool(np.all(np.isfinite(np.asarray(arr)))):
        raise ValueError(f"{name} must be finite (found NaN or inf)")
    return arr


# --- layers ----------------------------------------------------------------------------------


def _frozen_matrix(name: str, m, shape: tuple[int, int] | None = None) -> np.ndarray:
    if _is_tracer(m):
        raise TypeError(f"{name}: layer weights must be concrete arrays, not traced values")
    a = _as_float64(name, np.asarray(m) if _is_jax(m) else m, 2)
    if shape is not None and a.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {a.shape}")
    a = np.array(a, dtype=np.float64, copy=True)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class LSALayer:
    """One merged linear self-attention layer f(Z) = Z + (1/n) W_PV Z M (Z^T W_KQ Z).

    W_KQ, W_PV -- (d+1) x (d+1) float64 (read-only copies).
    W_K, W_Q, W_V, P -- the paper's own matrices where the construction has them (else None),
                 related by W_KQ = W_K^T W_Q and W_PV = P W_V with P already including the
                 paper's step size but not its 1/N (the forward pass supplies 1/n).
    """

    W_KQ: np.ndarray
    W_PV: np.ndarray
    W_K: np.ndarray | None = None
    W_Q: np.ndarray | None = None
    W_V: np.ndarray | None = None
    P: np.ndarray | None = None

    def __post_init__(self) -> None:
        kq = _frozen_matrix("W_KQ", self.W_KQ)
        if kq.shape[0] != kq.shape[1] or kq.shape[0] < 2:
            raise ValueError(f"W_KQ must be square (d+1) x (d+1) with d >= 1, got {kq.shape}")
        object.__setattr__(self, "W_KQ", kq)
        object.__setattr__(self, "W_PV", _frozen_matrix("W_PV", self.W_PV, kq.shape))
        for name in ("W_K", "W_Q", "W_V", "P"):
            m = getattr(self, name)
            if m is not None:
                object.__setattr__(self, name, _frozen_matrix(name, m, kq.shape))

    @property
    def dim(self) -> int:
        """d + 1, the token dimension."""
        return int(self.W_KQ.shape[0])


# --- token matrix ----------------------------------------------------------------------------


class TokenMatrix(np.ndarray):
    """A numpy token matrix that remembers how many of its columns are context tokens.

    :func:`embed` and :func:`ridge_embed` return one, so that the forward passes' default
    ``n_context`` is right for any number of queries (without it the default T - 1 would count
    every query but the last as a context token). The count survives copies, row selections and
    same-shape arithmetic (the forward passes' outputs keep it) and is dropped by anything that
    changes the number of columns (slices, concatenation), by transposes and by any index that
    selects or reorders columns (``Z[:, ::-1]``, ``Z[:, perm]``), even when the shape comes out
    the same: the result then falls back to the plain default (or an explicit ``n_context``).
    """

    n_context: int | None

    def __new__(cls, array: np.ndarray, n_context: int):
        obj = np.asarray(array, dtype=np.float64).view(cls)
        obj.n_context = int(n_context)
        return obj

    def __array_finalize__(self, obj) -> None:
        n = getattr(obj, "n_context", None)
        same = n is not None and self.ndim == 2 and obj.ndim == 2 and self.shape[1] == obj.shape[1]
        self.n_context = n if same else None

    def __getitem__(self, key):
        out = super().__getitem__(key)
        if isinstance(out, TokenMatrix) and out.n_context is not None and not _all_columns(key, self.shape[1]):
            out.n_context = None
        return out

    def transpose(self, *axes):
        return _unmarked(super().transpose(*axes))  # rows become columns: not this layout any more

    def swapaxes(self, axis1, axis2):
        return _unmarked(super().swapaxes(axis1, axis2))

    @property
    def T(self):
        return self.transpose()


def _unmarked(out):
    """``out`` without a context count (a token matrix in another layout)."""
    if isinstance(out, TokenMatrix):
        out.n_context = None
    return out


def _all_columns(key, n_columns: int) -> bool:
    """Whether a 2-D index keeps every column in order (a row selection): ``Z[1:3]``, ``Z[:, :]``."""
    if not isinstance(key, tuple):
        key = (key,)
    if any(k is None for k in key):
        return False  # a new axis: not a token matrix
    at = next((i for i, k in enumerate(key) if k is Ellipsis), None)
    if at is not None:  # expand ... to the full slices it stands for
        key = key[:at] + (slice(None),) * (3 - len(key)) + key[at + 1:]
    if len(key) < 2:
        return True
    col = key[1]
    return isinstance(col, slice) and col.indices(n_columns) == (0, n_columns, 1)


def _marked_context(Z) -> int | None:
    n = getattr(Z, "n_context", None)
    return n if isinstance(Z, TokenMatrix) and n is not None and Z.ndim == 2 else None


def embed(X, y, x_query):
    """The token matrix Z in R^{(d+1) x (n+m)}: columns (x_i, y_i), then (x_query_j, 0).

    X: (n, d) context inputs; y: (n,) labels; x_query: (d,) one query or (m, d) several.
    Returns a numpy float64 :class:`TokenMatrix` that carries n (so :func:`lsa_forward` and
    :func:`relu_attention_forward` mask all m queries by default), or a jax float64 array when any
    input is a jax array (so that jax.grad can differentiate through the embedding); a jax array
    cannot carry n, so with jax inputs only one query is accepted (embed queries one at a time,
    or embed with numpy and pass ``n_context`` explicitly).
    """
    X = _as_float64("X", X, 2)
    y = _as_float64("y", y, 1)
    xq = _as_float64("x_query", x_query, (1, 2))
    n, d = X.shape
    if n < 1 or d < 1:
        raise ValueError(f"X must be (n, d) with n >= 1 and d >= 1, got {X.shape}")
    if y.shape != (n,):
        raise ValueError(f"y must have shape ({n},) to match X {X.shape}, got {tuple(y.shape)}")
    if xq.ndim == 1:
        xq = xq[None, :]
    if xq.shape[1] != d or xq.shape[0] < 1:
        raise ValueError(f"x_query must be ({d},) or (m, {d}) with m >= 1, got {tuple(xq.shape)}")
    xp = jnp if any(_is_jax(a) for a in (X, y, xq)) else np
    if xp is jnp and xq.shape[0] > 1:
        raise ValueError(f"embed: {xq.shape[0]} queries with jax inputs: a jax array cannot carry the "
                         "context count, so the forward pass's default n_context = T - 1 would treat "
                         "all queries but the last as context; embed one query at a time, or embed "
                         "numpy arrays (or pass n_context to the forward pass yourself)")
    top = xp.concatenate([X.T, xq.T], axis=1)
    bottom = xp.concatenate([y, xp.zeros(xq.shape[0], dtype=xp.float64)])[None, :]
    Z = xp.concatenate([top, bottom], axis=0)
    return Z if xp is jnp else TokenMatrix(Z, n)


def _context_count(name: str, shape: tuple[int, int], n_context, marked: int | None = None) -> int:
    """n, the number of context tokens among the T columns, with 1 <= n <= T.

    Default: the count an :func:`embed` token matrix carries (``marked``), else T - 1 (one query,
    the last column). An explicit n_context that contradicts the carried count is an error.
    """
    T = shape[1]
    if n_context is None:
        if marked is not None:
            return marked
        if T < 2:
            raise ValueError(f"{name} must have at least 2 columns (context + query), got shape {tuple(shape)}")
        return T - 1
    n = _positive_int("n_context", n_context)
    if n > T:
        raise ValueError(f"n_context = {n} exceeds the number of tokens T = {T}")
    if marked is not None and n != marked:
        raise ValueError(f"n_context = {n} contradicts the token matrix, which embed() built with "
                         f"{marked} context tokens")
    return n


def _checked_layers(layers, cls, dim: int, name: str) -> list:
    """layers as a list of ``cls`` instances acting on tokens of dimension ``dim``."""
    article = "an" if cls.__name__[0] in "AEIOU" else "a"
    if isinstance(layers, cls):
        raise TypeError(f"layers must be a sequence of {cls.__name__} (wrap a single layer in a list)")
    layers = list(layers)
    for k, layer in enumerate(layers):
        if not isinstance(layer, cls):
            raise TypeError(f"layers[{k}] must be {article} {cls.__name__}, got {type(layer).__name__}")
        if layer.dim != dim:
            raise ValueError(f"layers[{k}] acts on tokens of dimension {layer.dim}, but {name} has {dim} rows")
    return layers


def _key_mask(T: int, n: int, mask_query: bool, xp):
    """The diagonal of M: 1 for the n context tokens, 0 for the queries (all ones when unmasked)."""
    mask = np.ones(T) if not mask_query else np.concatenate([np.ones(n), np.zeros(T - n)])
    return xp.asarray(mask, dtype=xp.float64)


# --- forward pass ----------------------------------------------------------------------------


def lsa_forward(Z, layers: Sequence[LSALayer], *, mask_query: bool = True, n_context: int | None = None):
    """Apply the LSA layers in order: Z <- Z + (1/n) W_PV Z M (Z^T W_KQ Z) per layer.

    Z          -- (d+1) x T token matrix (numpy or jax; ints are promoted, float64 is returned).
    layers     -- sequence of :class:`LSALayer` with (d+1) x (d+1) weights (empty: identity).
    mask_query -- True: M = diag(1 (n times), 0 (T - n times)), queries are not keys/values;
                  False: M = I (the "unmasked query" variant; used by negative controls).
    n_context  -- n, the number of context tokens, 1 <= n <= T (default: the count a token matrix
                  from :func:`embed` carries, whatever its number of queries; for any other
                  array T - 1, one query in the last column).

    Numpy in -> numpy float64 out; jax (or a jax tracer, e.g. under jax.grad) in -> jax float64
    out, differentiable with respect to Z.
    """
    if not isinstance(mask_query, bool):
        raise TypeError(f"mask_query must be a bool, got {type(mask_query).__name__}")
    marked = _marked_context(Z)
    Z = _as_float64("Z", Z, 2)
    rows, T = Z.shape
    if rows < 2:
        raise ValueError(f"Z must have d + 1 >= 2 rows, got shape {tuple(Z.shape)}")
    n = _context_count("Z", Z.shape, n_context, marked)
    layers = _checked_layers(layers, LSALayer, rows, "Z")
    xp = jnp if _is_jax(Z) else np
    mask = _key_mask(T, n, mask_query, xp)
    for layer in layers:
        W_KQ = xp.asarray(layer.W_KQ)
        W_PV = xp.asarray(layer.W_PV)
        scores = Z.T @ (W_KQ @ Z)                # (T, T): z_i^T W_KQ z_j
        values = W_PV @ (Z * mask[None, :])      # (d+1, T): W_PV z_i for keys i, 0 otherwise
        Z = Z + (values @ scores) / n
    return TokenMatrix(Z, n) if marked is not None else Z


def read_prediction(Z_out, column: int = -1):
    """The prediction of a GD construction: -Z_out[d, column] (von Oswald's minus sign).

    After K layers of :func:`gd_layers` (or the preconditioned / GD++ variants) on a token matrix
    from :func:`embed` (placeholder 0 in the query's y-slot) this is <w_K, x_query>, the K-step GD
    prediction. A non-zero y-slot s in the query column passes through the residual stream and
    gives <w_K, x_query> - s.
    """
    Z_out = _as_float64("Z_out", Z_out, 2)
    if isinstance(column, bool) or not isinstance(column, numbers.Integral):
        raise TypeError(f"column must be an int, got {type(column).__name__}")
    T = Z_out.shape[1]
    if not -T <= column < T:
        raise ValueError(f"column {column} out of range for {T} tokens")
    return -Z_out[-1, column]


# --- constructions -----------------------------------------------------------------------------


def gd_layers(d: int, eta: float, steps: int) -> list[LSALayer]:
    """von Oswald et al. (2023), Proposition 1: ``steps`` LSA layers = ``steps`` GD steps.

    GD on L(w) = (1/2n) ||X w - y||^2 from w_0 = 0 with step eta:
        w_{k+1} = w_k - eta (1/n) X^T (X w_k - y).
    Every layer has
        W_KQ = [[I_d, 0], [0, 0]]   (z_i^T W_KQ z_j = <x_i, x_j>),
        W_PV = [[0, 0], [0, -eta]]  (only the y-row is written),
    so the context y-slots go r_i <- r_i - (eta/n) sum_l r_l <x_l, x_i> with r = y - X w_k (the
    residuals) and the query y-slot goes q <- q - (eta/n) sum_l r_l <x_l, x_query> = q - <w_{k+1} -
    w_k, x_query>; the x-rows never change. Read the prediction with :func:`read_prediction`.

    The paper's own matrices (w_0 = 0): W_K = W_Q = [[I_d, 0], [0, 0]], W_V = [[0, 0], [w_0^T, -1]]
    = [[0, 0], [0, -1]], P = eta I (the paper's P = eta/N I acts on the unnormalised sum).

    Valid for every finite eta (eta > 2/lambda_max diverges, and so does GD), every n >= 1 (also
    n < d) and every d, steps >= 1.
    """
    d = _positive_int("d", d)
    steps = _positive_int("steps", steps)
    eta = _finite_real("eta", eta)
    kq = np.zeros((d + 1, d + 1))
    kq[:d, :d] = np.eye(d)
    w_v = np.zeros((d + 1, d + 1))
    w_v[d, d] = -1.0
    p = eta * np.eye(d + 1)
    layer = LSALayer(W_KQ=kq, W_PV=p @ w_v, W_K=kq, W_Q=kq, W_V=w_v, P=p)
    return [layer] * steps


def preconditioned_gd_layers(preconditioners, eta: float = 1.0) -> list[LSALayer]:
    """Ahn et al. (2023), Lemma 1: one LSA layer per preconditioner A_l performs
        w_{l+1} = w_l - eta A_l (1/n) X^T (X w_l - y),      w_0 = 0,
    for ANY real d x d matrix A_l (not necessarily symmetric or definite).

    Merged weights: W_KQ = [[A_l^T, 0], [0, 0]] (z_i^T W_KQ z_j = <A_l x_i, x_j>),
    W_PV = [[0, 0], [0, -eta]]. In Ahn et al.'s notation (their Z_{l+1} = Z_l + (1/n) P_l Z_l M
    Z_l^T Q_l Z_l, read-out -[Z_L]_{d+1, n+1}): P_l = [[0, 0], [0, 1]], Q_l = -W_KQ (with eta
    folded in), i.e. their Q_l = [[-eta A_l^T, 0], [0, 0]]; for symmetric A_l this is their
    [[-A_l, 0], [0, 0]] with step absorbed. Stored as W_K = [[I, 0], [0, 0]], W_Q = W_KQ,
    W_V = [[0, 0], [0, -1]], P = eta I.

    preconditioners -- a sequence of (d, d) arrays, or a (K, d, d) array: one layer each.
    """
    eta = _finite_real("eta", eta)
    if isinstance(preconditioners, np.ndarray | jax.Array) and np.ndim(preconditioners) == 2:
        raise TypeError("preconditioners must be a sequence of (d, d) matrices or a (K, d, d) array; "
                        "wrap a single matrix in a list")
    mats = [_as_float64(f"preconditioners[{k}]", np.asarray(a), 2) for k, a in enumerate(preconditioners)]
    if not mats:
        raise ValueError("preconditioners must contain at least one (d, d) matrix")
    d = mats[0].shape[0]
    if d < 1:
        raise ValueError("preconditioners must be (d, d) with d >= 1")
    layers = []
    for k, a in enumerate(mats):
        if a.shape != (d, d):
            raise ValueError(f"preconditioners[{k}] must have shape ({d}, {d}), got {a.shape}")
        kq = np.zeros((d + 1, d + 1))
        kq[:d, :d] = a.T
        w_k = np.zeros((d + 1, d + 1))
        w_k[:d, :d] = np.eye(d)
        w_v = np.zeros((d + 1, d + 1))
        w_v[d, d] = -1.0
        p = eta * np.eye(d + 1)
        layers.append(LSALayer(W_KQ=kq, W_PV=p @ w_v, W_K=w_k, W_Q=kq, W_V=w_v, P=p))
    return layers


def gdpp_layers(d: int, eta: float, gamma: float, steps: int) -> list[LSALayer]:
    """von Oswald et al. (2023), section 4, "GD++": GD on the y-slots plus a data transformation
    of every x-token (context and query):

        x <- (I - gamma S) x,    S = (1/n) sum_{i <= n} x_i x_i^T = X^T X / n,
        r_i <- r_i - (eta/n) sum_l r_l <x_l, x_i>   (computed with the x's entering the layer).

    Merged weights: W_KQ = [[I_d, 0], [0, 0]], W_PV = [[-gamma I_d, 0], [0, -eta]].
    The y-update of layer k is a GD step on (1/2n)||X_k w - r||^2 in the transformed data X_k, so
    K layers are K GD steps whose data are re-conditioned every step: the covariance goes
    S_{k+1} = (I - gamma S_k) S_k (I - gamma S_k), eigenvalue by eigenvalue
    lambda <- lambda (1 - gamma lambda)^2.
    """
    d = _positive_int("d", d)
    steps = _positive_int("steps", steps)
    eta = _finite_real("eta", eta)
    gamma = _finite_real("gamma", gamma)
    kq = np.zeros((d + 1, d + 1))
    kq[:d, :d] = np.eye(d)
    w_v = np.zeros((d + 1, d + 1))
    w_v[:d, :d] = -np.eye(d)
    w_v[d, d] = -1.0
    p = np.diag(np.concatenate([np.full(d, gamma), [eta]]))
    layer = LSALayer(W_KQ=kq, W_PV=p @ w_v, W_K=kq, W_Q=kq, W_V=w_v, P=p)
    return [layer] * steps


# --- ReLU attention: exact ridge GD (Bai et al. 2023) --------------------------------------------
#
# Bai, Chen, Wang, Xiong, Mei, "Transformers as Statisticians: Provable In-Context Learning with
# In-Context Algorithm Selection", NeurIPS 2023 (arXiv 2306.04637), section 3: a ReLU-attention
# layer
#     h_i <- h_i + sum_m (1/n) sum_{j <= n} relu(<Q_m h_i, K_m h_j>) V_m h_j
# performs one step of in-context gradient descent. Bai et al. approximate the derivative of the
# loss by sums of ReLUs; for the square loss that derivative is linear and relu(t) - relu(-t) = t
# makes two heads EXACT. A third head with constant score relu(1) = 1 and value -eta lam w_j adds
# the weight decay (every token carries the same w, so w_j = w_i). We exclude the query from the
# keys with the mask M (Bai et al. use the indicator t_j = 1{j <= N} inside the ReLU with a
# bounded-domain offset; the mask is exact without a bound on the data).
#
# Ridge objective (Bai et al.'s scaling, also ours):
#     L_lam(w) = (1/2n) ||X w - y||^2 + (lam/2) ||w||^2,
#     grad L_lam(w) = (1/n) X^T (X w - y) + lam w,      w_{k+1} = w_k - eta grad L_lam(w_k).
# Token layout (D = 2d + 2):  h = [x (d); y (1); w (d); 1 (1)];  w_0 = 0 in every token.


@dataclass(frozen=True, eq=False)
class ReLUAttentionLayer:
    """One multi-head ReLU-attention layer: Q, K, V are (M, D, D) float64 stacks of heads."""

    Q: np.ndarray
    K: np.ndarray
    V: np.ndarray

    def __post_init__(self) -> None:
        stacks = []
        for name in ("Q", "K", "V"):
            m = getattr(self, name)
            if _is_tracer(m):
                raise TypeError(f"{name}: layer weights must be concrete arrays")
            a = np.array(_as_float64(name, np.asarray(m), 3), dtype=np.float64, copy=True)
            if a.shape[1] != a.shape[2] or a.shape[0] < 1 or a.shape[1] < 1:
                raise ValueError(f"{name} must be an (M, D, D) stack with M, D >= 1, got {a.shape}")
            a.setflags(write=False)
            stacks.append(a)
            object.__setattr__(self, name, a)
        if not stacks[0].shape == stacks[1].shape == stacks[2].shape:
            raise ValueError(f"Q, K, V shapes differ: {[s.shape for s in stacks]}")

    @property
    def dim(self) -> int:
        return int(self.Q.shape[1])

    @property
    def heads(self) -> int:
        return int(self.Q.shape[0])


def ridge_embed(X, y, x_query):
    """Bai-style tokens h = [x; y; w = 0; 1] as columns of H in R^{(2d+2) x (n+m)}.

    Context columns carry (x_i, y_i), query columns (x_query, 0); numpy in -> a numpy
    :class:`TokenMatrix` carrying n (as :func:`embed`), any jax input -> jax out (one query only).
    """
    Z = embed(X, y, x_query)
    d = Z.shape[0] - 1
    xp = jnp if _is_jax(Z) else np
    T = Z.shape[1]
    H = xp.concatenate([Z, xp.zeros((d, T), dtype=xp.float64), xp.ones((1, T), dtype=xp.float64)], axis=0)
    return H if xp is jnp else TokenMatrix(H, Z.n_context)


def ridge_gd_layers(d: int, eta: float, lam: float, steps: int) -> list[ReLUAttentionLayer]:
    """``steps`` three-head ReLU-attention layers, each one exact GD step on L_lam (see above).

    Heads (scores <Q h_i, K h_j>, values V h_j):
      1: <w_i, x_j> - y_j,        value -eta x_j  (into the w-slots)
      2: -(<w_i, x_j> - y_j),     value +eta x_j
         -> relu(a) (-eta x) + relu(-a) (eta x) = -eta a x_j: the exact square-loss gradient term;
      3: 1 * 1 = 1,               value -eta lam w_j  -> relu(1) = 1: the weight decay.
    Valid for any finite eta and lam (lam = 0: plain least-squares GD).
    """
    d = _positive_int("d", d)
    steps = _positive_int("steps", steps)
    eta = _finite_real("eta", eta)
    lam = _finite_real("lam", lam)
    D = 2 * d + 2
    x, yy, w, one = slice(0, d), d, slice(d + 1, 2 * d + 1), 2 * d + 1
    Q = np.zeros((3, D, D))
    K = np.zeros((3, D, D))
    V = np.zeros((3, D, D))
    Q[0, np.arange(d), np.arange(d + 1, 2 * d + 1)] = 1.0   # Q h = [w; 1; 0...]
    Q[0, d, one] = 1.0
    K[0, np.arange(d), np.arange(d)] = 1.0                  # K h = [x; -y; 0...]
    K[0, d, yy] = -1.0
    V[0, w, x] = -eta * np.eye(d)                           # V h = -eta x into the w-slots
    Q[1], K[1], V[1] = -Q[0], K[0], -V[0]
    Q[2, 0, one] = 1.0                                      # score 1 * 1
    K[2, 0, one] = 1.0
    V[2, w, w] = -eta * lam * np.eye(d)
    layer = ReLUAttentionLayer(Q=Q, K=K, V=V)
    return [layer] * steps


def relu_attention_forward(H, layers: Sequence[ReLUAttentionLayer], *, mask_query: bool = True,
                           n_context: int | None = None):
    """h_i <- h_i + sum_m (1/n) sum_j relu(<Q_m h_i, K_m h_j>) M_jj V_m h_j, layer by layer.

    Same conventions as :func:`lsa_forward` (n from the :func:`ridge_embed` token matrix or T - 1 by default, queries masked out of the
    keys/values unless ``mask_query=False``; numpy in -> numpy out, jax in -> jax out).
    """
    if not isinstance(mask_query, bool):
        raise TypeError(f"mask_query must be a bool, got {type(mask_query).__name__}")
    marked = _marked_context(H)
    H = _as_float64("H", H, 2)
    D, T = H.shape
    n = _context_count("H", H.shape, n_context, marked)
    layers = _checked_layers(layers, ReLUAttentionLayer, D, "H")
    xp = jnp if _is_jax(H) else np
    mask = _key_mask(T, n, mask_query, xp)
    for layer in layers:
        update = xp.zeros_like(H)
        for m in range(layer.heads):
            scores = (xp.asarray(layer.Q[m]) @ H).T @ (xp.asarray(layer.K[m]) @ H)   # [i, j]
            values = (xp.asarray(layer.V[m]) @ H) * mask[None, :]
            update = update + values @ xp.maximum(scores, 0.0).T
        H = H + update / n
    return TokenMatrix(H, n) if marked is not None else H


def ridge_read_weights(H_out, column: int = -1):
    """The w-slot (rows d+1 .. 2d) of one token after :func:`ridge_gd_layers`: the GD iterate w_L."""
    H_out = _as_float64("H_out", H_out, 2)
    D = H_out.shape[0]
    if D < 4 or D % 2:
        raise ValueError(f"H_out must have 2d + 2 rows (d >= 1), got {D}")
    d = (D - 2) // 2
    return H_out[d + 1:2 * d + 1, column]


def ridge_read_prediction(H_out, column: int = -1):
    """<w_L, x_query> from the query token's own slots (a bilinear read-out; Bai et al. spend one
    more attention layer on it, which we do not build)."""
    H_out = _as_float64("H_out", H_out, 2)
    d = (H_out.shape[0] - 2) // 2
    return ridge_read_weights(H_out, column) @ H_out[:d, column]
