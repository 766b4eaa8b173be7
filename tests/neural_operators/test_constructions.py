"""The neural-operator constructions against independent references over drawn admissible inputs,
their input validation, and the edge cases of the public entry points."""

import numpy as np
import pytest
import scipy.integrate
import scipy.sparse
import scipy.sparse.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

from constructions.neural_operators.afno import (
    afno_mixer,
    afno_operation_count,
    afno_param_count,
    softshrink,
)
from constructions.neural_operators.fno import (
    fno1d_apply,
    fno1d_init,
    spectral_conv,
    spectral_conv_jax,
)
from constructions.neural_operators.local import fd_conv, kernel_conv, periodic_conv
from constructions.neural_operators.multigrid import cycle_work, jacobi, poisson_matrix, v_cycle
from constructions.neural_operators.wave import discrete_energy, leapfrog
from numerics import EPS
from numerics.random import jax_key
from theorems.neural_operators.li2020 import circulant_reference

# --- spectral_conv ----------------------------------------------------------------------------


@settings(deadline=None, max_examples=40)
@given(k_max=st.integers(1, 6), extra=st.integers(0, 20), c_in=st.integers(1, 4), c_out=st.integers(1, 4),
       seed=st.integers(0, 10_000))
def test_spectral_conv_matches_circulant(k_max, extra, c_in, c_out, seed):
    g = np.random.default_rng(seed)
    n = 2 * k_max + extra
    u = g.standard_normal((n, c_in))
    w = g.standard_normal((k_max, c_in, c_out)) + 1j * g.standard_normal((k_max, c_in, c_out))
    ref, cond = circulant_reference(u, w)
    got = spectral_conv(u, w)
    assert got.shape == (n, c_out) and got.dtype == np.float64
    np.testing.assert_allclose(got, ref, rtol=0, atol=8 * EPS * n * c_in * k_max * cond * np.max(np.abs(ref)))


def test_spectral_conv_formula_by_hand():
    """out_j = Re v0 + 2 Re sum v_k e^{2 pi i k j/N}, written out with explicit loops."""
    g = np.random.default_rng(3)
    n, k_max = 9, 3
    u = g.standard_normal((n, 2))
    w = g.standard_normal((k_max, 2, 1)) + 1j * g.standard_normal((k_max, 2, 1))
    out = np.zeros((n, 1))
    for j in range(n):
        for k in range(k_max):
            uk = sum(u[l] * np.exp(-2j * np.pi * k * l / n) for l in range(n)) / n
            vk = uk @ w[k]
            out[j] += np.real(vk) if k == 0 else 2 * np.real(vk * np.exp(2j * np.pi * k * j / n))
    np.testing.assert_allclose(spectral_conv(u, w), out, atol=1e-13)


def test_spectral_conv_k1_is_mean_times_real_weight():
    u = np.arange(8.0).reshape(8, 1)
    w = np.array([[[2.0 + 5.0j]]])
    np.testing.assert_allclose(spectral_conv(u, w), np.full((8, 1), 2.0 * 3.5), atol=1e-13)


def test_spectral_conv_jax_matches_numpy():
    g = np.random.default_rng(1)
    u = g.standard_normal((20, 3))
    w = g.standard_normal((5, 3, 2)) + 1j * g.standard_normal((5, 3, 2))
    np.testing.assert_allclose(np.asarray(spectral_conv_jax(u, w)), spectral_conv(u, w), atol=1e-13)


def test_fno1d_runs_in_float64():
    p = fno1d_init(jax_key(0), c_in=2, width=4, k_max=3, n_layers=2)
    out = fno1d_apply(p, np.ones((16, 2)))
    assert out.shape == (16, 1) and out.dtype == np.float64


@pytest.mark.parametrize("u, w, err", [
    (np.ones((7, 1)), np.ones((4, 1, 1), complex), ValueError),      # N < 2 k_max
    (np.ones((8, 2)), np.ones((4, 1, 1), complex), ValueError),      # c_in mismatch
    (np.ones(8), np.ones((2, 1, 1), complex), ValueError),           # 1-D u
    (np.ones((8, 1)), np.ones((2, 1), complex), ValueError),         # 2-D weights
    (np.ones((8, 1)) * np.nan, np.ones((2, 1, 1), complex), ValueError),
    (np.ones((8, 1)), np.array([[["a"]]]), TypeError),
    (np.ones((8, 1), complex), np.ones((2, 1, 1), complex), TypeError),
])
def test_spectral_conv_rejects_bad_input(u, w, err):
    with pytest.raises(err):
        spectral_conv(u, w)


