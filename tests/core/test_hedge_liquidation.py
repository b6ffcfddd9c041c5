"""Liquidation as executed, in hedge mode: each side is a position of its own, so a partial cut
takes the losing side only and leaves the other side as it was; the cut account passes the
maintenance test and the two sides still share one (recomputed) liquidation price.

Hand figures (no trading fees; BTCUSDT brackets: tier 2 300k–800k MMR 0.5 % cum 300, tier 4
3M–12M MMR 1 % cum 12,000, tier 5 12M–70M MMR 2 % cum 132,000; clearance rate 1.25 %, the
instrument's `liquidation_fee`):
- long 200 @ 70,000 and short 10 @ 69,999.9 in cross on a 800,000 wallet. At the shared price
  the long's notional is in tier 5 and the short's in tier 2:
  LP = (800,000 + 132,000 + 300 − 200 × 70,000 + 10 × 69,999.9) / (200 × 0.02 + 10 × 0.005
  − 200 + 10) = −12,367,701 / −185.95 = 66,510.89… → 66,510.8.
- at that mark the long is cut to the top of tier 4: 12,000,000 / 66,510.8 = 180.4218… →
  180.421 kept, 19.579 cut, realizing 19.579 × (66,510.8 − 70,000) and paying the clearance
  fee 19.579 × 66,510.8 × 0.0125.
"""

from decimal import ROUND_FLOOR
from decimal import Decimal as D

from papertrade.core import events as ev
from papertrade.core.engine import Engine


def test_a_partial_cut_takes_only_the_losing_side() -> None:
    engine = Engine(settings=ev.SessionSettings(D("800000"), D("0"), D("0"), "hedge"))
    engine.apply(ev.MarkPrice(1, "BTCUSDT", D("70000")))
    engine.apply(ev.Quote(1, "BTCUSDT", D("69999.9"), D("70000")))
    engine.apply(ev.PlaceOrder(2, "l", "BTCUSDT", "buy", D("200"), "market", position_side="long"))
    engine.apply(ev.PlaceOrder(3, "s", "BTCUSDT", "sell", D("10"), "market", position_side="short"))
    long, short = engine.positions["BTCUSDT:long"], engine.positions["BTCUSDT:short"]
    lp = (D(800000) + 132000 + 300 - 200 * D(70000) + 10 * D("69999.9")) / (
        200 * D("0.02") + 10 * D("0.005") - 200 + 10
    )
    shared = lp.quantize(D("0.1"), rounding=ROUND_FLOOR)
    assert shared == D("66510.8")
    assert engine.position_liquidation_price(long) == engine.position_liquidation_price(short)
    assert engine.position_liquidation_price(long) == shared

    out = engine.apply(ev.MarkPrice(4, "BTCUSDT", shared))
    (line,) = [o for o in out if isinstance(o, ev.Liquidation)]
    kept = (D(12000000) / shared).quantize(D("0.001"), rounding=ROUND_FLOOR)
    cut = 200 - kept
    assert (
        (line.side, line.qty, line.remaining_qty)
        == ("long", cut, kept)
        == (
            "long",
            D("19.579"),
            D("180.421"),
        )
    )
    fee = cut * shared * D("0.0125")
    realized = cut * (shared - 70000)
    assert line.clearance_fee == fee
    assert line.loss == fee - realized
    # the short is untouched; both sides still open, the account passes maintenance again
    assert (short.qty, short.entry) == (10, D("69999.9"))
    assert engine.acct.cross_wallet == 800000 + realized - fee
    wallet = 800000 + realized - fee
    upnl = kept * (shared - 70000) + 10 * (D("69999.9") - shared)
    mm = (kept * shared * D("0.01") - 12000) + (10 * shared * D("0.005") - 300)
    assert wallet + upnl > mm
    assert not engine.acct.cross_liquidatable()
    assert engine.position_liquidation_price(long) == engine.position_liquidation_price(short)
