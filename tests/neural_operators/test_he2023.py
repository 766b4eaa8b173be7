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