# --- afno ---------------------------------------------------------------------------------------


def _reference_afno(x, w1, b1, w2, b2, lam, K):
    """The NVlabs formulas written with explicit complex products per block (independent layout)."""
    H, W, C = x.shape
    k = w1.shape[1]
    b = C // k
    X = np.fft.rfft2(x, axes=(0, 1), norm="ortho")
    Y = np.zeros_like(X)
    for blk in range(k):
        sl = slice(blk * b, (blk + 1) * b)
        Xb = X[:, :K, sl]
        W1 = w1[0, blk] + 1j * w1[1, blk]
        W2 = w2[0, blk] + 1j * w2[1, blk]
        z = Xb @ W1 + (b1[0, blk] + 1j * b1[1, blk])
        o1 = np.maximum(z.real, 0) + 1j * np.maximum(z.imag, 0)
        o2 = o1 @ W2 + (b2[0, blk] + 1j * b2[1, blk])
        Y[:, :K, sl] = softshrink(o2.real, lam) + 1j * softshrink(o2.imag, lam)
    return np.fft.irfft2(Y, s=(H, W), axes=(0, 1), norm="ortho") + x


@settings(deadline=None, max_examples=30)
@given(H=st.integers(1, 7), W=st.integers(1, 9), k=st.integers(1, 3), b=st.integers(1, 3), f=st.integers(1, 3),
       seed=st.integers(0, 10_000), fixed=st.booleans())
