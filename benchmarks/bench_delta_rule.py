"""DeltaNet (Yang et al., NeurIPS 2024): chunkwise (WY/UT) vs recurrent delta rule, numpy float64.

For growing sequence length L (fixed d_k = d_v = d and chunk C) both forms run in the same process;
reported are the time ratio chunkwise / recurrent (best of ``repeats``) and the exact FLOP counts
of both (2 per multiply-add; formulas in :mod:`constructions.sequence.delta_rule`, checked against an
instrumented count by the claim ``yang2024.flop_count``). The chunkwise form does more FLOPs
(an O(L C d) overhead) but in C-row matrix products instead of L matrix-vector steps, so on a
CPU the time ratio falls well below the FLOP ratio. Absolute times are machine-dependent; only the
ratios measured in one run are meaningful.

Run with ``OPENBLAS_NUM_THREADS=1`` (set before Python starts) on a shared or busy machine: with
multi-threaded BLAS under contention the small C x C products of the chunkwise form pay thread
synchronisation that the recurrence's matrix-vector steps do not (measured here: time ratio 0.3
single-threaded vs 1-10 multi-threaded at load 3 on 2 cores). The setting is recorded in the result.
"""

from __future__ import annotations

import os
import time

import numpy as np

import constructions.sequence.delta_rule as dr


def _interleaved_times(fns, repeats: int) -> list[float]:
    """Best-of-``repeats`` wall time of each function, the functions alternated within each repeat
    so that a change of machine load affects both alike (the ratio is what is reported)."""
    best = [np.inf] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - t0)
    return best


def run(quick: bool = False) -> dict:
    d = 16 if quick else 64
    C = 16 if quick else 64
    lengths = [128, 512] if quick else [256, 1024, 4096, 16384]
    repeats = 3 if quick else 7
    g = np.random.default_rng(0)
    rows = []
    for L in lengths:
        q = g.standard_normal((L, d)) / np.sqrt(d)
        k = g.standard_normal((L, d))
        k /= np.linalg.norm(k, axis=1, keepdims=True)
        v = g.standard_normal((L, d))
        beta = g.uniform(0, 1, L)
        t_rec, t_chk = _interleaved_times([lambda q=q, k=k, v=v, b=beta: dr.recurrent(q, k, v, b),
                                           lambda q=q, k=k, v=v, b=beta: dr.chunkwise(q, k, v, b, C)], repeats)
        f_rec = dr.recurrent_flops(L, d, d)
        f_chk = dr.chunkwise_flops(L, C, d, d)
        rows.append({"L": L, "d_k": d, "d_v": d, "chunk": C, "t_recurrent_s": t_rec, "t_chunkwise_s": t_chk,
                     "time_ratio_chunk_over_rec": t_chk / t_rec, "flops_recurrent": f_rec,
                     "flops_chunkwise": f_chk, "flop_ratio_chunk_over_rec": f_chk / f_rec})
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "unset")
    return {"rows": rows, "openblas_num_threads": threads,
            "note": f"numpy float64, single process, OPENBLAS_NUM_THREADS={threads}; ratios measured in one run"}


def describe(result: dict) -> str:
    lines = [f"{'L':>7} {'d':>4} {'C':>4} {'t_chunk/t_rec':>14} {'FLOPs rec':>14} {'FLOPs chunk':>14} {'FLOP ratio':>11}"]
    for r in result["rows"]:
        lines.append(f"{r['L']:>7} {r['d_k']:>4} {r['chunk']:>4} {r['time_ratio_chunk_over_rec']:>14.4f} "
                     f"{r['flops_recurrent']:>14d} {r['flops_chunkwise']:>14d} {r['flop_ratio_chunk_over_rec']:>11.4f}")
    lines.append(result["note"])
    return "\n".join(lines)
