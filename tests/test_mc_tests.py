"""numerics/mc_tests.py: z-tests of Monte Carlo means with Bonferroni thresholds."""

import numpy as np
import pytest

from numerics.mc_tests import bonferroni_threshold, z_test


def test_thresholds():
    assert bonferroni_threshold(0.05) == pytest.approx(1.959964, rel=1e-6)
    assert bonferroni_threshold(0.05, 5) == pytest.approx(2.575829, rel=1e-6)  # alpha/10 two-sided


def test_accepts_true_mean_and_rejects_shifted_mean():
    x = np.random.default_rng(0).standard_normal(10_000)
    assert z_test(x, 0.0).ok
    assert not z_test(x + 0.1, 0.0).ok
    t = z_test(x, 0.0, alpha=1e-3, tests=4)
    assert t.samples == 10_000 and "z =" in t.describe()


def test_false_rejection_rate_is_near_alpha():
    """400 fixed seeds at alpha = 0.1: the number of rejections is Binomial(400, 0.1) (mean 40,
    sd 6); [15, 65] holds with probability > 1 - 1e-4."""
    rejections = sum(not z_test(np.random.default_rng(s).standard_normal(200), 0.0, alpha=0.1).ok
                     for s in range(400))
    assert 15 <= rejections <= 65


def test_degenerate_and_invalid():
    assert z_test(np.ones(5), 1.0).ok
    assert not z_test(np.ones(5), 0.0).ok
    with pytest.raises(ValueError):
        z_test([1.0], 0.0)
    with pytest.raises(ValueError):
        z_test([1.0, np.nan], 0.0)
    with pytest.raises(ValueError):
        z_test([1.0, 2.0], np.inf)
    with pytest.raises(ValueError):
        bonferroni_threshold(1.5)
    with pytest.raises(ValueError):
        bonferroni_threshold(0.1, 0)


def test_power_and_sample_size_are_consistent():
    from numerics.mc_tests import samples_for_power, z_power

    # at zero effect the "power" is the size alpha; at the derived M it is >= 1 - beta
    assert z_power(0.0, 1.0, 100, alpha=0.05) == pytest.approx(0.05, rel=1e-9)
    M = samples_for_power(0.1, 1.0, alpha=1e-3, tests=3, beta=1e-3)
    t = bonferroni_threshold(1e-3, 3)
    assert M == int(np.ceil(((t + 3.090232306) / 0.1) ** 2))
    assert z_power(0.1, 1.0, M, alpha=1e-3, tests=3) >= 1 - 1e-3
    assert z_power(0.1, 1.0, M - 50, alpha=1e-3, tests=3) < 1 - 1e-3
    with pytest.raises(ValueError):
        samples_for_power(0.0, 1.0)
    with pytest.raises(ValueError):
        z_power(0.1, -1.0, 10)


def test_power_predicts_the_rejection_rate():
    """effect/sd chosen for power 0.5 at M = 100: 400 seeds reject Binomial(400, p) times with p
    from z_power; within 5 sd of the mean."""
    from numerics.mc_tests import z_power

    t = bonferroni_threshold(0.05)
    effect = t / 10.0  # mu = t: power ~ 0.5
    p = z_power(effect, 1.0, 100, alpha=0.05)
    rej = sum(not z_test(np.random.default_rng(s).standard_normal(100) + effect, 0.0, alpha=0.05).ok
              for s in range(400))
    sd = np.sqrt(400 * p * (1 - p))
    assert abs(rej - 400 * p) <= 5 * sd, (rej, 400 * p)
