"""Post-mortem of a liquidation: the drop taken apart, the what-ifs, the cross cascade.

Expected numbers are worked out by hand in the comments (margin-modes.md's story: ETH long
10 @ 3,000 at 10x, BTC long 0.5 @ 60,000 at 15x, both tier-1 MMR 0.4 %, clearance 1.25 %).
"""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from papertrade.core import events as ev
from papertrade.core.postmortem import PostMortem, Recorder, analyse, record, to_json

T0 = 1_767_225_600_000
MIN = 60_000


def order(ts: int, oid: str, symbol: str, qty: str, mode: ev.MarginMode, lev: int) -> ev.PlaceOrder:
    return ev.PlaceOrder(ts, oid, symbol, "buy", D(qty), "market", None, mode, lev)


def mark(ts: int, symbol: str, price: str) -> ev.MarkPrice:
    return ev.MarkPrice(ts, symbol, D(price))


def story(btc_mode: ev.MarginMode, eth_mode: ev.MarginMode) -> list[PostMortem]:
    events: list[ev.Event] = [
        mark(T0, "ETHUSDT", "3000"),
        mark(T0, "BTCUSDT", "60000"),
        order(T0 + 1, "eth", "ETHUSDT", "10", eth_mode, 10),
        order(T0 + 2, "btc", "BTCUSDT", "0.5", btc_mode, 15),
    ]
    for i, price in enumerate(["58000", "56000", "52000", "48000", "44000", "40000"], start=1):
        events.append(mark(T0 + i * MIN, "BTCUSDT", price))
    events.append(mark(T0 + 8 * MIN, "ETHUSDT", "3300"))
    return analyse(record(ev.SessionSettings(D("10000"), D("0"), D("0")), events))


def test_isolated_liquidation_taken_apart_with_what_would_have_saved_it() -> None:
    [r] = story("isolated", "isolated")
    # BTC's pool: 2,000 of margin at opening → 2,000 + 0.5 × (56,000 − 60,000) = 0
    assert (r.mode, r.symbol, r.trigger_mark) == ("isolated", "BTCUSDT", D("56000"))
    assert (r.balance_before, r.balance_at_trigger, r.drop) == (D("2000"), 0, D("2000"))
    assert r.contributions == {"BTCUSDT": D("-2000")}
    assert (r.funding, r.fees, r.margin_moves) == (0, 0, 0)
    # held through the rest of the run, the worst price is 40,000: MM 0.5 × 40,000 × 0.004
    # = 80 against 2,000 − 10,000 = −8,000 → 8,080 short; the least cent above: 8,080.01
    assert r.survive_with_added_margin == D("8080.01")
    # leverage L survives iff 30,000 / L > 80 + 10,000 = 10,080 → L < 2.976…: 2x
    assert r.survive_at_leverage == 2
    # the last losing mark before 56,000 was 58,000: 0.5 × 2,000 = 1,000 lost, no fee
    assert r.stop_that_caps_loss is not None
    assert (r.stop_that_caps_loss.price, r.stop_that_caps_loss.loss) == (D("58000"), D("1000"))
    assert r.went_down_with == []
    # the ratio climbs: 120 / 2,000 = 6 % at opening, 116 / 1,000 = 11.6 % at 58,000, then 100 %
    ratios = [s.margin_ratio for s in r.samples]
    assert ratios[0] == D("0.06") and D("0.116") in ratios and ratios[-1] == 1


def test_cross_liquidation_names_the_cascade() -> None:
    [r] = story("cross", "cross")
    # the cross pool: 10,000 after ETH opened → 10,000 + 0.5 × (40,000 − 60,000) = 0
    assert (r.mode, r.symbol, r.trigger_mark) == ("cross", "BTCUSDT", D("40000"))
    assert (r.balance_before, r.balance_at_trigger) == (D("10000"), 0)
    assert r.contributions == {"BTCUSDT": D("-10000"), "ETHUSDT": 0}
    assert r.liquidation_loss == D("10000")
    # ETH was right and went down with it: 10 × 3,000 = 30,000 of position, uPnL 0
    [eth] = r.went_down_with
    assert (eth.symbol, eth.qty, eth.notional, eth.upnl) == ("ETHUSDT", D("10"), D("30000"), 0)
    # MM at the trigger 80 + 120 = 200 against a balance of 0; later (ETH 3,300) the balance
    # is 3,000 against 212: 200.01 would have carried it
    assert r.survive_with_added_margin == D("200.01")
    assert r.survive_at_leverage is None and "cross" in r.leverage_note
    # last losing BTC mark before 40,000: 44,000 → 0.5 × 16,000 = 8,000
    assert r.stop_that_caps_loss is not None
    assert (r.stop_that_caps_loss.price, r.stop_that_caps_loss.loss) == (D("44000"), D("8000"))


