"""The record every frequentist test in bench.stats returns."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SignificanceResult:
    """One hypothesis test, with enough to print it honestly.

    ``test`` is the human name that must travel with ``p`` ("paired t-test"); ``method`` names
    the variant where the test has several (exact or normal approximation, variance factor).
    ``estimate`` is the effect the test is about, as ``a - b`` (a mean or AUC difference), with
    its ``confidence`` interval where the test defines one (else None).
    """

    test: str
    statistic_name: str
    statistic: float
    df: float | None
    p: float
    n: int
    estimate: float
    ci_low: float | None = None
    ci_high: float | None = None
    confidence: float | None = None
    tail: str = "two-sided"
    method: str | None = None
