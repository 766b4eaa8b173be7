"""he2023 (multigrid V-cycle): dense and ARPACK norms agree, the bound's spread, the Jacobi constant."""

import numpy as np

from constructions.neural_operators.multigrid import jacobi, v_cycle
from theorems.neural_operators import he2023


def test_dense_and_arpack_norms_agree():
    dense = he2023.dense_norms(v_cycle, 31, 1)
    rho, anorm, defect = he2023.arpack_norms(v_cycle, 31, 1, 0)
    assert abs(dense[0] - rho) < 1e-8 and abs(dense[1] - anorm) < 1e-8 and defect < 1e-12
    assert abs(dense[0] - dense[1]) < 1e-10  # E is A-self-adjoint for V(1,1)


def test_contraction_is_h_independent_in_1d():
    vals = [he2023.dense_norms(v_cycle, n, 1)[1] for n in (15, 31, 63)]
    assert max(vals) <= he2023.BOUND[1] and max(vals) - min(vals) < 0.01


def test_jacobi_rho_closed_form():
    n, omega = 15, 2 / 3
    h = 1 / (n + 1)
    E = he2023._columns(lambda u, f: jacobi(u, f, omega=omega), n, 1)
    rho = np.max(np.abs(np.linalg.eigvalsh(E)))
    assert abs((1 - rho) - 2 * omega * np.sin(np.pi * h / 2) ** 2) < 1e-14


def test_tridiagonal_probe_matches_dense():
    n = 40
    E = he2023._columns(jacobi, n, 1)
    assert abs(he2023._tridiagonal_rho(jacobi, n, np.random.default_rng(0)) - np.max(np.abs(np.linalg.eigvalsh(E)))) < 1e-14


def test_w_cycle_control_is_rejected():
    assert not he2023.study_work("fast", 0, gamma=2).holds


def test_vcycle_bound_is_attacked_and_the_halved_bound_is_broken():
    """Issue 11 section 7: the V-cycle contraction bound carries a judged adversarial search over
    grids, initial errors and right-hand sides, reported beside the sweep; it reaches > 90% of the
    exact ||E||_A and never exceeds it; the halved bound is broken by the same search."""
    from theorems.registry import get

    claim = get("he2023.vcycle_contraction")
    v = claim.study("fast", 0)
    ev = v.evidence["sub:contraction"]
    assert v.holds and ev["search_judged"] is True, v.measured
    assert 0.5 < ev["search_worst_ratio"] <= 1.0 and 0.9 < ev["search_fraction_of_norm"] <= 1.0 + 1e-6
    assert "sweep worst" in v.measured
    halved = claim.controls["bound halved (0.10, 0.185)"]("fast", 0)
    assert not halved.holds and halved.evidence["sub:contraction"]["search_worst_ratio"] > 1.0


def test_vcycle_ratio_is_the_exact_contraction_of_an_eigen_pair():
    """For the 1-D two-mode error the ratio is ||E e||_A / ||e||_A / bound; with c1 = 0 and no rough
    part, a low mode's V-cycle contraction equals the A-norm quotient computed here from the
    column-built E (independent of the search's own arithmetic), whatever f is."""
    n = 15
    E = he2023._columns(v_cycle, n, 1)
    from constructions.neural_operators.multigrid import poisson_matrix

    A = poisson_matrix(n, 1).toarray()
    e = he2023._sine_mode(n, (3,))
    want = np.sqrt((E @ e) @ A @ (E @ e) / (e @ A @ e))
    for f_scale in (0.0, 5.0):
        r = he2023.vcycle_ratio(d=1, level=0.0, k1=2 / 7, k2=0.0, c1=0.0, c2=0.0, c3=0.0, rough=0.0,
                                f_scale=f_scale, ns={1: [15]}, bound={1: 1.0})
        assert abs(r - want) <= 1e-9 * want
