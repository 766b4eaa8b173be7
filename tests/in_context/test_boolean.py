"""constructions.in_context.boolean: samplers, elimination, teaching sequences, GF(2) learner."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from constructions.in_context import boolean as bl

SAMPLERS = [bl.conjunction, bl.disjunction, bl.sparse_parity, bl.parity, bl.majority,
            bl.integer_halfspace, bl.dnf3]


@pytest.mark.parametrize("sampler", SAMPLERS, ids=lambda s: s.__name__)
@given(n=st.integers(2, 12), seed=st.integers(0, 2**31 - 1), m=st.integers(1, 40))
def test_samplers_are_pm1_and_labels_follow_the_function(sampler, n, seed, m):
    task = sampler(n, seed, m)
    assert task.X.shape == (m, n) and task.y.shape == (m,)
    assert task.X.dtype == np.float64 and task.y.dtype == np.float64
    assert set(np.unique(task.X)) <= {-1.0, 1.0} and set(np.unique(task.y)) <= {-1.0, 1.0}
    np.testing.assert_array_equal(task.evaluate(task.X), task.y)
    again = sampler(n, seed, m)
    np.testing.assert_array_equal(again.X, task.X)


def test_sampler_semantics_on_explicit_functions():
    t = bl.conjunction(10, 3, 200)
    w = t.params["w"]
    ok = np.all((w == 0) | (t.X == w), axis=1)
    np.testing.assert_array_equal(t.y == 1, ok)
    p = bl.sparse_parity(9, 1, 100)
    assert p.params["subset"].sum() == 2
    bits = (1 - p.X[:, p.params["subset"]]) / 2
    np.testing.assert_array_equal(p.y == 1, bits.sum(axis=1) % 2 == 0)
    d = bl.disjunction(10, 4, 200)
    w = d.params["w"]
    np.testing.assert_array_equal(d.y == 1, np.any((w != 0) & (d.X == w), axis=1))
    h = bl.integer_halfspace(7, 2, 50)
    np.testing.assert_array_equal(h.y == 1, h.X @ h.params["w"] > 0.5)


@given(n=st.integers(1, 10), seed=st.integers(0, 2**31 - 1), length=st.integers(1, 60))
def test_elimination_no_false_positive_and_mistake_bound(n, seed, length):
    task = bl.conjunction(n, seed, length)
    learner = bl.elimination_learner(n)
    mistakes = 0
    for x, y in zip(task.X, task.y, strict=True):
        guess = learner.predict(x)
        assert guess in (-1, 1)
        assert not (guess == 1 and y == -1)
        mistakes += guess != y
        learner.update(x, y)
    assert mistakes == learner.mistakes <= n + 1


def test_elimination_attains_n_plus_one():
    n = 6
    learner = bl.elimination_learner(n)
    x = np.ones(n)
    learner.update(x, 1)
    for i in range(n):
        x = x.copy()
        x[i] = -1.0
        learner.update(x, 1)
    assert learner.mistakes == n + 1
    assert learner.hypothesis() is not None and not learner.hypothesis().any()


@given(w=st.lists(st.sampled_from([-1, 0, 1]), min_size=1, max_size=9))
def test_teaching_sequence_shape_and_exactness(w):
    w = np.array(w, dtype=float)
    X, y = bl.teaching_sequence(w)
    k = int(np.sum(w != 0))
    assert X.shape == (k + 2, w.size) and y.shape == (k + 2,)
    np.testing.assert_array_equal(bl.conjunction_value(w, X), y)
    learner = bl.elimination_learner(w.size)
    for xi, yi in zip(X, y, strict=True):
        learner.update(xi, yi)
    np.testing.assert_array_equal(learner.hypothesis(), w)


@given(n=st.integers(1, 9), m=st.integers(0, 20), seed=st.integers(0, 2**31 - 1))
def test_parity_learner_is_consistent(n, m, seed):
    task = bl.parity(n, seed, max(m, 1))
    learner = bl.parity_learner(n).fit(task.X, task.y)
    s = learner.subset()
    np.testing.assert_array_equal(np.prod(np.where(s, task.X, 1.0), axis=1), task.y)
    if learner.determined:
        np.testing.assert_array_equal(s, task.params["subset"])
    assert learner.rank == _gf2_rank(((1 - task.X) / 2).astype(int))


def _gf2_rank(B):
    B = B.copy() % 2
    r = 0
    for c in range(B.shape[1]):
        piv = [i for i in range(r, B.shape[0]) if B[i, c]]
        if not piv:
            continue
        B[[r, piv[0]]] = B[[piv[0], r]]
        for i in range(B.shape[0]):
            if i != r and B[i, c]:
                B[i] ^= B[r]
        r += 1
    return r


def test_parity_learner_rejects_inconsistent_data():
    learner = bl.parity_learner(3)
    learner.update(np.array([-1.0, 1, 1]), 1)
    with pytest.raises(ValueError, match="inconsistent"):
        learner.update(np.array([-1.0, 1, 1]), -1)


def test_gf2_span_probability_values():
    assert bl.gf2_span_probability(0, 0) == 1.0
    assert bl.gf2_span_probability(3, 2) == 0.0
    assert bl.gf2_span_probability(1, 1) == 0.5
    assert bl.gf2_span_probability(2, 2) == pytest.approx(0.375, abs=0)
    assert 0.288 < bl.gf2_span_probability(60, 60) < 0.289


@pytest.mark.parametrize("bad, err", [(-1, ValueError), (1.5, TypeError), (True, TypeError)])
def test_bad_sizes(bad, err):
    with pytest.raises(err):
        bl.conjunction(bad, 0)
    with pytest.raises(err):
        bl.elimination_learner(bad)
    with pytest.raises(err):
        bl.gf2_span_probability(bad, 3)


def test_bad_inputs():
    learner = bl.elimination_learner(3)
    with pytest.raises(ValueError):
        learner.predict(np.array([0.0, 1.0, 1.0]))
    with pytest.raises(ValueError):
        learner.update(np.ones(3), 0)
    with pytest.raises(ValueError):
        bl.teaching_sequence(np.array([2.0, 0.0]))
    with pytest.raises(ValueError):
        learner.predict(np.ones(4))


def test_training_encoding_and_errors():
    from constructions.in_context import boolean_training as bt

    X = np.array([[[1.0, -1.0], [-1.0, -1.0]]])
    y = np.array([[1.0, -1.0]])
    tok = bt.encode_prompts(X, y)
    np.testing.assert_array_equal(tok[0], [[1, -1, 0], [0, 0, 1], [-1, -1, 0], [0, 0, -1]])
    params, losses = bt.train_in_context(X, y, steps=0, batch=1)
    assert losses.size == 0
    errs = bt.predict_errors(params, X, y)
    assert errs.shape == (2,) and np.all((errs == 0) | (errs == 1))
    with pytest.raises(ValueError):
        bt.encode_prompts(X[0], y)
    with pytest.raises(ValueError):
        bt.init_model(2, 2, d=5, heads=2)


def test_predict_all_and_in_span_against_their_one_input_forms():
    """EliminationLearner.predict_all is predict on every row (and rejects inputs with the wrong
    number of coordinates, even one that would broadcast); ParityLearner.in_span is membership of
    the seen examples' GF(2) span, on an exact case: e_1, e_2 seen -> e_1 + e_2 in, e_3 not."""
    n = 4
    X = bl.all_inputs(n)
    el = bl.elimination_learner(n)
    for x, y in zip(X[:5], bl.conjunction_value(np.array([1.0, 0.0, -1.0, 0.0]), X[:5])):
        el.update(x, float(y))
    np.testing.assert_array_equal(el.predict_all(X), [el.predict(x) for x in X])
    with pytest.raises(ValueError, match="coordinates"):
        el.predict_all(np.ones((3, 1)))
    with pytest.raises(ValueError, match="^x must have 4 coordinates"):  # the message names the argument
        el.update(np.ones(3), 1)
    with pytest.raises(ValueError, match="coordinates"):
        bl.conjunction_value(np.array([1.0, 0.0, -1.0, 0.0]), np.ones((3, 3)))

    def bits(*on):  # x_j = -1 exactly on the bits that are set
        x = np.ones(n)
        x[list(on)] = -1.0
        return x

    pl = bl.parity_learner(n)
    pl.update(bits(0), -1)
    pl.update(bits(1), 1)
    assert pl.in_span(bits(0, 1)) and pl.in_span(bits(1)) and pl.in_span(np.ones(n))
    assert not pl.in_span(bits(2)) and not pl.in_span(bits(0, 3))