def test_isolated_funding_and_added_margin_are_their_own_parts() -> None:
    events: list[ev.Event] = [
        mark(T0, "BTCUSDT", "60000"),
        order(T0 + 1, "btc", "BTCUSDT", "0.5", "isolated", 15),
        mark(T0 + MIN, "BTCUSDT", "58000"),
        ev.Funding(T0 + MIN + 1, "BTCUSDT", D("0.001")),
        ev.AdjustMargin(T0 + MIN + 2, "BTCUSDT", D("500")),
        mark(T0 + 2 * MIN, "BTCUSDT", "55000"),
    ]
    [r] = analyse(record(ev.SessionSettings(D("10000"), D("0.0005"), D("0")), events))
    # margin 2,000; funding −0.5 × 58,000 × 0.001 = −29; +500 added → 2,471; at 55,000:
    # 2,471 + 0.5 × (−5,000) = −29 ≤ MM 110 → liquidated. Drop 2,000 − (−29) = 2,029.
    # (the 15 USDT opening fee came from the cross wallet, not from this pool)
    assert r.drop == D("2029")
    assert r.contributions == {"BTCUSDT": D("-2500")}
    assert (r.funding, r.fees, r.margin_moves) == (D("-29"), 0, D("500"))
    assert r.parts_total() == -r.drop
    line = to_json(r)
    assert (line["funding"], line["margin_moves"], line["drop"]) == ("-29", "500", "2029")


def test_cross_fees_and_funding_in_the_window() -> None:
    events: list[ev.Event] = [
        mark(T0, "ETHUSDT", "3000"),
        mark(T0, "BTCUSDT", "60000"),
        order(T0 + 1, "btc", "BTCUSDT", "0.5", "cross", 15),
        mark(T0 + MIN, "BTCUSDT", "58000"),
        ev.Funding(T0 + MIN + 1, "BTCUSDT", D("0.001")),
        order(T0 + MIN + 2, "eth", "ETHUSDT", "10", "cross", 10),
        mark(T0 + 2 * MIN, "BTCUSDT", "42000"),
        mark(T0 + 3 * MIN, "BTCUSDT", "40000"),
    ]
    [r] = analyse(record(ev.SessionSettings(D("10000"), D("0.0005"), D("0")), events))
    # pool after BTC opened: 10,000 − 15 (0.5 × 60,000 × 0.05 %) = 9,985; then funding
    # −0.5 × 58,000 × 0.001 = −29, ETH's fee −10 × 3,000 × 0.05 % = −15; at 42,000:
    # 9,941 − 9,000 = 941 > 84 + 120; at 40,000: 9,941 − 10,000 = −59 ≤ 200 → liquidated
    assert (r.balance_before, r.balance_at_trigger) == (D("9985"), D("-59"))
    assert r.contributions == {"BTCUSDT": D("-10000"), "ETHUSDT": 0}
    assert (r.funding, r.fees, r.margin_moves) == (D("-29"), D("-15"), 0)
    assert r.drop == D("10044")
    # a stop at 42,000 would have lost 0.5 × 18,000 + 0.5 × 42,000 × 0.05 % = 9,010.5
    assert r.stop_that_caps_loss is not None and r.stop_that_caps_loss.loss == D("9010.5")


