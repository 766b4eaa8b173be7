"""Liu, Datta, Li & Beerel (ICLR 2024), LMUFormer: the LMU memory trained in parallel.

LMUFormer keeps the LMU memory of Voelker et al. (2019) (see :mod:`theorems.sequence.voelker2019`) with the
zero-order-hold discretisation m_t = Abar m_{t-1} + Bbar u_t, and trains it in parallel: unrolled
from m_{-1} = 0 the recurrence is the causal convolution

    m_t = sum_{k=0}^{t} H_k u_{t-k},    H_k = Abar^k Bbar,

which is evaluated with the FFT (zero-padded to length >= 2T - 1 so that the circular convolution
equals the linear one). Claim checked:

* ``fft_convolution`` -- the FFT convolution equals the step-by-step recurrence to a derived
  tolerance, over drawn orders, windows, steps and sequence lengths. Negative control: the FFT
  without zero padding (a circular convolution: the tail wraps around onto the head).

Construction: :func:`constructions.sequence.lmu.lmu_convolution`; reference: the plain loop
:func:`constructions.sequence.lmu.lmu_recurrence` (the definition of the recurrence).
"""

from __future__ import annotations

from functools import partial

import numpy as np

from constructions.sequence.lmu import (
    impulse_response,
    lmu_convolution,
    lmu_matrices,
    lmu_recurrence,
    zoh_discretise,
)
from numerics.random import rng
from numerics.tolerance import compare
from theorems.judges import identity_verdict, plot_identity
from theorems.registry import Claim, Verdict, register


def study_fft_convolution(profile: str, seed: int, pad: bool = True) -> Verdict:
    """FFT convolution vs the recurrence on Gaussian input sequences.

    Tolerance c * eps * size * cond with size = d + log2(n_fft) (the loop's d-term products at each
    step; the FFT's O(log n) error growth per entry) and cond = sum_k ||H_k||_inf ||u||_inf / ||m||_inf
    (the convolution sum's cancellation factor, which also bounds the propagation of the loop's
    rounding through the contracting Abar); c = 2.
    """
    g = rng(seed)
    count = 12 if profile == "fast" else 60
    cases = []
    for _ in range(count):
        d = int(g.integers(1, 25))
        theta = float(g.uniform(0.1, 5.0))
        dt = float(theta * 10 ** g.uniform(-3, -0.3))
        T = int(g.integers(2, 600 if profile == "fast" else 4000))
        A, B = lmu_matrices(d, theta)
        Abar, Bbar = zoh_discretise(A, B, dt)
        u = g.standard_normal(T)
        ref = lmu_recurrence(Abar, Bbar, u)
        got = lmu_convolution(Abar, Bbar, u, pad=pad)
        H = impulse_response(Abar, Bbar, T)
        cond = float(np.abs(H).max(axis=1).sum() * np.abs(u).max() / np.abs(ref).max())
        size = d + np.log2(2 * T)
        cases.append((f"d={d}, T={T}, dt/theta={dt / theta:.2g}", compare(got, ref, size=size, cond=cond, c=2.0)))
    return identity_verdict(cases, expected="FFT convolution = recurrence, rel. error <= 2 eps (d + log2 2T) cond")


register(Claim(
    id="liu2024.fft_convolution",
    paper="liu2024",
    where="LMU block: parallel training of the memory as a convolution (after Chilkuri & Eliasmith 2021)",
    statement="The LMU memory m_t = Abar m_{t-1} + Bbar u_t (m_{-1} = 0) equals the causal convolution of u "
              "with the impulse response H_k = Abar^k Bbar, which can be evaluated for the whole sequence "
              "at once by FFT.",
    kind="identity",
    expected="FFT convolution = step-by-step recurrence within 2 eps (d + log2 2T) cond",
    study=study_fft_convolution,
    plot=plot_identity,
    controls={"circular convolution (no zero padding)": partial(study_fft_convolution, pad=False)},
))
