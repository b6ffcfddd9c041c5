"""Partial liquidation: a position above its first bracket is cut at the mark to the top of the
next lower bracket when that brings the account back above maintenance after the clearance
fee; the rest stays open. Numbers written out from margin.md §2 (BTCUSDT brackets) and the
clearance rate 0.0125 (BTCUSDT `liquidationFee`, exchangeInfo 2024-03-28)."""

from decimal import ROUND_FLOOR
from decimal import Decimal as D
from pathlib import Path

import pytest

from papertrade.core import codec
from papertrade.core import events as ev
from papertrade.core.engine import Engine

from .conftest import Driver

DRILLS = Path(__file__).parents[2] / "examples" / "drills"
RATE = D("0.0125")
EIGHT = D("1E-8")

# BTCUSDT tier 4: 3M..12M, MMR 1 %, cum 12,000; tier 5: 12M..70M, MMR 2 %, cum 132,000
ENTRY, QTY, LEVERAGE = D(70000), D(200), 20
MARGIN = QTY * ENTRY / LEVERAGE  # 700,000
FIRST_MARK = D("67183.6")
KEPT = D("178.615")  # 12,000,000 / 67,183.6 = 178.61502..., floored to the 0.001 step
CUT = QTY - KEPT  # 21.385
CUT_REALIZED = -CUT * (ENTRY - FIRST_MARK)  # -21.385 x 2,816.4 = -60,228.714
CUT_FEE = CUT * FIRST_MARK * RATE  # 17,959.016075
MARGIN_AFTER = MARGIN + CUT_REALIZED - CUT_FEE  # 621,812.269925


def big_btc_long(mode: str) -> Driver:
    """200 BTC long at 70,000, 20x, no trading fees: isolated from a 2,000,000 wallet (margin
    700,000), or cross on a 700,000 wallet (the same 700,000 backs it)."""
    d = Driver(balance="2000000" if mode == "isolated" else "700000", taker="0", maker="0")
    d.apply(ev.SetMarginMode(d.tick(), "BTCUSDT", mode))  # type: ignore[arg-type]
    d.mark("BTCUSDT", "70000")
    d.quote("BTCUSDT", "69999.9", "70000")
    d.order("big", "BTCUSDT", "buy", "200", leverage=LEVERAGE)
    return d


def test_hand_numbers_hold_before_the_engine_is_asked() -> None:
    # at 67,183.6: margin balance 700,000 + 200 x (67,183.6 - 70,000) = 136,720 and MM in
    # tier 5 = 13,436,720 x 0.02 - 132,000 = 136,734.4: the test fails (liquidation)
    balance = MARGIN + QTY * (FIRST_MARK - ENTRY)
    assert balance == D(136720)
    assert QTY * FIRST_MARK * D("0.02") - 132000 == D("136734.4")
    # the top of tier 4 at this mark, and the account there after the fee
    assert KEPT * FIRST_MARK < 12_000_000 <= (KEPT + D("0.001")) * FIRST_MARK
    realized, fee = CUT_REALIZED, CUT_FEE
    assert realized == D("-60228.714")
    assert fee == D("17959.016075")
    assert balance - CUT_FEE == D("118760.983925")
    assert KEPT * FIRST_MARK * D("0.01") - 12000 == D("107999.98714")


@pytest.mark.parametrize("mode", ["isolated", "cross"])
def test_a_tier5_position_is_cut_to_the_top_of_tier4_and_stays_open(mode: str) -> None:
    d = big_btc_long(mode)
    # one tick above: 136,740 > MM 136,734.8, nothing happens
    assert d.mark("BTCUSDT", "67183.7") == []
    d.order("tp", "BTCUSDT", "sell", "10", "80000")
    out = d.mark("BTCUSDT", "67183.6")
    assert [type(o) for o in out] == [ev.OrderCancelled, ev.Liquidation]
    (liq,) = [o for o in out if isinstance(o, ev.Liquidation)]
    assert (liq.margin_mode, liq.side, liq.qty, liq.remaining_qty) == (mode, "long", CUT, KEPT)
    assert (liq.price, liq.mark_price) == (FIRST_MARK, FIRST_MARK)
    assert liq.clearance_fee == CUT_FEE and liq.insurance_covered == 0
    assert liq.loss == -CUT_REALIZED + CUT_FEE == D("78187.730075")
    pos = d.position("BTCUSDT")
    assert pos.qty == KEPT
    assert pos.maintenance_margin == D("107999.98714")
    acct = d.account()
    if mode == "isolated":
        assert pos.margin == MARGIN_AFTER
        assert acct.wallet_balance == 1_300_000 + MARGIN_AFTER
    else:
        assert acct.wallet_balance == MARGIN_AFTER
    # the account is back above maintenance: 118,760.983925 > 107,999.98714
    assert acct.margin_balance - (acct.wallet_balance - MARGIN_AFTER) == D("118760.983925")


