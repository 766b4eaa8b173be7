"""The rule itself, beside the claims that the theorycheck plugin collects (`pytest` runs both)."""

import numpy as np
import pytest
from theorycheck_simpson.claims import composite_simpson


def test_simpson_integrates_x_cubed_exactly():
    assert composite_simpson(lambda x: x**3, 0.0, 2.0, 4) == pytest.approx(4.0, rel=1e-15)


def test_odd_panel_count_is_rejected():
    with pytest.raises(ValueError, match="even"):
        composite_simpson(np.exp, 0.0, 1.0, 3)
