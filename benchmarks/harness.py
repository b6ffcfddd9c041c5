"""What every benchmark reports, the same way: min and median of several runs of the figure
and of its baseline (measured in the same run), the target, and PASS or FAIL.

Why one place: a figure without its baseline, its spread or its target cannot be judged, and a
benchmark that prints its own verdict cannot quietly drop one of them.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

RUNS = 5
"""Runs per figure: min and median of at least five."""


@dataclass(frozen=True, slots=True)
class Spread:
    """Several measurements of one figure."""

    values: tuple[float, ...]

    @property
    def min(self) -> float:
        return min(self.values)

    @property
    def median(self) -> float:
        return statistics.median(self.values)


def repeat(measure: Callable[[], float], runs: int = RUNS) -> Spread:
    """`measure()` run `runs` times."""
    return Spread(tuple(measure() for _ in range(runs)))


def interleaved(measures: Sequence[Callable[[], float]], runs: int = RUNS) -> list[Spread]:
    """Each of `measures` run `runs` times, alternated (A B A B ...), so a burst of load on
    the machine hits the figure and its baseline alike."""
    got: list[list[float]] = [[] for _ in measures]
    for _ in range(runs):
        for i, measure in enumerate(measures):
            got[i].append(measure())
    return [Spread(tuple(values)) for values in got]


def verdict(
    name: str,
    figure: Spread,
    unit: str,
    baseline: Spread | None,
    baseline_name: str,
    *,
    ratio: Spread | None = None,
    target: str | None,
    passed: bool,
) -> bool:
    """Print one figure's line(s) and return whether it met its target (a figure shown only
    for comparison, `target=None`, says so and counts as met)."""
    runs = len(figure.values)
    print(f"{name}: {_n(figure.min)} / {_n(figure.median)} {unit} (min / median of {runs})")
    if baseline is not None:
        print(f"    baseline {baseline_name}: {_n(baseline.min)} / {_n(baseline.median)} {unit}")
    if ratio is not None:
        print(f"    ratio: {ratio.min:.3g} / {ratio.median:.3g} (min / median)")
    if target is None:
        print("    no target of its own (shown for comparison)")
    else:
        print(f"    target {target}: {'PASS' if passed else 'FAIL'}")
    return passed


def _n(value: float) -> str:
    """A figure as people read it: 84,170 events/s, 0.0698 s, 34.8 MiB."""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