@pytest.mark.parametrize("mode", ["isolated", "cross"])
def test_the_rest_goes_whole_at_its_bankruptcy_price_when_no_step_helps(mode: str) -> None:
    d = big_btc_long(mode)
    d.mark("BTCUSDT", "67183.6")
    # remaining 178.615 in tier 4: LP = (70,000 q - margin - cum) / (q (1 - 0.01))
    q = KEPT
    lp = (ENTRY * q - MARGIN_AFTER - 12000) / (q * D("0.99"))
    lp = lp.quantize(D("0.1"), rounding=ROUND_FLOOR)
    assert lp == D("67122.7")
    assert d.position("BTCUSDT").liquidation_price == lp
    out = d.mark("BTCUSDT", str(lp))
    (liq,) = [o for o in out if isinstance(o, ev.Liquidation)]
    # tier 4 sheds 1 % of notional per step but pays 1.25 %: no lower state passes, so the
    # whole rest closes where its margin balance is 0: 70,000 - 621,812.269925 / 178.615
    bankruptcy = (ENTRY - MARGIN_AFTER / q).quantize(EIGHT)
    assert bankruptcy == D("66518.70072544")
    fee = (q * bankruptcy * RATE).quantize(EIGHT)
    assert (liq.qty, liq.remaining_qty, liq.price) == (q, 0, bankruptcy)
    assert liq.clearance_fee == fee and liq.insurance_covered == fee
    assert liq.loss == MARGIN_AFTER
    acct = d.account()
    assert acct.positions == ()
    assert acct.wallet_balance == (1_300_000 if mode == "isolated" else 0)


def test_a_position_above_tier1_whose_steps_cost_more_than_they_shed_goes_whole() -> None:
    """Tier 2 (MMR 0.5 %) sheds less maintenance per step than the 1.25 % fee costs."""
    d = Driver(taker="0", maker="0")
    d.apply(ev.SetMarginMode(d.tick(), "BTCUSDT", "isolated"))
    d.mark("BTCUSDT", "70000")
    d.quote("BTCUSDT", "69999.9", "70000")
    d.order("b", "BTCUSDT", "buy", "5", leverage=50)  # 350,000 notional: tier 2, margin 7,000
    # LP: (350,000 - 7,000 - 300) / (5 x 0.995) = 68,885.93..., notional 344,429 in tier 2
    lp = ((D(350000) - 7000 - 300) / (5 * D("0.995"))).quantize(D("0.1"), rounding=ROUND_FLOOR)
    assert d.position("BTCUSDT").liquidation_price == lp
    (liq,) = [o for o in d.mark("BTCUSDT", str(lp)) if isinstance(o, ev.Liquidation)]
    assert (liq.qty, liq.remaining_qty, liq.loss) == (5, 0, 7000)
    assert liq.price == 70000 - D(7000) / 5


def test_story_large_partial_liquidation_drill() -> None:
    settings, events = codec.parse_lines(
        (DRILLS / "large-partial-liquidation.jsonl").read_text().splitlines()
    )
    engine = Engine(settings=settings)
    outcomes = [o for e in events for o in engine.apply(e)]
    liqs = [o for o in outcomes if isinstance(o, ev.Liquidation)]
    assert [(x.qty, x.remaining_qty) for x in liqs] == [(CUT, KEPT), (KEPT, 0)]
    assert liqs[0].loss == D("78187.730075") and liqs[0].insurance_covered == 0
    assert liqs[1].loss == MARGIN_AFTER and liqs[1].price == D("66518.70072544")
    snapshots = [o for o in outcomes if isinstance(o, ev.AccountState)]
    after_cut = snapshots[1]
    assert [(p.symbol, p.qty) for p in after_cut.positions] == [("BTCUSDT", KEPT)]
    assert after_cut.wallet_balance == MARGIN_AFTER
    assert snapshots[-1].positions == () and snapshots[-1].wallet_balance == 0
    t = engine.totals
    assert t.liquidation_losses == 700000 and t.liquidations == 2
    assert t.clearance_fees == CUT_FEE + liqs[1].clearance_fee
    assert t.insurance_covered == liqs[1].clearance_fee
