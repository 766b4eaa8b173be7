"""Monte Carlo z-tests of expectations against closed forms (CONTRIBUTING.md section 5).

A study draws M i.i.d. samples ell_1..ell_M of a quantity whose expectation a closed form
predicts, and asks whether the sample mean is consistent with it:

    z = (mean - reference) / (s / sqrt(M)),   accept when |z| <= z_{1 - alpha / (2 m)}

where s is the sample standard deviation and m the number of such assertions in the study
(Bonferroni: the probability that *any* of the m true statements is rejected is at most alpha,
up to the CLT approximation; the samples must have a finite variance). Seeds are fixed by the
caller, so a test either always passes or always fails; ``alpha`` is the stated false-failure
probability over seeds, never a knob to be tuned until green.

Power. An acceptance "consistent with the reference" is worth only its power against the nearest
wrong alternative: if the alternative shifts the mean by ``effect`` and one sample has standard
deviation ``sd``, the test with M samples rejects it with probability

    power = Phi(mu - t) + Phi(-mu - t),   mu = |effect| sqrt(M) / sd,   t = the threshold above

(:func:`z_power`), and M = ceil(((t + z_{1 - beta}) sd / effect)^2) samples give power >= 1 - beta
(:func:`samples_for_power`). A study states alpha (false failure of the true statement) and
beta (false pass of the named alternative) and derives M from them, never the other way round.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["ZTest", "z_test", "bonferroni_threshold", "z_power", "samples_for_power"]


@dataclass(frozen=True)
class ZTest:
    """One two-sided z-test of a Monte Carlo mean against a reference value."""

    mean: float
    stderr: float
    reference: float
    z: float
    threshold: float
    samples: int

    @property
    def ok(self) -> bool:
        return bool(abs(self.z) <= self.threshold)

    def describe(self) -> str:
        return (f"MC mean {self.mean:.5g} +- {self.stderr:.2g} vs {self.reference:.5g}: "
                f"z = {self.z:+.2f} (|z| <= {self.threshold:.2f})")


def bonferroni_threshold(alpha: float, tests: int = 1) -> float:
    """z_{1 - alpha/(2 tests)}: the two-sided threshold for ``tests`` assertions at total level alpha."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    if isinstance(tests, bool) or not isinstance(tests, int | np.integer) or tests < 1:
        raise ValueError(f"tests must be a positive int, got {tests!r}")
    return float(stats.norm.isf(alpha / (2.0 * tests)))


def z_test(samples, reference: float, *, alpha: float = 1e-3, tests: int = 1) -> ZTest:
    """Two-sided z-test of mean(samples) == reference at family level alpha over ``tests`` tests."""
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim != 1 or x.size < 2:
        raise ValueError(f"z_test: samples must be 1-D with at least 2 entries, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("z_test: samples must be finite")
    if not np.isfinite(reference):
        raise ValueError(f"z_test: reference must be finite, got {reference}")
    m = x.size
    mean = float(x.mean())
    se = float(x.std(ddof=1) / np.sqrt(m))
    diff = mean - float(reference)
    if se > 0:
        z = diff / se
    else:
        z = 0.0 if diff == 0 else float(np.copysign(np.inf, diff))
    return ZTest(mean, se, float(reference), float(z), bonferroni_threshold(alpha, tests), m)


def _positive(name: str, value) -> float:
    v = float(value)
    if not np.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be finite and positive, got {value!r}")
    return v


def z_power(effect: float, sd: float, samples: int, *, alpha: float = 1e-3, tests: int = 1) -> float:
    """Probability that :func:`z_test` (same alpha, tests) rejects when the true mean is shifted
    from the reference by ``effect`` and one sample has standard deviation ``sd`` (normal
    approximation of the mean; the threshold from :func:`bonferroni_threshold`)."""
    sd = _positive("sd", sd)
    if isinstance(samples, bool) or not isinstance(samples, int | np.integer) or samples < 2:
        raise ValueError(f"samples must be an int >= 2, got {samples!r}")
    if not np.isfinite(effect):
        raise ValueError(f"effect must be finite, got {effect!r}")
    t = bonferroni_threshold(alpha, tests)
    mu = abs(float(effect)) * np.sqrt(float(samples)) / sd
    return float(stats.norm.sf(t - mu) + stats.norm.cdf(-t - mu))


def samples_for_power(effect: float, sd: float, *, alpha: float = 1e-3, tests: int = 1,
                      beta: float = 1e-3) -> int:
    """Smallest M with the one-sided approximation ((t + z_{1-beta}) sd / effect)^2 <= M: the
    z-test at family level alpha over ``tests`` rejects a mean shifted by ``effect`` with
    probability >= 1 - beta (:func:`z_power` of the returned M is >= 1 - beta)."""
    effect = _positive("|effect|", abs(float(effect)) if np.isfinite(effect) else effect)
    sd = _positive("sd", sd)
    if not 0 < beta < 1:
        raise ValueError(f"beta must lie in (0, 1), got {beta}")
    t = bonferroni_threshold(alpha, tests)
    return max(2, int(np.ceil(((t + stats.norm.isf(beta)) * sd / effect) ** 2)))
