"""Exact critical values for run-chart rules, computed with integer arithmetic (no scipy).

Both the vectorised engine and the per-series reference loop look limits up here, so the
numbers are verified once, in tests, against the published tables.
"""

from __future__ import annotations

import math
from functools import lru_cache


@lru_cache(maxsize=4096)
def qbinom_half(p_num: int, p_den: int, size: int) -> int:
    """R's ``qbinom(p_num/p_den, size, 0.5)``: the smallest x with P(X <= x) >= p.

    Exact: compare ``p_den * sum(C(size, k))`` with ``p_num * 2**size``. R adds a tiny
    fuzz (1 + 64 eps) to p; it only matters when the cumulative probability equals p
    exactly, which cannot happen for p = 0.05 because 2**size / 20 is never an integer.
    """
    if size <= 0:
        return 0
    target = p_num * (1 << size)
    cum = 0
    for k in range(size + 1):
        cum += math.comb(size, k)
        if p_den * cum >= target:
            return k
    return size


def crossings_min(n_useful: int) -> int:
    """Anhøj lower limit for crossings: ``qbinom(0.05, n_useful - 1, 0.5)`` (Chen 2010)."""
    return qbinom_half(1, 20, max(n_useful - 1, 0))


def longest_run_max(n_useful: int) -> int:
    """Anhøj upper limit for the longest run: ``round(log2(n_useful)) + 3`` (Schilling 2012).

    log2 of an integer is never exactly k + 0.5, so rounding mode does not matter.
    """
    return int(math.floor(math.log2(n_useful) + 0.5)) + 3


@lru_cache(maxsize=4096)
def ihi_runs_limits(n_useful: int, tail: float = 0.025) -> tuple[int, int] | None:
    """IHI "too few / too many runs" limits for ``n_useful`` points not on the median.

    Returns (lower, upper): fewer than ``lower`` runs or more than ``upper`` runs signal.
    Computed from the exact Swed & Eisenhart (1943) distribution of the number of runs
    with n1 = floor(n/2), n2 = ceil(n/2) and 2.5 % in each tail -- the construction behind
    the table in Perla, Provost & Murray (2011, BMJ Qual Saf). None below 10 points, where
    the IHI table does not apply.
    """
    if n_useful < 10:
        return None
    n1, n2 = n_useful // 2, n_useful - n_useful // 2
    total = math.comb(n_useful, n1)
    counts: dict[int, int] = {}
    for r in range(2, n_useful + 1):
        k = r // 2
        if r % 2 == 0:
            c = 2 * math.comb(n1 - 1, k - 1) * math.comb(n2 - 1, k - 1)
        else:
            c = math.comb(n1 - 1, k) * math.comb(n2 - 1, k - 1) + math.comb(n1 - 1, k - 1) * math.comb(
                n2 - 1, k
            )
        counts[r] = c
    # exact comparison: cum / total > tail  <=>  cum * 40 > total (tail = 1/40)
    scale = round(1 / tail)
    cum, lower = 0, 2
    for r in sorted(counts):
        cum += counts[r]
        if cum * scale > total:
            lower = r
            break
    cum, upper = 0, n_useful
    for r in sorted(counts, reverse=True):
        cum += counts[r]
        if cum * scale > total:
            upper = r
            break
    return lower, upper
