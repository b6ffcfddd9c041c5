"""`papertrade simulate FILE --compare-modes`: the drill as written, all isolated and all cross.

The run as written prints exactly as without the option; the comparison follows it, as a
side-by-side table or, with `--json`, one `mode_comparison` line (`core.shadow` says how a
shadow maps each command).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import IO

from papertrade.core import events as ev
from papertrade.core.instruments import InstrumentBook
from papertrade.core.numbers import human, plain
from papertrade.core.shadow import COLUMNS, ModeComparison, RunFigures

HEADINGS = {"as_written": "as written", "all_isolated": "all isolated", "all_cross": "all cross"}


def compared(comparison: ModeComparison, events: Iterable[ev.Event]) -> Iterator[ev.Outcome]:
    """The real run's outcomes then its final account, as `simulate.simulate` gives them."""
    for event in events:
        yield from comparison.apply(event)
    yield comparison.engine.account()


def compare_events(
    settings: ev.SessionSettings, events: Iterable[ev.Event], instruments: InstrumentBook | None
) -> ModeComparison:
    """A whole journal run through the comparison (`stats --compare-modes`)."""
    comparison = ModeComparison(settings, instruments)
    for event in events:
        comparison.apply(event)
    return comparison


def _ratio(figures: RunFigures) -> str:
    ratio = figures.worst_margin_ratio
    return "--" if ratio is None else f"{ratio * 100:.2f}%"


def _first(figures: RunFigures) -> str:
    first = figures.first_liquidation
    if first is None:
        return "none"
    return f"{_clock(first.ts)} {first.symbol} {plain(first.mark_price)}"


def _clock(ts: int) -> str:
    return datetime.fromtimestamp(ts / 1000, tz=UTC).strftime("%H:%M:%S")


ROWS: tuple[tuple[str, Callable[[RunFigures], str]], ...] = (
    ("wallet balance", lambda f: human(f.wallet_balance)),
    ("margin balance", lambda f: human(f.margin_balance)),
    ("liquidations", lambda f: str(f.liquidations)),
    ("liquidation loss", lambda f: human(f.liquidation_loss)),
    ("max drawdown", lambda f: human(f.max_drawdown)),
    ("worst margin ratio", _ratio),
    ("first liquidation", _first),
)


def table(comparison: ModeComparison) -> list[str]:
    """The side-by-side table: one row per figure, one column per run, each column as wide as
    its widest cell."""
    cells = [
        [HEADINGS[c] for c in COLUMNS],
        *([cell(comparison.figures[c]) for c in COLUMNS] for _, cell in ROWS),
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]
    labels = ["", *(label for label, _ in ROWS)]
    lines = ["Margin modes compared (same prices, same orders; USDT)"]
    for label, row in zip(labels, cells, strict=True):
        lines.append(
            f"  {label:<18}" + "".join(f"  {v:>{w}}" for v, w in zip(row, widths, strict=True))
        )
    return lines


def write_comparison(comparison: ModeComparison, json_mode: bool, out: IO[str]) -> None:
    if json_mode:
        line = comparison.to_json(comparison.engine.last_ts)
        out.write(json.dumps(line, separators=(",", ":"), default=_no_decimal) + "\n")
        return
    out.write("\n" + "\n".join(table(comparison)) + "\n")


def _no_decimal(value: object) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not JSON: {type(value).__name__}")
