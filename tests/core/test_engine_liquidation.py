"""Liquidation on mark prices: isolated loses its margin only; cross takes every cross
position and the cross wallet; the two stories of margin-modes.md."""

from decimal import Decimal as D
from pathlib import Path

from papertrade.core import codec
from papertrade.core import events as ev
from papertrade.core.engine import Engine

DRILLS = Path(__file__).parents[2] / "examples" / "drills"


def kinds(outcomes, kind):
    return [o for o in outcomes if isinstance(o, kind)]


def test_isolated_liquidates_exactly_at_its_liquidation_price(nofee) -> None:
    nofee.mark("BTCUSDT", "60000")
    nofee.order("a", "BTCUSDT", "buy", "0.5", margin_mode="isolated", leverage=10)
    # LP = (3000 - 30000)/(0.5*0.004 - 0.5) = 54216.867... -> 54216.8 on the 0.1 tick grid
    assert nofee.position("BTCUSDT").liquidation_price == D("54216.8")
    assert nofee.mark("BTCUSDT", "54216.9") == []
    # at 54216.9: margin balance 3000 + 0.5*(54216.9-60000) = 108.45 > MM 108.4338
    (liq,) = nofee.mark("BTCUSDT", "54216.8")
    assert (liq.symbol, liq.margin_mode, liq.side, liq.qty, liq.loss) == (
        "BTCUSDT",
        "isolated",
        "long",
        D("0.5"),
        D(3000),
    )
    acct = nofee.account()
    assert acct.positions == () and acct.wallet_balance == 7000


def test_isolated_liquidation_leaves_everything_else_untouched(nofee) -> None:
    nofee.mark("ETHUSDT", "3000")
    nofee.mark("BTCUSDT", "60000")
    nofee.order("eth", "ETHUSDT", "buy", "10", margin_mode="cross", leverage=10)
    nofee.quote("SOLUSDT", "150", "150.01")
    nofee.order("sol-bid", "SOLUSDT", "buy", "1", "140")
    nofee.order("btc", "BTCUSDT", "buy", "0.5", margin_mode="isolated", leverage=15)
    nofee.order("btc-tp", "BTCUSDT", "sell", "0.5", "70000", reduce_only=True)
    before = nofee.account()
    out = nofee.mark("BTCUSDT", "50000")
    assert [type(o) for o in out] == [ev.OrderCancelled, ev.Liquidation]
    assert out[0].order_id == "btc-tp"
    after = nofee.account()
    assert after.positions == tuple(p for p in before.positions if p.symbol == "ETHUSDT")
    assert after.open_orders == tuple(o for o in before.open_orders if o.id == "sol-bid")
    assert after.wallet_balance == before.wallet_balance - 2000  # 0.5*60000/15


def test_cross_liquidation_closes_every_cross_position_and_empties_cross_wallet(nofee) -> None:
    nofee.mark("ETHUSDT", "3000")
    nofee.mark("BTCUSDT", "60000")
    nofee.mark("SOLUSDT", "150")
    nofee.order("eth", "ETHUSDT", "buy", "10", leverage=10)
    nofee.order("btc", "BTCUSDT", "buy", "0.5", leverage=15)
    nofee.order("sol", "SOLUSDT", "sell", "10", margin_mode="isolated", leverage=5)  # 300
    # cross wallet 10000 - 300 = 9700. BTC LP with ETH at 3000 (MM 120):
    # (0.5*60000 - (9700 - 120)) / (0.5*(1-0.004)) = 20420/0.498 = 41004.01...
    assert nofee.position("BTCUSDT").liquidation_price == D("41004.0")
    assert nofee.mark("BTCUSDT", "41004.1") == []
    out = nofee.mark("BTCUSDT", "41004.0")
    liqs = kinds(out, ev.Liquidation)
    assert [(x.symbol, x.margin_mode) for x in liqs] == [("BTCUSDT", "cross"), ("ETHUSDT", "cross")]
    # the wallet fall is the whole cross wallet, split: ETH (uPnL 0) takes its MM share of what
    # was left; BTC takes its loss and the rest
    assert sum(x.loss for x in liqs) == 9700
    remaining = D(9700) + D("0.5") * (D("41004.0") - 60000)  # margin balance left: 202.0
    eth_mm, btc_mm = D(10 * 3000) * D("0.004"), D("0.5") * D("41004.0") * D("0.004")
    assert liqs[1].loss == (remaining * eth_mm / (eth_mm + btc_mm)).quantize(D("1E-8"))
    acct = nofee.account()
    assert [p.symbol for p in acct.positions] == ["SOLUSDT"]  # isolated survives
    assert acct.wallet_balance == 300 and acct.positions[0].margin == 300


