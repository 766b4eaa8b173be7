"""Monte Carlo z-tests of expectations against closed forms (CONTRIBUTING.md section 5).

A study draws M i.i.d. samples ell_1..ell_M of a quantity whose expectation a closed form
predicts, and asks whether the sample mean is consistent with it:

    z = (mean - reference) / (s / sqrt(M)),   accept when |z| <= z_{1 - alpha / (2 m)}

where s is the sample standard deviation and m the number of such assertions in the study
(Bonferroni: the probability that *any* of the m true statements is rejected is at most alpha,
up to the CLT approximation; the samples must have a finite variance). Seeds are fixed by the
caller, so a test either always passes or always fails; ``alpha`` is the stated false-failure
probability over seeds, never a knob to be tuned until green.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["ZTest", "z_test", "bonferroni_threshold"]


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
