"""Tests for constructions.universal.yun and theorems.universal.yun2020 (Yun et al. 2020)."""

import itertools
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from constructions.universal.yun import (
    contextual_map_exact,
    contextual_map_float,
    contextual_map_units,
    id_bounds,
    quantize,
    required_bits,
)

GRIDS = st.sampled_from([(1, 2, 4), (1, 3, 5), (2, 2, 3), (1, 2, 16), (2, 3, 2), (1, 4, 6)])


@st.composite
def grid_inputs(draw):
    d, n, N = draw(GRIDS)
    cols = draw(st.lists(st.tuples(*[st.integers(0, N - 1)] * d), min_size=n, max_size=n, unique=True))
    M = np.array(cols, dtype=np.int64).T
    return d, n, N, M


@given(grid_inputs())
def test_fraction_and_integer_paths_agree_and_stay_in_interval(args):
    d, n, N, M = args
    L = [[Fraction(int(M[i, j]), N) for j in range(n)] for i in range(d)]
    q_full = contextual_map_exact(L, Fraction(1, N))  # every layer, including no-ops
    q_skip = contextual_map_exact(L, Fraction(1, N), skip_noop=True)
    q_int = contextual_map_units(M, N)
    assert q_full == q_skip == [Fraction(int(v), N) for v in q_int]
    tl, tr = id_bounds(N, d, n)
    assert len(set(q_full)) == n and all(tl <= x <= tr for x in q_full)


@given(grid_inputs(), st.randoms(use_true_random=False))
def test_permutation_equivariance(args, rnd):
    d, n, N, M = args
    perm = list(range(n))
    rnd.shuffle(perm)
    q = contextual_map_units(M, N)
    qp = contextual_map_units(M[:, perm], N)
    assert list(qp) == [q[j] for j in perm]


def test_wrong_shift_collides():
    """Extra negative control: shift factor 1 maps two different multisets to a shared id."""
    N, seen, collision = 4, {}, False
    for a, b in itertools.combinations(range(N), 2):
        q = contextual_map_exact([[Fraction(a, N), Fraction(b, N)]], Fraction(1, N), shift=Fraction(1))
        for x in q:
            if x in seen and seen[x] != (a, b):
                collision = True
            seen.setdefault(x, (a, b))
    assert collision


def test_float64_refuses_unresolvable_grids():
    assert required_bits(64, 1, 3) <= 53 < required_bits(128, 1, 3)
    with pytest.raises(ValueError, match="bit precision"):
        contextual_map_float(np.array([[0.0, 1 / 128, 2 / 128]]), 1 / 128)
    with pytest.raises(ValueError, match="bit precision"):
        contextual_map_float(np.zeros((2, 3)) + np.array([[0.0, 0.25, 0.5]]), 1 / 16)


@given(grid_inputs())
def test_float_path_matches_exact_where_allowed(args):
    d, n, N, M = args
    if required_bits(N, d, n) > 53:
        return
    qf = contextual_map_float(M / N, 1.0 / N)
    assert qf.dtype == np.float64
    qe = contextual_map_units(M, N)
    assert np.array_equal(qf, np.array([float(v) for v in qe]) / N)


@given(st.integers(2, 40), st.floats(0.0, 1.0))
def test_quantize_is_the_floor_off_the_ramps(N, x):
    eta = 1e-3 / N
    q = quantize(np.array([[x]]), 1.0 / N, eta)
    assert q.dtype == np.float64
    frac = x * N - np.floor(x * N)
    if frac * (1.0 / N) >= eta or np.floor(x * N) == 0:
        assert abs(q[0, 0] - min(np.floor(x * N), N - 1) / N) <= 1e-12


@pytest.mark.parametrize("call", [
    lambda: quantize(np.array([[1.5]]), 0.25, 0.01),
    lambda: quantize(np.array([[np.nan]]), 0.25, 0.01),
    lambda: quantize(np.array([[0.5]]), 0.3, 0.01),
    lambda: quantize(np.array([[0.5]]), 0.25, 0.5),
    lambda: contextual_map_exact([[Fraction(1, 3), Fraction(0)]], Fraction(1, 4)),
    lambda: contextual_map_exact([[Fraction(0)]], Fraction(1, 4)),  # n = 1
    lambda: contextual_map_float(np.array([[0.1, 0.2]]), 0.25),      # off the grid
])
def test_validation(call):
    with pytest.raises(ValueError):
        call()