@pytest.mark.slow  # ~5 s CPU, almost all of it compiling the jitted Adam scan (make test-all; mutation/run.py runs it)
def test_training_runs_adam_on_the_seeded_minibatches():
    """train_in_context with steps > 0 (tiny model): losses[t] is the mean logistic loss of the
    current parameters on minibatch t, drawn as default_rng(seed).integers(0, P, (steps, batch)); so
    losses[0] is the initial model's loss on the first minibatch (recomputed here from init_model
    and model_logits), every loss is finite, and the run is reproducible."""
    import jax.numpy as jnp

    from constructions.in_context import boolean_training as bt

    g = np.random.default_rng(0)
    X = np.where(g.random((5, 3, 2)) < 0.5, -1.0, 1.0)
    y = np.where(g.random((5, 3)) < 0.5, -1.0, 1.0)
    kw = {"d": 4, "layers": 1, "heads": 1, "seed": 3}
    params, losses = bt.train_in_context(X, y, steps=3, batch=2, **kw)
    assert losses.shape == (3,) and np.all(np.isfinite(losses))
    idx = np.random.default_rng(3).integers(0, 5, size=(3, 2))
    p0 = bt.init_model(2, 3, d=4, layers=1, heads=1, seed=3)
    p0.pop("heads")
    tok = jnp.asarray(bt.encode_prompts(X, y))[idx[0]]
    logits = np.asarray(bt.model_logits(p0, tok, 1))
    want = np.mean(np.logaddexp(0.0, -y[idx[0]] * logits))
    assert abs(losses[0] - want) <= 64 * np.finfo(np.float64).eps * max(1.0, want)
    np.testing.assert_array_equal(bt.train_in_context(X, y, steps=3, batch=2, **kw)[1], losses)
    assert not np.array_equal(params["read"], p0["read"])  # the parameters moved


