"""Verdicts: the one rule that turns a claim's per-image measurements into a decision.

Rules common to all claims (our choices, stated once):

* an effect is *supported* when its 95% bootstrap interval (2,000 resamples of
  images, seeded) lies entirely on the claimed side of zero, *not supported* when
  it lies entirely on the other side, *inconclusive* otherwise;
* fewer than :data:`MIN_IMAGES` images for a claim: *inconclusive* (too few to say).

References
----------
Efron, B. & Tibshirani, R. J. (1993). *An Introduction to the Bootstrap*, ch. 13
(percentile intervals).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

MIN_IMAGES = 5
BOOTSTRAP_RESAMPLES = 2000
SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE = "supported", "not supported", "inconclusive"


@dataclass
class Verdict:
    """The outcome of one claim: what was measured, its interval, and the rule's decision."""

    claim: str
    verdict: str
    statistic: str
    value: float
    ci_low: float
    ci_high: float
    n_images: int
    reason: str
    details: dict = field(default_factory=dict)

    def as_row(self) -> dict:
        return {
            "claim": self.claim,
            "verdict": self.verdict,
            "statistic": self.statistic,
            "value": self.value,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "n_images": self.n_images,
            "reason": self.reason,
        }

    def __str__(self) -> str:
        """The verdict as one Markdown sentence (what the notebook shows under each claim)."""
        return (
            f"**{self.claim}: {self.verdict}** — {self.statistic} = {self.value:.4g} "
            f"(95% CI {self.ci_low:.4g} … {self.ci_high:.4g}, n = {self.n_images}); {self.reason}."
        )

    def labelled(self, method: str) -> Verdict:
        """The same verdict with ``[method]`` after its claim (an ablation's rows)."""
        return replace(self, claim=f"{self.claim} [{method}]")


def bootstrap_ci(values, statistic=np.mean, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0) -> tuple[float, float]:
    """95% percentile bootstrap interval of ``statistic`` over ``values`` (NaN dropped)."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    samples = rng.integers(0, values.size, (resamples, values.size))
    stats = statistic(values[samples], axis=1)
    return float(np.percentile(stats, 2.5)), float(np.percentile(stats, 97.5))


def decide(claim: str, statistic: str, values, claimed_sign: int, what: str, details: dict | None = None) -> Verdict:
    """Apply the common rule to per-image ``values`` whose mean should have ``claimed_sign``."""
    values = np.asarray(values, dtype=float)
    finite = values[np.isfinite(values)]
    mean = float(finite.mean()) if finite.size else float("nan")
    low, high = bootstrap_ci(finite)
    if finite.size < MIN_IMAGES:
        return Verdict(
            claim,
            INCONCLUSIVE,
            statistic,
            mean,
            low,
            high,
            int(finite.size),
            f"only {finite.size} image(s) with {what}; at least {MIN_IMAGES} are needed",
            details or {},
        )
    signed_low, signed_high = sorted((claimed_sign * low, claimed_sign * high))
    if signed_low > 0:
        verdict, reason = SUPPORTED, f"the 95% interval of {statistic} excludes 0 on the claimed side"
    elif signed_high < 0:
        verdict, reason = NOT_SUPPORTED, f"the 95% interval of {statistic} excludes 0 on the opposite side"
    else:
        verdict, reason = INCONCLUSIVE, f"the 95% interval of {statistic} includes 0"
    return Verdict(claim, verdict, statistic, mean, low, high, int(finite.size), reason, details or {})


def verdict_table(verdicts: list[Verdict]) -> pd.DataFrame:
    return pd.DataFrame([v.as_row() for v in verdicts])


def write_verdicts(verdicts: list[Verdict], folder: str | Path) -> pd.DataFrame:
    """Write ``verdicts.csv`` and ``verdicts.md`` in ``folder`` (atomically); return the table."""
    from colorization.io.files import write_text_atomic

    table = verdict_table(verdicts)
    write_text_atomic(Path(folder) / "verdicts.csv", table.to_csv(index=False))
    write_text_atomic(Path(folder) / "verdicts.md", verdict_markdown(verdicts))
    return table


def verdict_markdown(verdicts: list[Verdict]) -> str:
    """The verdicts as a Markdown table (for the README and results/)."""
    lines = ["| claim | verdict | statistic | value | 95% CI | n |", "|---|---|---|---|---|---|"]
    for v in verdicts:
        lines.append(
            f"| {v.claim} | **{v.verdict}** | {v.statistic} | {v.value:.4g} | "
            f"{v.ci_low:.4g} … {v.ci_high:.4g} | {v.n_images} |"
        )
    return "\n".join(lines) + "\n"