def run_drill(name: str):
    settings, events = codec.parse_lines((DRILLS / name).read_text().splitlines())
    engine = Engine(settings=settings)
    outcomes = [o for e in events for o in engine.apply(e)]
    return outcomes, engine.account()


def test_story_isolated_btc_crash_costs_only_its_margin() -> None:
    outcomes, final = run_drill("btc-crash-isolated.jsonl")
    (liq,) = kinds(outcomes, ev.Liquidation)
    # BTC 0.5 @ 60000 at 15x: margin 2000; LP (2000-30000)/(-0.498) = 56224.899 -> 56224.8
    assert (liq.symbol, liq.loss, liq.mark_price) == ("BTCUSDT", D(2000), D(56000))
    # the account keeps 8000: A's 3000 still backs A, 5000 free; ETH then rises to 3300
    (eth,) = final.positions
    assert (final.wallet_balance, final.available_balance, eth.margin) == (8000, 5000, 3000)
    assert eth.unrealized_pnl == 10 * (3300 - 3000) and final.margin_balance == 11000


def test_story_cross_btc_crash_takes_the_whole_account() -> None:
    outcomes, final = run_drill("btc-crash-cross.jsonl")
    snapshots = kinds(outcomes, ev.AccountState)
    # at 56000 cross still holds (isolated would be gone): it draws on the shared pot
    at_56k = snapshots[1]
    assert [p.symbol for p in at_56k.positions] == ["BTCUSDT", "ETHUSDT"]
    assert at_56k.margin_balance == 10000 - D("0.5") * 4000
    liqs = kinds(outcomes, ev.Liquidation)
    assert {x.symbol for x in liqs} == {"BTCUSDT", "ETHUSDT"}  # A force-closed though right
    assert sum(x.loss for x in liqs) == 10000
    assert final.wallet_balance == 0 and final.positions == ()


def test_cross_liquidation_cancels_every_cross_order_and_keeps_isolated_ones(nofee) -> None:
    nofee.mark("BTCUSDT", "60000")
    nofee.order("btc", "BTCUSDT", "buy", "1", leverage=20)  # cross, IM 3,000
    nofee.quote("SOLUSDT", "150", "150.01")
    nofee.mark("SOLUSDT", "150")
    nofee.order("sol-cross", "SOLUSDT", "buy", "1", "140")  # cross bid, no SOL position
    nofee.quote("ETHUSDT", "3000", "3000.01")
    nofee.mark("ETHUSDT", "3000")
    nofee.order("eth-iso", "ETHUSDT", "buy", "1", "2900", margin_mode="isolated", leverage=10)
    # cross wallet 10,000 backs the BTC long alone: LP = (60,000 - 10,000)/(1 - 0.004) = 50,200.8
    out = nofee.mark("BTCUSDT", "50000")
    cancelled = [o.order_id for o in out if isinstance(o, ev.OrderCancelled)]
    assert cancelled == ["sol-cross"]
    assert [o.symbol for o in kinds(out, ev.Liquidation)] == ["BTCUSDT"]
    assert [o.id for o in nofee.account().open_orders] == ["eth-iso"]
