"""Hedge mode's protective orders: the entry's attached stop (`<id>:sl`) on the entry's side,
an isolated side's liquidation taking only its own conditional orders, a saved engine and a
journal that replay a hedge run with stops exactly, and the drill hedge-stops.jsonl against
its hand figures (no fees; realized PnL = qty × the move from the entry)."""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from papertrade.core import codec
from papertrade.core import events as ev
from papertrade.core.engine import Engine
from papertrade.saves.store import Store

DRILL = Path(__file__).parents[2] / "examples" / "drills" / "hedge-stops.jsonl"


def at(d: Any, price: str) -> list[ev.Outcome]:
    return d.quote("BTCUSDT", price, price) + d.trade("BTCUSDT", price) + d.mark("BTCUSDT", price)


def hedged(make_driver: Any) -> Any:
    d = make_driver(balance="100000", taker="0", maker="0")
    d.apply(ev.SetPositionMode(d.tick(), "hedge"))
    at(d, "60000")
    return d


@pytest.mark.parametrize(
    ("slot", "side", "stop", "past", "realized"),
    [
        # long 1 at 60,000, stop 59,000: 1 × (59,000 − 60,000)
        ("long", "buy", "59000", "58900", D("-1100")),
        # short 1 at 60,000, stop 61,000: 1 × (60,000 − 61,000)
        ("short", "sell", "61000", "61000", D("-1000")),
    ],
)
def test_an_entry_s_stop_protects_its_own_side_only(
    make_driver: Any, slot: str, side: Any, stop: str, past: str, realized: D
) -> None:
    d = hedged(make_driver)
    other = "short" if slot == "long" else "long"
    d.order("other", "BTCUSDT", "sell" if side == "buy" else "buy", "1", position_side=other)
    out = d.order("e", "BTCUSDT", side, "1", position_side=slot, stop_loss=D(stop))
    assert [type(o) for o in out] == [ev.Fill]
    (sl,) = d.engine.algo
    c = sl.command
    assert (c.id, c.side, c.position_side, c.trigger_price, c.close_position) == (
        "e:sl",
        "sell" if side == "buy" else "buy",
        slot,
        D(stop),
        True,
    )
    out = at(d, past)
    (f,) = [o for o in out if isinstance(o, ev.Fill)]
    assert (f.order_id, f.qty, f.price, f.realized_pnl) == ("e:sl", 1, D(past), realized)
    assert [p.position_side for p in d.account().positions] == [other]


def test_a_limit_entry_s_stop_is_placed_on_its_side_when_it_fills(make_driver: Any) -> None:
    d = hedged(make_driver)
    assert d.order("e", "BTCUSDT", "sell", "1", "60500", position_side="short",
                   stop_loss=D("62000")) == []  # fmt: skip
    assert d.engine.algo.orders == {}
    at(d, "60500")  # the resting sell fills at its price
    (sl,) = d.engine.algo
    assert (sl.id, sl.side, sl.command.position_side) == ("e:sl", "buy", "short")


def test_a_stop_loss_on_the_wrong_side_of_a_hedge_entry_is_refused(make_driver: Any) -> None:
    d = hedged(make_driver)
    out = d.order("e", "BTCUSDT", "sell", "1", position_side="short", stop_loss=D("59000"))
    assert isinstance(out[0], ev.Rejected)
    assert "must be above the entry price 60000" in out[0].reason
    assert d.account().positions == () and d.engine.algo.orders == {}


