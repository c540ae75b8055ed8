"""Numba compilation for the hot loops, typed for mypy and cached on disk.

``cache=True`` stores the machine code next to the module, so a machine compiles each kernel
once (a few seconds) and later processes load it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from numba import njit

F = TypeVar("F", bound=Callable[..., Any])


def jit(fn: F) -> F:
    """Compile ``fn`` with Numba (nopython, cached)."""
    return cast(F, njit(cache=True)(fn))


def inline(fn: F) -> F:
    """Compile a small helper that is inlined into its callers: a call that passes many
    arrays costs more than the work inside."""
    return cast(F, njit(cache=True, inline="always")(fn))
