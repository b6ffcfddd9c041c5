"""Number formatting shared by the trading widgets (plain functions, no Textual).

Why one place: prices are shown on the instrument's tick grid and money with two decimals
everywhere, so the same value never reads differently in two panels.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from papertrade.core.instruments import Instrument
from rich.text import Text

DASH = "--"


def places_of(step: Decimal) -> int:
    """Decimal places of a tick or step size (0.10 -> 1, 0.001 -> 3, 1 -> 0)."""
    exp = step.normalize().as_tuple().exponent
    return max(0, -exp) if isinstance(exp, int) else 0


def price(value: Decimal | None, inst: Instrument | None = None) -> str:
    """A price at the instrument's tick precision, with thousands separators."""
    if value is None:
        return DASH
    places = places_of(inst.tick_size) if inst is not None else 2
    q = Decimal(1).scaleb(-places)
    return f"{value.quantize(q, rounding=ROUND_HALF_EVEN):,.{places}f}"


def qty(value: Decimal | None, inst: Instrument | None = None) -> str:
    if value is None:
        return DASH
    places = places_of(inst.step_size) if inst is not None else 4
    q = Decimal(1).scaleb(-places)
    return f"{value.quantize(q, rounding=ROUND_HALF_EVEN):,.{places}f}"


def money(value: Decimal | None, places: int = 2) -> str:
    if value is None:
        return DASH
    q = Decimal(1).scaleb(-places)
    return f"{value.quantize(q, rounding=ROUND_HALF_EVEN):,.{places}f}"


def pct(value: Decimal | None, places: int = 2, signed: bool = True) -> str:
    """A fraction as a percentage (0.0123 -> '+1.23%')."""
    if value is None:
        return DASH
    q = Decimal(1).scaleb(-places)
    v = (value * 100).quantize(q, rounding=ROUND_HALF_EVEN)
    return f"{v:+,.{places}f}%" if signed else f"{v:,.{places}f}%"


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
