"""Yun, Bhojanapalli, Rawat, Reddi & Kumar (ICLR 2020): the three-stage construction.

"Are Transformers universal approximators of sequence-to-sequence functions?" (arXiv 1912.10077).
Their proof of Theorem 2 (continuous permutation-equivariant f, error in L^p, 1 <= p < inf):

1. **Quantisation** by feed-forward layers (their Proposition 4): X in [0,1]^{d x n} is mapped to
   the grid G_delta = {0, delta, ..., 1 - delta}^{d x n}. Here: one ReLU layer per coordinate,
   the staircase q(x) = delta sum_{j=1}^{N-1} clip((x - j delta)/eta, 0, 1), which equals
   delta floor(x/delta) except on ramps of width eta after each face (their construction uses
   1/delta + d layers of hardmax-like steps; the ramps play the same role).
2. **Contextual mapping** by selective-shift attention (their Lemma 6). With
   u = (1, delta^{-1}, ..., delta^{-d+1}) and l_j = u^T L_{:,j} in {0, delta, ..., delta^{-d+1} - delta},
   the hardmax attention layer with two heads
       Z <- Z + delta^{-d} e_1 (Psi(Z; b - delta/2) - Psi(Z; b + delta/2)),
       Psi(Z; b_Q)_{1,j} = max_k u^T Z_{:,k} if u^T Z_{:,j} > b_Q else min_k u^T Z_{:,k},
   shifts the column whose l_j = b by delta^{-d}(max - min). Applied for b = 0, delta, ...,
   delta^{-d+1} - delta (delta^{-d} layers) and followed by the global shift
   Z <- Z + delta^{-(n+1)d} e_1 max_k u^T Z_{:,k}, the ids q(L) = u^T g_c(L) are distinct for
   distinct columns and for non-permutation inputs (Lemma 6, properties 1-3).
3. **Value mapping** by feed-forward layers: a piecewise-linear map of the scalar id onto
   f(centre of the cell)_{:,k} (a one-dimensional continuous piecewise-linear function, i.e. one
   hidden ReLU layer over the sorted ids). For n >= 3 cells with repeated columns (outside Lemma
   6; their ids collide) are left out and go to the output 0, like ramp inputs (our choice: the
   paper's own treatment of them was not read here), so the map is well defined for every n >= 2.

The exact contextual map runs in :class:`fractions.Fraction` arithmetic. Ids grow like
delta^{-(2n+2)d+1} while distinct ids are only delta apart (they lie on the lattice delta Z), so the
float64 path :func:`contextual_map_float` refuses configurations that need more than 53 bits.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from fractions import Fraction

import numpy as np

__all__ = [
    "quantize",
    "contextual_map_exact",
    "contextual_map_units",
    "contextual_map_float",
    "required_bits",
    "id_bounds",
    "has_duplicate_columns",
    "outside_value_map",
    "build_value_map",
    "three_stage_forward",
]

Number = int | Fraction


def _check_grid(N: int, d: int, n: int) -> None:
    for name, v, lo in (("N = 1/delta", N, 2), ("d", d, 1), ("n", n, 2)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < lo:
            raise ValueError(f"{name} must be an int >= {lo} (Lemma 6 assumes n >= 2, 1/delta >= 2), got {v!r}")


def quantize(X, delta: float, eta: float) -> np.ndarray:
    """Stage 1: q(x) = delta sum_{j=1}^{N-1} clip((x - j delta)/eta, 0, 1), entrywise, float64.

    One hidden ReLU layer per coordinate (clip(t, 0, 1) = ReLU(t) - ReLU(t - 1)).
    """
    arr = np.asarray(X)
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"quantize: X must be a real numeric array, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or np.any(arr > 1):
        raise ValueError("quantize: X must be finite and lie in [0, 1]")
    N = int(round(1.0 / delta))
    if N < 2 or abs(N * delta - 1) > 1e-12:
        raise ValueError(f"quantize: delta must be 1/N with N >= 2, got {delta!r}")
    if not (0 < eta < delta):
        raise ValueError(f"quantize: ramp width eta must lie in (0, delta), got {eta!r}")
    t = np.arange(1, N) / N
    ramps = np.clip((arr[..., None] - t) / eta, 0.0, 1.0)
    return delta * ramps.sum(axis=-1)


def _columns_u(L: Sequence[Sequence[Number]], scale: Number) -> list[Number]:
    """l_j = u^T L_{:,j}, u = (1, s, s^2, ...) with s = ``scale`` (= delta^{-1})."""
    d, n = len(L), len(L[0])
    return [sum(L[i][j] * scale**i for i in range(d)) for j in range(n)]


def contextual_map_exact(L: Sequence[Sequence[Fraction]], delta: Fraction, *,
                         shift: Fraction | None = None, skip_noop: bool = False) -> list[Fraction]:
    """Stage 2 on a grid input L (d x n nested lists of Fractions, entries in {0, ..., 1 - delta}).

    Runs every selective-shift layer (b = 0, delta, ..., delta^{-d+1} - delta) with hardmax
    heads, then the global shift; returns q(L) = u^T g_c(L) exactly. ``shift`` replaces the
    factor delta^{-d} (the negative control uses a wrong one). ``skip_noop`` skips layers whose
    b matches no column (they change nothing: exact shortcut).
    """
    if not isinstance(delta, Fraction) or delta <= 0 or delta.numerator != 1:
        raise TypeError(f"delta must be a Fraction 1/N, got {delta!r}")
    N = delta.denominator
    d, n = len(L), len(L[0])
    _check_grid(N, d, n)
    for row in L:
        for v in row:
            if not isinstance(v, Fraction | int) or v < 0 or v > 1 - delta or (Fraction(v) / delta).denominator != 1:
                raise ValueError(f"entries must lie on the grid {{0, delta, ..., 1 - delta}}, got {v!r}")
    inv = Fraction(N)
    s = inv**d if shift is None else Fraction(shift)
    l = _columns_u(L, inv)  # the first coordinate of Z carries the shifts; l tracks u^T Z
    values = range(N**d) if not skip_noop else sorted({int(x / delta) for x in l})
    for m in values:
        b = m * delta
        top, bot = max(l), min(l)
        new = list(l)
        for j in range(n):
            psi_lo = top if l[j] > b - delta / 2 else bot
            psi_hi = top if l[j] > b + delta / 2 else bot
            new[j] = l[j] + s * (psi_lo - psi_hi)
        l = new
    top = max(l)
    return [x + inv ** ((n + 1) * d) * top for x in l]


def contextual_map_units(M: np.ndarray, N: int) -> np.ndarray:
    """The same map on integer grid indices M (entries m, L = m delta), in units of delta.

    Python-int arithmetic (exact) with the no-op layers skipped; returns an object array of
    ints q(L)/delta. Used by the three-stage pipeline, tested equal to the Fraction version.
    """
    d, n = M.shape
    _check_grid(N, d, n)
    s = N**d
    l = [sum(int(M[i, j]) * N**i for i in range(d)) for j in range(n)]
    for b in sorted(set(l)):
        top, bot = max(l), min(l)
        l = [x + s * (top - bot) if x == b else x for x in l]
    top = max(l)
    return np.array([x + N ** ((n + 1) * d) * top for x in l], dtype=object)


def id_bounds(N: int, d: int, n: int) -> tuple[Fraction, Fraction]:
    """[t_l, t_r] containing every id of an input with distinct columns (derived here).

    With s = delta^{-d} and sorted l_1 < ... < l_n: l~_1 = l_1 + s (l_n - l_1),
    l~_i = l_i + s (l~_{i-1} - l_i), so l~_i - l~_{i-1} = (s - 1)(l~_{i-1} - l_i) > 0 and
    l~_n >= (s - 1)^n delta (l_n - l_1 >= delta); ids are l~_i + s^{n+1} l~_n, hence
    t_l = s^{n+1} (s - 1)^n delta. Above: l~_n < s^n delta^{-d+1} (each step multiplies the spread
    by at most s), so t_r = delta^{-(2n+2)d+1} + delta^{-(n+1)d+1}.
    """
    delta = Fraction(1, N)
    s = Fraction(N) ** d
    return s ** (n + 1) * (s - 1) ** n * delta, delta ** (-(2 * n + 2) * d + 1) + delta ** (-(n + 1) * d + 1)


def required_bits(N: int, d: int, n: int) -> int:
    """Mantissa bits needed to resolve ids delta apart up to t_r: ceil(log2(t_r / delta)) + 1."""
    _, tr = id_bounds(N, d, n)
    return int(math.ceil(math.log2(float(tr * N)))) + 1


def contextual_map_float(X: np.ndarray, delta: float) -> np.ndarray:
    """float64 version of stage 2 (inputs on the grid); refuses what float64 cannot resolve."""
    arr = np.asarray(X, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"X must be d x n, got shape {arr.shape}")
    N = int(round(1.0 / delta))
    d, n = arr.shape
    _check_grid(N, d, n)
    bits = required_bits(N, d, n)
    if bits > 53:
        raise ValueError(
            f"contextual map with d={d}, n={n}, delta=1/{N} needs {bits}-bit precision (ids up to "
            f"delta^-(2n+2)d+1 must stay delta apart); float64 has 53 bits: use contextual_map_exact"
        )
    M = np.rint(arr * N).astype(np.int64)
    if np.any(np.abs(M - arr * N) > 1e-9) or np.any(M < 0) or np.any(M > N - 1):
        raise ValueError("X must lie on the grid {0, delta, ..., 1 - delta}")
    return np.array([float(v) for v in contextual_map_units(M, N)]) / N


def _differ(a: np.ndarray, b: np.ndarray, n: int) -> bool:
    """Two table values differ beyond round-off. Inputs that are permutations of each other share
    ids, and an equivariant f evaluated on the permuted input may sum its n columns in another
    order: 16 n eps max(1, |value|) covers that reassociation (c = 16 for the few operations of
    the target after the sum); a failure of the contextual map differs by O(|f|)."""
    scale = max(1.0, float(np.max(np.abs(a))), float(np.max(np.abs(b))))
    return bool(np.max(np.abs(a - b)) > 16 * n * np.finfo(np.float64).eps * scale)


def has_duplicate_columns(M: np.ndarray) -> bool:
    """True when two columns of the grid input M (d x n integer indices) coincide."""
    cols = {tuple(int(v) for v in M[:, j]) for j in range(M.shape[1])}
    return len(cols) < M.shape[1]


def outside_value_map(M: np.ndarray) -> bool:
    """Grid inputs the value map leaves out (output 0): repeated columns when n >= 3
    (see :func:`build_value_map`)."""
    return M.shape[1] >= 3 and has_duplicate_columns(M)


def build_value_map(f: Callable[[np.ndarray], np.ndarray], d: int, n: int, N: int
                    ) -> tuple[dict[int, np.ndarray], int]:
    """Stage 3 table over the grid: id (units of delta) -> f(cell centre)_{:,k}.

    Lemma 6 separates the grid inputs with distinct columns. Inputs with repeated columns:
    * n = 2: (a, a) is not shifted (max = min), so its id is l_a (1 + s^3) <= (s - 1)(1 + s^3) delta
      < t_l = s^3 (s - 1)^2 delta for s = delta^{-d} >= 3, below every distinct-column id and
      distinct for distinct a: they enter the table (N = 2, d = 1 is checked exhaustively in the tests);
    * n >= 3: their ids can coincide with other inputs' ids whose targets differ (135 such
      collisions on the full grid at d = 1, n = 3, 1/delta = 6; 1704 on 3000 random inputs), so they
      are left out of the table and :func:`three_stage_forward` sends them to the output 0, as it
      does inputs on quantiser ramps: bounded, not controlled, on a set of measure
      <= n(n-1)/2 delta^d, which the L^p statement allows.

    Returns (table, conflicts): a conflict is an id reached by two distinct-column grid inputs
    whose target columns differ (the contextual map failing to separate them); Lemma 6 says 0.
    A one-dimensional continuous piecewise-linear interpolation of this table in the id is one
    hidden ReLU layer.
    """
    import itertools

    _check_grid(N, d, n)
    table: dict[int, np.ndarray] = {}
    conflicts = 0
    for flat in itertools.product(range(N), repeat=d * n):
        M = np.array(flat, dtype=np.int64).reshape(d, n)
        if outside_value_map(M):
            continue
        q = contextual_map_units(M, N)
        fv = np.asarray(f(((M + 0.5) / N)[None]), dtype=np.float64)[0]
        for k in range(n):
            key = int(q[k])
            if key in table:
                conflicts += int(_differ(table[key], fv[:, k], n))
            else:
                table[key] = fv[:, k]
    return table, conflicts


def three_stage_forward(X: np.ndarray, f: Callable[[np.ndarray], np.ndarray], N: int, eta: float
                        ) -> tuple[np.ndarray, int]:
    """Quantise (stage 1), contextual map (stage 2, exact ints), value map (stage 3): (B, d, n).

    The value table is filled lazily, id -> f(centre)_{:,k}, from the cells the inputs fall in;
    the returned count of conflicts (one id, two different values) must be 0. Inputs whose
    quantised value lies on a ramp (not on the grid), and for n >= 3 inputs whose quantised
    columns repeat (outside Lemma 6, see :func:`build_value_map`), get the output 0: the construction's output
    there is bounded but not controlled, which is why the theorem is an L^p and not a sup-norm
    statement. Any n >= 2 is accepted.
    """
    Xb = np.asarray(X, dtype=np.float64)
    if Xb.ndim != 3:
        raise ValueError(f"X must have shape (batch, d, n), got {Xb.shape}")
    _check_grid(N, Xb.shape[1], Xb.shape[2])
    Q = quantize(Xb, 1.0 / N, eta)
    out = np.zeros_like(Xb)
    table: dict[int, np.ndarray] = {}
    conflicts = 0
    for b in range(Xb.shape[0]):
        frac = Q[b] * N
        if not np.all(np.abs(frac - np.rint(frac)) < 1e-9):
            continue
        M = np.rint(frac).astype(np.int64)
        if outside_value_map(M):
            continue
        q = contextual_map_units(M, N)
        fv = np.asarray(f(((M + 0.5) / N)[None]), dtype=np.float64)[0]
        for k in range(Xb.shape[2]):
            key = int(q[k])
            if key in table:
                conflicts += int(_differ(table[key], fv[:, k], Xb.shape[2]))
            else:
                table[key] = fv[:, k]
            out[b, :, k] = table[key]
    return out, conflicts
