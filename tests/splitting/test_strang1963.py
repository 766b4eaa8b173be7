"""strang1963: the averaged Lie step at other seeds and on the particle system."""

import numpy as np

from numerics.flows import rk4_flow
from numerics.rates import observed_order
from numerics.splitting import global_errors, lie_trotter, symmetrized_lie
from theorems.registry import get
from theorems.splitting import lu2019


def test_holds_at_other_seeds():
    for seed in (3, 4):
        v = get("strang1963.symmetrized_lie_order2").check("fast", seed)
        assert v.holds, v.measured


def test_averaged_lie_on_the_particle_system():
    s, X = lu2019.particle_problem("fast", 1)
    F, G = lu2019.fields(s)
    ref = lu2019.reference_solution(s, X, 1.0)
    ns = 2 ** np.arange(1, 9)
    for step, p in ((symmetrized_lie(rk4_flow(F), rk4_flow(G)), 2.0), (lie_trotter(rk4_flow(F), rk4_flow(G)), 1.0)):
        fit = observed_order(1.0 / ns, global_errors(step, X, 1.0, ns, ref), expected=p)
        assert fit.regime == "algebraic" and fit.contains(p), fit.describe()
        assert not fit.contains(3.0 - p), fit.describe()
