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
