"""The per-symbol clearance rate (`liquidation_fee`) in the bundled instrument data, and its
validation at the edge (core/data/SOURCES.md §8 names each value's source)."""

from decimal import Decimal as D

import pytest

from papertrade.core.instruments import bundled, parse_book


@pytest.mark.parametrize(
    ("symbol", "rate"),
    [
        # exchangeInfo of 2024-03-28 (serverTime 1711627208783)
        ("BTCUSDT", "0.0125"),
        ("ETHUSDT", "0.0125"),
        ("XRPUSDT", "0.0125"),
        ("BCHUSDT", "0.015"),
        ("LTCUSDT", "0.015"),
        ("LINKUSDT", "0.015"),
        ("BNBUSDT", "0.015"),
        ("DOTUSDT", "0.015"),
        ("TRXUSDT", "0.01"),
        ("ADAUSDT", "0.01"),
        ("DOGEUSDT", "0.01"),
        # not in the part of that dump we could read: the highest rate it shows (unconfirmed)
        ("SOLUSDT", "0.015"),
        ("ENAUSDT", "0.015"),
    ],
)
def test_binance_rates(symbol: str, rate: str) -> None:
    assert bundled("binance")[symbol].liquidation_fee == D(rate)


@pytest.mark.parametrize("venue", ["bybit", "okx", "hyperliquid"])
def test_other_venues_charge_no_binance_style_clearance_fee(venue: str) -> None:
    assert {i.liquidation_fee for i in bundled(venue).values()} == {D(0)}


def _book(fee: object) -> dict[str, object]:
    bracket = {"floor": "0", "cap": "1000", "max_leverage": 10, "mmr": "0.01", "cum": "0"}
    row = {"symbol": "XUSDT", "base": "X", "tick_size": "0.1", "step_size": "1"}
    return {"instruments": [{**row, "brackets": [bracket], "liquidation_fee": fee}]}


@pytest.mark.parametrize("bad", ["1", "-0.01", "1.5", "abc"])
def test_a_rate_outside_zero_to_one_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_book(_book(bad))


def test_a_row_without_a_rate_takes_the_file_default() -> None:
    data = _book("0.02")
    assert parse_book(data)["XUSDT"].liquidation_fee == D("0.02")
    row = data["instruments"][0]  # type: ignore[index]
    del row["liquidation_fee"]
    assert parse_book({**data, "default_liquidation_fee": "0.005"})["XUSDT"].liquidation_fee == D(
        "0.005"
    )
    assert parse_book(data)["XUSDT"].liquidation_fee == 0