def test_init_model_draws_and_model_logits_against_a_numpy_forward():
    """init_model's draws are pinned (key i of split(PRNGKey(seed), 4 + 4 layers), scales 1/sqrt(n+1),
    0.1, 1/sqrt(d), then per block 1/sqrt(d), 1/sqrt(d), 1/sqrt(d), 1/sqrt(2d)), and model_logits,
    with a non-zero MLP bias b1, equals a plain numpy pre-LN causal transformer (tanh GELU) to 1e-12."""
    import math

    import jax

    import constructions.in_context.boolean_training as bt

    n, k, d, heads = 2, 3, 4, 2
    p = bt.init_model(n, k, d=d, layers=1, heads=heads, seed=7)
    keys = jax.random.split(jax.random.PRNGKey(7), 8)
    want = {"embed": ((n + 1, d), 1 / math.sqrt(n + 1), 0), "pos": ((2 * k, d), 0.1, 1),
            "read": ((d,), 1 / math.sqrt(d), 2)}
    for name, (shape, s, i) in want.items():
        np.testing.assert_array_equal(np.asarray(p[name]), np.asarray(s * jax.random.normal(keys[i], shape)))
    blk = {"qkv": ((d, 3 * d), 1 / math.sqrt(d), 3), "out": ((d, d), 1 / math.sqrt(d), 4),
           "fc1": ((d, 2 * d), 1 / math.sqrt(d), 5), "fc2": ((2 * d, d), 1 / math.sqrt(2 * d), 6)}
    for name, (shape, s, i) in blk.items():
        np.testing.assert_array_equal(np.asarray(p["blocks"][0][name]),
                                      np.asarray(s * jax.random.normal(keys[i], shape)))
    g = np.random.default_rng(1)
    p["blocks"][0]["b1"] = g.standard_normal(2 * d)
    tok = bt.encode_prompts(g.choice([-1.0, 1.0], size=(2, k, n)), g.choice([-1.0, 1.0], size=(2, k)))

    def ln(x):
        mu = x.mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(((x - mu) ** 2).mean(-1, keepdims=True) + 1e-6)

    P = {key: np.asarray(v) for key, v in p["blocks"][0].items()}
    h = tok @ np.asarray(p["embed"]) + np.asarray(p["pos"])[None]
    T, e = 2 * k, d // heads
    q, kk, v = np.split(ln(h) @ P["qkv"], 3, axis=-1)
    att = np.zeros_like(h)
    for b in range(h.shape[0]):
        for hd in range(heads):
            sl = slice(hd * e, (hd + 1) * e)
            for t in range(T):
                s = np.array([q[b, t, sl] @ kk[b, u, sl] for u in range(t + 1)]) / math.sqrt(e)
                w = np.exp(s - s.max())
                att[b, t, sl] = (w / w.sum()) @ v[b, : t + 1, sl]
    h = h + att @ P["out"]
    z = ln(h) @ P["fc1"] + P["b1"]
    gelu = 0.5 * z * (1 + np.tanh(math.sqrt(2 / math.pi) * (z + 0.044715 * z**3)))
    h = h + gelu @ P["fc2"]
    ref = (ln(h) @ np.asarray(p["read"]))[:, 0::2]
    np.testing.assert_allclose(np.asarray(bt.model_logits(p, tok, heads)), ref, rtol=0, atol=1e-12)


