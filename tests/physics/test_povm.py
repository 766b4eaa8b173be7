"""constructions.physics.povm: the POVM formulation of Lindblad dynamics (luo2020) against
independent references (explicit Kronecker products, the vectorised superoperator, scipy's expm,
qutip.mesolve), hypothesis-drawn states and models, and input validation."""

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given
from hypothesis import strategies as st

from constructions.physics import povm as pv
from numerics import EPS
from numerics.tolerance import assert_close
from theorems.physics.luo2020 import (
    kron_povm,
    liouvillian_superoperator,
    random_model,
    reference_generator,
    unvec,
    vec,
)

qubits = st.integers(1, 3)
seeds = st.integers(0, 2**31 - 1)


def _state(seed, n, rank=None):
    g = np.random.default_rng(seed)
    d = 2**n
    r = d if rank is None else rank
    Z = g.standard_normal((d, r)) + 1j * g.standard_normal((d, r))
    rho = Z @ Z.conj().T
    return rho / np.trace(rho).real


def test_tetrahedral_povm_entries():
    M = pv.tetrahedral_povm()
    assert M.shape == (4, 2, 2) and M.dtype == np.complex128
    s = np.array([[0, 0, 1], [2 * np.sqrt(2) / 3, 0, -1 / 3], [-np.sqrt(2) / 3, np.sqrt(2 / 3), -1 / 3],
                  [-np.sqrt(2) / 3, -np.sqrt(2 / 3), -1 / 3]])
    paulis = [np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]]), np.diag([1, -1])]
    for a in range(4):
        ref = (np.eye(2) + sum(s[a, k] * paulis[k] for k in range(3))) / 4
        assert_close(M[a], ref, size=4, c=4, what=f"M^{a}")
    assert_close(np.linalg.inv(pv.overlap_matrix(1)), 6 * np.eye(4) - np.ones((4, 4)), size=16, c=16)
    assert_close(pv.dual_frame(), 6 * M - np.eye(2)[None], size=4, c=4)


@given(seed=seeds, n=qubits, rank=st.integers(1, 8))
def test_round_trip_and_kron_order(seed, n, rank):
    rho = _state(seed, n, min(rank, 2**n))
    P = pv.probabilities(rho)
    assert P.dtype == np.float64 and P.shape == (4**n,)
    ref = np.real(np.einsum("ij,aji->a", rho, kron_povm(n)))
    assert_close(P, ref, size=4**n, c=4, what="P vs explicit kron")
    assert abs(P.sum() - 1) <= 4 * EPS * 4**n and P.min() >= -4 * EPS * 4**n
    assert_close(pv.density_matrix(P), rho, size=4**n, c=4, what="round trip")


def test_row_major_outcome_order():
    # a product state |0><0| x |+><+|: P(a_1, a_2) = P1(a_1) P2(a_2) with a_1 most significant
    r1 = np.diag([1.0, 0.0]).astype(complex)
    r2 = 0.5 * np.ones((2, 2), dtype=complex)
    P = pv.probabilities(np.kron(r1, r2))
    assert_close(P, np.outer(pv.probabilities(r1), pv.probabilities(r2)).ravel(), size=16, c=4)


def test_delta_is_not_a_state():
    for n in (1, 2, 3):
        delta = np.zeros(4**n)
        delta[3] = 1.0
        rho = pv.density_matrix(delta)
        assert np.linalg.eigvalsh(rho)[0] == pytest.approx(-(2.0 ** (n - 1)), abs=64 * EPS)
        with pytest.raises(ValueError, match="positive semidefinite"):
            pv.probabilities(rho)


@given(seed=seeds, n=qubits, k=st.integers(0, 3))
def test_generator_matches_superoperator(seed, n, k):
    g = np.random.default_rng(seed)
    H, jumps = random_model(g, n, k)
    G = pv.lindblad_generator(H, jumps)
    assert G.dtype == np.float64 and G.shape == (4**n, 4**n)
    Gref = reference_generator(H, jumps)
    cond = float(np.max(np.abs(liouvillian_superoperator(H, jumps))))
    assert_close(G, np.real(Gref), size=(k + 2) * 4**n * 2**n, cond=max(cond, 1.0), c=4)
    assert np.max(np.abs(G.sum(axis=0))) <= 4 * EPS * (k + 2) * 4**n * 2**n * max(cond, 1.0) * np.max(np.abs(G))


