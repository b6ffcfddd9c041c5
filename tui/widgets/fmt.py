"""Number formatting shared by the trading widgets (plain functions, no Textual).

Why one place: prices are shown on the instrument's tick grid and money with two decimals
everywhere, so the same value never reads differently in two panels. A value that rounds to
zero is shown as zero, never `-0.00` (a zero fee, `-fees`, used to read "-0.00").

Sign convention (issue 10): money is signed as it moved the account. Costs — fees, funding
paid, liquidation losses — are negative wherever a trader reads them (summary, `stats`, log).
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from papertrade.core.instruments import Instrument
from rich.text import Text

DASH = "--"


def _fixed(value: Decimal, places: int, spec: str = ",") -> str:
    """`value` at `places` decimals (half-even), zero never signed."""
    shown = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    if shown.is_zero():
        shown = shown.copy_abs()
    return f"{shown:{spec}.{places}f}"


def plural(count: int, one: str, many: str | None = None) -> str:
    """`1 fill`, `5 fills`, `1 instrument`, `0 positions`."""
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def places_of(step: Decimal) -> int:
    """Decimal places of a tick or step size (0.10 -> 1, 0.001 -> 3, 1 -> 0)."""
    exp = step.normalize().as_tuple().exponent
    return max(0, -exp) if isinstance(exp, int) else 0


def price(value: Decimal | None, inst: Instrument | None = None) -> str:
    """A price at the instrument's tick precision, with thousands separators."""
    if value is None:
        return DASH
    places = places_of(inst.tick_size) if inst is not None else 2
    return _fixed(value, places)


def qty(value: Decimal | None, inst: Instrument | None = None) -> str:
    if value is None:
        return DASH
    places = places_of(inst.step_size) if inst is not None else 4
    return _fixed(value, places)


def money(value: Decimal | None, places: int = 2) -> str:
    if value is None:
        return DASH
    return _fixed(value, places)


def pct(value: Decimal | None, places: int = 2, signed: bool = True) -> str:
    """A fraction as a percentage (0.0123 -> '+1.23%')."""
    if value is None:
        return DASH
    v = value * 100
    return _fixed(v, places, "+," if signed else ",") + "%"


def signed_text(text: str, value: Decimal | None) -> Text:
    """Green when positive, red when negative: the trader's reflex colours."""
    if value is None or value == 0:
        return Text(text)
    return Text(text, style="green" if value > 0 else "red")


def countdown(ms: int | None) -> str:
    """Milliseconds to 'HH:MM:SS' (funding countdown)."""
    if ms is None:
        return DASH
    s = max(0, ms // 1000)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def ratio_style(ratio: Decimal | None) -> str:
    """Margin-ratio colour bands: < 50 % calm, 50-80 % warning, 80-100 % danger."""
    if ratio is None or ratio < Decimal("0.5"):
        return "green"
    if ratio < Decimal("0.8"):
        return "yellow"
    if ratio < 1:
        return "bold red"
    return "bold reverse red"


def health_bar(ratio: Decimal | None, width: int = 10) -> Text:
    """A bar filling towards liquidation (100 % margin ratio), coloured by `ratio_style`."""
    if ratio is None:
        return Text("░" * width + "   --", style="dim")
    filled = min(width, max(0, int(ratio * width + Decimal("0.5"))))
    text = Text("█" * filled, style=ratio_style(ratio))
    text.append("░" * (width - filled), style="dim")
    shown = min(ratio, Decimal("9.99")) * 100
    text.append(f" {shown:>3.0f}%", style=ratio_style(ratio))
    return text
