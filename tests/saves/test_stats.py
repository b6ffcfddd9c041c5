"""Session statistics against numbers worked out by hand below."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

from papertrade.core import events as ev
from papertrade.saves.stats import compute_stats, downsample, max_drawdown
from papertrade.saves.store import Store

T0 = 1_767_225_600_000
BTC = "BTCUSDT"


def _drill() -> list[ev.Event]:
    return [
        ev.Quote(T0, BTC, D("59990"), D("60000")),
        ev.MarkPrice(T0, BTC, D("60000")),
        # long 0.1 at the ask 60000: fee 0.1*60000*0.0005 = 3
        ev.PlaceOrder(
            T0 + 1_000, "l1", BTC, "buy", D("0.1"), "market", margin_mode="cross", leverage=10
        ),
        ev.MarkPrice(T0 + 61_000, BTC, D("61000")),  # uPnL +100: equity peaks at 10097
        ev.Quote(T0 + 61_000, BTC, D("61000"), D("61010")),
        # close at the bid 61000: realized +100, fee 3.05
        ev.PlaceOrder(T0 + 121_000, "l2", BTC, "sell", D("0.1"), "market"),
        ev.Quote(T0 + 181_000, BTC, D("60990"), D("61000")),
        # short 0.2 at the bid 60990: fee 6.099
        ev.PlaceOrder(T0 + 181_000, "s1", BTC, "sell", D("0.2"), "market"),
        ev.Quote(T0 + 241_000, BTC, D("61490"), D("61500")),
        ev.MarkPrice(T0 + 241_000, BTC, D("61500")),
        # close at the ask 61500: realized 0.2*(60990-61500) = -102, fee 6.15
        ev.ClosePosition(T0 + 301_000, BTC),
        ev.MarkPrice(T0 + 361_000, BTC, D("61500")),
    ]


def test_stats_of_a_recorded_session_match_the_hand_calculation(tmp_path: Path) -> None:
    settings = ev.SessionSettings(D("10000"), D("0.0005"), D("0.0002"))
    with Store.open(tmp_path / "st.sqlite3") as store:
        sid = store.import_session(settings, _drill(), name="hand")
        s = store.stats(sid)
    assert s.trades == 4
    assert s.realized_pnl == D("100") + D("-102") == D("-2")
    assert s.fees == D("3") + D("3.05") + D("6.099") + D("6.15") == D("18.299")
    assert s.funding == 0 and s.liquidations == 0
    assert s.net_pnl == D("-20.299")
    assert s.final_equity == D("9979.701")
    assert (s.closing_trades, s.wins, s.losses) == (2, 1, 1)
    assert s.win_rate == D("0.5")
    assert s.average_win == D("100") and s.average_loss == D("-102")
    assert s.largest_loss == D("-102")
    # equity: 10000 -> 9997 (fee) -> 10097 (peak, +100 uPnL) -> 10093.95 (closed)
    #   -> 10085.851 (short opened, -2 uPnL at mark 61000) -> 9985.851 (mark 61500)
    #   -> 9979.701 (closed): deepest fall from the 10097 peak is 117.299
    assert s.max_drawdown == D("117.299")
    assert s.max_drawdown_pct == D("117.299") / D("10097")
    # in the market 1s..121s and 181s..301s of a 361 s session
    assert s.time_in_market_ms == 240_000
    assert s.time_in_market_pct == D(240_000) / D(361_000)
    assert s.equity_curve[0] == (T0, D("10000"))
    assert s.equity_curve[-1] == (T0 + 361_000, D("9979.701"))
    assert max(v for _, v in s.equity_curve) == D("10097")


def test_liquidations_count_as_losses_and_flatten_the_position() -> None:
    outcomes: list[ev.Outcome] = [
        ev.Fill(1_000, "a", BTC, "buy", D("1"), D("100"), D("0.05"), D("0"), "taker"),
        ev.FundingPaid(2_000, BTC, D("-0.25")),
        ev.Liquidation(5_000, BTC, "isolated", "long", D("1"), D("91"), D("10")),
        ev.Fill(6_000, "b", BTC, "sell", D("1"), D("90"), D("0.045"), D("0"), "taker"),
        ev.Fill(7_000, "c", BTC, "buy", D("1"), D("95"), D("0.0475"), D("-5"), "taker"),
    ]
    equity = [(0, D("1000")), (1_000, D("999.95")), (5_000, D("989.70")), (7_000, D("984.6"))]
    s = compute_stats(outcomes, equity, starting_balance=D("1000"), start_ts=0, end_ts=10_000)
    assert s.liquidations == 1 and s.liquidation_losses == D("10")
    assert s.largest_loss == D("-10")
    assert s.net_pnl == D("-5") - D("0.1425") - D("0.25") - D("10")
    assert (s.wins, s.losses, s.win_rate) == (0, 1, D("0"))
    # open 1s..5s (liquidated), 6s..7s (short closed by the buy)
    assert s.time_in_market_ms == 4_000 + 1_000
    assert max_drawdown(equity) == (D("15.4"), D("15.4") / D("1000"))


def test_a_partial_liquidation_keeps_the_position_in_the_market() -> None:
    outcomes: list[ev.Outcome] = [
        ev.Fill(1_000, "a", BTC, "buy", D("10"), D("100"), D("0"), D("0"), "taker"),
        # 4 of 10 cut at mark 95: realized -20, fee 4 x 95 x 0.0125 = 4.75, loss 24.75
        ev.Liquidation(
            3_000, BTC, "cross", "long", D(4), D(95), D("24.75"), D("4.75"), D(0), D(95), D(6)
        ),
        # the 6 left closed at 90 by the user: realized -60
        ev.Fill(8_000, "b", BTC, "sell", D("6"), D("90"), D("0"), D("-60"), "taker"),
    ]
    s = compute_stats(outcomes, [], starting_balance=D(1000), start_ts=0, end_ts=10_000)
    assert s.time_in_market_ms == 7_000  # 1 s .. 8 s, not 1 s .. 3 s
    parts = dict(s.breakdown())
    assert parts["liquidation losses"] == D(-20)
    assert parts["clearance fees"] == D("-4.75")
    assert parts["insurance covered"] == 0
    assert s.net_pnl == D(-60) - D("24.75")


def test_equity_curve_is_downsampled_keeping_both_ends() -> None:
    series = [(i, D(i)) for i in range(1000)]
    picked = downsample(series, 10)
    assert len(picked) == 10 and picked[0] == (0, D(0)) and picked[-1] == (999, D(999))
    assert downsample(series[:5], 10) == tuple(series[:5])


def test_an_open_position_at_the_end_is_shown_as_unrealized_and_the_parts_add_up(
    tmp_path: Path,
) -> None:
    """Issue 10 bug 10: net PnL -3 while equity rose 97 — the open uPnL was left out."""
    settings = ev.SessionSettings(D("10000"), D("0.0005"), D("0.0002"))
    events: list[ev.Event] = [
        ev.Quote(T0, BTC, D("59990"), D("60000")),
        ev.MarkPrice(T0, BTC, D("60000")),
        # long 0.1 at the ask 60000: fee 0.1 x 60000 x 0.0005 = 3
        ev.PlaceOrder(T0 + 1_000, "l1", BTC, "buy", D("0.1"), "market", leverage=10),
        # still open at the end: uPnL 0.1 x (61000 - 60000) = +100
        ev.MarkPrice(T0 + 61_000, BTC, D("61000")),
    ]
    with Store.open(tmp_path / "open.sqlite3") as store:
        sid = store.import_session(settings, events, name="open")
        s = store.stats(sid)
    assert s.net_pnl == D("-3")  # realized 0 - fees 3
    assert s.unrealized_pnl == D("100")
    assert s.final_equity == D("10000") - D("3") + D("100") == D("10097")
    assert s.equity_change == D("97")
    assert s.breakdown() == [
        ("realized PnL", D("0")),
        ("unrealized PnL at end", D("100")),
        ("fees", D("-3")),  # a cost: negative
        ("funding", D("0")),
        ("liquidation losses", D("0")),
    ]
    assert sum((v for _, v in s.breakdown()), D(0)) == s.equity_change


def test_without_an_end_account_the_unrealized_part_is_what_closed_trades_do_not_explain() -> None:
    outcomes: list[ev.Outcome] = [
        ev.Fill(1_000, "a", BTC, "buy", D("1"), D("100"), D("0.05"), D("0"), "taker"),
    ]
    equity = [(0, D("1000")), (1_000, D("999.95")), (2_000, D("1004.95"))]
    s = compute_stats(outcomes, equity, starting_balance=D("1000"), start_ts=0, end_ts=2_000)
    # equity 1004.95 = 1000 - 0.05 fee + 5 uPnL
    assert (s.net_pnl, s.unrealized_pnl, s.equity_change) == (D("-0.05"), D("5"), D("4.95"))