def test_generator_accepts_a_stacked_jump_array_and_no_jumps():
    H, jumps = pv.transverse_ising_ring(3, 2.0, 1.0, 1.0)
    np.testing.assert_array_equal(pv.lindblad_generator(H, np.array(jumps)), pv.lindblad_generator(H, jumps))
    G0 = pv.lindblad_generator(H, [])
    rho = _state(1, 3)
    Lrho = -1j * (H @ rho - rho @ H)
    assert_close(G0 @ pv.probabilities(rho), np.real(pv.povm_transform(Lrho)), size=4**3 * 8, cond=2.0, c=4)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_dynamics_against_qutip_mesolve(n):
    qutip = pytest.importorskip("qutip")
    g = np.random.default_rng(7 + n)
    H, jumps = random_model(g, n, 2)
    dims = [[2] * n, [2] * n]
    rho0 = _state(11, n)
    times = np.linspace(0.0, 1.0, 5)
    res = qutip.mesolve(qutip.Qobj(H, dims=dims), qutip.Qobj(rho0, dims=dims), times,
                        [qutip.Qobj(J, dims=dims) for J in jumps], options={"atol": 1e-12, "rtol": 1e-12})
    G = pv.lindblad_generator(H, jumps)
    P0 = pv.probabilities(rho0)
    for t, state in zip(times, res.states):
        ours = scipy.linalg.expm(G * t) @ P0
        theirs = pv.povm_transform(state.full()).real
        # qutip's adaptive integrator is the limiting accuracy here (atol = rtol = 1e-12)
        assert np.max(np.abs(ours - theirs)) <= 1e-9, (t, np.max(np.abs(ours - theirs)))


def test_evolve_methods_and_errors():
    G, P0 = _benchmark()
    ex = scipy.linalg.expm(G * 0.5) @ P0
    assert np.linalg.norm(pv.evolve(P0, G, 0.5, 2000) - ex) < 1e-6
    assert np.linalg.norm(pv.evolve(P0, G, 0.5, 2000, method="euler") - ex) < 1e-3
    np.testing.assert_array_equal(pv.evolve(P0, G, 0.0, 3), P0)
    with pytest.raises(ValueError, match="method"):
        pv.evolve(P0, G, 1.0, 10, method="rk4")
    with pytest.raises(ValueError, match="T"):
        pv.evolve(P0, G, -1.0, 10)
    with pytest.raises(ValueError, match="^n_steps must be a positive int"):
        pv.evolve(P0, G, 1.0, 0)
    with pytest.raises(ValueError, match="G must be"):
        pv.evolve(P0[:-1], G, 1.0, 10)


def _benchmark():
    H, jumps = pv.transverse_ising_ring(3, 2.0, 1.0, 1.0)
    G = pv.lindblad_generator(H, jumps)
    rho0 = np.zeros((8, 8), complex)
    rho0[0, 0] = 1
    return G, pv.probabilities(rho0)


def test_steady_state_against_null_space():
    G, _ = _benchmark()
    P = pv.steady_state(G)
    assert P.sum() == pytest.approx(1.0, abs=1e-14)
    H, jumps = pv.transverse_ising_ring(3, 2.0, 1.0, 1.0)
    ns = scipy.linalg.null_space(liouvillian_superoperator(H, jumps))[:, 0]
    rho_ref = unvec(ns, 8)
    rho_ref /= np.trace(rho_ref)
    np.testing.assert_allclose(pv.density_matrix(P), rho_ref, atol=1e-12)
    assert np.linalg.norm(liouvillian_superoperator(H, jumps) @ vec(pv.density_matrix(P))) < 1e-12


def test_steady_state_errors():
    H, _ = pv.transverse_ising_ring(3, 2.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="not unique"):
        pv.steady_state(pv.lindblad_generator(H, []))  # unitary dynamics: many steady states
    with pytest.raises(ValueError, match="no null vector"):
        pv.steady_state(-np.eye(4))


