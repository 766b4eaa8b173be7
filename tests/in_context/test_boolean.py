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