def test_parity_subset_draw_sparse_parity_k0_and_size_messages():
    """parity's subset is the generator's first draw, each variable with probability 1/2 (pinned:
    u < 0.5 on rng(seed).random(n)); sparse_parity accepts k = 0 (the constant +1 parity); the size
    checks name n and k."""
    from numerics.random import rng

    for s in range(5):
        t = bl.parity(8, s, m=4)
        np.testing.assert_array_equal(t.params["subset"], rng(s).random(8) < 0.5)
    assert 0 < sum(int(bl.parity(8, s, m=1).params["subset"].sum()) for s in range(10)) < 80
    t0 = bl.sparse_parity(3, 0, m=5, k=0)
    assert not t0.params["subset"].any() and np.all(t0.y == 1.0)
    with pytest.raises(ValueError, match=r"^n must be"):
        bl.parity(0, 0)
    with pytest.raises(ValueError, match=r"^k must be"):
        bl.sparse_parity(3, 0, k=-1)


# --- mutation campaign seed 5 (branch mutC): every public function, values, draws, boundaries ---------


def _replay_literals(g, n, p):
    u = g.random(n)
    return np.where(u < p, 1.0, np.where(u < 2 * p, -1.0, 0.0))


def _replay_uniform(g, m, n):
    return np.where(g.random((m, n)) < 0.5, -1.0, 1.0)


def test_samplers_replay_their_documented_draws_and_defaults():
    """Each sampler's draws are pinned: rng(seed) draws the function first (literals with probability
    0.3 per sign, 0.2 for DNF terms; subsets with probability 1/2; halfspace weights uniform in
    {-3..3}; k distinct sparse-parity variables), then the uniform inputs, then the forced fraction
    0.3. Labels are recomputed here from the definitions; the default m is 70."""
    from numerics.random import rng

    n, m, seed = 6, 70, 11
    # conjunction
    g = rng(seed)
    w = _replay_literals(g, n, 0.3)
    X = _replay_uniform(g, m, n)
    forced = g.random(m) < 0.3
    X[forced] = np.where(w != 0, w, X[forced])
    t = bl.conjunction(n, seed)
    assert t.name == "conjunction" and t.n == n
    np.testing.assert_array_equal(t.params["w"], w)
    np.testing.assert_array_equal(t.X, X)
    np.testing.assert_array_equal(t.y, np.where(np.all((w == 0) | (X == w), axis=1), 1.0, -1.0))
    # disjunction
    g = rng(seed)
    w = _replay_literals(g, n, 0.3)
    X = _replay_uniform(g, m, n)
    forced = g.random(m) < 0.3
    X[forced] = np.where(w != 0, -w, X[forced])
    t = bl.disjunction(n, seed)
    assert t.name == "disjunction" and t.n == n
    np.testing.assert_array_equal(t.params["w"], w)
    np.testing.assert_array_equal(t.X, X)
    np.testing.assert_array_equal(t.y, np.where(np.any((w != 0) & (X == w), axis=1), 1.0, -1.0))
    # sparse parity (default k = 2)
    g = rng(seed)
    s = np.zeros(n, dtype=bool)
    s[g.choice(n, size=2, replace=False)] = True
    X = _replay_uniform(g, m, n)
    t = bl.sparse_parity(n, seed)
    assert t.name == "sparse_parity"
    np.testing.assert_array_equal(t.params["subset"], s)
    np.testing.assert_array_equal(t.X, X)
    np.testing.assert_array_equal(t.y, np.prod(np.where(s, X, 1.0), axis=1))
    # parity
    g = rng(seed)
    s = g.random(n) < 0.5
    X = _replay_uniform(g, m, n)
    t = bl.parity(n, seed)
    assert t.name == "parity"
    np.testing.assert_array_equal(t.params["subset"], s)
    np.testing.assert_array_equal(t.X, X)
    # majority
    g = rng(seed)
    s = g.random(n) < 0.5
    X = _replay_uniform(g, m, n)
    t = bl.majority(n, seed)
    assert t.name == "majority"
    np.testing.assert_array_equal(t.params["subset"], s)
    np.testing.assert_array_equal(t.X, X)
    np.testing.assert_array_equal(t.y, np.where((X * s).sum(axis=1) >= 0, 1.0, -1.0))
    # integer halfspace
    g = rng(seed)
    w = g.integers(-3, 4, size=n).astype(np.float64)
    X = _replay_uniform(g, m, n)
    t = bl.integer_halfspace(n, seed)
    assert t.name == "integer_halfspace"
    np.testing.assert_array_equal(t.params["w"], w)
    np.testing.assert_array_equal(t.X, X)
    np.testing.assert_array_equal(t.y, np.where(X @ w > 0.5, 1.0, -1.0))
    # 3-term DNF
    g = rng(seed)
    terms = np.stack([_replay_literals(g, n, 0.2) for _ in range(3)])
    X = _replay_uniform(g, m, n)
    rows = np.flatnonzero(g.random(m) < 0.3)
    which = g.integers(0, 3, size=rows.size)
    for r, k in zip(rows, which, strict=True):
        X[r] = np.where(terms[k] != 0, terms[k], X[r])
    t = bl.dnf3(n, seed)
    assert t.name == "dnf3"
    np.testing.assert_array_equal(t.params["terms"], terms)
    np.testing.assert_array_equal(t.X, X)
    sat = np.stack([np.all((tm == 0) | (X == tm), axis=1) for tm in terms])
    np.testing.assert_array_equal(t.y, np.where(sat.any(axis=0), 1.0, -1.0))


