"""DeltaNet: the delta-rule recurrence and its chunkwise (WY/UT) parallel form.

Yang, Wang, Zhang, Shen & Kim, "Parallelizing Linear Transformers with the Delta Rule over
Sequence Length", NeurIPS 2024 (arXiv 2406.06484), Section 3.

Conventions (stated once, used everywhere in this module)
---------------------------------------------------------
* Tokens are rows: ``q, k`` have shape (L, d_k), ``v`` has shape (L, d_v), ``beta`` shape (L,).
* The state ``S`` has layout **d_v x d_k** (it maps keys to values), as in the paper's
  ``S_t = S_{t-1} (I - beta_t k_t k_t^T) + beta_t v_t k_t^T`` and ``o_t = S_t q_t``. An initial
  state ``S0`` uses the same layout; ``S0=None`` means zeros.
* ``q`` is used as given: nothing is scaled inside. A caller who wants the usual 1/sqrt(d_k)
  scaling multiplies ``q`` by it first. Keys are not normalised inside either (DeltaNet
  L2-normalises them in the model; here that is the caller's choice).
* ``beta`` may be any finite real. The recurrence is well defined for every beta; the factors
  ``I - beta_t k_t k_t^T`` are contractions exactly when ``0 <= beta_t ||k_t||^2 <= 2`` (their
  non-trivial eigenvalue is ``1 - beta_t ||k_t||^2``); outside that range ``||S_t||`` may grow
  geometrically, which is a property of the recurrence, not an error, so it is not rejected.

Chunkwise form (paper Section 3.2-3.3, "WY representation" / "UT transform")
---------------------------------------------------------------------------
Within a chunk of C tokens (rows K, V, Q, beta; state S entering the chunk) write
``P_r = prod_{i=1..r} (I - beta_i k_i k_i^T)`` (ordered left to right) and
``H_r = sum_{i<=r} u_i k_i^T`` for the state started from zero, so that ``S_r = S P_r + H_r``.
With ``A = tril(diag(beta) K K^T, -1)`` (strictly lower) and the UT transform

    T = (I + A)^{-1} diag(beta),        W = T K,   U = T V,

one has ``P_C = I - W^T K = I - K^T T^T K`` and ``H_C = U^T K``. The transpose matters: the
product of the factors in *reverse* order is ``I - K^T T K`` (each factor is symmetric, so the
reversed product is ``P_C^T``); ``tests`` and ``theorems.sequence.yang2024`` check which is which.
Then, with ``U~ = U - W S^T`` (the "pseudo values" corrected for the incoming state),

    O = Q S^T + tril(Q K^T) U~          (tril includes the diagonal: o_r = S_r q_r)
    S_new = S + U~^T K.

``I + A`` is unit lower triangular, so W and U come from one forward substitution; T itself is
never needed by :func:`chunkwise` (:func:`ut_transform` forms it for the identity checks).

Both forms run on numpy (float64 out) or, when any input is a JAX array (or a tracer), on
``jax.numpy`` so that ``jax.grad`` flows through them; the chunk loop is a Python loop over
static chunk boundaries and the recurrence a ``lax.scan``.

FLOPs (2 per multiply-add, 1 per elementwise add/multiply; masks and copies are free), counted
for exactly the operations this module performs: see :func:`recurrent_flops` and
:func:`chunkwise_flops`, and :class:`FlopCounter` for the instrumented count.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg

import numerics  # noqa: F401  (float64 JAX before any array is made)

__all__ = [
    "recurrent",
    "chunkwise",
    "ut_transform",
    "wy_representation",
    "chunk_update",
    "recurrent_flops",
    "chunkwise_flops",
    "chunk_flops",
    "FlopCounter",
    "validate_inputs",
]


# --- backends ---------------------------------------------------------------------------------


class _NumpyOps:
    """The few primitives the algorithms use, on numpy float64 arrays."""

    xp = np

    def matmul(self, a, b):
        return a @ b

    def mul(self, a, b):
        return a * b

    def add(self, a, b):
        return a + b

    def sub(self, a, b):
        return a - b

    def outer(self, a, b):
        return np.outer(a, b)

    def solve_unit_lower(self, a, b):
        """Solve (I + strictly_lower(a)) x = b by forward substitution (diagonal of a ignored)."""
        return scipy.linalg.solve_triangular(a, b, lower=True, unit_diagonal=True, check_finite=False)

    def tril(self, a, k):
        return np.tril(a, k)

    def concat(self, arrays, axis):
        return np.concatenate(arrays, axis=axis)


class _JaxOps(_NumpyOps):
    """The same primitives on jax.numpy (traceable, differentiable)."""

    def __init__(self):
        import jax.numpy as jnp
        import jax.scipy.linalg as jsl

        self.xp = jnp
        self._jsl = jsl

    def outer(self, a, b):
        return self.xp.outer(a, b)

    def solve_unit_lower(self, a, b):
        return self._jsl.solve_triangular(a, b, lower=True, unit_diagonal=True)

    def tril(self, a, k):
        return self.xp.tril(a, k)

    def concat(self, arrays, axis):
        return self.xp.concatenate(arrays, axis=axis)


@dataclass
class FlopCounter(_NumpyOps):
    """Numpy primitives that also tally FLOPs from the operand shapes actually used.

    matmul (m x n)(n x p): 2 m n p; elementwise add/sub/mul/outer: one per output entry;
    unit-lower forward substitution with an m x m matrix and r right-hand sides: r m (m - 1)
    (row i takes i multiply-adds per right-hand side, no division). This is the instrumented
    count that :func:`chunkwise_flops` and :func:`recurrent_flops` are checked against.
    """

    flops: int = 0
    by_op: dict = field(default_factory=dict)

    def _tally(self, op: str, n: int) -> None:
        self.flops += int(n)
        self.by_op[op] = self.by_op.get(op, 0) + int(n)

    def matmul(self, a, b):
        out = a @ b
        self._tally("matmul", 2 * a.shape[-1] * np.size(out))
        return out

    def mul(self, a, b):
        out = a * b
        self._tally("mul", np.size(out))
        return out

    def add(self, a, b):
        out = a + b
        self._tally("add", np.size(out))
        return out

    def sub(self, a, b):
        out = a - b
        self._tally("sub", np.size(out))
        return out

    def outer(self, a, b):
        out = np.outer(a, b)
        self._tally("outer", out.size)
        return out

    def solve_unit_lower(self, a, b):
        m = a.shape[0]
        rhs = b.shape[1] if b.ndim == 2 else 1
        self._tally("solve", rhs * m * (m - 1))
        return super().solve_unit_lower(a, b)


_NUMPY = _NumpyOps()


def _is_jax(*arrays) -> bool:
    import jax

    return any(isinstance(a, jax.Array) for a in arrays if a is not None)


def _is_tracer(x) -> bool:
    import jax

    return isinstance(x, jax.core.Tracer)


# --- validation -------------------------------------------------------------------------------


def _as_real(name: str, x, use_jax: bool):
    """A float64 array from a real numeric input; TypeError for bool/complex/object/strings."""
    if use_jax:
        import jax.numpy as jnp

        arr = jnp.asarray(x)
        kind = np.dtype(arr.dtype).kind
    else:
        arr = np.asarray(x)
        kind = arr.dtype.kind
    if kind not in "fiu":
        raise TypeError(f"{name} must be a real floating (or integer) array, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if not (use_jax and _is_tracer(arr)):
        if not bool(np.all(np.isfinite(np.asarray(arr)))):
            raise ValueError(f"{name} must be finite (found NaN or inf)")
    return arr


def _check_chunk(chunk) -> int:
    # operator.index accepts int, numpy and (concrete) JAX integers, and rejects 2.0 and "2"
    if isinstance(chunk, bool | np.bool_):
        raise TypeError("chunk must be a positive int, got bool")
    try:
        chunk = operator.index(chunk)
    except TypeError:
        raise TypeError(f"chunk must be a positive int, got {type(chunk).__name__}") from None
    if chunk < 1:
        raise ValueError(f"chunk must be a positive int, got {chunk}")
    return int(chunk)


def validate_inputs(q, k, v, beta, S0=None):
    """Check shapes, dtypes and finiteness; return (q, k, v, beta, S0, ops) as float64.

    q, k: (L, d_k); v: (L, d_v); beta: (L,); S0: (d_v, d_k) or None (zeros); L, d_k, d_v >= 1.
    """
    use_jax = _is_jax(q, k, v, beta, S0)
    q = _as_real("q", q, use_jax)
    k = _as_real("k", k, use_jax)
    v = _as_real("v", v, use_jax)
    beta = _as_real("beta", beta, use_jax)
    for name, arr in (("q", q), ("k", k), ("v", v)):
        if arr.ndim != 2:
            raise ValueError(f"{name} must be 2-D (L, d), got shape {tuple(arr.shape)}")
    L, d_k = k.shape
    if L < 1 or d_k < 1:
        raise ValueError(f"k must have L >= 1 rows and d_k >= 1 columns, got shape {tuple(k.shape)}")
    if q.shape != k.shape:
        raise ValueError(f"q and k must have the same shape (L, d_k), got {tuple(q.shape)} and {tuple(k.shape)}")
    if v.shape[0] != L or v.shape[1] < 1:
        raise ValueError(f"v must have shape (L={L}, d_v >= 1), got {tuple(v.shape)}")
    if beta.shape != (L,):
        raise ValueError(f"beta must have shape (L,) = ({L},), got {tuple(beta.shape)}")
    d_v = v.shape[1]
    xp = _JaxOps().xp if use_jax else np
    if S0 is None:
        S0 = xp.zeros((d_v, d_k), dtype=np.float64)
    else:
        S0 = _as_real("S0", S0, use_jax)
        if S0.shape != (d_v, d_k):
            raise ValueError(f"S0 must have the state layout (d_v, d_k) = ({d_v}, {d_k}), got {tuple(S0.shape)}")
    ops = _JaxOps() if use_jax else _NUMPY
    return q, k, v, beta, S0, ops


# --- the recurrence ---------------------------------------------------------------------------


def _recurrent_step(ops, S, q_t, k_t, v_t, b_t):
    """S <- S (I - b k k^T) + b v k^T = S + (b (v - S k)) k^T;  o = S q  (6 d_v d_k + 2 d_v FLOPs)."""
    r = ops.mul(b_t, ops.sub(v_t, ops.matmul(S, k_t)))
    S = ops.add(S, ops.outer(r, k_t))
    return S, ops.matmul(S, q_t)


def _recurrent_core(ops, q, k, v, beta, S):
    if isinstance(ops, _JaxOps):
        import jax

        def body(S, xs):
            q_t, k_t, v_t, b_t = xs
            S, o_t = _recurrent_step(ops, S, q_t, k_t, v_t, b_t)
            return S, o_t

        S, o = jax.lax.scan(body, S, (q, k, v, beta))
        return o, S
    outs = np.empty((q.shape[0], v.shape[1]), dtype=np.float64)
    for t in range(q.shape[0]):
        S, outs[t] = _recurrent_step(ops, S, q[t], k[t], v[t], beta[t])
    return outs, S


def recurrent(q, k, v, beta, S0=None):
    """The delta rule, one token at a time (paper eq. (1)-(2), Section 2.2).

    S_t = S_{t-1} (I - beta_t k_t k_t^T) + beta_t v_t k_t^T,   o_t = S_t q_t,

    with S of layout d_v x d_k and S_0 = ``S0`` (zeros if None); q is not scaled.
    Returns ``(o, S_L)``: o of shape (L, d_v), the final state (d_v, d_k), float64 (numpy arrays,
    or JAX arrays when an input is a JAX array).
    """
    q, k, v, beta, S0, ops = validate_inputs(q, k, v, beta, S0)
    return _recurrent_core(ops, q, k, v, beta, S0)


# --- the chunkwise (WY / UT) form -------------------------------------------------------------


def _wy(ops, K, V, b):
    """W = T K and U = T V with T = (I + tril(diag(b) K K^T, -1))^{-1} diag(b), by one solve."""
    A = ops.tril(ops.mul(b[:, None], ops.matmul(K, K.T)), -1)
    rhs = ops.mul(b[:, None], ops.concat([K, V], axis=1))
    X = ops.solve_unit_lower(A, rhs)
    d_k = K.shape[1]
    return X[:, :d_k], X[:, d_k:]


def wy_representation(k, v, beta):
    """W = T K and U = T V for one chunk (the paper's w_r and u_r stacked as rows).

    ``P_C = I - W^T K`` is the product of the chunk's factors and ``U^T K`` its zero-state
    update. Inputs as for :func:`recurrent` (q is not needed; pass k for it).
    """
    _, k, v, beta, _, ops = validate_inputs(k, k, v, beta)
    return _wy(ops, k, v, beta)


def ut_transform(k, beta):
    """T = (I + tril(diag(beta) K K^T, -1))^{-1} diag(beta), shape (C, C), lower triangular.

    Formed explicitly (forward substitution against diag(beta)) for the identity checks;
    :func:`chunkwise` never needs it. ``prod_{t=1..C} (I - beta_t k_t k_t^T) = I - K^T T^T K``.
    """
    use_jax = _is_jax(k, beta)
    k = _as_real("k", k, use_jax)
    beta = _as_real("beta", beta, use_jax)
    if k.ndim != 2 or k.shape[0] < 1 or k.shape[1] < 1:
        raise ValueError(f"k must be 2-D (C >= 1, d_k >= 1), got shape {tuple(k.shape)}")
    if beta.shape != (k.shape[0],):
        raise ValueError(f"beta must have shape ({k.shape[0]},), got {tuple(beta.shape)}")
    ops = _JaxOps() if use_jax else _NUMPY
    xp = ops.xp
    A = ops.tril(ops.mul(beta[:, None], ops.matmul(k, k.T)), -1)
    return ops.solve_unit_lower(A, xp.diag(beta))


def _chunk_update(ops, S, Q, K, W, U):
    """One chunk: U~ = U - W S^T;  O = Q S^T + tril(Q K^T) U~;  S_new = S + U~^T K."""
    Ut = ops.sub(U, ops.matmul(W, S.T))
    O = ops.add(ops.matmul(Q, S.T), ops.matmul(ops.tril(ops.matmul(Q, K.T), 0), Ut))
    S_new = ops.add(S, ops.matmul(Ut.T, K))
    return O, S_new


def chunk_update(S, q, k, W, U):
    """Public form of one chunk step given W, U (e.g. from a modified T); returns (O, S_new).

    S: (d_v, d_k); q, k: (C, d_k); W: (C, d_k); U: (C, d_v).
    """
    use_jax = _is_jax(S, q, k, W, U)
    S, q, k, W, U = (_as_real(n, a, use_jax) for n, a in zip("SqkWU", (S, q, k, W, U)))
    ops = _JaxOps() if use_jax else _NUMPY
    if q.shape != k.shape or W.shape != k.shape or U.shape[0] != k.shape[0] or S.shape != (U.shape[1], k.shape[1]):
        raise ValueError(
            f"chunk_update: inconsistent shapes S {tuple(S.shape)}, q {tuple(q.shape)}, k {tuple(k.shape)}, "
            f"W {tuple(W.shape)}, U {tuple(U.shape)}"
        )
    return _chunk_update(ops, S, q, k, W, U)


def _chunkwise_core(ops, q, k, v, beta, chunk, S):
    L = q.shape[0]
    outs = []
    for start in range(0, L, chunk):
        sl = slice(start, min(start + chunk, L))
        W, U = _wy(ops, k[sl], v[sl], beta[sl])
        O, S = _chunk_update(ops, S, q[sl], k[sl], W, U)
        outs.append(O)
    return ops.concat(outs, axis=0), S


def chunkwise(q, k, v, beta, chunk, S0=None):
    """The delta rule computed chunk by chunk with the WY/UT representation (Section 3.3).

    Same inputs, conventions and outputs as :func:`recurrent` (S layout d_v x d_k, q not
    scaled), plus ``chunk`` >= 1: the last chunk may be shorter (any L >= 1), chunk > L means a
    single chunk, chunk = 1 is the recurrence written in matrix form. The final state is
    returned so that a sequence split in two and run with the state passed on gives the same
    result. Differentiable with ``jax.grad`` when given JAX arrays.
    """
    chunk = _check_chunk(chunk)
    q, k, v, beta, S0, ops = validate_inputs(q, k, v, beta, S0)
    return _chunkwise_core(ops, q, k, v, beta, chunk, S0)


# --- FLOP counts ------------------------------------------------------------------------------


def _check_dims(**dims) -> None:
    for name, n in dims.items():
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
            raise ValueError(f"{name} must be a positive int, got {n!r}")


def recurrent_flops(L: int, d_k: int, d_v: int) -> int:
    """FLOPs of :func:`recurrent`: L (6 d_k d_v + 2 d_v).

    Per token: S k (2 d_v d_k), v - S k (d_v), times beta (d_v), outer product (d_v d_k),
    S + outer (d_v d_k), S q (2 d_v d_k).
    """
    _check_dims(L=L, d_k=d_k, d_v=d_v)
    return int(L) * (6 * d_k * d_v + 2 * d_v)


def chunk_flops(c: int, d_k: int, d_v: int) -> int:
    """FLOPs of one chunk of c tokens: c^2 (5 d_k + 3 d_v + 1) + 6 c d_k d_v + 2 c d_v + d_k d_v.

    K K^T (2 c^2 d_k), times beta (c^2), beta [K V] (c (d_k + d_v)), forward substitution
    ((d_k + d_v) c (c - 1)), W S^T (2 c d_k d_v), U - W S^T (c d_v), Q S^T (2 c d_k d_v),
    Q K^T (2 c^2 d_k), tril(Q K^T) U~ (2 c^2 d_v), sum (c d_v), U~^T K (2 c d_k d_v), S + (d_k d_v).
    """
    _check_dims(c=c, d_k=d_k, d_v=d_v)
    return c * c * (5 * d_k + 3 * d_v + 1) + 6 * c * d_k * d_v + 2 * c * d_v + d_k * d_v


def chunkwise_flops(L: int, chunk: int, d_k: int, d_v: int) -> int:
    """FLOPs of :func:`chunkwise`: floor(L/C) full chunks plus one chunk of L mod C (if any).

    For C | L: L [C (5 d_k + 3 d_v + 1) + 6 d_k d_v + 2 d_v] + (L / C) d_k d_v, i.e. the
    recurrence's L (6 d_k d_v + 2 d_v) plus an O(L C d) price for doing the work in matmuls.
    """
    _check_dims(L=L, chunk=chunk, d_k=d_k, d_v=d_v)
    full, rest = divmod(int(L), int(chunk))
    total = full * chunk_flops(int(chunk), d_k, d_v)
    if rest:
        total += chunk_flops(rest, d_k, d_v)
    return total


def counted_flops(q, k, v, beta, chunk: int | None = None, S0=None) -> int:
    """Instrumented FLOP count: run the algorithm (recurrent if chunk is None) through
    :class:`FlopCounter` and return the tally."""
    q, k, v, beta, S0, ops = validate_inputs(np.asarray(q), np.asarray(k), np.asarray(v), np.asarray(beta),
                                             None if S0 is None else np.asarray(S0))
    counter = FlopCounter()
    if chunk is None:
        _recurrent_core(counter, q, k, v, beta, S0)
    else:
        _chunkwise_core(counter, q, k, v, beta, _check_chunk(chunk), S0)
    return counter.flops


__all__ += ["counted_flops"]