def test_input_validation():
    with pytest.raises(ValueError, match="Hermitian"):
        pv.probabilities(np.array([[0.5, 0.1], [0.0, 0.5]]))
    with pytest.raises(ValueError, match="unit trace"):
        pv.probabilities(np.eye(2))
    with pytest.raises(ValueError, match="2\\^N"):
        pv.probabilities(np.eye(3) / 3)
    with pytest.raises(ValueError, match="square"):
        pv.probabilities(np.ones((2, 4)))
    with pytest.raises(TypeError):
        pv.probabilities(np.array([["a", "b"], ["c", "d"]]))
    with pytest.raises(ValueError, match="4\\^N"):
        pv.density_matrix(np.ones(8) / 8)
    with pytest.raises(ValueError, match="finite"):
        pv.density_matrix(np.full(4, np.nan))
    with pytest.raises(ValueError, match="Hermitian"):
        pv.lindblad_generator(np.array([[0, 1], [0, 0]]), [])
    with pytest.raises(ValueError, match="shape of H"):
        pv.lindblad_generator(np.eye(2), [np.eye(4)])
    with pytest.raises(ValueError, match="ring|>= 3"):
        pv.transverse_ising_ring(2, 1.0, 1.0, 1.0)


def _random_conditionals(seed):
    def cond(prefix):
        return np.random.default_rng([seed, len(prefix), *prefix]).dirichlet(np.full(4, 0.5))
    return cond


@given(seed=seeds, n=st.integers(1, 4))
def test_joint_is_normalised_and_matches_the_product(seed, n):
    cond = _random_conditionals(seed)
    joint = pv.joint_from_conditionals(cond, n)
    assert abs(joint.sum() - 1.0) <= 4 * EPS * 4**n * n
    a = np.random.default_rng(seed).integers(0, 4, n)
    prod = np.prod([cond(tuple(int(v) for v in a[:k]))[a[k]] for k in range(n)])
    assert joint[pv.outcome_index(a[None])[0]] == pytest.approx(prod, rel=8 * EPS * n)


def test_sampler_shape_determinism_and_zero_probabilities():
    def cond(prefix):
        return np.array([0.0, 0.5, 0.0, 0.5]) if len(prefix) % 2 == 0 else np.array([1.0, 0.0, 0.0, 0.0])

    s = pv.sample_autoregressive(cond, 3, 1000, 5)
    assert s.shape == (1000, 3) and s.dtype == np.int64
    assert set(np.unique(s[:, 0])) <= {1, 3} and np.all(s[:, 1] == 0)
    np.testing.assert_array_equal(s, pv.sample_autoregressive(cond, 3, 1000, 5))
    with pytest.raises(ValueError, match="sum to 1"):
        pv.sample_autoregressive(lambda p: np.array([0.3, 0.3, 0.3, 0.3]), 2, 10, 0)
    with pytest.raises(ValueError, match="shape \\(4,\\)"):
        pv.sample_autoregressive(lambda p: np.ones(3) / 3, 2, 10, 0)
    with pytest.raises(ValueError, match="non-negative"):
        pv.sample_autoregressive(lambda p: np.array([1.5, -0.5, 0, 0]), 2, 10, 0)
    with pytest.raises(TypeError):
        pv.sample_autoregressive(None, 2, 10, 0)


def test_prefixes_are_passed_as_tuples_of_earlier_outcomes():
    seen = set()

    def cond(prefix):
        assert isinstance(prefix, tuple) and all(isinstance(a, int) for a in prefix)
        seen.add(prefix)
        return np.full(4, 0.25)

    pv.sample_autoregressive(cond, 2, 500, 1)
    assert () in seen and all(len(p) <= 1 for p in seen)


def test_dual_expectations_give_observables():
    rho = _state(3, 2)
    O = np.random.default_rng(4).standard_normal((4, 4))
    O = O + O.T
    f = pv.dual_expectations(O)
    assert pv.probabilities(rho) @ f.real == pytest.approx(np.trace(rho @ O).real, abs=64 * EPS * 16)


def test_evolve_single_step_is_the_scheme_itself():
    G, P0 = _benchmark()
    tau = 0.05
    np.testing.assert_allclose(pv.evolve(P0, G, tau, 1, method="euler"), P0 + tau * (G @ P0), rtol=0,
                               atol=4 * EPS * np.max(np.abs(P0)))
    ref = np.linalg.solve(np.eye(P0.size) - 0.5 * tau * G, (np.eye(P0.size) + 0.5 * tau * G) @ P0)
    # two LU solves of one system (cond ~ 1): c = 4, size = the dimension
    assert_close(pv.evolve(P0, G, tau, 1), ref, size=P0.size, cond=float(np.linalg.cond(np.eye(P0.size) - 0.5 * tau * G)),
                 c=4)