def test_contextual_map_exact_rejects_float_delta():
    with pytest.raises(TypeError):
        contextual_map_exact([[Fraction(0), Fraction(1, 4)]], 0.25)


def test_value_map_is_well_defined_for_n3():
    """Issue 11, section 4: with repeated-column cells in the table, n = 3 gave 135 conflicts on the
    full grid (1/delta = 6) and 1704 on 3000 random inputs; they are now left out (output 0) for
    n >= 3, and for n = 2 they stay in (their ids lie below t_l: checked here on small grids)."""
    from constructions.universal.yun import build_value_map, outside_value_map, three_stage_forward
    from theorems.universal.yun2020 import equivariant_target

    for d, n, N in [(1, 3, 6), (1, 3, 4), (1, 4, 5), (2, 3, 2), (1, 2, 2), (1, 2, 3), (2, 2, 2), (1, 2, 16)]:
        table, conflicts = build_value_map(equivariant_target, d, n, N)
        assert conflicts == 0, (d, n, N, conflicts)
        want = sum(not outside_value_map(np.array(f).reshape(d, n)) for f in itertools.product(range(N), repeat=d * n))
        assert len(table) <= want * n
    g = np.random.default_rng(0)
    X = g.uniform(size=(3000, 1, 3))
    errs = {}
    for N in (6, 8, 64):
        out, conflicts = three_stage_forward(X, equivariant_target, N, (1.0 / N) ** 3)
        assert conflicts == 0
        errs[N] = float(np.abs(out - equivariant_target(X)).mean())
    # L1 error O(delta): a factor 8 in delta gives a factor 8 (Monte Carlo spread of the repeated-column
    # set, ~ 3 delta of the inputs, allows 4..16)
    assert 4.0 <= errs[8] / errs[64] <= 16.0, errs
    assert outside_value_map(np.array([[1, 1, 2]])) and not outside_value_map(np.array([[1, 1]]))
    with pytest.raises(ValueError):
        three_stage_forward(np.zeros((2, 1, 1)), equivariant_target, 4, 1e-3)  # n = 1


def test_value_map_conflicts_are_relative_to_the_target_scale():
    """A conflict is a difference beyond the round-off of reassociating the n-column sum, relative
    to the target's size: at a target scale 1e3 permuted inputs (one id) still agree (0 conflicts,
    while an absolute 16 n eps threshold would count 42 on this grid), and a non-equivariant
    perturbation of relative size 1e-9 is still counted."""
    from constructions.universal.yun import build_value_map
    from theorems.universal.yun2020 import equivariant_target

    def big(X):
        return 1e3 * equivariant_target(X)

    def not_equivariant(X):
        return big(X) + 1e-6 * X[:, :, :1]  # column 0 leaks into every column's output

    assert build_value_map(big, 1, 3, 6)[1] == 0
    assert build_value_map(not_equivariant, 1, 3, 6)[1] > 0


def test_quantize_rejects_negative_inputs_and_ramp_points_get_zero():
    """quantize accepts [0, 1] only (negative entries raise); three_stage_forward sends a point
    that sits 1e-9 delta up a ramp (constructed exactly: x = 1/2 + 2^-40, eta = 2^-40 / 1e-9,
    1/delta = 2) to the output 0, like any ramp point, and an on-grid point to its table value."""
    from constructions.universal.yun import three_stage_forward
    from theorems.universal.yun2020 import equivariant_target

    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        quantize(np.array([[-1e-3, 0.5]]), 0.25, 0.01)
    eta = 2.0**-40 / 1e-9
    x = 0.5 + 2.0**-40
    q = quantize(np.array([[x]]), 0.5, eta)
    assert q[0, 0] * 2 == 1e-9  # exactly 1e-9 delta above the grid point 0
    out, conflicts = three_stage_forward(np.array([[[x, 0.75]]]), equivariant_target, 2, eta)
    assert conflicts == 0 and np.all(out == 0.0)
    on_grid, _ = three_stage_forward(np.array([[[0.25, 0.75]]]), equivariant_target, 2, eta)
    np.testing.assert_array_equal(on_grid, equivariant_target(np.array([[[0.25, 0.75]]])))


