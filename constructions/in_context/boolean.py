"""In-context learning of Boolean functions: task samplers and the optimal learners of
Bhattamishra, Patel, Blunsom & Kanade, "Understanding In-Context Learning in Transformers and LLMs by
Learning to Learn Discrete Functions" (ICLR 2024, arXiv 2310.03016), Sections 3-4.

Conventions (as in the paper): inputs x in {-1, +1}^n, labels y in {-1, +1}. A conjunction is a
literal vector w in {-1, 0, +1}^n: w_i = +1 requires x_i = +1, w_i = -1 requires x_i = -1, w_i = 0
leaves x_i free; f_w(x) = +1 iff every required literal holds (w = 0 is the constant +1). Parities
use the bits b_i = (1 - x_i)/2: the parity of the subset S is +1 iff sum_{i in S} b_i is even, i.e.
y = prod_{i in S} x_i.

Task samplers ``conjunction, disjunction, sparse_parity, parity, majority, integer_halfspace,
dnf3(n, seed, m=...)`` draw one function of the class and m labelled examples, returned as a
:class:`BooleanTask` (X of shape (m, n), y of shape (m,), both float64 in {-1, +1}, plus the
function's parameters and a vectorised ``evaluate``). The function distributions follow the
paper's Appendix description: each variable enters a conjunction / disjunction as a positive or
a negative literal with probability 0.3 each; a 3-term DNF has three such terms with probability
0.2 each; for conjunctions and DNFs a fraction 0.3 of the inputs is redrawn to satisfy the function
(a satisfying term) and for disjunctions to falsify it, so that both labels occur; sparse parities
have k = 2 relevant variables; parity and majority use a uniform random subset (each variable with
probability 1/2); integer halfspaces have w_i uniform in {-3, ..., 3} and y = sign(w.x - 1/2).
Majority ties (an even subset split evenly, or the empty subset) are labelled +1. All other inputs
are uniform on {-1, +1}^n.

Learners:
* :func:`elimination_learner` -- Valiant's elimination algorithm: the hypothesis is the
  conjunction of every literal not yet contradicted by a positive example (initially all 2n,
  the constant -1); online, predict then update.
* :func:`teaching_sequence` -- the teaching set of a conjunction with k relevant literals: two
  positive examples (relevant bits satisfied, the irrelevant bits all +1, then all -1) and one
  negative example per relevant literal (the first positive example with that bit flipped): k + 2
  examples. For k = n the two positive examples coincide.
* :func:`parity_learner` -- Gaussian elimination over GF(2): keeps a row-echelon basis of the seen
  inputs (as bit vectors) with their labels; an input in their span has a determined label, any
  other is predicted with the particular solution (free variables 0).
* :func:`gf2_span_probability` -- P(m uniform vectors span GF(2)^n) = prod_{i=0}^{n-1}(1 - 2^{i-m}).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from math import prod

import numpy as np

from numerics.random import rng
from numerics.validation import check_int

__all__ = [
    "BooleanTask",
    "conjunction",
    "disjunction",
    "sparse_parity",
    "parity",
    "majority",
    "integer_halfspace",
    "dnf3",
    "conjunction_value",
    "elimination_learner",
    "EliminationLearner",
    "teaching_sequence",
    "parity_learner",
    "ParityLearner",
    "gf2_span_probability",
    "all_inputs",
]

LITERAL_PROBABILITY = 0.3   # each sign, per variable, conjunctions / disjunctions
DNF_LITERAL_PROBABILITY = 0.2
FORCED_FRACTION = 0.3       # inputs redrawn to satisfy (conj., DNF) or falsify (disj.) the target
HALFSPACE_RANGE = 3
SPARSE_K = 2
DEFAULT_M = 70


@dataclass(frozen=True)
class BooleanTask:
    """One drawn function and its examples: X (m, n) and y (m,) in {-1, +1} (float64)."""

    name: str
    n: int
    X: np.ndarray
    y: np.ndarray
    params: dict = field(default_factory=dict)
    evaluate: Callable[[np.ndarray], np.ndarray] | None = None


def _check_inputs(name: str, X, n: int | None = None) -> np.ndarray:
    arr = np.asarray(X)
    if arr.dtype.kind not in "fiu":
        raise TypeError(f"{name} must be a real array of -1/+1 entries, got dtype {arr.dtype}")
    if arr.ndim not in (1, 2):
        raise ValueError(f"{name} must be one input (n,) or a batch (m, n), got shape {arr.shape}")
    if n is not None and arr.shape[-1] != n:
        raise ValueError(f"{name} must have {n} coordinates, got shape {arr.shape}")
    if not np.all((arr == 1) | (arr == -1)):
        raise ValueError(f"{name} must have entries in {{-1, +1}}")
    return arr.astype(np.float64)


def _check_label(y) -> float:
    if isinstance(y, bool) or not isinstance(y, int | float | np.integer | np.floating):
        raise TypeError(f"label y must be -1 or +1, got {type(y).__name__}")
    if y not in (-1, 1):
        raise ValueError(f"label y must be -1 or +1, got {y!r}")
    return float(y)


def _check_literals(w) -> np.ndarray:
    arr = np.asarray(w)
    if arr.dtype.kind not in "fiu":
        raise TypeError(f"w must be an array with entries in {{-1, 0, +1}}, got dtype {arr.dtype}")
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"w must be a non-empty 1-D literal vector, got shape {arr.shape}")
    if not np.all((arr == -1) | (arr == 0) | (arr == 1)):
        raise ValueError("w must have entries in {-1, 0, +1}")
    return arr.astype(np.float64)


def conjunction_value(w, X) -> np.ndarray:
    """f_w(X) in {-1, +1} for a literal vector w and inputs X (n,) or (m, n)."""
    w = _check_literals(w)
    X = _check_inputs("X", X, w.size)
    # x satisfies w iff w.x = ||w||_1 (each required literal contributes +1, never more).
    ok = (np.atleast_2d(X) @ w) == np.sum(np.abs(w))
    out = np.where(ok, 1.0, -1.0)
    return out if X.ndim == 2 else out[0]


def all_inputs(n: int) -> np.ndarray:
    """All 2^n inputs of {-1, +1}^n, (2^n, n), in binary order (bit j of the row index -> x_j = -1)."""
    n = check_int("n", n, 1)
    if n > 24:
        raise ValueError(f"all_inputs: 2^n rows are too many for n = {n} > 24")
    idx = np.arange(2**n)[:, None]
    return np.where((idx >> np.arange(n)) & 1, -1.0, 1.0)


def _uniform(g, m, n):
    return np.where(g.random((m, n)) < 0.5, -1.0, 1.0)


def _draw_literals(g, n, p):
    u = g.random(n)
    return np.where(u < p, 1.0, np.where(u < 2 * p, -1.0, 0.0))


def _sizes(n, m):
    return check_int("n", n, 1), check_int("m", m, 1)


def conjunction(n: int, seed, m: int = DEFAULT_M) -> BooleanTask:
    """A random conjunction (literal vector w) and m examples, a fraction 0.3 of them positive by
    construction (relevant bits set to satisfy w), the others uniform."""
    n, m = _sizes(n, m)
    g = rng(seed)
    w = _draw_literals(g, n, LITERAL_PROBABILITY)
    X = _uniform(g, m, n)
    forced = g.random(m) < FORCED_FRACTION
    X[forced] = np.where(w != 0, w, X[forced])
    return BooleanTask("conjunction", n, X, conjunction_value(w, X), {"w": w},
                       lambda Z, w=w: conjunction_value(w, Z))


def disjunction(n: int, seed, m: int = DEFAULT_M) -> BooleanTask:
    """A random disjunction OR_i [x_i = w_i] over the literals w != 0 (empty: the constant -1);
    a fraction 0.3 of the inputs negative by construction (every literal falsified)."""
    n, m = _sizes(n, m)
    g = rng(seed)
    w = _draw_literals(g, n, LITERAL_PROBABILITY)
    X = _uniform(g, m, n)
    forced = g.random(m) < FORCED_FRACTION
    X[forced] = np.where(w != 0, -w, X[forced])

    def evaluate(Z, w=w):
        Z = _check_inputs("X", Z, n)
        # NOT(OR of literals) = AND of the negated literals.
        return -conjunction_value(-w, Z)

    return BooleanTask("disjunction", n, X, evaluate(X), {"w": w}, evaluate)


def _parity_task(name, n, g, m, subset):
    X = _uniform(g, m, n)

    def evaluate(Z, s=subset):
        Z = _check_inputs("X", Z, n)
        return np.prod(np.where(s, Z, 1.0), axis=-1)

    return BooleanTask(name, n, X, evaluate(X), {"subset": subset}, evaluate)


def sparse_parity(n: int, seed, m: int = DEFAULT_M, k: int = SPARSE_K) -> BooleanTask:
    """A parity of exactly k (default 2) uniformly chosen variables, uniform inputs."""
    n, m = _sizes(n, m)
    k = check_int("k", k, 0)
    if k > n:
        raise ValueError(f"sparse_parity: k = {k} exceeds n = {n}")
    g = rng(seed)
    subset = np.zeros(n, dtype=bool)
    subset[g.choice(n, size=k, replace=False)] = True
    return _parity_task("sparse_parity", n, g, m, subset)


def parity(n: int, seed, m: int = DEFAULT_M) -> BooleanTask:
    """A parity of a uniform random subset of the n variables (each with probability 1/2)."""
    n, m = _sizes(n, m)
    g = rng(seed)
    return _parity_task("parity", n, g, m, g.random(n) < 0.5)


def majority(n: int, seed, m: int = DEFAULT_M) -> BooleanTask:
    """sign(sum_{i in S} x_i) for a uniform random subset S; ties (sum 0) are labelled +1."""
    n, m = _sizes(n, m)
    g = rng(seed)
    subset = g.random(n) < 0.5
    X = _uniform(g, m, n)

    def evaluate(Z, s=subset):
        Z = _check_inputs("X", Z, n)
        return np.where(np.where(s, Z, 0.0).sum(axis=-1) >= 0, 1.0, -1.0)

    return BooleanTask("majority", n, X, evaluate(X), {"subset": subset}, evaluate)


def integer_halfspace(n: int, seed, m: int = DEFAULT_M) -> BooleanTask:
    """sign(w.x - 1/2) with w_i uniform in {-3, ..., 3} (w.x is an integer, so no ties)."""
    n, m = _sizes(n, m)
    g = rng(seed)
    w = g.integers(-HALFSPACE_RANGE, HALFSPACE_RANGE + 1, size=n).astype(np.float64)
    X = _uniform(g, m, n)

    def evaluate(Z, w=w):
        Z = _check_inputs("X", Z, n)
        return np.where(Z @ w - 0.5 > 0, 1.0, -1.0)

    return BooleanTask("integer_halfspace", n, X, evaluate(X), {"w": w}, evaluate)


def dnf3(n: int, seed, m: int = DEFAULT_M) -> BooleanTask:
    """A 3-term DNF (OR of three conjunctions, literals with probability 0.2 per sign); a fraction
    0.3 of the inputs is redrawn to satisfy a uniformly chosen term."""
    n, m = _sizes(n, m)
    g = rng(seed)
    terms = np.stack([_draw_literals(g, n, DNF_LITERAL_PROBABILITY) for _ in range(3)])
    X = _uniform(g, m, n)
    forced = np.flatnonzero(g.random(m) < FORCED_FRACTION)
    which = g.integers(0, 3, size=forced.size)
    for r, t in zip(forced, which, strict=True):
        X[r] = np.where(terms[t] != 0, terms[t], X[r])

    def evaluate(Z, terms=terms):
        Z = _check_inputs("X", Z, n)
        vals = np.stack([conjunction_value(t, Z) for t in terms])
        return np.where(np.any(vals == 1, axis=0), 1.0, -1.0)

    return BooleanTask("dnf3", n, X, evaluate(X), {"terms": terms}, evaluate)


class EliminationLearner:
    """Valiant's elimination algorithm (online). ``literals`` is a (2, n) bool array: row 0 = the
    literals x_i = +1 still in the hypothesis, row 1 = the literals x_i = -1. ``mistakes`` counts
    the updates whose example the pre-update hypothesis labelled wrongly."""

    def __init__(self, n: int):
        self.n = check_int("n", n, 1)
        self.literals = np.ones((2, self.n), dtype=bool)
        self.mistakes = 0
        self.false_positives = 0

    def predict(self, x) -> int:
        x = _check_inputs("x", x, self.n)
        if x.ndim != 1:
            raise ValueError(f"predict takes one input of shape ({self.n},), got {x.shape}")
        violated = (self.literals[0] & (x == -1)) | (self.literals[1] & (x == 1))
        return -1 if violated.any() else 1

    def update(self, x, y) -> None:
        x = _check_inputs("x", x, self.n)
        if x.ndim != 1:
            raise ValueError(f"update takes one input of shape ({self.n},), got {x.shape}")
        y = _check_label(y)
        guess = self.predict(x)
        if guess != y:
            self.mistakes += 1
            self.false_positives += int(guess == 1)
        if y == 1:
            # Remove every literal that the positive example contradicts.
            self.literals[0] &= x == 1
            self.literals[1] &= x == -1

    def hypothesis(self) -> np.ndarray | None:
        """The hypothesis as a literal vector w, or None while it is contradictory (constant -1)."""
        if np.any(self.literals[0] & self.literals[1]):
            return None
        return self.literals[0].astype(np.float64) - self.literals[1].astype(np.float64)

    def predict_all(self, X) -> np.ndarray:
        X = _check_inputs("X", X, self.n)
        X = np.atleast_2d(X)
        violated = (self.literals[0] & (X == -1)) | (self.literals[1] & (X == 1))
        return np.where(violated.any(axis=1), -1.0, 1.0)


def elimination_learner(n: int) -> EliminationLearner:
    """A fresh elimination learner on n variables (hypothesis: all 2n literals)."""
    return EliminationLearner(n)


def teaching_sequence(w) -> tuple[np.ndarray, np.ndarray]:
    """The teaching set of the conjunction w (k = number of non-zero w_i): (X (k + 2, n), y (k + 2,)).

    Rows: [relevant bits = w, irrelevant = +1] (y = +1), [relevant = w, irrelevant = -1] (y = +1),
    then for each relevant i in increasing order the first row with bit i flipped (y = -1)."""
    w = _check_literals(w)
    rel = np.flatnonzero(w)
    p1 = np.where(w != 0, w, 1.0)
    p2 = np.where(w != 0, w, -1.0)
    rows, labels = [p1, p2], [1.0, 1.0]
    for i in rel:
        neg = p1.copy()
        neg[i] = -neg[i]
        rows.append(neg)
        labels.append(-1.0)
    return np.array(rows), np.array(labels)


class ParityLearner:
    """Gaussian elimination over GF(2) on the bits b = (1 - x)/2 (online or batch via ``fit``).

    Keeps a reduced basis {pivot column: (row bits, label bit)} of the seen examples. ``rank`` is
    the dimension of their span, ``determined`` is rank == n, ``subset()`` a particular consistent
    parity (free variables 0). An inconsistent example (no parity fits the data) raises ValueError."""

    def __init__(self, n: int):
        self.n = check_int("n", n, 1)
        self._basis: dict[int, tuple[np.ndarray, int]] = {}

    @property
    def rank(self) -> int:
        return len(self._basis)

    @property
    def determined(self) -> bool:
        return self.rank == self.n

    def _reduce(self, bits: np.ndarray, label: int) -> tuple[np.ndarray, int]:
        bits = bits.copy()
        for piv, (row, lab) in self._basis.items():
            if bits[piv]:
                bits ^= row
                label ^= lab
        return bits, label

    def update(self, x, y) -> None:
        x = _check_inputs("x", x, self.n)
        if x.ndim != 1:
            raise ValueError(f"update takes one input of shape ({self.n},), got {x.shape}")
        y = _check_label(y)
        bits, label = self._reduce(x == -1, int(y == -1))
        nz = np.flatnonzero(bits)
        if nz.size == 0:
            if label:
                raise ValueError("parity_learner: the examples are inconsistent with every parity")
            return
        piv = int(nz[0])
        # Keep the basis fully reduced: eliminate the new pivot from the other rows.
        for p, (row, lab) in list(self._basis.items()):
            if row[piv]:
                self._basis[p] = (row ^ bits, lab ^ label)
        self._basis[piv] = (bits, label)

    def fit(self, X, y) -> ParityLearner:
        X = np.atleast_2d(_check_inputs("X", X, self.n))
        y = np.asarray(y)
        if y.shape != (X.shape[0],):
            raise ValueError(f"y must have shape ({X.shape[0]},), got {y.shape}")
        for xi, yi in zip(X, y, strict=True):
            self.update(xi, float(yi))
        return self

    def subset(self) -> np.ndarray:
        """A parity consistent with every example seen (bool mask; free variables excluded)."""
        s = np.zeros(self.n, dtype=bool)
        for piv, (_, lab) in self._basis.items():
            s[piv] = bool(lab)
        return s

    def in_span(self, x) -> bool:
        x = _check_inputs("x", x, self.n)
        bits, _ = self._reduce(x == -1, 0)
        return not bits.any()

    def predict(self, x) -> int:
        x = _check_inputs("x", x, self.n)
        if x.ndim != 1:
            raise ValueError(f"predict takes one input of shape ({self.n},), got {x.shape}")
        return int(np.prod(np.where(self.subset(), x, 1.0)))


def parity_learner(n: int) -> ParityLearner:
    """A fresh GF(2) Gaussian-elimination parity learner on n variables."""
    return ParityLearner(n)


def gf2_span_probability(n: int, m: int) -> float:
    """P(m independent uniform vectors of GF(2)^n span GF(2)^n) = prod_{i=0}^{n-1} (1 - 2^{i-m})
    (0 for m < n; 1 for n = 0)."""
    n = check_int("n", n, 0)
    m = check_int("m", m, 0)
    if m < n:
        return 0.0
    return float(prod(1.0 - 2.0 ** (i - m) for i in range(n)))
