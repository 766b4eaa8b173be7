"""Test configuration: float64 JAX before any array, hypothesis profiles, the slow marker.

Hypothesis loads its own built-in ``ci`` profile whenever a CI variable is set, so ours are
registered under the same names and loaded explicitly from HYPOTHESIS_PROFILE (default ``ci``).

The verdict cache is pointed at a fresh temporary folder for the whole run (and the CLI
subprocesses the tests start, which inherit the environment): a test must never reuse a verdict
that an earlier ``make appendix`` left in ~/.cache/theorycheck, nor leave entries there.
"""

import atexit
import os
import shutil
import tempfile

from hypothesis import HealthCheck, settings

import numerics  # noqa: F401  (switches JAX to float64 first)

_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("ci", derandomize=True, max_examples=25, print_blob=True, **_COMMON)
settings.register_profile("dev", max_examples=25, **_COMMON)
settings.register_profile("thorough", max_examples=500, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

_CACHE = tempfile.mkdtemp(prefix="theorycheck-test-cache-")
os.environ["THEORYCHECK_CACHE"] = _CACHE
atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)