@pytest.mark.parametrize("sampler", SAMPLERS, ids=lambda s: s.__name__)
def test_evaluate_on_every_input_against_the_definitions(sampler):
    """task.evaluate on all 2^n inputs equals the definition computed here from task.params, for
    several seeds (majority: ties, an even subset split evenly or the empty subset, give +1)."""
    n = 4
    Z = bl.all_inputs(n)
    for seed in range(6):
        t = sampler(n, seed, 3)
        p = t.params
        if "subset" in p and t.name == "majority":
            want = np.where((Z * p["subset"]).sum(axis=1) >= 0, 1.0, -1.0)
        elif "subset" in p:
            want = np.prod(np.where(p["subset"], Z, 1.0), axis=1)
        elif t.name == "conjunction":
            want = np.where(np.all((p["w"] == 0) | (Z == p["w"]), axis=1), 1.0, -1.0)
        elif t.name == "disjunction":
            want = np.where(np.any((p["w"] != 0) & (Z == p["w"]), axis=1), 1.0, -1.0)
        elif t.name == "integer_halfspace":
            want = np.where(Z @ p["w"] > 0.5, 1.0, -1.0)
        else:
            sat = np.stack([np.all((tm == 0) | (Z == tm), axis=1) for tm in p["terms"]])
            want = np.where(sat.any(axis=0), 1.0, -1.0)
        np.testing.assert_array_equal(t.evaluate(Z), want)
        assert t.evaluate(Z).dtype == np.float64
        with pytest.raises(ValueError, match=r"^X must have 4 coordinates"):
            t.evaluate(np.ones((2, 5)))


def test_majority_ties_are_positive_and_halfspace_threshold_is_one_half():
    """An empty majority subset labels everything +1; a halfspace w.x = 1 is +1, w.x = 0 is -1."""
    for seed in range(200):
        t = bl.majority(2, seed, 4)
        if not t.params["subset"].any():
            np.testing.assert_array_equal(t.evaluate(bl.all_inputs(2)), np.ones(4))
            break
    else:  # pragma: no cover - P(no empty subset in 200 seeds) = (3/4)^200
        raise AssertionError("no empty subset drawn")
    for seed in range(200):
        t = bl.majority(2, seed, 4)
        if t.params["subset"].all():  # x = (1, -1) ties: +1
            np.testing.assert_array_equal(t.evaluate(np.array([[1.0, -1.0], [-1.0, -1.0]])), [1.0, -1.0])
            break
    for seed in range(200):
        h = bl.integer_halfspace(1, seed, 1)
        if h.params["w"][0] == 1.0:  # w.x = 1 > 1/2 at x = 1
            np.testing.assert_array_equal(h.evaluate(np.array([[1.0], [-1.0]])), [1.0, -1.0])
            break


def test_sizes_and_k_boundaries():
    """n, m >= 1 (n = m = 1 accepted, 0 rejected by name); sparse_parity needs 0 <= k <= n."""
    for sampler in SAMPLERS:
        t = sampler(2, 0, 1) if sampler is bl.sparse_parity else sampler(1, 0, 1)
        assert t.X.shape == ((1, 2) if sampler is bl.sparse_parity else (1, 1))
        with pytest.raises(ValueError, match=r"^m must be"):
            sampler(2, 0, 0)
        with pytest.raises(ValueError, match=r"^n must be"):
            sampler(0, 0, 2)
    t = bl.sparse_parity(3, 0, m=4, k=3)
    assert t.params["subset"].all()
    with pytest.raises(ValueError, match=r"^sparse_parity: k = 4 exceeds n = 3"):
        bl.sparse_parity(3, 0, k=4)


