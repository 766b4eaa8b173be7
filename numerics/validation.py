"""Input validation shared by the constructions: integers, positive reals, float64 arrays.

Paper-agnostic. Every public function in ``constructions/`` validates its inputs at the boundary
(shapes, dtypes, finiteness) and raises ``TypeError`` for a value of the wrong kind and
``ValueError`` for a value of the right kind outside its admissible range, with a message that
names the argument. These helpers are the single implementation of those checks.

Conventions:
* ``bool`` is never accepted as a number (``True`` is an ``int`` in Python, but a flag passed
  where a size is expected is a bug);
* numpy scalars are accepted (``np.int64(3)`` is an int, ``np.float32(0.5)`` a real);
* arrays must have a real numeric dtype (float, signed or unsigned int): bool, complex, object,
  string and datetime/timedelta arrays are rejected with ``TypeError``; accepted arrays are
  converted to float64 (never float32) and must be finite.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["check_int", "check_positive", "as_float_array", "as_float_matrix"]

# dtype kinds accepted as "real numeric": floating, signed integer, unsigned integer.
_REAL_KINDS = "fiu"


def _int_range_text(minimum: int) -> str:
    if minimum == 1:
        return "a positive int (>= 1)"
    if minimum == 0:
        return "a non-negative int (>= 0)"
    return f"an int >= {minimum}"


def check_int(name: str, value, minimum: int = 1, *, type_error: type[Exception] = TypeError) -> int:
    """``value`` as a Python int, after checking that it is an integer >= ``minimum``.

    Accepts Python ints and numpy integer scalars (anything registered as
    ``numbers.Integral``) except ``bool``.

    Raises ``type_error`` (``TypeError`` by default) naming ``name`` and the type when ``value``
    is not an integer, and ``ValueError`` when it is below ``minimum``. Some public functions
    have long documented a ``ValueError`` for every bad size (e.g. ``d=1.5``); they pass
    ``type_error=ValueError`` to keep that contract.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise type_error(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be {_int_range_text(minimum)}, got {value!r}")
    return int(value)


def check_positive(name: str, value) -> float:
    """``value`` as a Python float, after checking that it is a finite real number > 0.

    Accepts Python and numpy real scalars (``numbers.Real``) except ``bool``; anything else is a
    ``TypeError``. NaN, +-inf, zero and negative values are a ``ValueError``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    v = float(value)
    if not np.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be finite and positive, got {value!r}")
    return v


def _real_array(name: str, x) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype.kind not in _REAL_KINDS:
        raise TypeError(f"{name} must be a real numeric array (float or int dtype), got dtype {arr.dtype}")
    return arr


def _check_finite(name: str, arr: np.ndarray) -> np.ndarray:
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (found NaN or inf)")
    return arr


def as_float_array(name: str, x, ndim: int | tuple[int, ...] | None = None, *,
                   shape: tuple[int, ...] | None = None) -> np.ndarray:
    """``x`` as a finite float64 array, after checking its dtype and dimensions.

    * dtype must be real numeric (float / int / unsigned int), else ``TypeError``;
    * ``ndim`` (an int, or a tuple of allowed ints) and ``shape`` (an exact shape), when given,
      are checked after the conversion, else ``ValueError``;
    * every entry must be finite, else ``ValueError`` ("found NaN or inf").

    The result is a float64 array (a copy when the input was not already float64).
    """
    arr = _real_array(name, x).astype(np.float64)
    if ndim is not None:
        dims = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in dims:
            raise ValueError(f"{name} must have ndim in {dims}, got shape {arr.shape}")
    if shape is not None and arr.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {arr.shape}")
    return _check_finite(name, arr)


def as_float_matrix(name: str, x) -> np.ndarray:
    """``x`` as a finite float64 matrix with at least one row and one column.

    Same dtype and finiteness rules as :func:`as_float_array`; a ``ValueError`` unless ``x`` is
    2-D with shape (L, d), L >= 1 and d >= 1 (e.g. a sequence of L tokens of dimension d).
    """
    arr = _real_array(name, x)
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"{name} must be 2-D (L >= 1, d >= 1), got shape {arr.shape}")
    return _check_finite(name, arr.astype(np.float64))


def as_square_matrix(name: str, x) -> np.ndarray:
    """``x`` as a finite float64 square matrix (n x n, n >= 1); same dtype rules as
    :func:`as_float_array` (``TypeError`` for a complex or non-numeric dtype)."""
    arr = _real_array(name, x)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] < 1:
        raise ValueError(f"{name} must be a non-empty square matrix, got shape {arr.shape}")
    return _check_finite(name, arr.astype(np.float64))