def test_afno_matches_reference_formulas(H, W, k, b, f, seed, fixed):
    g = np.random.default_rng(seed)
    C = k * b
    x = g.standard_normal((H, W, C))
    w1, b1 = g.standard_normal((2, k, b, b * f)), 0.3 * g.standard_normal((2, k, b * f))
    w2, b2 = g.standard_normal((2, k, b * f, b)), 0.3 * g.standard_normal((2, k, b))
    K = int(g.integers(1, W // 2 + 2)) if fixed else None
    got = afno_mixer(x, w1, b1, w2, b2, num_blocks=k, sparsity_threshold=0.05, kept_modes=K)
    ref = _reference_afno(x, w1, b1, w2, b2, 0.05, W // 2 + 1 if K is None else K)
    assert got.shape == x.shape and got.dtype == np.float64
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12 * (1 + np.max(np.abs(ref))))


def test_afno_param_count_formula():
    assert afno_param_count(8, 2, 2) == 4 * 64 * 2 // 2 + 2 * 8 * 2 + 2 * 8
    ops = afno_operation_count(8, 8, 8, 2, 1)
    assert ops["total"] == ops["fft"] + ops["mlp"] + ops["residual"]


def test_softshrink_values():
    np.testing.assert_array_equal(softshrink(np.array([-2.0, -0.5, 0.0, 0.3, 1.5]), 0.5), [-1.5, 0.0, 0.0, 0.0, 1.0])


@pytest.mark.parametrize("kw, err", [
    (dict(num_blocks=3), ValueError),                       # C = 4 not divisible
    (dict(kept_modes=9), ValueError),                       # > W//2 + 1
    (dict(norm="bogus"), ValueError),
    (dict(sparsity_threshold=-1.0), ValueError),
    (dict(num_blocks=1.5), TypeError),
])
def test_afno_rejects_bad_input(kw, err):
    g = np.random.default_rng(0)
    x = g.standard_normal((4, 6, 4))
    args = dict(num_blocks=2, sparsity_threshold=0.01) | kw
    k = 2
    w1, b1, w2, b2 = np.zeros((2, k, 2, 2)), np.zeros((2, k, 2)), np.zeros((2, k, 2, 2)), np.zeros((2, k, 2))
    with pytest.raises(err):
        afno_mixer(x, w1, b1, w2, b2, **args)


def test_afno_rejects_bad_weight_shape():
    with pytest.raises(ValueError):
        afno_mixer(np.zeros((4, 4, 4)), np.zeros((2, 2, 2, 2)), np.zeros((2, 2, 3)), np.zeros((2, 2, 2, 2)),
                   np.zeros((2, 2, 2)), num_blocks=2, sparsity_threshold=0.0)


# --- multigrid ----------------------------------------------------------------------------------


@pytest.mark.parametrize("d, n", [(1, 1), (1, 3), (1, 63), (2, 1), (2, 3), (2, 15)])
def test_v_cycles_converge_to_the_sparse_solve(d, n):
    g = np.random.default_rng(n)
    shape = (n,) * d
    f = g.standard_normal(shape)
    exact = scipy.sparse.linalg.spsolve(poisson_matrix(n, d).tocsc(), f.ravel()).reshape(shape)
    u = np.zeros(shape)
    for _ in range(25):
        u = v_cycle(u, f)
    np.testing.assert_allclose(u, exact, rtol=0, atol=1e-11 * np.max(np.abs(exact)))


def test_v_cycle_is_linear_in_u_and_f():
    g = np.random.default_rng(5)
    u1, u2, f1, f2 = (g.standard_normal((15, 15)) for _ in range(4))
    lhs = v_cycle(2 * u1 - 3 * u2, 2 * f1 - 3 * f2, nu_pre=2, nu_post=0)
    rhs = 2 * v_cycle(u1, f1, nu_pre=2, nu_post=0) - 3 * v_cycle(u2, f2, nu_pre=2, nu_post=0)
    np.testing.assert_allclose(lhs, rhs, atol=1e-9)


def test_galerkin_coarse_operator_in_1d_is_the_rediscretised_one():
    from constructions.neural_operators.multigrid import _hierarchy
    levels = _hierarchy(15, 1)
    np.testing.assert_allclose(levels[1][0].toarray(), poisson_matrix(7, 1).toarray(), atol=1e-10)


def test_jacobi_one_sweep_by_hand():
    u = np.array([1.0, 2.0, 0.5])
    f = np.array([0.0, 1.0, 0.0])
    h2 = 0.25**2
    Au = np.array([2 * 1 - 2, 2 * 2 - 1 - 0.5, 2 * 0.5 - 2]) / h2
    np.testing.assert_allclose(jacobi(u, f, omega=0.5), u + 0.5 * h2 / 2 * (f - Au), atol=1e-14)


def test_cycle_work_grows_linearly():
    assert cycle_work(255, 1) < 2.1 * cycle_work(127, 1)


@pytest.mark.parametrize("u, f, kw, err", [
    (np.zeros(6), np.zeros(6), {}, ValueError),                 # n != 2^L - 1
    (np.zeros((3, 7)), np.zeros((3, 7)), {}, ValueError),       # not square
    (np.zeros(7), np.zeros(3), {}, ValueError),
    (np.zeros(7), np.zeros(7), {"omega": -1.0}, ValueError),
    (np.zeros(7), np.zeros(7), {"nu_pre": 1.5}, TypeError),
    (np.zeros((3, 3, 3)), np.zeros((3, 3, 3)), {}, ValueError),
])
def test_v_cycle_rejects_bad_input(u, f, kw, err):
    with pytest.raises(err):
        v_cycle(u, f, **kw)


# --- local layers ---------------------------------------------------------------------------


@settings(deadline=None, max_examples=30)
@given(s1=st.sampled_from([1, 3, 5]), s2=st.sampled_from([1, 3, 5, 7]), n1=st.integers(8, 14), n2=st.integers(8, 14),
       seed=st.integers(0, 10_000))
def test_fd_conv_against_loops(s1, s2, n1, n2, seed):
    g = np.random.default_rng(seed)
    u = g.standard_normal((n1, n2))
    k = g.standard_normal((s1, s2))
    h = 0.1
    ref = np.zeros_like(u)
    for i in range(n1):
        for j in range(n2):
            for a in range(s1):
                for b in range(s2):
                    za, zb = a - (s1 - 1) // 2, b - (s2 - 1) // 2
                    ref[i, j] += k[a, b] * (u[(i + za) % n1, (j + zb) % n2] - u[i, j]) / h
    np.testing.assert_allclose(fd_conv(u, k, h), ref, atol=1e-12 * np.sum(np.abs(k)) * 20)


def test_stencil_longer_than_the_grid_wraps():
    u = np.arange(3.0)
    k = np.array([0.0, 0.0, 0.0, 0.0, 1.0])  # offset +2 on a 3-point periodic grid
    np.testing.assert_array_equal(periodic_conv(u, k), np.roll(u, -2))


def test_afno_zero_kept_modes_is_the_residual():
    x = np.random.default_rng(0).standard_normal((3, 4, 2))
    z = np.ones((2, 1, 2, 2)), np.ones((2, 1, 2)), np.ones((2, 1, 2, 2)), np.ones((2, 1, 2))
    np.testing.assert_array_equal(afno_mixer(x, *z, num_blocks=1, sparsity_threshold=0.0, kept_modes=0), x)


def test_leapfrog_zero_time_returns_u0():
    u0 = np.sin(2 * np.pi * np.arange(8) / 8)
    np.testing.assert_allclose(leapfrog(u0, np.ones(8), 1.0, 0.0, 3), u0, atol=0)


def test_periodic_conv_is_cross_correlation():
    u = np.arange(6.0)
    k = np.array([0.0, 0.0, 1.0])  # offset +1: conv(u)(x_j) = u_{j+1}
    np.testing.assert_array_equal(periodic_conv(u, k), np.roll(u, -1))


def test_kernel_conv_against_quad():
    n, r = 256, 0.125
    x = np.arange(n) / n
    u = np.cos(2 * np.pi * x) + 0.3 * np.sin(6 * np.pi * x)
    got = kernel_conv(u, lambda y: np.clip(1 - np.abs(y[..., 0]) / r, 0, None), r, 1.0 / n)
    j = 17
    ref, _ = scipy.integrate.quad(lambda y: (1 - abs(y) / r) * (np.cos(2 * np.pi * (x[j] + y)) + 0.3 * np.sin(6 * np.pi * (x[j] + y))),
                                  -r, r, points=[0.0], epsabs=1e-13)
    assert abs(got[j] - ref) < 1e-4


@pytest.mark.parametrize("u, k, h, err", [
    (np.zeros(8), np.zeros(2), 0.1, ValueError),          # even side
    (np.zeros(8), np.zeros((3, 3)), 0.1, ValueError),     # dimension mismatch
    (np.zeros(8), np.zeros(3), 0.0, ValueError),
    (np.zeros((2, 2, 2)), np.zeros((1, 1, 1)), 0.1, ValueError),
])
def test_fd_conv_rejects_bad_input(u, k, h, err):
    with pytest.raises(err):
        fd_conv(u, k, h)


# --- wave ---------------------------------------------------------------------------------------


def test_leapfrog_accepts_scalar_array_and_callable_c():
    n = 32
    x = np.arange(n) / n
    u0 = np.sin(2 * np.pi * x)
    a = leapfrog(u0, np.zeros(n), 1.0, 0.2, 40)
    b = leapfrog(u0, np.zeros(n), np.ones(n), 0.2, 40)
    c = leapfrog(u0, np.zeros(n), lambda y: np.ones_like(y), 0.2, 40)
    np.testing.assert_allclose(a, b, atol=1e-14)
    np.testing.assert_allclose(a, c, atol=1e-14)


def test_leapfrog_energy_variable_array_c():
    n, steps, T = 48, 200, 0.7
    x = np.arange(n) / n
    cs = 1 + 0.4 * np.cos(2 * np.pi * x) ** 2
    u0, v0 = np.exp(np.cos(2 * np.pi * x)), np.sin(2 * np.pi * x)
    dt = T / steps
    e0 = discrete_energy(u0, leapfrog(u0, v0, cs, dt, 1), cs, dt)
    e1 = discrete_energy(leapfrog(u0, v0, cs, T - dt, steps - 1), leapfrog(u0, v0, cs, T, steps), cs, dt)
    assert abs(e1 / e0 - 1) < 8 * EPS * steps * n


@pytest.mark.parametrize("args, err", [
    ((np.zeros(16), np.zeros(16), 1.0, 1.0, 4), ValueError),      # CFL violated
    ((np.zeros(16), np.zeros(15), 1.0, 0.1, 4), ValueError),
    ((np.zeros(16), np.zeros(16), -1.0, 0.1, 4), ValueError),
    ((np.zeros(16), np.zeros(16), np.ones(15), 0.1, 4), ValueError),
    ((np.zeros(16), np.zeros(16), 1.0, 0.1, 0), ValueError),
    ((np.zeros(16), np.zeros(16), 1.0, 0.1, 2.5), TypeError),
])
def test_leapfrog_rejects_bad_input(args, err):
    with pytest.raises(err):
        leapfrog(*args)


# --- survivors of the mutation sample (mutation/triage.md, neural_operators) ---------------------


def test_afno_operation_count_by_stage_on_a_hand_worked_case():
    # H = W = C = 8, 2 blocks of b = 4, f = 1: radix-2 FFT of length 8 is 5 * 8 * 3 = 120 flops
    ops = afno_operation_count(8, 8, 8, 2, 1)
    fft = 2 * 8 * (8 * (120 // 2) + 5 * 120)            # forward + inverse, 8 channels: rows + 5 columns
    mlp1 = 2 * (4 * 2 * 4 * 4 + 3 * 2 * 4)              # per block: 4 real 4x4 products, joins, bias, activation
    mlp2 = 2 * (4 * 2 * 4 * 4 + 2 * 4 + 2 * 4)          # 4 products, joins, bias
    mlp = 8 * 5 * (mlp1 + mlp2 + 2 * 8 * 2)             # 40 kept modes, soft-shrink 2 flops per real channel entry
    assert ops == {"fft": fft, "mlp": mlp, "residual": 512, "total": fft + mlp + 512} == {
        "fft": 17280, "mlp": 24960, "residual": 512, "total": 42752}


def test_afno_errors_name_the_argument():
    x = np.zeros((4, 4, 4))
    w1, b1, w2, b2 = np.zeros((2, 2, 2, 2)), np.zeros((2, 2, 2)), np.zeros((2, 2, 2, 2)), np.zeros((2, 2, 2))
    with pytest.raises(ValueError, match=r"^num_blocks must be a positive int"):
        afno_mixer(x, w1, b1, w2, b2, num_blocks=0, sparsity_threshold=0.0)
    for name, i in (("w1", 0), ("b1", 1), ("w2", 2), ("b2", 3)):
        args = [w1, b1, w2, b2]
        args[i] = np.full(args[i].shape, np.nan)
        with pytest.raises(ValueError, match=rf"^{name} must be finite"):
            afno_mixer(x, *args, num_blocks=2, sparsity_threshold=0.0)


def test_w_cycle_converges_faster_than_the_v_cycle_and_v_cycle_is_gamma_1():
    from constructions.neural_operators.multigrid import multigrid_cycle

    g = np.random.default_rng(8)
    n = 31
    f = g.standard_normal(n)
    exact = scipy.sparse.linalg.spsolve(poisson_matrix(n, 1).tocsc(), f)
    u0 = g.standard_normal(n)
    np.testing.assert_array_equal(v_cycle(u0, f), multigrid_cycle(u0, f, gamma=1))
    ev = np.max(np.abs(multigrid_cycle(u0, f, gamma=1) - exact))
    ew = np.max(np.abs(multigrid_cycle(u0, f, gamma=2) - exact))
    assert ew < 0.9 * ev  # the W-cycle visits the coarse levels 2^l times: a smaller error after one cycle
    u = u0
    for _ in range(20):
        u = multigrid_cycle(u, f, gamma=2)
    np.testing.assert_allclose(u, exact, rtol=0, atol=1e-11 * np.max(np.abs(exact)))
    with pytest.raises(ValueError, match=r"^gamma must be a positive int"):
        multigrid_cycle(u0, f, gamma=0)
    with pytest.raises(ValueError, match=r"^f must be finite"):
        multigrid_cycle(u0, np.full(n, np.nan))


def test_kernel_conv_includes_the_nodes_at_the_radius():
    # kappa = 1 on |z h| <= radius = 2h: a 5-point periodic box sum times h
    h = 0.125
    u = np.arange(8.0) ** 2
    got = kernel_conv(u, lambda z: np.ones(z.shape[:-1]), 2 * h, h)
    ref = h * sum(np.roll(u, s) for s in range(-2, 3))
    np.testing.assert_allclose(got, ref, rtol=4 * EPS * 5)


def test_leapfrog_stability_limit_is_c_dt_equal_h():
    # constant c = 1 on 16 points: dt^2 * 4 c^2 / h^2 <= 4 exactly when dt <= h = 1/16
    n = 16
    u0 = np.sin(2 * np.pi * np.arange(n) / n)
    assert np.all(np.isfinite(leapfrog(u0, np.zeros(n), 1.0, 1.0, 16)))  # dt = h: the limit, accepted
    with pytest.raises(ValueError, match="unstable"):
        leapfrog(u0, np.zeros(n), 1.0, 1.0, 14)  # dt = h 16/14: dt^2 stiff = 5.2 > 4


def test_multigrid_rejects_a_non_square_2d_grid_and_errors_name_the_argument():
    with pytest.raises(ValueError, match="square"):
        v_cycle(np.zeros((3, 7)), np.zeros((3, 7)))
    with pytest.raises(ValueError, match=r"^nu_post must be a non-negative int"):
        cycle_work(7, 1, nu_post=-1)
    with pytest.raises(ValueError, match=r"^nu_pre must be a non-negative int"):
        cycle_work(7, 1, nu_pre=-1)


def test_fno1d_init_draws_every_weight_from_its_own_key():
    from constructions.neural_operators.fno import fno1d_init

    p = fno1d_init(jax_key(0), c_in=1, width=6, k_max=2, n_layers=1, c_out=1)
    # P (1, 6) and Q (6, 1) have the same size: from one key they would be the same numbers up to scale
    P, Q = np.asarray(p["P"]).ravel(), np.asarray(p["Q"]).ravel() * np.sqrt(6)
    assert np.max(np.abs(P - Q)) > 0.1