def test_transverse_ising_ring_entries():
    """H = (V/4) sum sz_k sz_{k+1} + (g/2) sum sx_k, site 0 the most significant bit, J_k = sqrt(gamma) s-_k."""
    n, V, g, gamma = 3, 2.0, 0.6, 0.25
    H, jumps = pv.transverse_ising_ring(n, V, g, gamma)
    assert H[0, 0] == 3 * V / 4  # all up: three aligned bonds
    assert H[0b010, 0b010] == -V / 4  # one spin down on a ring of three: one aligned, two anti-aligned bonds
    for k in range(n):
        assert H[0, 1 << (n - 1 - k)] == g / 2  # sx on site k flips bit k
        assert jumps[k][1 << (n - 1 - k), 0] == np.sqrt(gamma) and np.count_nonzero(jumps[k]) == 2 ** (n - 1)
    np.testing.assert_array_equal(H, H.conj().T)


# --- issue 11 section 6: every public function's values, defaults, draws, boundaries, anchored errors ----

def test_overlap_matrix_entries_and_default():
    T1 = pv.overlap_matrix()  # default: one qubit
    np.testing.assert_allclose(T1, np.where(np.eye(4) == 1, 1 / 4, 1 / 12), rtol=0, atol=4 * EPS)
    np.testing.assert_allclose(pv.overlap_matrix(2), np.kron(T1, T1), rtol=0, atol=4 * EPS)
    assert pv.overlap_matrix(3).shape == (64, 64)
    with pytest.raises(ValueError, match=r"^n_sites must be a positive int"):
        pv.overlap_matrix(0)