PRICES = st.lists(st.integers(30_000, 70_000), min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(
    modes=st.tuples(st.sampled_from(ev.MARGIN_MODES), st.sampled_from(ev.MARGIN_MODES)),
    levs=st.tuples(st.integers(5, 50), st.integers(5, 50)),
    btc=PRICES,
    eth=st.lists(st.integers(2_000, 4_000), min_size=1, max_size=12),
    funding=st.lists(st.sampled_from(["0.001", "-0.002", "0.003"]), max_size=4),
    adds=st.lists(st.integers(1, 300), max_size=3),
)
def test_contributions_always_sum_to_the_margin_balance_drop(
    modes: tuple[ev.MarginMode, ev.MarginMode],
    levs: tuple[int, int],
    btc: list[int],
    eth: list[int],
    funding: list[str],
    adds: list[int],
) -> None:
    events: list[ev.Event] = [
        mark(T0, "ETHUSDT", "3000"),
        mark(T0, "BTCUSDT", "60000"),
        order(T0 + 1, "eth", "ETHUSDT", "10", modes[1], levs[1]),
        order(T0 + 2, "btc", "BTCUSDT", "0.5", modes[0], levs[0]),
    ]
    ts = T0 + 3
    extras: list[ev.Event] = [ev.Funding(0, "BTCUSDT", D(r)) for r in funding]
    extras += [ev.AdjustMargin(0, "BTCUSDT", D(a)) for a in adds]
    for i in range(max(len(btc), len(eth))):
        ts += MIN
        if i < len(btc):
            events.append(mark(ts, "BTCUSDT", str(btc[i])))
        if i < len(eth):
            events.append(mark(ts, "ETHUSDT", str(eth[i])))
        if i < len(extras):
            e = extras[i]
            ts += 1
            events.append(
                ev.Funding(ts, "BTCUSDT", e.rate)
                if isinstance(e, ev.Funding)
                else ev.AdjustMargin(ts, "BTCUSDT", e.amount)  # type: ignore[union-attr]
            )
    reports = analyse(record(ev.SessionSettings(D("10000"), D("0.0005"), D("0.0002")), events))
    for r in reports:
        assert r.parts_total() == -r.drop
        if r.mode == "cross" and modes == ("cross", "cross"):
            # nothing moves between pools in an all-cross account: every part is named
            assert r.margin_moves == 0


class SmallRecorder(Recorder):
    MAX_FRAMES = 12
    RECENT_FRAMES = 3


def test_a_thinned_history_takes_the_drop_apart_the_same_way() -> None:
    events: list[ev.Event] = [
        mark(T0, "ETHUSDT", "3000"),
        mark(T0, "BTCUSDT", "60000"),
        order(T0 + 1, "eth", "ETHUSDT", "10", "cross", 10),
        order(T0 + 2, "btc", "BTCUSDT", "0.5", "isolated", 15),
    ]
    ts = T0 + 2
    for i in range(40):  # a slow BTC slide with ETH noise, funding and margin added
        ts += MIN
        events.append(mark(ts, "BTCUSDT", str(60000 - 150 * i)))
        events.append(mark(ts, "ETHUSDT", str(3000 + (i % 5) * 10)))
        if i % 7 == 3:
            events.append(ev.Funding(ts + 1, "BTCUSDT", D("0.0005")))
            events.append(ev.Funding(ts + 1, "ETHUSDT", D("0.0005")))
        if i % 11 == 5:
            events.append(ev.AdjustMargin(ts + 2, "BTCUSDT", D("100")))
    events += [mark(ts + MIN, "BTCUSDT", "50000"), mark(ts + 2 * MIN, "BTCUSDT", "45000")]
    fees = ev.SessionSettings(D("10000"), D("0.0005"), D("0.0002"))
    full = analyse(record(fees, events))
    small = SmallRecorder(None, fees)
    for event in events:
        small.apply(event)
    assert len(small.frames) <= SmallRecorder.MAX_FRAMES + 1
    thinned = analyse(small)
    assert full and len(thinned) == len(full)
    for a, b in zip(full, thinned, strict=True):
        assert (a.drop, a.contributions, a.funding, a.fees, a.margin_moves) == (
            b.drop,
            b.contributions,
            b.funding,
            b.fees,
            b.margin_moves,
        )
        assert a.funding != 0 and a.margin_moves != 0  # both kinds of carried part were used
        assert (a.survive_with_added_margin, a.survive_at_leverage) == (
            b.survive_with_added_margin,
            b.survive_at_leverage,
        )
        assert b.parts_total() == -b.drop
        assert len(b.samples) < len(a.samples)
