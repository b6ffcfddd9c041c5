"""An entry placed with a `stop_loss`: the stop is created with the entry, atomically.

Rules (README "Stop loss with the entry"): the stop is checked before the entry is taken (a bad
stop refuses the whole order and changes nothing); when the entry fills, the engine places a
close-position `stop_market` with id `<entry id>:sl`; if that stop would be refused at that
moment, a `Rejected` for the stop says why and the entry stands.
"""

from __future__ import annotations

import json
from decimal import ROUND_DOWN
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from papertrade.core import codec
from papertrade.core import events as ev
from papertrade.core.engine import Engine
from papertrade.saves import payload


def market_ready(d: Any) -> None:
    d.quote("BTCUSDT", "59990", "60000")
    d.trade("BTCUSDT", "60000")


def test_a_market_entry_with_a_stop_loss_fills_and_leaves_its_stop_waiting(nofee) -> None:
    market_ready(nofee)
    out = nofee.order("e1", "BTCUSDT", "buy", "0.5", stop_loss=D("59000"))
    assert [type(o) for o in out] == [ev.Fill]
    stop = nofee.engine.algo.orders["e1:sl"].command
    assert (stop.side, stop.order_type, stop.trigger_price, stop.close_position) == (
        "sell",
        "stop_market",
        D("59000"),
        True,
    )
    # the stop closes the whole long at the bid once a trade reaches it
    nofee.quote("BTCUSDT", "58990", "59000")
    out = nofee.trade("BTCUSDT", "59000")
    fill = next(o for o in out if isinstance(o, ev.Fill))
    # (58,990 − 60,000) × 0.5 = −505
    assert (fill.order_id, fill.qty, fill.realized_pnl) == ("e1:sl", D("0.5"), D("-505"))
    assert nofee.account().positions == ()


def test_a_bad_stop_rejects_the_entry_and_changes_nothing(nofee) -> None:
    market_ready(nofee)
    before = nofee.engine.to_state()
    cases = {
        "59995.55": "not a multiple of the BTCUSDT tick",  # the BTC tick is 0.1
        "60500": "must be below the entry price 60000",
        "60000": "must be below the entry price 60000",
    }
    for stop, words in cases.items():
        out = nofee.order(f"bad{stop}", "BTCUSDT", "buy", "0.5", stop_loss=D(stop))
        assert len(out) == 1 and isinstance(out[0], ev.Rejected), out
        assert words in out[0].reason
    after = nofee.engine.to_state()
    assert after.pop("last_ts") > before.pop("last_ts")  # the clock is all that moved
    assert after == before


def test_a_stop_the_last_price_is_already_past_refuses_the_entry(nofee) -> None:
    nofee.quote("BTCUSDT", "59990", "60000")
    nofee.trade("BTCUSDT", "58000")  # the last trade is below the stop already
    out = nofee.order("e1", "BTCUSDT", "buy", "0.5", stop_loss=D("59000"))
    assert isinstance(out[0], ev.Rejected) and "-2021" in out[0].reason
    assert nofee.account().positions == () and nofee.engine.algo.orders == {}


def test_hedge_mode_refuses_a_stop_loss_on_an_order_that_only_closes(nofee) -> None:
    # the attached stop per hedge side is in test_hedge_conditional_stops.py
    nofee.apply(ev.SetPositionMode(nofee.tick(), "hedge"))
    market_ready(nofee)
    out = nofee.order("e1", "BTCUSDT", "sell", "0.5", stop_loss=D("61000"), position_side="long")
    assert isinstance(out[0], ev.Rejected)
    assert "a sell on the long side only closes it" in out[0].reason
    assert nofee.account().positions == ()