def test_transforms_of_non_hermitian_matrices_against_explicit_krons():
    g = np.random.default_rng(8)
    for n in (1, 2):
        d = 2**n
        Xm = g.standard_normal((d, d)) + 1j * g.standard_normal((d, d))
        Q1 = pv.dual_frame()
        Mk = kron_povm(n)
        Qk = Q1 if n == 1 else np.array([np.kron(Q1[a // 4], Q1[a % 4]) for a in range(16)])
        np.testing.assert_allclose(pv.povm_transform(Xm), np.einsum("ij,aji->a", Xm, Mk), rtol=0, atol=16 * EPS * d)
        np.testing.assert_allclose(pv.dual_expectations(Xm), np.einsum("aij,ji->a", Qk, Xm), rtol=0, atol=64 * EPS * d)
        P = g.standard_normal(4**n)  # density_matrix is linear on any real vector
        np.testing.assert_allclose(pv.density_matrix(P), np.einsum("a,aij->ij", P, Qk), rtol=0,
                                   atol=64 * EPS * np.abs(P).sum())
    assert pv.density_matrix(np.full(16, 1 / 16)).shape == (4, 4)
    for f, name in ((pv.povm_transform, "X"), (pv.dual_expectations, "O")):
        with pytest.raises(TypeError, match=rf"^{name} must be a numeric \(real or complex\) array"):
            f(np.array([["a", "b"], ["c", "d"]]))
        with pytest.raises(ValueError, match=rf"^{name} must be a square matrix"):
            f(np.ones((2, 4)))
        with pytest.raises(ValueError, match=rf"^{name} must be finite"):
            f(np.array([[np.nan, 0], [0, 1]]))
        for d in (1, 3, 6):
            with pytest.raises(ValueError, match=rf"^{name} must be 2\^N x 2\^N with N >= 1, got dimension {d}"):
                f(np.eye(d))
    with pytest.raises(TypeError, match=r"^P must be a real numeric array"):
        pv.density_matrix(np.ones(4, dtype=complex))
    with pytest.raises(ValueError, match=r"^P must be 1-D of length 4\^N"):
        pv.density_matrix(np.ones((4, 4)))
    with pytest.raises(ValueError, match=r"^P must be finite"):
        pv.density_matrix(np.array([np.inf, 0, 0, 0]))
    for length in (1, 2, 8, 12, 32):
        with pytest.raises(ValueError, match=rf"^P must have length 4\^N with N >= 1, got {length}"):
            pv.density_matrix(np.ones(length))


def test_validate_density_matrix_boundaries_and_names():
    rho = np.array([[0.75, 0.25j], [-0.25j, 0.25]])
    out = pv.validate_density_matrix(rho)
    assert out.dtype == np.complex128
    np.testing.assert_array_equal(out, rho)
    tol = 64 * EPS * 2  # dim 2, ||rho|| <= 1
    for delta, ok in ((0.5 * tol, True), (2 * tol, False)):
        herm = rho + np.array([[0, delta], [0, 0]])
        trace = rho + np.diag([delta, 0.0])
        psd = np.diag([1 + delta, -delta])
        for bad, match in ((herm, r"^sigma must be Hermitian"), (trace, r"^sigma must have unit trace"),
                           (psd, r"^sigma must be positive semidefinite")):
            if ok:
                pv.validate_density_matrix(bad, "sigma")
            else:
                with pytest.raises(ValueError, match=match):
                    pv.validate_density_matrix(bad, "sigma")
    with pytest.raises(ValueError, match=r"^rho must be Hermitian"):
        pv.probabilities(np.array([[0.5, 0.1], [0.0, 0.5]]))
    with pytest.raises(ValueError, match=r"^rho must have unit trace"):
        pv.probabilities(np.eye(2))
    with pytest.raises(ValueError, match=r"^rho must be 2\^N x 2\^N with N >= 1, got dimension 3"):
        pv.probabilities(np.eye(3) / 3)
    with pytest.raises(ValueError, match=r"^rho must be a square matrix"):
        pv.probabilities(np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"^rho must be 2\^N x 2\^N with N >= 1, got dimension 1"):
        pv.probabilities(np.ones((1, 1)))
    # a larger norm scales the tolerance: ||rho|| = 10, the Hermiticity allowance is 10x
    big = np.array([[10.0, 0.0], [0.0, -9.0]]) + np.array([[0, 5 * tol], [0, 0]])
    with pytest.raises(ValueError, match=r"^sigma must be positive semidefinite"):
        pv.validate_density_matrix(big, "sigma")


def test_lindblad_generator_jump_forms_and_errors():
    H, jumps = pv.transverse_ising_ring(3, 2.0, 1.0, 0.5)
    G = pv.lindblad_generator(H, jumps)
    np.testing.assert_array_equal(pv.lindblad_generator(H, tuple(jumps)), G)
    J = jumps[1]
    np.testing.assert_array_equal(pv.lindblad_generator(H, J), pv.lindblad_generator(H, [J]))
    assert G.flags["C_CONTIGUOUS"] and G.dtype == np.float64
    with pytest.raises(TypeError, match=r"^jumps must be a sequence of 2\^N x 2\^N matrices"):
        pv.lindblad_generator(H, 5)
    with pytest.raises(TypeError, match=r"^jumps must be a sequence"):
        pv.lindblad_generator(H, {0: J})
    with pytest.raises(ValueError, match=r"^jumps\[1\] must have the shape of H \(8, 8\)"):
        pv.lindblad_generator(H, [J, np.eye(4)])
    with pytest.raises(ValueError, match=r"^jumps\[0\] must be finite"):
        pv.lindblad_generator(H, [np.full((8, 8), np.nan)])
    with pytest.raises(ValueError, match=r"^H must be Hermitian"):
        pv.lindblad_generator(np.array([[0, 1], [0, 0]]), [])
    with pytest.raises(ValueError, match=r"^H must be 2\^N x 2\^N"):
        pv.lindblad_generator(np.eye(3), [])
    Hs = np.array([[1.0, 2.0], [2.0, -1.0]])
    Hs_noisy = Hs + np.array([[0, 64 * EPS * 2 * 2 * 0.5], [0, 0]])  # below 64 eps d max|H|
    np.testing.assert_allclose(pv.lindblad_generator(Hs_noisy, []), pv.lindblad_generator(Hs, []), atol=1e-12)
    with pytest.raises(ValueError, match=r"^H must be Hermitian"):
        pv.lindblad_generator(Hs + np.array([[0, 64 * EPS * 2 * 2 * 2], [0, 0]]), [])


def test_evolve_multistep_default_and_argument_errors():
    G, P0 = _benchmark()
    tau, steps = 0.1, 3
    P = P0.copy()
    for _ in range(steps):
        P = P + tau * (G @ P)
    np.testing.assert_allclose(pv.evolve(P0, G, tau * steps, steps, method="euler"), P, rtol=0, atol=1e-14)
    A_, B_ = np.eye(P0.size) - 0.5 * tau * G, np.eye(P0.size) + 0.5 * tau * G
    P = P0.copy()
    for _ in range(steps):
        P = np.linalg.solve(A_, B_ @ P)
    np.testing.assert_allclose(pv.evolve(P0, G, 0.3, steps), P, rtol=0, atol=1e-13)
    np.testing.assert_array_equal(pv.evolve(P0, G, 0.3, steps), pv.evolve(P0, G, 0.3, steps, method="trapezoid"))
    np.testing.assert_array_equal(pv.evolve(P0, G, 1, 2), pv.evolve(P0, G, 1.0, 2))  # int T
    np.testing.assert_array_equal(pv.evolve(P0, G, np.float32(0.5), 2), pv.evolve(P0, G, 0.5, 2))
    np.testing.assert_array_equal(pv.evolve(P0, G, 0.0, 2, method="euler"), P0)
    cases = [
        (dict(P0=P0.astype(complex)), TypeError, r"^P0 must be a real numeric array"),
        (dict(P0=np.zeros(0)), ValueError, r"^P0 must be a non-empty 1-D array"),
        (dict(P0=P0[None]), ValueError, r"^P0 must be a non-empty 1-D array"),
        (dict(P0=np.where(P0 > 0.1, np.nan, P0)), ValueError, r"^P0 must be finite"),
        (dict(G=np.ones((64, 3))), ValueError, r"^G must be a non-empty square matrix"),
        (dict(P0=P0[:16]), ValueError, r"^G must be 16 x 16 to act on P0"),
        (dict(T=True), TypeError, r"^T must be a real number"),
        (dict(T="1"), TypeError, r"^T must be a real number"),
        (dict(T=-1e-300), ValueError, r"^T must be finite and >= 0"),
        (dict(T=np.inf), ValueError, r"^T must be finite and >= 0"),
        (dict(T=np.nan), ValueError, r"^T must be finite and >= 0"),
        (dict(n_steps=0), ValueError, r"^n_steps must be a positive int"),
        (dict(method="rk4"), ValueError, r"^method must be 'trapezoid' or 'euler'"),
    ]
    for kw, err, match in cases:
        args = dict(P0=P0, G=G, T=0.5, n_steps=2) | kw
        with pytest.raises(err, match=match):
            pv.evolve(args["P0"], args["G"], args["T"], args["n_steps"], **({"method": kw["method"]} if "method" in kw else {}))


def test_steady_state_boundaries_and_messages():
    np.testing.assert_array_equal(pv.steady_state(np.zeros((1, 1))), [1.0])  # 1 x 1: the trivial generator
    tol = 1e3 * 2 * EPS  # n = 2, ||G|| = 1
    np.testing.assert_allclose(pv.steady_state(np.diag([1.0, 0.5 * tol])), [0.0, 1.0], atol=1e-15)
    with pytest.raises(ValueError, match=r"^G has no null vector"):
        pv.steady_state(np.diag([1.0, 2 * tol]))
    with pytest.raises(ValueError, match=r"^the steady state is not unique"):
        pv.steady_state(np.diag([1.0, 0.0, 0.0]))
    with pytest.raises(ValueError, match=r"^the null vector of G sums to zero"):
        pv.steady_state(np.array([[1.0, 1.0], [1.0, 1.0]]))
    with pytest.raises(ValueError, match=r"^G must be a non-empty square matrix"):
        pv.steady_state(np.ones((2, 3)))
    P = pv.steady_state(np.array([[-1.0, 2.0], [1.0, -2.0]]))  # two-state chain: P = (2, 1)/3
    np.testing.assert_allclose(P, [2 / 3, 1 / 3], rtol=1e-14)


def test_outcome_index_values_and_errors():
    assert pv.outcome_index(np.array([[0, 1], [3, 2], [1, 0]])).tolist() == [1, 14, 4]
    assert pv.outcome_index(np.array([[2, 0, 3]], dtype=np.uint8)).tolist() == [2 * 16 + 3]
    assert pv.outcome_index(np.zeros((0, 2), dtype=int)).shape == (0,)
    for bad in (np.array([[0.0, 1.0]]), np.array([0, 1]), np.zeros((2, 0), dtype=int)):
        with pytest.raises(ValueError, match=r"^samples must be a 2-D integer array \(n_samples, N\)"):
            pv.outcome_index(bad)
    for bad in ([[0, 4]], [[-1, 0]]):
        with pytest.raises(ValueError, match=r"^samples must take values in 0\.\.3"):
            pv.outcome_index(np.array(bad))


def test_conditionals_are_checked_with_their_prefix_and_tolerance():
    def only_at(prefix_bad, p_bad):
        return lambda pre: np.asarray(p_bad) if pre == prefix_bad else np.full(4, 0.25)

    for f in (lambda c: pv.joint_from_conditionals(c, 2), lambda c: pv.sample_autoregressive(c, 2, 64, 0)):
        with pytest.raises(ValueError, match=r"^conditionals\(2,\) must sum to 1"):
            f(only_at((2,), [0.3, 0.3, 0.3, 0.3]))
        with pytest.raises(ValueError, match=r"^conditionals\(\) must return shape \(4,\), got \(4, 1\)"):
            f(only_at((), np.full((4, 1), 0.25)))
        with pytest.raises(ValueError, match=r"^conditionals\(\) must return shape \(4,\), got \(\)"):
            f(only_at((), 1.0))
        with pytest.raises(ValueError, match=r"^conditionals\(1,\) must return finite non-negative probabilities"):
            f(only_at((1,), [1.5, -0.5, 0.0, 0.0]))
        with pytest.raises(ValueError, match=r"^conditionals\(1,\) must return finite non-negative probabilities"):
            f(only_at((1,), [np.nan, 0.5, 0.5, 0.0]))
        with pytest.raises(TypeError, match=r"^conditionals\(\) must return real probabilities"):
            f(only_at((), np.full(4, 0.25, dtype=complex)))
        # the sum is checked to 1e3 eps: 1 + 1e-13 passes, 1 + 1e-12 does not
        f(only_at((), [0.25, 0.25, 0.25, 0.25 + 1e-13]))
        with pytest.raises(ValueError, match=r"^conditionals\(\) must sum to 1"):
            f(only_at((), [0.25, 0.25, 0.25, 0.25 + 1e-12]))
        f(only_at((), [0.25, 0.25, 0.25, 0.25]))  # a list is accepted
        with pytest.raises(TypeError, match=r"^conditionals must be callable"):
            f(None)
    with pytest.raises(ValueError, match=r"^n_sites must be a positive int"):
        pv.joint_from_conditionals(lambda p: np.full(4, 0.25), 0)
    with pytest.raises(ValueError, match=r"^n_sites must be a positive int"):
        pv.sample_autoregressive(lambda p: np.full(4, 0.25), 0, 5, 0)
    with pytest.raises(ValueError, match=r"^n_samples must be a positive int"):
        pv.sample_autoregressive(lambda p: np.full(4, 0.25), 2, 0, 0)


def test_sampler_draws_are_the_inverse_cdf_of_the_documented_uniforms():
    from numerics.random import rng

    def cond(prefix):
        base = np.array([0.1, 0.2, 0.3, 0.4])
        return np.roll(base, sum(prefix)) if prefix else base

    calls = []

    def counted(prefix):
        calls.append(prefix)
        return cond(prefix)

    m, n = 200, 3
    s = pv.sample_autoregressive(counted, n, m, 9)
    g = rng(9)
    want = np.zeros((m, n), dtype=np.int64)
    for k in range(n):
        u = g.random(m)
        for i in range(m):
            cdf = np.cumsum(cond(tuple(int(a) for a in want[i, :k])))
            want[i, k] = np.searchsorted(cdf[:-1], u[i], side="right")
    np.testing.assert_array_equal(s, want)
    distinct = sum(len({tuple(r[:k]) for r in want}) for k in range(n))
    assert len(calls) == distinct  # once per distinct prefix present at each site
    np.testing.assert_array_equal(pv.sample_autoregressive(cond, n, m, np.random.default_rng(9)), s)  # a Generator
    assert pv.sample_autoregressive(cond, 1, 1, 0).shape == (1, 1)


def test_transverse_ising_ring_against_explicit_krons_and_errors():
    n, V, gf, gamma = 4, 1.5, -0.7, 0.3
    H, jumps = pv.transverse_ising_ring(n, V, gf, gamma)
    sz, sx, sm = np.diag([1.0, -1.0]), np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([[0.0, 0.0], [1.0, 0.0]])

    def op(single, k):
        mats = [single if j == k else np.eye(2) for j in range(n)]
        out = mats[0]
        for mm in mats[1:]:
            out = np.kron(out, mm)
        return out

    H_ref = sum(V / 4 * op(sz, k) @ op(sz, (k + 1) % n) + gf / 2 * op(sx, k) for k in range(n))
    np.testing.assert_allclose(H, H_ref, rtol=0, atol=8 * EPS * n * (abs(V) + abs(gf)))
    assert len(jumps) == n
    for k in range(n):
        np.testing.assert_allclose(jumps[k], np.sqrt(gamma) * op(sm, k), rtol=0, atol=EPS)
    H0, j0 = pv.transverse_ising_ring(3, 1.0, 1.0, 0)  # gamma = 0 is admissible: zero jumps
    assert all(np.count_nonzero(J) == 0 for J in j0) and H0.shape == (8, 8)
    with pytest.raises(ValueError, match=r"^n_sites must be an int >= 3"):
        pv.transverse_ising_ring(2, 1.0, 1.0, 1.0)
    for i, name in enumerate(("V", "g", "gamma")):
        for bad in (np.nan, np.inf, True, "1", None):
            args = [1.0, 1.0, 1.0]
            args[i] = bad
            with pytest.raises(ValueError, match=rf"^{name} must be a finite real number"):
                pv.transverse_ising_ring(3, *args)
    with pytest.raises(ValueError, match=r"^gamma must be >= 0, got -0.1"):
        pv.transverse_ising_ring(3, 1.0, 1.0, -0.1)


def test_steady_state_uniqueness_threshold_is_inclusive():
    # seed-5 survivor steady_state_33 (s[-2] <= tol -> < tol): a second singular value exactly at
    # 1e3 n eps ||G|| counts as zero, so the steady state is not unique
    tol = 1e3 * 3 * EPS * 1.0
    G = np.diag([1.0, tol, 0.0])
    assert np.linalg.svd(G)[1][1] == tol
    with pytest.raises(ValueError, match=r"^the steady state is not unique"):
        pv.steady_state(G)
    np.testing.assert_allclose(pv.steady_state(np.diag([1.0, 2 * tol, 0.0])), [0.0, 0.0, 1.0], atol=1e-15)


def test_sampler_groups_long_prefixes_without_overflow_and_outcome_index_limit():
    # seed-6 survivor sample_autoregressive_42 (prefix code base 4 -> 5) pointed here: the base-4
    # int64 code of a prefix wrapped from 33 sites on (4^32 = 2^64 = 0), so prefixes differing only
    # in a_1 were grouped and drawn from the first row's conditional. Here the last site copies a_1.
    n = 34

    def cond(prefix):
        if prefix == ():
            return np.array([0.5, 0.5, 0.0, 0.0])
        e = np.zeros(4)
        e[prefix[0] if len(prefix) == n - 1 else 0] = 1.0
        return e

    s = pv.sample_autoregressive(cond, n, 20, 0)
    assert set(s[:, 0]) == {0, 1} and np.array_equal(s[:, -1], s[:, 0]) and np.all(s[:, 1:-1] == 0)
    assert pv.outcome_index(np.full((1, 31), 3))[0] == 4**31 - 1  # the largest index int64 holds
    with pytest.raises(ValueError, match=r"^samples must have N <= 31 columns"):
        pv.outcome_index(np.zeros((1, 32), dtype=int))


def test_sampler_prefix_grouping_is_exact_at_the_int64_boundary():
    """The base-4 prefix code is used up to 31 prefix sites (< 2^62) and the rows themselves from 32
    on. At n = 33 the last site's prefix has 32 entries (code up to 4^32 - 1: it would wrap, still
    one-to-one modulo 2^64, so only from 33 entries do prefixes collide, as in the test above).
    With a_1 taking all four values and the last site copying a_1, any wrong grouping here draws
    the last site from another prefix's conditional."""
    n = 33

    def cond(prefix):
        if prefix == ():
            return np.full(4, 0.25)
        e = np.zeros(4)
        e[prefix[0] if len(prefix) == n - 1 else 0] = 1.0
        return e

    s = pv.sample_autoregressive(cond, n, 64, 3)
    assert set(s[:, 0]) == {0, 1, 2, 3} and np.array_equal(s[:, -1], s[:, 0]) and np.all(s[:, 1:-1] == 0)