def test_id_bounds_exact_values_and_grid_message():
    """[t_l, t_r] = [s^{n+1} (s-1)^n delta, delta^{-(2n+2)d+1} + delta^{-(n+1)d+1}], s = delta^{-d}:
    1/delta = 2, d = 1, n = 2 gives [4, 2^5 + 2^2]; d = 2 gives [4^3 3^2 / 2, 2^11 + 2^5] (exact
    Fractions). The grid check names 1/delta as N."""
    from constructions.universal.yun import three_stage_forward
    from theorems.universal.yun2020 import equivariant_target

    assert id_bounds(2, 1, 2) == (Fraction(4), Fraction(36))
    assert id_bounds(2, 2, 2) == (Fraction(288), Fraction(2080))
    assert all(isinstance(v, Fraction) for v in id_bounds(3, 2, 3))
    with pytest.raises(ValueError, match=r"^N = 1/delta must be an int >= 2"):
        three_stage_forward(np.full((1, 1, 2), 0.5), equivariant_target, 1, 1e-3)


def test_three_stage_forward_counts_conflicts():
    """Two inputs that are column permutations of each other share their ids; a target that is not
    permutation equivariant gives each shared id two values: 2 conflicts (0 for the equivariant one)."""
    from constructions.universal.yun import three_stage_forward
    from theorems.universal.yun2020 import equivariant_target

    def not_equivariant(X):
        return 1e3 * equivariant_target(X) + 1e-6 * X[:, :, :1]

    X = np.array([[[0.125, 0.625]], [[0.625, 0.125]]])
    assert three_stage_forward(X, equivariant_target, 4, 1e-3)[1] == 0
    assert three_stage_forward(X, not_equivariant, 4, 1e-3)[1] == 2


# --- mutation campaign seed 5 (branch mutC): exact small cases, boundaries, messages ----------------


def test_contextual_map_hand_computed_case_and_shift():
    """d = 1, n = 2, 1/delta = 2, L = (0, 1/2): layer b = 0 shifts column 0 by s (max - min) = 1,
    layer b = 1/2 shifts column 1 by 2 (1 - 1/2) = 1, the global shift adds 2^3 * 3/2: ids (13, 27/2);
    in units of delta (26, 27). With shift = 1 layer b = 0 moves column 0 to 1/2, onto column 1 (max =
    min afterwards), and both get 1/2 + 2^3 / 2 = 9/2: the collision of the negative control."""
    from constructions.universal.yun import contextual_map_units

    L = [[Fraction(0), Fraction(1, 2)]]
    assert contextual_map_exact(L, Fraction(1, 2)) == [Fraction(13), Fraction(27, 2)]
    assert contextual_map_exact([[0, Fraction(1, 2)]], Fraction(1, 2)) == [Fraction(13), Fraction(27, 2)]  # int 0
    assert contextual_map_exact(L, Fraction(1, 2), shift=Fraction(1)) == [Fraction(9, 2)] * 2
    assert contextual_map_exact(L, Fraction(1, 2), skip_noop=True) == [Fraction(13), Fraction(27, 2)]
    q = contextual_map_units(np.array([[0, 1]]), 2)
    assert list(q) == [26, 27] and q.dtype == object
    # d = 2: u = (1, 1/delta), l_j = L_0j + 2 L_1j
    L2 = [[Fraction(0), Fraction(1, 2)], [Fraction(1, 2), Fraction(0)]]
    M2 = np.array([[0, 1], [1, 0]])
    assert contextual_map_exact(L2, Fraction(1, 2)) == [Fraction(int(v), 2) for v in contextual_map_units(M2, 2)]
    # l = (2, 1), s = 4: b = 1 moves column 1 to 1 + 4 (2 - 1) = 5, b = 2 moves column 0 to 2 + 4 (5 - 2) = 14
    assert list(contextual_map_units(M2, 2)) == [14 + 2**6 * 14, 5 + 2**6 * 14]
    qf = contextual_map_float(np.array([[0.0, 0.5]]), 0.5)
    np.testing.assert_array_equal(qf, [13.0, 13.5])