def test_a_limit_entry_places_its_stop_when_it_fills(nofee) -> None:
    market_ready(nofee)
    assert nofee.order("e2", "BTCUSDT", "buy", "0.5", "59500", stop_loss=D("58800")) == []
    assert nofee.engine.algo.orders == {}  # nothing waits before the entry fills
    # the pending stop survives a save and load of the engine
    reloaded = Engine.from_state(nofee.engine.to_state(), nofee.engine.instruments)
    assert reloaded.attached_stops == {"e2": D("58800")}
    out = nofee.trade("BTCUSDT", "59500")
    assert [type(o) for o in out] == [ev.Fill]
    assert nofee.engine.algo.orders["e2:sl"].command.trigger_price == D("58800")
    assert nofee.engine.attached_stops == {}


def test_a_limit_filled_after_the_price_passed_its_stop_stands_without_it(nofee) -> None:
    market_ready(nofee)
    nofee.order("e3", "BTCUSDT", "buy", "0.5", "59500", stop_loss=D("59000"))
    out = nofee.trade("BTCUSDT", "58500")  # a gap: fills the limit, and is past the stop
    fill, rejected = out
    assert isinstance(fill, ev.Fill) and fill.order_id == "e3"
    assert isinstance(rejected, ev.Rejected) and rejected.order_id == "e3:sl"
    assert "the entry stands" in rejected.reason and "-2021" in rejected.reason
    assert nofee.position("BTCUSDT").qty == D("0.5") and nofee.engine.algo.orders == {}


def test_an_amend_that_puts_the_limit_below_its_stop_is_refused(nofee) -> None:
    market_ready(nofee)
    nofee.order("e4", "BTCUSDT", "buy", "0.5", "59500", stop_loss=D("59000"))
    out = nofee.apply(ev.AmendOrder(nofee.tick(), "e4", price=D("58900")))
    assert isinstance(out[0], ev.Rejected) and "stop_loss 59000 must be below" in out[0].reason
    assert nofee.engine.acct.orders["e4"].price == D("59500")


def test_a_journal_with_stop_losses_replays_exactly() -> None:
    t = 1_700_000_000_000
    lines = [
        {"type": "quote", "ts": t, "symbol": "BTCUSDT", "bid": "59990", "ask": "60000"},
        {"type": "trade", "ts": t + 1, "symbol": "BTCUSDT", "price": "60000", "qty": "1"},
        {"type": "order", "ts": t + 2, "id": "a", "symbol": "BTCUSDT", "side": "buy",
         "qty": "0.2", "order_type": "market", "stop_loss": "59000"},
        {"type": "order", "ts": t + 3, "id": "b", "symbol": "BTCUSDT", "side": "buy",
         "qty": "0.1", "order_type": "limit", "price": "59500", "stop_loss": "58000"},
        {"type": "trade", "ts": t + 4, "symbol": "BTCUSDT", "price": "59500", "qty": "1"},
        {"type": "quote", "ts": t + 5, "symbol": "BTCUSDT", "bid": "58900", "ask": "58910"},
        {"type": "trade", "ts": t + 6, "symbol": "BTCUSDT", "price": "58950", "qty": "1"},
        {"type": "trade", "ts": t + 7, "symbol": "BTCUSDT", "price": "59000", "qty": "1"},
    ]  # fmt: skip
    events: list[ev.Event] = []
    for line in lines:
        event = codec.parse_line(json.dumps(line))
        assert not isinstance(event, ev.SessionSettings)
        events.append(event)

    def run(inputs: list[ev.Event]) -> list[str]:
        engine = Engine()
        return [codec.dumps(o) for e in inputs for o in engine.apply(e)]

    first = run(events)
    # the journal: each event stored as a row, read back, and replayed to the same outcomes
    replayed = [payload.decode(*payload.encode(e)) for e in events]
    assert replayed == events
    assert run(replayed) == first
    # a row journaled before stop_loss existed (no 21st value) decodes as it always did
    old = payload.decode("order", t, '["o","BTCUSDT","buy","0.1","market"]')
    assert isinstance(old, ev.PlaceOrder) and old.stop_loss is None
    # the first stop (a:sl at 59,000) fired at the 58,950 trade and closed both entries
    (closing,) = [o for o in first if '"order_id":"a:sl"' in o and '"type":"fill"' in o]
    assert '"qty":"0.3"' in closing  # close-position: both entries' 0.2 + 0.1
    assert '"stop_loss":"59000"' in codec.dumps(events[2])