def test_input_literal_and_label_validation_is_named():
    w = np.array([1.0, 0.0, -1.0])
    assert bl.conjunction_value(w, np.array([1, 1, -1])) == 1.0          # int inputs, one input -> scalar
    assert np.ndim(bl.conjunction_value(w, np.array([1, 1, -1]))) == 0
    assert bl.conjunction_value(w, np.array([1, -1, 1], dtype=np.int8)) == -1.0
    np.testing.assert_array_equal(bl.conjunction_value(np.zeros(3), bl.all_inputs(3)), np.ones(8))
    with pytest.raises(TypeError, match=r"^X must be a real array"):
        bl.conjunction_value(w, np.array([True, True, False]))
    with pytest.raises(TypeError, match=r"^X must be a real array"):
        bl.conjunction_value(w, np.array(["1", "1", "1"]))
    with pytest.raises(ValueError, match=r"^X must be one input"):
        bl.conjunction_value(w, np.ones((2, 2, 3)))
    with pytest.raises(ValueError, match=r"^X must be one input"):
        bl.conjunction_value(w, np.float64(1.0))
    with pytest.raises(ValueError, match=r"^X must have entries in"):
        bl.conjunction_value(w, np.array([1.0, 0.0, 1.0]))
    with pytest.raises(ValueError, match=r"^X must have 3 coordinates"):
        bl.conjunction_value(w, np.ones(2))
    with pytest.raises(TypeError, match=r"^w must be an array"):
        bl.conjunction_value(np.array([True, False]), np.ones(2))
    with pytest.raises(ValueError, match=r"^w must be a non-empty 1-D"):
        bl.conjunction_value(np.zeros(0), np.ones(0))
    with pytest.raises(ValueError, match=r"^w must be a non-empty 1-D"):
        bl.teaching_sequence(np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"^w must have entries"):
        bl.teaching_sequence(np.array([0.5, 0.0]))
    el = bl.elimination_learner(2)
    el.update(np.array([1.0, 1.0]), np.int64(-1))
    el.update(np.array([1.0, 1.0]), np.float32(1.0))
    with pytest.raises(TypeError, match=r"^label y must be -1 or \+1, got bool"):
        el.update(np.ones(2), True)
    with pytest.raises(TypeError, match=r"^label y must be -1 or \+1, got str"):
        el.update(np.ones(2), "1")
    with pytest.raises(ValueError, match=r"^label y must be -1 or \+1, got 0.5"):
        el.update(np.ones(2), 0.5)


def test_all_inputs_table_and_bounds():
    np.testing.assert_array_equal(bl.all_inputs(1), [[1.0], [-1.0]])
    np.testing.assert_array_equal(bl.all_inputs(2), [[1, 1], [-1, 1], [1, -1], [-1, -1]])
    assert bl.all_inputs(3).dtype == np.float64 and bl.all_inputs(10).shape == (1024, 10)
    with pytest.raises(ValueError, match=r"^all_inputs: 2\^n rows are too many for n = 25"):
        bl.all_inputs(25)
    with pytest.raises(ValueError, match=r"^n must be"):
        bl.all_inputs(0)


def test_elimination_learner_state_counts_and_shapes():
    """Initial hypothesis: all 2n literals (contradictory, None; predicts -1); a positive example
    keeps only its own literals; mistakes and false positives are counted before the update."""
    el = bl.EliminationLearner(3)
    assert el.n == 3 and el.literals.shape == (2, 3) and el.literals.all()
    assert el.hypothesis() is None and el.mistakes == 0 and el.false_positives == 0
    np.testing.assert_array_equal(el.predict_all(bl.all_inputs(3)), -np.ones(8))
    x = np.array([1.0, -1.0, 1.0])
    assert el.predict(x) == -1
    el.update(x, 1)                                   # a false negative
    assert (el.mistakes, el.false_positives) == (1, 0)
    np.testing.assert_array_equal(el.literals, [[True, False, True], [False, True, False]])
    np.testing.assert_array_equal(el.hypothesis(), [1.0, -1.0, 1.0])
    assert el.predict(x) == 1 and el.predict(np.array([1.0, 1.0, 1.0])) == -1
    el.update(x, -1)                                  # a false positive; negatives remove nothing
    assert (el.mistakes, el.false_positives) == (2, 1)
    np.testing.assert_array_equal(el.hypothesis(), [1.0, -1.0, 1.0])
    el.update(np.array([1.0, 1.0, 1.0]), -1)          # correctly rejected: no mistake
    assert (el.mistakes, el.false_positives) == (2, 1)
    el.update(np.array([1.0, 1.0, 1.0]), 1)           # x_2 becomes free
    np.testing.assert_array_equal(el.hypothesis(), [1.0, 0.0, 1.0])
    assert (el.mistakes, el.false_positives) == (3, 1)
    assert el.predict_all(np.array([1.0, -1.0, 1.0])).shape == (1,)
    with pytest.raises(ValueError, match=r"^predict takes one input of shape \(3,\)"):
        el.predict(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"^update takes one input of shape \(3,\)"):
        el.update(np.ones((2, 3)), 1)
    with pytest.raises(ValueError, match=r"^X must have 3 coordinates"):
        el.predict_all(np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"^n must be"):
        bl.EliminationLearner(0)
    assert isinstance(bl.elimination_learner(2), bl.EliminationLearner)


