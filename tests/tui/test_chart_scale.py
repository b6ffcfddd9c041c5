"""The chart's y axis follows the price (issue 10, bug 13): it opened on a ±50 % axis, and a
far liquidation line flattened the price into one row. Numbers by hand below."""

from __future__ import annotations

from decimal import Decimal

from pytest import approx

from papertrade.tui.widgets.chart import PriceChart, scale


def test_a_flat_series_gets_a_narrow_axis_not_fifty_percent() -> None:
    axis = scale([95000.0, 95000.0], None, None)
    # pad = max(0 x 5 %, 95,000 x 0.05 %) = 47.5
    assert (axis.lo, axis.hi, axis.liq_edge) == (approx(94952.5), approx(95047.5), None)


def test_a_far_liquidation_price_stays_off_the_axis_and_is_marked_at_its_edge() -> None:
    axis = scale([94900.0, 95100.0], 95000.0, 50000.0)
    # span 200: pad max(200 x 5 % = 10, 95,000 x 0.05 % = 47.5) = 47.5 -> 94,852.5 .. 95,147.5
    assert (axis.lo, axis.hi, axis.liq_edge) == (approx(94852.5), approx(95147.5), "below")
    assert scale([94900.0, 95100.0], 95000.0, 150000.0).liq_edge == "above"
    assert scale([94900.0, 95100.0], 95000.0, 94850.0).liq_edge == "below"
    near = scale([94900.0, 95100.0], 95000.0, 94860.0)
    assert near.liq_edge is None  # inside the padded axis: drawn in place


async def test_the_chart_of_a_position_scales_to_the_price_and_labels_the_liquidation(
    app_factory, tui
) -> None:
    """BTC long 1 at 95,000, 20x cross on 10,000 USDT: the whole balance backs it, so the
    liquidation price is near 95,000 - 10,000 = 85,000 (about -10 %), far off the fixture's
    prices (94,970 .. 95,000): the axis stays on the price, the line sits at its bottom edge,
    labelled."""
    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        app.session.order("BTCUSDT", "buy", Decimal("1"), margin_mode="cross", leverage=20)
        engine = app.session.engine
        liq = engine.position_liquidation_price(engine.positions["BTCUSDT"])
        assert liq is not None and Decimal("80000") < liq < Decimal("90000")
        chart = app.trading.query_one(PriceChart)
        history = list(app.session.history["BTCUSDT"])
        chart.update_from(engine, "BTCUSDT", history)
        await pilot.pause()
        axis = chart.axis
        assert axis is not None and axis.liq_edge == "below"
        prices = [float(p) for _, p in history]
        assert axis.lo > min(prices) * 0.99 and axis.hi < max(prices) * 1.01
        assert axis.lo > float(liq)
        assert "off-scale" in chart.render().plain
