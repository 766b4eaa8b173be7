"""Open quantum systems in the probabilistic (POVM) formulation of Luo, Chen, Carrasquilla & Clark,
"Autoregressive neural network for simulating open quantum systems via a probabilistic
formulation", PRL 128, 090501 (2022), arXiv 2009.05580.

Conventions (fixed here, used by every function of the module):

* One qubit: the tetrahedral POVM M^a = (I + s_a . sigma)/4, a = 0..3, with
  s_0 = (0, 0, 1), s_1 = (2 sqrt2/3, 0, -1/3), s_2 = (-sqrt2/3, sqrt(2/3), -1/3),
  s_3 = (-sqrt2/3, -sqrt(2/3), -1/3). Its overlap matrix T_ab = Tr(M^a M^b) = (1 + s_a.s_b)/8 has
  inverse 6 I - J (J the all-ones matrix), so the dual frame is Q^a = sum_b (T^-1)_ab M^b = 6 M^a - I.
* N qubits: outcome a = (a_1, ..., a_N), flattened row-major (a_1 most significant, index
  sum_k a_k 4^(N-k)); M^a = kron(M^{a_1}, ..., M^{a_N}) and Q^a = kron(Q^{a_1}, ..., Q^{a_N}) in the
  same kron order as the 2^N x 2^N matrices (qubit 1 is the most significant bit).
* P(a) = Tr(rho M^a) (paper eq. 1) and rho = sum_a P(a) Q^a (eq. 2).
* Lindblad: drho/dt = L[rho] = -i[H, rho] + sum_k (J_k rho J_k^dag - (1/2){J_k^dag J_k, rho})
  (rates absorbed in J_k); in POVM form dP/dt = G P with G_ab = Tr(M^a L[Q^b]) (real).
* Time stepping: the forward-backward trapezoid (I - tau G/2) P_{t+tau} = (I + tau G/2) P_t the paper
  trains against, and explicit Euler.

Every map is applied site by site (a 4 x 4 matrix per qubit acting on the pair (row bit, column
bit) of that qubit), so no 4^N x 4^N x 2^N tensor is formed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from numerics import EPS
from numerics.random import rng
from numerics.validation import as_square_matrix, check_int

__all__ = [
    "tetrahedral_povm",
    "dual_frame",
    "overlap_matrix",
    "povm_transform",
    "probabilities",
    "density_matrix",
    "dual_expectations",
    "lindblad_generator",
    "evolve",
    "steady_state",
    "sample_autoregressive",
    "joint_from_conditionals",
    "outcome_index",
    "transverse_ising_ring",
    "validate_density_matrix",
]

_SQ2 = np.sqrt(2.0)
_BLOCH = np.array([
    [0.0, 0.0, 1.0],
    [2.0 * _SQ2 / 3.0, 0.0, -1.0 / 3.0],
    [-_SQ2 / 3.0, np.sqrt(2.0 / 3.0), -1.0 / 3.0],
    [-_SQ2 / 3.0, -np.sqrt(2.0 / 3.0), -1.0 / 3.0],
])
_PAULI = np.array([[[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]], dtype=np.complex128)
_I2 = np.eye(2, dtype=np.complex128)
# Hermiticity / trace / positivity of an input state are checked to this many eps times the
# dimension (and the matrix norm): states built in float64 carry errors of order eps * dim.
_STATE_C = 64.0


def tetrahedral_povm() -> np.ndarray:
    """The single-qubit tetrahedral POVM as a complex (4, 2, 2) array: M^a = (I + s_a . sigma)/4."""
    return (_I2[None] + np.einsum("ak,kij->aij", _BLOCH, _PAULI)) / 4.0


def dual_frame() -> np.ndarray:
    """The single-qubit dual frame Q^a = 6 M^a - I, complex (4, 2, 2) (from T^-1 = 6 I - J)."""
    return 6.0 * tetrahedral_povm() - _I2[None]


def overlap_matrix(n_sites: int = 1) -> np.ndarray:
    """T_ab = Tr(M^a M^b) for N qubits (the N-fold Kronecker power of the one-qubit T), real."""
    n = check_int("n_sites", n_sites, 1)
    M = tetrahedral_povm()
    T1 = np.real(np.einsum("aij,bji->ab", M, M))
    T = np.ones((1, 1))
    for _ in range(n):
        T = np.kron(T, T1)
    return T


def _n_qubits(dim: int, what: str) -> int:
    n = int(round(np.log2(dim))) if dim >= 2 else 0
    if dim < 2 or 2**n != dim:
        raise ValueError(f"{what} must be 2^N x 2^N with N >= 1, got dimension {dim}")
    return n


def _square_complex(name: str, X) -> np.ndarray:
    arr = np.asarray(X)
    if arr.dtype.kind not in "fiuc":
        raise TypeError(f"{name} must be a numeric (real or complex) array, got dtype {arr.dtype}")
    arr = arr.astype(np.complex128)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise ValueError(f"{name} must be a square matrix, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (found NaN or inf)")
    return arr


def _apply_sitewise(X: np.ndarray, n: int, site_map: np.ndarray) -> np.ndarray:
    """Apply ``site_map`` (4 x 4, acting on the flattened (row bit, column bit) pair of one qubit)
    to every qubit of a 2^N x 2^N matrix; returns the (4,)*N tensor flattened row-major."""
    t = X.reshape((2,) * (2 * n))
    # interleave (r_1, c_1, r_2, c_2, ...) so that qubit k owns the pair of axes (2k, 2k+1)
    order = [ax for k in range(n) for ax in (k, n + k)]
    t = np.transpose(t, order).reshape((4,) * n)
    for k in range(n):
        t = np.moveaxis(np.tensordot(site_map, t, axes=([1], [k])), 0, k)
    return t.reshape(-1)


def _apply_sitewise_inverse(P: np.ndarray, n: int, site_map: np.ndarray) -> np.ndarray:
    """Inverse direction: a (4^N,) coefficient vector -> 2^N x 2^N matrix, site_map[(r, c), a]."""
    t = P.reshape((4,) * n).astype(np.complex128)
    for k in range(n):
        t = np.moveaxis(np.tensordot(site_map, t, axes=([1], [k])), 0, k)
    t = t.reshape((2,) * (2 * n))
    # axes are (r_1, c_1, ..., r_N, c_N): gather rows first, then columns
    order = [2 * k for k in range(n)] + [2 * k + 1 for k in range(n)]
    d = 2**n
    return np.transpose(t, order).reshape(d, d)


def _povm_site_map() -> np.ndarray:
    # Tr(X M^a) = sum_{r,c} X_rc M^a_cr: row a of the map is M^a transposed, flattened (r, c)
    M = tetrahedral_povm()
    return np.transpose(M, (0, 2, 1)).reshape(4, 4)


def _dual_site_map() -> np.ndarray:
    # sum_a P_a Q^a_rc: entry [(r, c), a] = Q^a_rc
    return dual_frame().reshape(4, 4).T


def povm_transform(X) -> np.ndarray:
    """The linear map X -> (Tr(X M^a))_a for ANY 2^N x 2^N matrix X (complex result; real for a
    Hermitian X). :func:`probabilities` is this map restricted to density matrices."""
    arr = _square_complex("X", X)
    n = _n_qubits(arr.shape[0], "X")
    return _apply_sitewise(arr, n, _povm_site_map())


def validate_density_matrix(rho, name: str = "rho") -> np.ndarray:
    """rho as a complex 2^N x 2^N array after checking that it is Hermitian, has unit trace and is
    positive semidefinite, each to 64 eps dim max(1, ||rho||) (a ValueError names what fails)."""
    arr = _square_complex(name, rho)
    d = arr.shape[0]
    _n_qubits(d, name)
    scale = max(1.0, float(np.max(np.abs(arr))))
    tol = _STATE_C * EPS * d * scale
    herm = float(np.max(np.abs(arr - arr.conj().T)))
    if herm > tol:
        raise ValueError(f"{name} must be Hermitian (max |rho - rho^dag| = {herm:.3e} > {tol:.1e})")
    tr = np.trace(arr)
    if abs(tr - 1.0) > tol:
        raise ValueError(f"{name} must have unit trace (trace {tr:.6g})")
    lam_min = float(np.linalg.eigvalsh(0.5 * (arr + arr.conj().T))[0])
    if lam_min < -tol:
        raise ValueError(f"{name} must be positive semidefinite (smallest eigenvalue {lam_min:.3e})")
    return arr


def probabilities(rho) -> np.ndarray:
    """P(a) = Tr(rho M^a), a real (4^N,) array in row-major outcome order (a_1 most significant).

    ``rho`` must be a density matrix (Hermitian, unit trace, PSD; checked). For the same map on an
    arbitrary matrix (a Liouvillian image, say) use :func:`povm_transform`."""
    arr = validate_density_matrix(rho)
    n = _n_qubits(arr.shape[0], "rho")
    P = np.real(_apply_sitewise(arr, n, _povm_site_map()))
    return P


def _n_outcome_sites(length: int, what: str) -> int:
    n = 0
    m = length
    while m > 1 and m % 4 == 0:
        m //= 4
        n += 1
    if m != 1 or n < 1:
        raise ValueError(f"{what} must have length 4^N with N >= 1, got {length}")
    return n


def density_matrix(P) -> np.ndarray:
    """rho = sum_a P(a) Q^a through the dual frame Q^a = kron(6 M^{a_k} - I): the inverse of
    :func:`probabilities` (and of :func:`povm_transform` on Hermitian matrices).

    Linear in P and defined for any real (4^N,) vector; for P on the simplex the result is Hermitian
    with trace sum(P) but need not be positive semidefinite (P = delta_a is not a state)."""
    arr = np.asarray(P)
    if arr.dtype.kind not in "fiu":
        raise TypeError(f"P must be a real numeric array, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if arr.ndim != 1:
        raise ValueError(f"P must be 1-D of length 4^N, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("P must be finite (found NaN or inf)")
    n = _n_outcome_sites(arr.size, "P")
    return _apply_sitewise_inverse(arr, n, _dual_site_map())


def dual_expectations(O) -> np.ndarray:
    """f(a) = Tr(Q^a O) for a 2^N x 2^N observable O, so that Tr(rho O) = sum_a P(a) f(a)
    (complex in general; real for Hermitian O)."""
    arr = _square_complex("O", O)
    n = _n_qubits(arr.shape[0], "O")
    site = dual_frame()  # Tr(Q^a O) = sum_{r,c} O_rc Q^a_cr
    return _apply_sitewise(arr, n, np.transpose(site, (0, 2, 1)).reshape(4, 4))


def _dual_operators(n: int) -> np.ndarray:
    """All Q^a for N qubits, (4^N, 2^N, 2^N), by repeated Kronecker products."""
    Q1 = dual_frame()
    Q = np.ones((1, 1, 1), dtype=np.complex128)
    for _ in range(n):
        Q = np.einsum("aij,bkl->abikjl", Q, Q1).reshape(Q.shape[0] * 4, Q.shape[1] * 2, Q.shape[2] * 2)
    return Q


def _jump_list(jumps, d: int) -> list[np.ndarray]:
    if isinstance(jumps, np.ndarray) and jumps.ndim == 3:
        jumps = list(jumps)
    elif isinstance(jumps, np.ndarray) and jumps.ndim == 2:
        jumps = [jumps]  # a single jump operator given as one matrix
    if not isinstance(jumps, Sequence | np.ndarray):
        raise TypeError(f"jumps must be a sequence of 2^N x 2^N matrices, got {type(jumps).__name__}")
    out = []
    for k, J in enumerate(jumps):
        Jk = _square_complex(f"jumps[{k}]", J)
        if Jk.shape != (d, d):
            raise ValueError(f"jumps[{k}] must have the shape of H {(d, d)}, got {Jk.shape}")
        out.append(Jk)
    return out


def lindblad_generator(H, jumps) -> np.ndarray:
    """The real float64 (4^N, 4^N) matrix G with dP/dt = G P: G_ab = Tr(M^a L[Q^b]).

    H: Hermitian 2^N x 2^N (checked to 64 eps dim ||H||); jumps: a sequence (possibly empty) of
    2^N x 2^N matrices, a (K, 2^N, 2^N) array, or one 2^N x 2^N array (a single jump), rates
    absorbed. Column sums of G vanish (trace preservation)."""
    Hc = _square_complex("H", H)
    d = Hc.shape[0]
    n = _n_qubits(d, "H")
    scale = max(1.0, float(np.max(np.abs(Hc))))
    herm = float(np.max(np.abs(Hc - Hc.conj().T)))
    if herm > _STATE_C * EPS * d * scale:
        raise ValueError(f"H must be Hermitian (max |H - H^dag| = {herm:.3e})")
    Js = _jump_list(jumps, d)
    Q = _dual_operators(n)
    K = -1j * Hc
    for J in Js:
        K = K - 0.5 * (J.conj().T @ J)
    # L[X] = K X + X K^dag + sum_k J_k X J_k^dag, with K = -iH - (1/2) sum_k J_k^dag J_k
    LQ = K[None] @ Q + Q @ K.conj().T[None]
    for J in Js:
        LQ = LQ + J[None] @ Q @ J.conj().T[None]
    site = _povm_site_map()
    G = np.empty((4**n, 4**n), dtype=np.complex128)
    for b in range(4**n):
        G[:, b] = _apply_sitewise(LQ[b], n, site)
    return np.ascontiguousarray(np.real(G))


def _real_vector(name: str, x) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiu":
        raise TypeError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if arr.ndim != 1 or arr.size < 1:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (found NaN or inf)")
    return arr




def evolve(P0, G, T: float, n_steps: int, method: str = "trapezoid") -> np.ndarray:
    """P at time T from P0 under dP/dt = G P with n_steps steps of tau = T / n_steps.

    method "trapezoid": (I - tau G/2) P_{k+1} = (I + tau G/2) P_k (one LU factorisation);
    method "euler": P_{k+1} = (I + tau G) P_k. T >= 0 (T = 0 returns P0)."""
    P = _real_vector("P0", P0)
    Gm = as_square_matrix("G", G)
    if Gm.shape[0] != P.size:
        raise ValueError(f"G must be {P.size} x {P.size} to act on P0, got {Gm.shape}")
    if isinstance(T, bool) or not isinstance(T, int | float | np.integer | np.floating):
        raise TypeError(f"T must be a real number, got {type(T).__name__}")
    T = float(T)
    if not np.isfinite(T) or T < 0:
        raise ValueError(f"T must be finite and >= 0, got {T}")
    steps = check_int("n_steps", n_steps, 1)
    if method not in ("trapezoid", "euler"):
        raise ValueError(f"method must be 'trapezoid' or 'euler', got {method!r}")
    tau = T / steps
    if method == "euler":
        for _ in range(steps):
            P = P + tau * (Gm @ P)
        return P
    import scipy.linalg

    eye = np.eye(P.size)
    lu = scipy.linalg.lu_factor(eye - 0.5 * tau * Gm)
    B = eye + 0.5 * tau * Gm
    for _ in range(steps):
        P = scipy.linalg.lu_solve(lu, B @ P)
    return P


def steady_state(G) -> np.ndarray:
    """The null vector of G normalised to sum 1 (the stationary POVM distribution).

    Computed from the SVD of G. A ValueError when G has no null vector (smallest singular value
    above 1e3 n eps ||G||) or a null space of dimension >= 2 (no unique steady state)."""
    Gm = as_square_matrix("G", G)
    n = Gm.shape[0]
    _, s, vt = np.linalg.svd(Gm)
    top = max(float(s[0]), np.finfo(np.float64).tiny)
    tol = 1e3 * n * EPS * top
    if s[-1] > tol:
        raise ValueError(f"G has no null vector (smallest singular value {s[-1]:.3e} > {tol:.1e})")
    if n > 1 and s[-2] <= tol:
        raise ValueError(f"the steady state is not unique: G has a null space of dimension >= 2 "
                         f"(singular values {s[-2]:.3e}, {s[-1]:.3e})")
    v = vt[-1]
    total = float(np.sum(v))
    if abs(total) <= np.sqrt(EPS) * float(np.sum(np.abs(v))):
        raise ValueError("the null vector of G sums to zero: G is not a trace-preserving generator")
    return v / total


def outcome_index(samples) -> np.ndarray:
    """Row-major flat index sum_k a_k 4^(N-k) of outcome rows (n_samples, N) with entries 0..3,
    N <= 31 (int64 indices)."""
    arr = np.asarray(samples)
    if arr.dtype.kind not in "iu" or arr.ndim != 2 or arr.shape[1] < 1:
        raise ValueError(f"samples must be a 2-D integer array (n_samples, N), got {arr.dtype} {arr.shape}")
    if arr.size and (arr.min() < 0 or arr.max() > 3):
        raise ValueError("samples must take values in 0..3")
    if arr.shape[1] > 31:
        raise ValueError(f"samples must have N <= 31 columns (the index 4^N - 1 must fit in int64), got {arr.shape[1]}")
    weights = 4 ** np.arange(arr.shape[1] - 1, -1, -1, dtype=np.int64)
    return arr.astype(np.int64) @ weights


_COND_TOL = 1e3 * EPS  # a conditional's entries must sum to 1 within this (softmax in float64: ~eps)


def _check_conditional(p, prefix: tuple) -> np.ndarray:
    arr = np.asarray(p)
    if arr.dtype.kind not in "fiu":
        raise TypeError(f"conditionals{prefix} must return real probabilities, got dtype {arr.dtype}")
    arr = arr.astype(np.float64).reshape(-1) if arr.ndim <= 1 else arr
    if arr.shape != (4,):
        raise ValueError(f"conditionals{prefix} must return shape (4,), got {np.shape(p)}")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"conditionals{prefix} must return finite non-negative probabilities, got {arr}")
    if abs(float(arr.sum()) - 1.0) > _COND_TOL:
        raise ValueError(f"conditionals{prefix} must sum to 1 (sum {arr.sum():.17g})")
    return arr


def joint_from_conditionals(conditionals: Callable[[tuple], np.ndarray], n_sites: int) -> np.ndarray:
    """The joint P(a) = prod_k p(a_k | a_1..a_{k-1}) over all 4^N outcomes, row-major (a_1 most
    significant); every conditional is checked to be a probability vector."""
    if not callable(conditionals):
        raise TypeError("conditionals must be callable: prefix tuple -> probabilities (4,)")
    n = check_int("n_sites", n_sites, 1)
    joint = np.ones(1)
    prefixes: list[tuple] = [()]
    for _ in range(n):
        rows = [_check_conditional(conditionals(pre), pre) for pre in prefixes]
        joint = (joint[:, None] * np.array(rows)).reshape(-1)
        prefixes = [pre + (a,) for pre in prefixes for a in range(4)]
    return joint


def sample_autoregressive(conditionals: Callable[[tuple], np.ndarray], n_sites: int, n_samples: int,
                          seed) -> np.ndarray:
    """Exact ancestral samples, int64 (n_samples, n_sites) with outcomes 0..3.

    a_k is drawn from conditionals((a_1, ..., a_{k-1})) (a tuple of Python ints; the empty tuple for
    a_1) by inverting its CDF at a uniform variate; the model is called once per distinct prefix
    present at each site. ``seed``: an int or a numpy Generator."""
    if not callable(conditionals):
        raise TypeError("conditionals must be callable: prefix tuple -> probabilities (4,)")
    n = check_int("n_sites", n_sites, 1)
    m = check_int("n_samples", n_samples, 1)
    g = rng(seed)
    out = np.zeros((m, n), dtype=np.int64)
    for k in range(n):
        u = g.random(m)
        # group the rows by their prefix, distinct prefixes in lexicographic order. Up to k = 31 the
        # base-4 code of the prefix (< 4^31 = 2^62, exact in int64) sorts exactly as the rows do and
        # is several times faster to group; from k = 32 on it would overflow, so the rows themselves
        # are compared (np.unique over axis 0, the same order).
        if k <= 31:
            codes = out[:, :k] @ (4 ** np.arange(k - 1, -1, -1, dtype=np.int64))
            uniq, inverse = np.unique(codes, return_inverse=True)
        else:
            uniq, inverse = np.unique(out[:, :k], axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        order = np.argsort(inverse, kind="stable")
        groups = np.split(order, np.cumsum(np.bincount(inverse, minlength=uniq.shape[0]))[:-1])
        for rows in groups:
            prefix = tuple(int(x) for x in out[rows[0], :k])
            p = _check_conditional(conditionals(prefix), prefix)
            cdf = np.cumsum(p)
            draw = np.searchsorted(cdf[:-1], u[rows], side="right")
            # never return an outcome of probability zero (cdf round-off at the top end)
            last = int(np.flatnonzero(p > 0)[-1])
            out[rows, k] = np.minimum(draw, last)
    return out


def transverse_ising_ring(n_sites: int, V: float, g: float, gamma: float) -> tuple[np.ndarray, list[np.ndarray]]:
    """The dissipative transverse-field Ising ring of the paper's benchmark:
    H = (V/4) sum_k sz_k sz_{k+1} + (g/2) sum_k sx_k on bonds (k, k+1 mod N) and
    J_k = sqrt(gamma) s-_k with s- = [[0, 0], [1, 0]]. N >= 3 (a ring); gamma >= 0."""
    n = check_int("n_sites", n_sites, 3)
    for name, val in (("V", V), ("g", g), ("gamma", gamma)):
        if isinstance(val, bool) or not isinstance(val, int | float | np.integer | np.floating) or not np.isfinite(val):
            raise ValueError(f"{name} must be a finite real number, got {val!r}")
    if gamma < 0:
        raise ValueError(f"gamma must be >= 0, got {gamma}")
    sz = np.diag([1.0, -1.0]).astype(np.complex128)
    sx = np.array([[0, 1], [1, 0]], dtype=np.complex128)
    sm = np.array([[0, 0], [1, 0]], dtype=np.complex128)

    def op(single, k):
        out = np.ones((1, 1), dtype=np.complex128)
        for j in range(n):
            out = np.kron(out, single if j == k else _I2)
        return out

    d = 2**n
    H = np.zeros((d, d), dtype=np.complex128)
    for k in range(n):
        H += (V / 4.0) * op(sz, k) @ op(sz, (k + 1) % n) + (g / 2.0) * op(sx, k)
    jumps = [np.sqrt(gamma) * op(sm, k) for k in range(n)]
    return H, jumps