def test_teaching_sequence_rows_are_the_documented_ones():
    X, y = bl.teaching_sequence(np.array([1, 0, -1]))
    np.testing.assert_array_equal(X, [[1, 1, -1], [1, -1, -1], [-1, 1, -1], [1, 1, 1]])
    np.testing.assert_array_equal(y, [1, 1, -1, -1])
    assert X.dtype == np.float64 and y.dtype == np.float64
    X, y = bl.teaching_sequence(np.zeros(2))
    np.testing.assert_array_equal(X, [[1, 1], [-1, -1]])
    np.testing.assert_array_equal(y, [1, 1])


def test_parity_learner_state_predictions_and_errors():
    """GF(2) elimination on b = (1 - x)/2, explicit: examples b = 110 (label 1) and b = 100 (0)
    give rank 2, the unique parity on the pivots {0, 1} with free variable 2 excluded: S = {1}."""
    pl = bl.ParityLearner(3)
    assert pl.n == 3 and pl.rank == 0 and not pl.determined
    assert not pl.subset().any() and pl.predict(np.array([-1.0, -1.0, -1.0])) == 1
    assert pl.fit(np.array([[-1.0, -1.0, 1.0], [-1.0, 1.0, 1.0]]), np.array([-1.0, 1.0])) is pl
    assert pl.rank == 2 and not pl.determined
    np.testing.assert_array_equal(pl.subset(), [False, True, False])
    assert pl.predict(np.array([1.0, -1.0, 1.0])) == -1 and pl.predict(np.array([-1.0, 1.0, -1.0])) == 1
    assert isinstance(pl.predict(np.ones(3)), int)
    pl.update(np.array([1.0, -1.0, 1.0]), -1)         # in the span and consistent: nothing changes
    assert pl.rank == 2
    pl.update(np.array([1.0, 1.0, -1.0]), -1)          # b = 001, label 1
    assert pl.rank == 3 and pl.determined
    np.testing.assert_array_equal(pl.subset(), [False, True, True])
    assert pl.in_span(np.array([-1.0, -1.0, -1.0]))
    with pytest.raises(ValueError, match=r"^y must have shape \(2,\)"):
        bl.parity_learner(2).fit(np.ones((2, 2)), np.ones(3))
    with pytest.raises(ValueError, match=r"^update takes one input of shape \(2,\)"):
        bl.parity_learner(2).update(np.ones((1, 2)), 1)
    with pytest.raises(ValueError, match=r"^predict takes one input of shape \(2,\)"):
        bl.parity_learner(2).predict(np.ones((1, 2)))
    with pytest.raises(ValueError, match=r"^parity_learner: the examples are inconsistent"):
        bl.parity_learner(2).update(np.ones(2), -1)   # b = 0 with label 1
    with pytest.raises(ValueError, match=r"^n must be"):
        bl.ParityLearner(0)
    assert isinstance(bl.parity_learner(2), bl.ParityLearner)


def test_gf2_span_probability_exact_values_and_bounds():
    assert bl.gf2_span_probability(2, 3) == (1 - 1 / 8) * (1 - 1 / 4)
    assert bl.gf2_span_probability(0, 4) == 1.0 and bl.gf2_span_probability(1, 0) == 0.0
    assert bl.gf2_span_probability(3, 3) == (1 - 1 / 8) * (1 - 1 / 4) * (1 - 1 / 2)
    assert isinstance(bl.gf2_span_probability(2, 2), float)
    with pytest.raises(ValueError, match=r"^n must be"):
        bl.gf2_span_probability(-1, 3)
    with pytest.raises(ValueError, match=r"^m must be"):
        bl.gf2_span_probability(1, -1)


