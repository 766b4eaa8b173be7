"""Shared helpers of the calibration family: the composite trapezoid rule and its first-order
negative control (a left-endpoint rule sold as the trapezoid rule)."""

from __future__ import annotations

import numpy as np

from numerics.quadrature import trapezoid_nodes_weights


def trapezoid_rule(f, a, b, n):
    """The composite trapezoid rule with n panels on [a, b] (nodes and weights from numerics)."""
    x, w = trapezoid_nodes_weights(a, b, n)
    return float(np.dot(w, f(x)))


def left_endpoint_rule(f, a, b, n):
    """Negative control: weights h on x_0..x_{n-1} (a first-order rule sold as the trapezoid)."""
    x = np.linspace(a, b, n + 1)[:-1]
    return float(np.sum(f(x)) * (b - a) / n)
