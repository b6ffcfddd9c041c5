"""Hedge mode in the drill format, the engine state and the journal: `session.position_mode`,
`position_side` on orders, closes and account positions, the `set_position_mode` input; a
hedged engine continues exactly after a save, an old state loads as one-way, and a hedge run
stored in the journal replays (tests/saves/test_hedge_journal.py). The drill's figures are worked
out by hand in the comments (no fees; BTCUSDT tier 1: MMR 0.4 %)."""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path

import pytest

from papertrade.core import codec
from papertrade.core import events as ev
from papertrade.core.engine import Engine

DRILL = Path(__file__).parents[2] / "examples" / "drills" / "hedge-mode.jsonl"


def run(settings: ev.SessionSettings, events: list[ev.Event]) -> list[ev.Outcome]:
    engine = Engine(settings=settings)
    return [o for e in events for o in engine.apply(e)]


def test_story_hedge_mode_drill() -> None:
    settings, events = codec.parse_lines(DRILL.read_text().splitlines())
    assert settings.position_mode == "hedge"
    outcomes = run(settings, events)
    fills = [(o.order_id, o.side, o.qty, o.price) for o in outcomes if isinstance(o, ev.Fill)]
    assert fills == [("long-open", "buy", 1, 60000), ("short-open", "sell", D("0.6"), 60000)]
    first, alive, last = [o for o in outcomes if isinstance(o, ev.AccountState)]
    long, short = first.positions
    assert (long.position_side, long.side, long.qty) == ("long", "long", 1)
    assert (short.position_side, short.side, short.qty) == ("short", "short", D("0.6"))
    # MM per side: 60,000 × 0.004 = 240 and 36,000 × 0.004 = 144
    assert (long.maintenance_margin, short.maintenance_margin) == (240, 144)
    # available: 10,000 − IM 3,000 (long) − 1,800 (short) − the resting long-side buy's
    # 0.1 × 55,000 / 20 = 275; the short-side buy only closes and holds nothing
    assert first.available_balance == 10000 - 3000 - 1800 - 275
    # shared LP: (10,000 − 60,000 + 0.6 × 60,000) / (0.004 + 0.6 × 0.004 − 1 + 0.6)
    #          = −14,000 / −0.3936 = 35,569.105… → 35,569.1 on the 0.1 tick
    assert long.liquidation_price == short.liquidation_price == D("35569.1")
    assert {o.position_side for o in first.open_orders} == {"long", "short"}
    rejected = [o.command for o in outcomes if isinstance(o, ev.Rejected)]
    assert rejected == ["order", "order", "order", "set_position_mode", "close"]
    # one tick above the price: margin balance 10,000 − 24,430.8 + 14,658.48 = 227.68,
    # MM 1.6 × 35,569.2 × 0.004 = 227.64288; ratio 0.99983… → 0.9998
    assert alive.margin_balance == D("227.68")
    assert alive.cross_margin_ratio == D("0.9998")
    liqs = [o for o in outcomes if isinstance(o, ev.Liquidation)]
    assert [(x.side, x.qty, x.mark_price) for x in liqs] == [
        ("long", 1, D("35569.1")),
        ("short", D("0.6"), D("35569.1")),
    ]
    assert last.positions == () and last.open_orders == ()


def test_drill_lines_for_hedge_mode_parse_and_print_back() -> None:
    lines = [
        '{"type":"session","position_mode":"hedge"}',
        '{"type":"set_position_mode","ts":1,"position_mode":"one_way"}',
        '{"type":"order","ts":2,"id":"a","symbol":"BTCUSDT","side":"buy","qty":"1",'
        '"order_type":"market","position_side":"long"}',
        '{"type":"close","ts":3,"symbol":"BTCUSDT","position_side":"short"}',
        '{"type":"adjust_margin","ts":4,"symbol":"BTCUSDT","amount":"5","position_side":"long"}',
    ]
    parsed = [codec.parse_line(line) for line in lines]
    assert parsed[0] == ev.SessionSettings(position_mode="hedge")
    assert parsed[1] == ev.SetPositionMode(1, "one_way")
    assert isinstance(parsed[2], ev.PlaceOrder) and parsed[2].position_side == "long"
    assert parsed[3] == ev.ClosePosition(3, "BTCUSDT", "short")
    for line, item in zip(lines[1:], parsed[1:], strict=True):
        assert json.loads(codec.dumps(item)) == json.loads(line)
    # a one-way session line prints as it always did
    assert "position_mode" not in codec.to_dict(ev.SessionSettings())


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"type":"session","position_mode":"dual"}', "position_mode"),
        ('{"type":"set_position_mode","ts":1}', "missing field 'position_mode'"),
        (
            '{"type":"order","ts":1,"id":"a","symbol":"BTCUSDT","side":"buy","qty":"1",'
            '"order_type":"market","position_side":"LONG"}',
            "position_side",
        ),
        ('{"type":"close","ts":1,"symbol":"BTCUSDT","position_side":1}', "position_side"),
    ],
)
def test_bad_hedge_fields_are_refused_by_name(line: str, message: str) -> None:
    with pytest.raises(codec.FormatError) as caught:
        codec.parse_line(line)
    assert message in str(caught.value)


def test_one_way_account_positions_say_both_and_orders_stay_as_they_were() -> None:
    engine = Engine(settings=ev.SessionSettings(D("10000"), D("0"), D("0")))
    engine.apply(ev.Quote(1, "BTCUSDT", D("60000.0"), D("60000.0")))
    engine.apply(ev.PlaceOrder(2, "a", "BTCUSDT", "buy", D("0.1"), "market"))
    engine.apply(ev.PlaceOrder(3, "b", "BTCUSDT", "buy", D("0.1"), "limit", D("50000.0")))
    out = codec.to_dict(engine.account())
    assert out["positions"][0]["position_side"] == "both"
    assert "position_side" not in out["open_orders"][0]


def hedged_engine() -> Engine:
    settings, events = codec.parse_lines(DRILL.read_text().splitlines())
    engine = Engine(settings=settings)
    for e in events[:8]:  # up to the first snapshot: two sides and two resting orders
        engine.apply(e)
    return engine


def test_a_hedged_engine_continues_exactly_after_a_save() -> None:
    engine = hedged_engine()
    state = engine.to_state()
    assert state["position_mode"] == "hedge"
    copy = Engine.from_state(json.loads(json.dumps(state)), engine.instruments)
    assert copy.account() == engine.account()
    rest = codec.parse_lines(DRILL.read_text().splitlines())[1][8:]
    assert [o for e in rest for o in copy.apply(e)] == [o for e in rest for o in engine.apply(e)]


def test_a_state_written_before_hedge_mode_loads_as_one_way() -> None:
    engine = Engine(settings=ev.SessionSettings(D("10000"), D("0"), D("0")))
    engine.apply(ev.Quote(1, "BTCUSDT", D("60000.0"), D("60000.0")))
    engine.apply(ev.PlaceOrder(2, "a", "BTCUSDT", "buy", D("0.1"), "market"))
    state = engine.to_state()
    # what a one-way state holds is unchanged: no mode, no side keys anywhere
    assert "position_mode" not in state and "position_mode" not in state["settings"]
    assert all("slot" not in p for p in state["positions"])
    loaded = Engine.from_state(state)
    assert loaded.position_mode == "one_way"
    assert loaded.positions["BTCUSDT"].slot == "both"