def test_contextual_map_exact_validation_names():
    L = [[Fraction(0), Fraction(1, 4)]]
    for bad in (0.25, Fraction(2, 5), Fraction(-1, 4), Fraction(0)):
        with pytest.raises(TypeError, match=r"^delta must be a Fraction 1/N"):
            contextual_map_exact(L, bad)
    with pytest.raises(ValueError, match=r"^N = 1/delta must be an int >= 2"):
        contextual_map_exact([[Fraction(0), Fraction(0)]], Fraction(1, 1))
    with pytest.raises(ValueError, match=r"^n must be an int >= 2"):
        contextual_map_exact([[Fraction(0)]], Fraction(1, 4))
    with pytest.raises(ValueError, match=r"^d must be an int >= 1"):
        contextual_map_units(np.zeros((0, 2), dtype=int), 4)
    contextual_map_exact([[Fraction(3, 4), Fraction(0)]], Fraction(1, 4))     # 1 - delta is on the grid
    for v in (Fraction(1), Fraction(-1, 4), Fraction(1, 8), 0.25):
        with pytest.raises(ValueError, match=r"^entries must lie on the grid"):
            contextual_map_exact([[v, Fraction(0)]], Fraction(1, 4))
    with pytest.raises(ValueError, match=r"^N = 1/delta must be"):
        contextual_map_units(np.zeros((1, 2), dtype=int), True)


def test_required_bits_float_path_and_column_predicates():
    """required_bits = ceil(log2(t_r / delta)) + 1: t_r = 36 at 1/delta = 2, d = 1, n = 2 -> 8 bits;
    the float path's grid checks (1-D, off-grid, 1 itself, negatives) name X."""
    from constructions.universal.yun import has_duplicate_columns, outside_value_map

    assert required_bits(2, 1, 2) == 8 and required_bits(2, 2, 2) == 1 + int(np.ceil(np.log2(2080 * 2)))
    for X, msg in ((np.array([0.0, 0.5]), r"^X must be d x n"), (np.array([[0.0, 0.3]]), r"^X must lie on the grid"),
                   (np.array([[0.0, 1.0]]), r"^X must lie on the grid"), (np.array([[-0.5, 0.0]]), r"^X must lie on the grid")):
        with pytest.raises(ValueError, match=msg):
            contextual_map_float(X, 0.5)
    contextual_map_float(np.array([[0.5, 0.5 + 1e-10]]), 0.5)                  # within 1e-9 of the grid
    with pytest.raises(ValueError, match=r"^contextual map with d=1, n=3, delta=1/128 needs"):
        contextual_map_float(np.array([[0.0, 1 / 128, 2 / 128]]), 1 / 128)
    assert has_duplicate_columns(np.array([[1, 1]])) and not has_duplicate_columns(np.array([[1, 2]]))
    assert has_duplicate_columns(np.array([[1, 1, 2], [0, 0, 1]])) and not has_duplicate_columns(np.array([[1, 1], [0, 1]]))
    assert not outside_value_map(np.array([[1, 2, 3]])) and outside_value_map(np.array([[2, 1, 2]]))


