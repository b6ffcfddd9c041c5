"""`--fill-model` and what it changes on screen: the account panel names the model, and under
`book`/`queue` the ticket previews the typed size walked through the current book — average
price and slippage against the touch, and when the book shows less than the order.

Expected averages are volume-weighted by hand below (Σ price × qty / Σ qty), never from
`core.depth.walk`.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN
from decimal import Decimal as D

import pytest

from papertrade.core import events as ev
from papertrade.core.engine import Engine
from papertrade.core.instruments import bundled
from papertrade.tui.cli.terminal import build_parser, prepare
from papertrade.tui.screens.ticket import OrderTicket
from papertrade.tui.service.depth import slippage
from papertrade.tui.service.setup import SetupError
from papertrade.tui.widgets.depth import slippage_text

BIDS = ((D("94999.9"), D("0.04")), (D("94998.0"), D("0.06")))
ASKS = ((D("95000.0"), D("0.05")), (D("95002.0"), D("0.07")), (D("95010.0"), D("0.1")))


def args_for(tmp_path, tui, *extra: str):
    db = str(tmp_path / "depth.db")
    feed = ["--feed", f"file:{tui.FIXTURE}", "--speed", "max", "--db", db]
    return build_parser().parse_args([*feed, *extra])


def one(value: D, places: str) -> str:
    return f"{value.quantize(D(places), rounding=ROUND_HALF_EVEN):,}"


async def test_the_ticket_previews_the_average_fill_and_slippage_against_the_book(tmp_path, tui):
    app = prepare(args_for(tmp_path, tui, "--fill-model", "book", "--symbols", "BTCUSDT"))
    assert app.session is not None and app.store is not None
    try:
        assert app.session.engine.settings.fill_model == "book"
        async with app.run_test(size=(120, 40)) as pilot:
            await tui.settle(pilot)
            assert str(app.trading.account.border_title) == "Account · fills: book"
            assert app.trading.depth_shown  # at 120 columns from the start under book/queue
            session = app.session
            session.on_market(ev.Book(session.engine.last_ts, "BTCUSDT", BIDS, ASKS))
            await pilot.press("b")
            await tui.type_text(pilot, "0.1")
            ticket = app.screen
            assert isinstance(ticket, OrderTicket)
            # 0.1 takes 0.05 at 95,000.0 and 0.05 at 95,002.0:
            # (0.05 x 95,000.0 + 0.05 x 95,002.0) / 0.1 = 95,001.0, 1.0 over the touch,
            # 1.0 / 95,000.0 x 10,000 = 0.105 bps (two decimals under one), 1.0 x 0.1 = 0.10 USDT.
            vwap = (D("0.05") * D("95000.0") + D("0.05") * D("95002.0")) / D("0.1")
            assert vwap == D("95001.0")
            text = ticket.preview_text()
            assert f"~{one(vwap, '0.1')} avg vs the touch 95,000.0" in text
            assert "slippage 1.0 (0.11 bps), 0.10 USDT" in text
            assert "book shows" not in text

            await pilot.press("backspace", "backspace", "backspace")
            await tui.type_text(pilot, "0.3")
            # The book shows 0.05 + 0.07 + 0.1 = 0.22: that much at
            # (4,750 + 6,650.14 + 9,501) / 0.22 = 95,005.18..., the rest beyond it.
            shown = D("0.05") + D("0.07") + D("0.1")
            vwap = (
                D("0.05") * D("95000.0") + D("0.07") * D("95002.0") + D("0.1") * D("95010.0")
            ) / shown
            worse = vwap - D("95000.0")
            bps = worse / D("95000.0") * 10_000
            assert D("0.5") < bps < 1  # 5.18... / 95,000 x 10,000 = 0.545...: two decimals
            text = ticket.preview_text()
            assert f"~{one(vwap, '0.1')} avg vs the touch 95,000.0" in text
            slipped = f"slippage {one(worse, '0.1')} ({one(bps, '0.01')} bps), "
            assert slipped + f"{one(worse * shown, '0.01')} USDT" in text
            assert "book shows 0.220 BTC; the rest fills beyond it" in text
            await pilot.press("escape")
    finally:
        app.close_session("ended")
        app.store.close()


def test_a_marketable_limit_walks_only_to_its_limit_and_touch_says_nothing():
    engine = Engine(bundled("binance"), ev.SessionSettings(fill_model="queue"))
    engine.apply(ev.Book(1, "BTCUSDT", BIDS, ASKS))
    inst = engine.instruments["BTCUSDT"]

    def limit(price: str, side: ev.Side = "buy") -> ev.PlaceOrder:
        return ev.PlaceOrder(1, "p", "BTCUSDT", side, D("0.3"), "limit", D(price))

    walked = slippage(engine, limit("95002.0"), D("0.3"))
    assert walked is not None
    # Up to 95,002.0: 0.05 + 0.07 = 0.12 at (4,750 + 6,650.14) / 0.12 = 95,001.1666...
    assert walked.filled == D("0.12") and walked.remaining == D("0.18")
    assert walked.average == (D("4750") + D("6650.14")) / D("0.12")
    words = slippage_text(walked, inst, limit=True).plain
    assert "book shows 0.120 BTC to your limit; 0.180 does not fill now" in words

    # A sell walks the bids: 0.04 at 94,999.9 and 0.06 at 94,998.0 for 0.1 at market.
    sell = ev.PlaceOrder(1, "p", "BTCUSDT", "sell", D("0.1"), "market")
    walked = slippage(engine, sell, D("0.1"))
    assert walked is not None
    assert walked.average == (D("0.04") * D("94999.9") + D("0.06") * D("94998.0")) / D("0.1")
    assert walked.price == D("94999.9") - walked.average > 0

    assert slippage(engine, limit("94990.0"), D("0.3")) is None  # rests: nothing walks
    touch = Engine(bundled("binance"), ev.SessionSettings())
    touch.apply(ev.Book(1, "BTCUSDT", BIDS, ASKS))
    assert slippage(touch, sell, D("0.1")) is None  # touch fills whole at the best price


def test_the_preview_is_the_fill_when_a_newer_quote_is_worse_than_the_book():
    """A quote after the book moved the ask up to 95,001.0: the engine anchors the book's top
    there, and the ticket's preview says the same (the two share `take`)."""
    engine = Engine(bundled("binance"), ev.SessionSettings(fill_model="book", taker_fee=D(0)))
    engine.apply(ev.Book(1, "BTCUSDT", BIDS, ASKS))
    engine.apply(ev.Quote(2, "BTCUSDT", D("95000.5"), D("95001.0")))
    buy = ev.PlaceOrder(3, "o", "BTCUSDT", "buy", D("0.1"), "market")
    walked = slippage(engine, buy, D("0.1"))
    assert walked is not None
    # the book anchored 1.0 higher: 0.05 at 95,001.0, then 0.05 of the 95,003.0 level:
    # (0.05 x 95,001.0 + 0.05 x 95,003.0) / 0.1 = 95,002.0, 1.0 over the touch of 95,001.0
    assert walked.touch == D("95001.0")
    assert walked.average == D("95002.0") and walked.price == D("1.0")
    fills = [o for o in engine.apply(buy) if isinstance(o, ev.Fill)]
    assert [(f.price, f.qty) for f in fills] == [
        (D("95001.0"), D("0.05")),
        (D("95003.0"), D("0.05")),
    ]


def test_fill_model_option_is_checked_and_a_resume_keeps_its_own(tmp_path, tui):
    with pytest.raises(
        SetupError, match="--fill-model: 'fast' is not a fill model; one of: touch, book, queue"
    ):
        prepare(args_for(tmp_path, tui, "--fill-model", "fast"))
    assert not (tmp_path / "depth.db").exists()  # refused before anything was opened

    app = prepare(args_for(tmp_path, tui, "--name", "first"))
    assert app.session is not None and app.store is not None
    assert app.session.engine.settings.fill_model == "queue"  # the terminal's default
    app.close_session("interrupted")
    app.store.close()

    again = prepare(args_for(tmp_path, tui, "--resume", "--fill-model", "touch"))
    assert again.session is not None and again.store is not None
    try:
        notes = [text for text, _ in again.session.notes]
        assert any("--fill-model touch applies to new sessions" in text for text in notes)
    finally:
        again.close_session("ended")
        again.store.close()
