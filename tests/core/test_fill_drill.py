"""The thin-book drill: a 50 BTC market sell into the top 20 bids of a real recorded Binance
BTCUSDT book (examples/drills/thin-book-50btc-sell.jsonl), checked against a walk and the
impact rule worked out here from the drill's own book line, and against `touch`."""

from __future__ import annotations

import dataclasses
import json
from decimal import ROUND_CEILING
from decimal import Decimal as D
from pathlib import Path

from papertrade.core import codec
from papertrade.core import events as ev
from papertrade.core.engine import Engine

DRILL = Path(__file__).parents[2] / "examples" / "drills" / "thin-book-50btc-sell.jsonl"


def run(model: ev.FillModel) -> tuple[Engine, list[ev.Outcome]]:
    items = list(codec.iter_events(DRILL.read_text(encoding="utf-8").splitlines()))
    settings = items[0]
    assert isinstance(settings, ev.SessionSettings) and settings.fill_model == "book"
    engine = Engine(settings=dataclasses.replace(settings, fill_model=model))
    out = [o for e in items[1:] if not isinstance(e, ev.SessionSettings) for o in engine.apply(e)]
    return engine, out


def recorded_bids() -> list[tuple[D, D]]:
    row = next(
        json.loads(line) for line in DRILL.read_text().splitlines() if '"type":"book"' in line
    )
    return [(D(p), D(q)) for p, q in row["bids"]]


def test_a_50_btc_sell_takes_the_20_recorded_bids_then_the_impact_rule() -> None:
    bids = recorded_bids()
    assert len(bids) == 20
    shown = sum(q for _, q in bids)
    assert shown == D("25.869")
    rest = D(50) - shown  # 24.131 BTC past the shown depth
    span = (bids[0][0] - bids[-1][0]) / D("0.1") + 1  # 61,800.2 … 61,792.0: 83 ticks
    ticks = (rest / (shown / span)).to_integral_value(rounding=ROUND_CEILING)
    impact = bids[-1][0] - ticks * D("0.1")
    assert (span, ticks, impact) == (D(83), D(78), D("61784.2"))
    notional = sum((p * q for p, q in bids), D(0)) + impact * rest
    average = notional / 50

    engine, out = run("book")
    fills = [o for o in out if isinstance(o, ev.Fill)]
    assert [(f.price, f.qty) for f in fills] == [*bids, (impact, rest)]
    assert [f.fee for f in fills] == [
        (p * q * D("0.0005")).quantize(D("1E-8")) for p, q in bids
    ] + [(impact * rest * D("0.0005")).quantize(D("1E-8"))]
    assert fills[-1].average_price == average.quantize(D("1E-8")) == D("61792.34927")

    _, touched = run("touch")
    (whole,) = [o for o in touched if isinstance(o, ev.Fill)]
    assert (whole.price, whole.qty) == (D("61800.2"), D("50"))
    # what the touch model flatters the seller by: 7.85073 USDT a BTC, 392.5365 USDT in all
    assert (whole.price - average) * 50 == D("392.5365")
    pos = engine.account().positions[0]
    assert pos.unrealized_pnl == (average - D("61800.2")) * 50  # short, marked at 61,800.2