def test_quantize_values_boundaries_and_messages():
    """q(x) = delta sum_j clip((x - j delta)/eta, 0, 1): x = 0 -> 0, x = 1 -> (N - 1)/N, halfway up
    the j-th ramp -> (j - 1/2) delta; delta = 1/N within 1e-12, N >= 2, eta in (0, delta)."""
    N, eta = 4, 0.01
    x = np.array([[0.0, 1.0, 0.5 + eta / 2, 0.5 + eta, 0.49]])
    np.testing.assert_allclose(quantize(x, 0.25, eta), [[0.0, 0.75, 0.375, 0.5, 0.25]], rtol=0, atol=1e-15)
    assert quantize(np.array([[1]]), 0.5, 0.1).dtype == np.float64
    quantize(x, 0.25 + 1e-13, eta)
    for delta in (0.25 + 1e-11, 1.0, 0.3):
        with pytest.raises(ValueError, match=r"^quantize: delta must be 1/N with N >= 2"):
            quantize(x, delta, 1e-3)
    for e in (0.0, 0.25, -1e-3):
        with pytest.raises(ValueError, match=r"^quantize: ramp width eta must lie in \(0, delta\)"):
            quantize(x, 0.25, e)
    for bad in (np.array([[np.nan]]), np.array([[1.0 + 1e-12]]), np.array([[-1e-300]])):
        with pytest.raises(ValueError, match=r"^quantize: X must be finite and lie in \[0, 1\]"):
            quantize(bad, 0.25, eta)
    for bad in (np.array([["a"]]), np.array([[Fraction(1, 2)]], dtype=object), np.array([[True]])):
        with pytest.raises(TypeError, match=r"^quantize: X must be a real numeric array"):
            quantize(bad, 0.25, eta)
    del N


def test_build_value_map_table_entries_and_forward_values():
    """The table maps each id to f(cell centre)[:, k] (every grid input of 1/delta = 3, d = 1, n = 2
    checked against contextual_map_units and the target); three_stage_forward returns the table
    value on grid cells, 0 for repeated columns at n = 3, and names a batch of the wrong rank."""
    from constructions.universal.yun import (
        build_value_map,
        contextual_map_units,
        three_stage_forward,
    )
    from theorems.universal.yun2020 import equivariant_target

    N, d, n = 3, 1, 2
    table, conflicts = build_value_map(equivariant_target, d, n, N)
    assert conflicts == 0 and len(table) == 3 * 2 + 3  # permutations share ids; (a, a) has one id
    for flat in itertools.product(range(N), repeat=d * n):
        M = np.array(flat).reshape(d, n)
        f = equivariant_target(((M + 0.5) / N)[None])[0]
        for k, key in enumerate(contextual_map_units(M, N)):
            np.testing.assert_array_equal(table[int(key)], f[:, k])
    X = np.array([[[0.1, 0.5]], [[0.9, 0.9]]])
    out, c = three_stage_forward(X, equivariant_target, N, 1e-4)
    centres = (np.floor(X * N) + 0.5) / N
    np.testing.assert_array_equal(out, equivariant_target(centres))
    assert c == 0
    out3, _ = three_stage_forward(np.array([[[0.1, 0.15, 0.9]], [[0.1, 0.5, 0.9]]]), equivariant_target, N, 1e-4)
    assert not out3[0].any() and np.all(out3[1] != 0)
    with pytest.raises(ValueError, match=r"^X must have shape \(batch, d, n\)"):
        three_stage_forward(np.zeros((1, 2)), equivariant_target, N, 1e-4)
    with pytest.raises(ValueError, match=r"^n must be an int >= 2"):
        build_value_map(equivariant_target, 1, 1, 3)


def test_a_fractional_shift_meets_the_half_delta_thresholds_exactly():
    """The heads' thresholds b -+ delta/2 are strict (Psi = max only when u^T Z_j > b_Q). With the
    documented factor delta^{-d} every l_j stays on the lattice delta Z and never meets them; a
    fractional ``shift`` (the control's argument) does. Hand computation, 1/delta = 2, L = (0, 1/2):
    shift 3/2: layer b = 0 gives l = (3/4, 1/2); at b = 1/2, l_0 = 3/4 = b + delta/2 is NOT above
    it, so l = (9/8, 7/8) and the ids are l + 2^3 9/8 = (81/8, 79/8) (mutation seed 5, yun
    x_contextual_map_exact__mutmut_70: `>=` gave (31/4, 63/8)); shift 1/2: l = (1/4, 1/2), then
    l_0 = 1/4 = b - delta/2 is not above b - delta/2 either: l = (1/4, 5/8), ids (21/4, 45/8)."""
    L = [[Fraction(0), Fraction(1, 2)]]
    assert contextual_map_exact(L, Fraction(1, 2), shift=Fraction(3, 2)) == [Fraction(81, 8), Fraction(79, 8)]
    assert contextual_map_exact(L, Fraction(1, 2), shift=Fraction(1, 2)) == [Fraction(21, 4), Fraction(45, 8)]
