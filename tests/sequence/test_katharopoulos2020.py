"""katharopoulos2020 claims: holds for several seeds; the masked controls fail for several seeds."""

import pytest

from theorems.registry import get

CLAIM = "katharopoulos2020.causal_rnn"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_causal_rnn_holds(seed):
    v = get(CLAIM).check("fast", seed)
    assert v.holds, v.measured
    assert v.evidence["max_ratio"] < 1.0


@pytest.mark.parametrize("seed", [1, 2])
def test_controls_rejected(seed):
    for name, v in get(CLAIM).run_controls("fast", seed).items():
        assert not v.holds, f"{name}: {v.measured}"


def test_plot_draws():
    c = get(CLAIM)
    fig = c.plot(c.check("fast", 0))
    assert fig.axes


@pytest.mark.slow
def test_full_profile():
    assert get(CLAIM).check("full", 0).holds