def test_the_stop_loss_drill_loses_the_one_percent_it_was_sized_for() -> None:
    drill = Path(__file__).parents[2] / "examples" / "drills" / "stop-loss-with-entry.jsonl"
    settings, events = codec.parse_lines(drill.read_text().splitlines())
    engine = Engine(settings=settings)
    out = [o for e in events for o in engine.apply(e)]
    fills = {o.order_id: o for o in out if isinstance(o, ev.Fill)}
    # r1% of 10,000 at a 600 stop, taker 0.05 % both ends: 100 / 659.7 → 0.151 on the step
    assert fills["btc"].qty == (D(100) / D("659.7")).quantize(D("0.001"), ROUND_DOWN)
    assert fills["eth"].liquidity == "maker"  # the limit entry; eth:sl waited for it
    stop = fills["btc:sl"]
    assert (stop.qty, stop.price) == (D("0.151"), D(59400))
    loss = -stop.realized_pnl + fills["btc"].fee + stop.fee
    assert loss == D("0.151") * 600 + D("4.53") + D("4.4847") == D("99.6147")
    assert engine.wallet_balance() == D(10000) - fills["eth"].fee - loss
    assert set(engine.algo.orders) == {"eth:sl"}


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"order_type": "limit", "price": "60000", "stop_loss": "60500"}, "must be below"),
        ({"order_type": "market", "reduce_only": True, "stop_loss": "59000"}, "not a reduce_only"),
        (
            {"order_type": "stop_market", "trigger_price": "61000", "stop_loss": "59000"},
            "market and limit entries",
        ),
        ({"order_type": "market", "id": "x" * 62, "stop_loss": "59000"}, "at most 61"),
        ({"order_type": "market", "stop_loss": "-1"}, "stop_loss"),
    ],
)
def test_a_drill_line_with_a_misplaced_stop_loss_is_refused_where_it_is(
    fields: dict[str, Any], words: str
) -> None:
    line = {"type": "order", "ts": 1, "id": "o", "symbol": "BTCUSDT", "side": "buy", "qty": "1"}
    with pytest.raises(codec.FormatError) as err:
        codec.parse_line(json.dumps(line | fields), line=7)
    assert err.value.line == 7 and words in err.value.message


def test_an_entry_walking_the_book_gets_its_stop_after_its_first_level() -> None:
    """Under the `book` fill model the entry fills level by level; its stop is placed once, as
    under touch, and closes the whole position the walk built."""
    engine = Engine(settings=ev.SessionSettings(fill_model="book"))
    lines = [
        '{"type":"mark","ts":1,"symbol":"BTCUSDT","price":"60000"}',
        '{"type":"trade","ts":1,"symbol":"BTCUSDT","price":"60000","qty":"1"}',
        '{"type":"book","ts":2,"symbol":"BTCUSDT","bids":[["59999","1"]],'
        '"asks":[["60000","0.05"],["60001","0.05"],["60003","1"]]}',
        '{"type":"order","ts":3,"id":"w","symbol":"BTCUSDT","side":"buy","qty":"0.2",'
        '"order_type":"market","stop_loss":"59000"}',
    ]
    out: list[ev.Outcome] = []
    for line in lines:
        event = codec.parse_line(line)
        assert not isinstance(event, ev.SessionSettings)
        out = engine.apply(event)
    fills = [o for o in out if isinstance(o, ev.Fill)]
    # three levels: 0.05 @ 60,000, 0.05 @ 60,001, 0.1 @ 60,003
    assert [(f.qty, f.price) for f in fills] == [
        (D("0.05"), D("60000")),
        (D("0.05"), D("60001")),
        (D("0.1"), D("60003")),
    ]
    assert not any(isinstance(o, ev.Rejected) for o in out)
    stop = engine.algo.orders["w:sl"].command
    assert (stop.trigger_price, stop.close_position) == (D("59000"), True)
