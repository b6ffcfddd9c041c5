"""Shadows: the same trades all isolated and all cross, and the figures that compare them.

Every expected number is worked out in the comments from margin-modes.md's story: a 10,000
USDT account, ETH long 10 @ 3,000 at 10x (3,000 margin), BTC long 0.5 @ 60,000 at 15x (2,000
margin), BTC crashes to 40,000, then ETH rises to 3,300. Fees 0; both tier-1 MMR 0.4 %.
"""

from __future__ import annotations

from decimal import Decimal as D

from papertrade.core import events as ev
from papertrade.core.shadow import ModeComparison, shadow_command

T0 = 1_767_225_600_000
SETTINGS = ev.SessionSettings(D("10000"), D("0"), D("0"))


def story(btc_path: list[str], btc_mode: ev.MarginMode = "isolated") -> list[ev.Event]:
    events: list[ev.Event] = [
        ev.MarkPrice(T0, "ETHUSDT", D("3000")),
        ev.MarkPrice(T0, "BTCUSDT", D("60000")),
        ev.PlaceOrder(T0 + 1, "eth", "ETHUSDT", "buy", D("10"), "market", None, "cross", 10),
        ev.PlaceOrder(T0 + 2, "btc", "BTCUSDT", "buy", D("0.5"), "market", None, btc_mode, 15),
    ]
    for i, price in enumerate(btc_path, start=1):
        events.append(ev.MarkPrice(T0 + i * 60_000, "BTCUSDT", D(price)))
    return events


def run(events: list[ev.Event]) -> ModeComparison:
    comparison = ModeComparison(SETTINGS)
    for event in events:
        comparison.apply(event)
    return comparison


CRASH = ["58000", "56000", "52000", "48000", "44000", "40000"]


def test_isolated_loses_only_the_wrong_call_and_cross_loses_the_account() -> None:
    events = story(CRASH)
    events.append(ev.MarkPrice(T0 + 8 * 60_000, "ETHUSDT", D("3300")))
    c = run(events)
    iso, cross, written = (c.figures[k] for k in ("all_isolated", "all_cross", "as_written"))
    # isolated BTC at 56,000: 2,000 + 0.5 × (56,000 − 60,000) = 0 ≤ MM 0.5 × 56,000 × 0.004
    # = 112 → liquidated, losing its 2,000; at 58,000 it had 1,000 > 116 and lived
    assert (iso.liquidations, iso.liquidation_loss) == (1, D("2000"))
    assert iso.first_liquidation is not None and iso.first_liquidation.mark_price == D("56000")
    # the account keeps 8,000; ETH then earns 10 × 300 = 3,000 → margin balance 11,000
    assert (iso.wallet_balance, iso.margin_balance) == (D("8000"), D("11000"))
    assert iso.max_drawdown == D("2000")  # 10,000 → 8,000
    # cross at 44,000: 10,000 − 8,000 = 2,000 > MM 88 + 120 = 208: it holds on longer;
    # at 40,000: 10,000 − 10,000 = 0 → both closed, ETH too, the wallet gone
    assert cross.first_liquidation is not None
    assert cross.first_liquidation.mark_price == D("40000")
    assert (cross.liquidations, cross.liquidation_loss) == (2, D("10000"))
    assert (cross.wallet_balance, cross.margin_balance, cross.max_drawdown) == (0, 0, D("10000"))
    assert iso.worst_margin_ratio == cross.worst_margin_ratio == 1  # both reached 100 %
    # as written (ETH cross, BTC isolated) the BTC bet costs its own 2,000 only
    assert (written.wallet_balance, written.margin_balance) == (D("8000"), D("11000"))


def test_worst_margin_ratio_without_a_liquidation() -> None:
    c = run(story(["58000"]))
    # isolated BTC: MM 0.5 × 58,000 × 0.004 = 116 over 2,000 − 1,000 = 1,000 → 0.116;
    # ETH's own: 120 / 3,000 = 0.04 — the worst is BTC's
    assert c.figures["all_isolated"].worst_margin_ratio == D("0.116")
    # cross: (116 + 120) / (10,000 − 1,000) = 0.02622…
    assert c.figures["all_cross"].to_json()["worst_margin_ratio"] == "0.0262"
    assert c.figures["all_cross"].max_drawdown == D("1000")


def test_a_drawdown_that_recovers_still_counts() -> None:
    c = run(story(["58000", "61000"]))
    # trough 10,000 − 1,000 = 9,000 then back to 10,500: peak-to-trough stays 1,000
    for name in ("all_isolated", "all_cross", "as_written"):
        assert c.figures[name].max_drawdown == D("1000")
        assert c.figures[name].margin_balance == D("10500")


def test_commands_are_mapped_by_the_documented_rule() -> None:
    add = ev.AdjustMargin(T0, "BTCUSDT", D("500"))
    switch = ev.SetMarginMode(T0, "BTCUSDT", "isolated")
    order = ev.PlaceOrder(T0, "o", "BTCUSDT", "buy", D("1"), "market", None, "isolated", 5)
    assert shadow_command(add, "isolated") is add
    assert shadow_command(add, "cross") is None
    assert shadow_command(switch, "cross") is None
    mapped = shadow_command(order, "cross")
    assert isinstance(mapped, ev.PlaceOrder)
    assert (mapped.margin_mode, mapped.leverage, mapped.qty) == ("cross", 5, D("1"))


def test_added_isolated_margin_keeps_the_isolated_shadow_alive_longer() -> None:
    events = story(["58000"])
    events.append(ev.AdjustMargin(T0 + 70_000, "BTCUSDT", D("1000")))
    events.append(ev.MarkPrice(T0 + 120_000, "BTCUSDT", D("56000")))
    c = run(events)
    # 3,000 of BTC margin at 56,000: 3,000 − 2,000 = 1,000 > 112: alive in the isolated shadow
    iso = c.figures["all_isolated"]
    assert iso.liquidations == 0
    assert c.shadows["isolated"].acct.positions["BTCUSDT"].margin == D("3000")
    # the cross shadow skipped the transfer and is alive too: 10,000 − 2,000 > 232
    assert c.figures["all_cross"].liquidations == 0
    assert c.shadows["cross"].acct.cross_wallet == D("10000")