def test_an_isolated_side_s_liquidation_cancels_only_its_own_conditionals(
    make_driver: Any,
) -> None:
    d = make_driver(balance="10000", taker="0", maker="0")
    d.apply(ev.SetPositionMode(d.tick(), "hedge"))
    at(d, "60000")
    d.order("l", "BTCUSDT", "buy", "1", position_side="long", margin_mode="isolated", leverage=20)
    d.order("s", "BTCUSDT", "sell", "1", position_side="short")
    stops: list[tuple[str, ev.Side, ev.OrderType, ev.PositionSlot, str]] = [
        ("l-sl", "sell", "stop_market", "long", "50000"),
        ("s-tp", "buy", "take_profit_market", "short", "50000"),
        ("s-sl", "buy", "stop_market", "short", "65000"),
    ]
    for id, side, kind, slot, trigger in stops:
        command = ev.PlaceOrder(d.tick(), id, "BTCUSDT", side, D(0), kind,
                                trigger_price=D(trigger), close_position=True, position_side=slot)  # fmt: skip
        assert d.apply(command) == []
    assert set(d.engine.algo.orders) == {"l-sl", "s-tp", "s-sl"}
    # the long's isolated margin 60,000 / 20 = 3,000; MM 0.4 % of the notional: it goes when
    # 3,000 + (P − 60,000) ≤ 0.004 P, P ≤ 57,000 / 0.996 = 57,228.9…; a mark of 57,000 does it
    out = d.mark("BTCUSDT", "57000")
    (liq,) = [o for o in out if isinstance(o, ev.Liquidation)]
    assert (liq.side, liq.margin_mode) == ("long", "isolated")
    cancelled = [(o.order_id, o.reason) for o in out if isinstance(o, ev.OrderCancelled)]
    assert cancelled == [("l-sl", "BTCUSDT position liquidated")]
    assert set(d.engine.algo.orders) == {"s-tp", "s-sl"}


def run(settings: ev.SessionSettings, events: list[ev.Event]) -> list[ev.Outcome]:
    engine = Engine(settings=settings)
    return [o for e in events for o in engine.apply(e)]


def test_story_hedge_stops_drill() -> None:
    settings, events = codec.parse_lines(DRILL.read_text().splitlines())
    outcomes = run(settings, events)
    fills = [(o.order_id, o.side, o.qty, o.price, o.realized_pnl)
             for o in outcomes if isinstance(o, ev.Fill)]  # fmt: skip
    assert fills == [
        ("long", "buy", 1, 60000, 0),
        ("short", "sell", D("0.5"), 60000, 0),
        # the trail's low 59,000 sets 59,000 × 1.01 = 59,590; 59,600 fires: 0.2 × 400
        ("short-trail", "buy", D("0.2"), 59600, 80),
        ("long-tp", "sell", D("0.4"), 62000, D("0.4") * 2000),
        # the short's attached stop closes what is left of it: 0.3 × (60,000 − 63,000)
        ("short:sl", "buy", D("0.3"), 63000, D("0.3") * -3000),
        # a gap past the long's stop at 58,000: filled at the first price, 57,500
        ("long-sl", "sell", D("0.6"), 57500, D("0.6") * -2500),
    ]
    rejected = [o.order_id for o in outcomes if isinstance(o, ev.Rejected)]
    assert rejected == ["wrong-way", "no-side", "reduce-only", "too-much"]
    first, middle, last = [o for o in outcomes if isinstance(o, ev.AccountState)]
    assert {(o.id, o.position_side) for o in first.open_orders} == {
        ("short:sl", "short"),
        ("long-sl", "long"),
        ("long-tp", "long"),
        ("short-trail", "short"),
    }
    # after the short's stop: the long alone, 0.6 at 60,000; the short's orders all gone
    (long,) = middle.positions
    assert (long.position_side, long.qty) == ("long", D("0.6"))
    assert [o.id for o in middle.open_orders] == ["long-sl"]
    assert last.wallet_balance == 10000 + 80 + 800 - 900 - 1500 == 8480
    assert last.positions == () and last.open_orders == ()


def test_a_saved_engine_with_hedge_stops_continues_exactly() -> None:
    settings, events = codec.parse_lines(DRILL.read_text().splitlines())
    half = next(i for i, e in enumerate(events) if isinstance(e, ev.Snapshot))
    engine = Engine(settings=settings)
    for e in events[:half]:
        engine.apply(e)
    copy = Engine.from_state(json.loads(json.dumps(engine.to_state())), engine.instruments)
    rest = events[half:]
    assert [o for e in rest for o in copy.apply(e)] == [o for e in rest for o in engine.apply(e)]


def test_a_hedge_stops_run_in_the_journal_replays_to_the_same_outcomes(tmp_path: Path) -> None:
    settings, events = codec.parse_lines(DRILL.read_text().splitlines())
    direct = run(settings, events)
    with Store.open(tmp_path / "h.sqlite3") as store:
        sid = store.import_session(settings, events, name="hedge-stops")
        replayed = [o for _, _, outs in store.replay(sid) for o in outs]
    assert replayed == direct
    assert sum(isinstance(o, ev.OrderTriggered) for o in replayed) == 4