def test_init_model_defaults_two_layer_draws_and_validation():
    """init_model's defaults are d = 32, layers = 2, heads = 2, seed = 0; with two blocks the keys of
    split(PRNGKey(seed), 4 + 4 layers) go embed, pos, read, then qkv, out, fc1, fc2 per block; b1 = 0;
    sizes are checked by name."""
    import math

    import jax

    from constructions.in_context import boolean_training as bt

    n, k = 2, 3
    p = bt.init_model(n, k)
    assert p["heads"] == 2 and len(p["blocks"]) == 2 and p["blocks"][1]["fc2"].shape == (64, 32)
    k0 = jax.random.split(jax.random.PRNGKey(0), 12)[0]   # seed 0, 4 + 4 * 2 keys
    np.testing.assert_array_equal(np.asarray(p["embed"]), np.asarray(jax.random.normal(k0, (n + 1, 32)) / math.sqrt(n + 1)))
    d = 4  # the shapes of test_init_model_draws_and_model_logits_against_a_numpy_forward: compiled once
    p = bt.init_model(n, k, d=d, layers=2, heads=2, seed=4)
    keys = jax.random.split(jax.random.PRNGKey(4), 12)
    np.testing.assert_array_equal(np.asarray(p["embed"]),
                                  np.asarray(jax.random.normal(keys[0], (n + 1, d)) / math.sqrt(n + 1)))
    for b, blk in enumerate(p["blocks"]):
        base = 3 + 4 * b
        for j, (name, shape, s) in enumerate((("qkv", (d, 3 * d), 1 / math.sqrt(d)),
                                              ("out", (d, d), 1 / math.sqrt(d)),
                                              ("fc1", (d, 2 * d), 1 / math.sqrt(d)),
                                              ("fc2", (2 * d, d), 1 / math.sqrt(2 * d)))):
            np.testing.assert_array_equal(np.asarray(blk[name]),
                                          np.asarray(s * jax.random.normal(keys[base + j], shape)))
        np.testing.assert_array_equal(np.asarray(blk["b1"]), np.zeros(2 * d))
        assert np.asarray(blk["qkv"]).dtype == np.float64
    with pytest.raises(ValueError, match=r"^d = 5 is not divisible by heads = 2"):
        bt.init_model(2, 2, d=5, heads=2)
    for kw, name in (({"n": 0}, "n"), ({"k": 0}, "k"), ({"d": 0}, "d"), ({"layers": 0}, "layers"),
                     ({"heads": 0}, "heads")):
        args = {"n": 2, "k": 2, "d": 4, "layers": 1, "heads": 1} | kw
        with pytest.raises(ValueError, match=f"^{name} must be"):
            bt.init_model(args.pop("n"), args.pop("k"), **args)
    assert bt.init_model(1, 1, d=1, layers=1, heads=1)["embed"].shape == (2, 1)


def test_encode_train_zero_steps_and_predict_errors_threshold():
    """encode_prompts validates X (B, k, n) against y (B, k); train_in_context with steps = 0 returns
    init_model(seed)'s parameters untouched (without "heads"); predict_errors counts sign(logit)
    with logit 0 read as +1 (a zero read-out predicts +1 everywhere), per position."""
    import jax.numpy as jnp

    from constructions.in_context import boolean_training as bt

    X = np.array([[[1.0, -1.0], [-1.0, -1.0], [1.0, 1.0]], [[-1.0, 1.0], [1.0, 1.0], [-1.0, -1.0]]])
    y = np.array([[1.0, -1.0, -1.0], [1.0, 1.0, -1.0]])
    tok = bt.encode_prompts(X, y)
    assert tok.shape == (2, 6, 3) and tok.dtype == np.float64
    np.testing.assert_array_equal(tok[:, 0::2, :2], X)
    np.testing.assert_array_equal(tok[:, 1::2, 2], y)
    assert not tok[:, 0::2, 2].any() and not tok[:, 1::2, :2].any()
    with pytest.raises(ValueError, match=r"^X must be \(B, k, n\) and y \(B, k\)"):
        bt.encode_prompts(X, y[:, :2])
    with pytest.raises(ValueError, match=r"^X must be \(B, k, n\)"):
        bt.encode_prompts(X[0], y[0])
    params, losses = bt.train_in_context(X, y, steps=0, batch=1, d=4, layers=1, heads=1, seed=5)
    assert "heads" not in params and losses.shape == (0,)
    p0 = bt.init_model(2, 3, d=4, layers=1, heads=1, seed=5)
    for name in ("embed", "pos", "read"):
        np.testing.assert_array_equal(np.asarray(params[name]), np.asarray(p0[name]))
    np.testing.assert_array_equal(np.asarray(params["blocks"][0]["qkv"]), np.asarray(p0["blocks"][0]["qkv"]))
    zero = dict(params, read=jnp.zeros(4))
    np.testing.assert_array_equal(bt.predict_errors(zero, X, y, heads=1), np.mean(y == -1, axis=0))
    neg = dict(params, read=-jnp.asarray(params["read"]))
    e_pos = bt.predict_errors(params, X, y, heads=1)
    e_neg = bt.predict_errors(neg, X, y, heads=1)
    np.testing.assert_array_equal(e_pos + e_neg, np.ones(3))   # no logit is 0 here: negating flips every call
    for kw, name in (({"steps": -1}, "steps"), ({"batch": 0}, "batch")):
        args = {"steps": 0, "batch": 1} | kw
        with pytest.raises(ValueError, match=f"^{name} must be"):
            bt.train_in_context(X, y, **args)
    for lr in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match=r"^learning_rate must be finite and positive"):
            bt.train_in_context(X, y, steps=0, batch=1, learning_rate=lr)
