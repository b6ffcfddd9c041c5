"""The position TP/SL of `t` (tui/service/stops.py through `TradingSession.set_position_stop`)
in hedge mode: each side gets its own close-position orders, placed on its side; setting one
replaces only that side's earlier one, and a side's stop closes that side only. No fees:
realized PnL = qty × the move from the entry."""

from __future__ import annotations

from decimal import Decimal as D

from papertrade.core import events as ev
from papertrade.core.engine import Engine
from papertrade.core.instruments import bundled
from papertrade.tui.service.stops import protection
from papertrade.tui.service.trading import TradingSession

T0 = 1_735_689_600_000


def market(session: TradingSession, ts: int, price: str) -> list[ev.Outcome]:
    p = D(price)
    return [
        *session.on_market(ev.Quote(ts, "BTCUSDT", p, p)),
        *session.on_market(ev.Trade(ts, "BTCUSDT", p, D(1))),
        *session.on_market(ev.MarkPrice(ts, "BTCUSDT", p)),
    ]


def test_t_sets_each_hedge_side_s_tp_and_sl_on_its_own_side() -> None:
    engine = Engine(bundled("binance"), ev.SessionSettings(D(100000), D(0), D(0), "hedge"))
    session = TradingSession(engine, ["BTCUSDT"], venue="sim")
    market(session, T0, "60000")
    for id, side, slot in (("l", "buy", "long"), ("s", "sell", "short")):
        out = session.submit(
            ev.PlaceOrder(T0, id, "BTCUSDT", side, D(1), "market", position_side=slot)  # type: ignore[arg-type]
        )
        assert isinstance(out[0], ev.Fill)
    long = engine.acct.position("BTCUSDT", "long")
    short = engine.acct.position("BTCUSDT", "short")
    assert long is not None and short is not None
    for pos, sl, tp in ((long, "59000", "62000"), (short, "61000", "58000")):
        assert session.set_position_stop(pos, "sl", D(sl)) == []
        assert session.set_position_stop(pos, "tp", D(tp)) == []
    # moving the long's stop replaces the long's only
    out = session.set_position_stop(long, "sl", D("59500"))
    (gone,) = [o for o in out if isinstance(o, ev.OrderCancelled)]
    (long_sl,) = protection(engine, long).sl
    (short_sl,) = protection(engine, short).sl
    assert gone.order_id not in engine.algo.orders
    assert (long_sl.side, long_sl.command.position_side, long_sl.command.trigger_price) == (
        "sell",
        "long",
        D("59500"),
    )
    assert (short_sl.side, short_sl.command.position_side) == ("buy", "short")
    assert len(engine.algo) == 4
    # 61,000: the short's stop closes the short, 1 × (60,000 − 61,000); the long stays
    out = market(session, T0 + 1000, "61000")
    (fill,) = [o for o in out if isinstance(o, ev.Fill)]
    assert (fill.order_id, fill.side, fill.qty, fill.realized_pnl) == (
        short_sl.id,
        "buy",
        1,
        -1000,
    )
    assert [p.slot for p in engine.symbol_positions("BTCUSDT")] == ["long"]
