"""The order and liquidation rules in the bundled instrument data (issues 11 §2, 12).

Expected values are copied by hand from the cited source, a Binance `GET /fapi/v1/exchangeInfo`
response of 2024-03-28 (serverTime 1711627208783; see `core/data/SOURCES.md` §8), in that
response's own spelling (`"0.012500"`, `"1.0500"`), and compared as decimals.
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal as D
from importlib import resources
from typing import Any

import pytest

from papertrade.core.instruments import Instrument, bundled, parse_book, parse_brackets
from papertrade.core.numbers import BadNumber
from papertrade.feeds import rest

# symbol: liquidationFee, triggerProtect, PERCENT_PRICE multiplierUp / multiplierDown,
# marketTakeBound, MARKET_LOT_SIZE maxQty, LOT_SIZE maxQty — as the 2024-03-28 response has them.
EXCHANGE_INFO_2024_03_28 = {
    "BTCUSDT": ("0.012500", "0.0500", "1.0500", "0.9500", "0.05", "120", "1000"),
    "ETHUSDT": ("0.012500", "0.0500", "1.0500", "0.9500", "0.05", "2000", "10000"),
    "BCHUSDT": ("0.015000", "0.0500", "1.0500", "0.9500", "0.05", "850", "10000"),
    "XRPUSDT": ("0.012500", "0.0500", "1.0500", "0.9500", "0.05", "2000000", "10000000"),
    "LTCUSDT": ("0.015000", "0.0500", "1.0500", "0.9500", "0.05", "5000", "10000"),
    "TRXUSDT": ("0.010000", "0.0500", "1.0500", "0.9500", "0.05", "5000000", "10000000"),
    "LINKUSDT": ("0.015000", "0.1000", "1.1000", "0.9000", "0.10", "20000", "200000"),
    "ADAUSDT": ("0.010000", "0.0500", "1.0500", "0.9500", "0.05", "300000", "2000000"),
    "BNBUSDT": ("0.015000", "0.0500", "1.0500", "0.9500", "0.05", "2000", "100000"),
    "DOGEUSDT": ("0.010000", "0.1000", "1.1000", "0.9000", "0.10", "30000000", "50000000"),
    "DOTUSDT": ("0.015000", "0.0500", "1.0500", "0.9500", "0.05", "50000", "1000000"),
    "SOLUSDT": ("0.015000", "0.0500", "1.0500", "0.9500", "0.05", "5000", "1000000"),
    "UNIUSDT": ("0.020000", "0.1000", "1.1000", "0.9000", "0.10", "25000", "10000000"),
    "AVAXUSDT": ("0.015000", "0.1000", "1.1000", "0.9000", "0.10", "5000", "100000"),
    "NEARUSDT": ("0.010000", "0.1000", "1.1000", "0.9000", "0.10", "24000", "10000000"),
    "AAVEUSDT": ("0.015000", "0.1000", "1.1000", "0.9000", "0.10", "1250", "1000000"),
    "SUIUSDT": ("0.015000", "0.1500", "1.1500", "0.8500", "0.15", "2000000", "10000000"),
    "1000PEPEUSDT": ("0.015000", "0.1500", "1.1500", "0.8500", "0.15", "100000000", "800000000"),
    "WIFUSDT": ("0.015000", "0.1500", "1.1500", "0.8500", "0.15", "200000", "1000000"),
}
FIELDS = (
    "liquidation_fee",
    "trigger_protect",
    "price_up",
    "price_down",
    "market_take_bound",
    "market_max_qty",
    "max_qty",
)
VENUES = ("binance", "bybit", "okx", "hyperliquid")


def binance_file() -> dict[str, Any]:
    text = resources.files("papertrade.core.data").joinpath("binance_usdm.json").read_text()
    data: dict[str, Any] = json.loads(text)
    return data


@pytest.mark.parametrize("symbol", sorted(EXCHANGE_INFO_2024_03_28))
def test_binance_rules_equal_the_cited_exchange_info(symbol: str) -> None:
    inst = bundled("binance")[symbol]
    for name, cited in zip(FIELDS, EXCHANGE_INFO_2024_03_28[symbol], strict=True):
        assert getattr(inst, name) == D(cited), (symbol, name)


def test_every_bundled_binance_symbol_has_its_rules_written_out() -> None:
    # No Binance row leans on a default: each states all seven rules (ENAUSDT, listed after the
    # cited snapshot, states its [unconfirmed] values too).
    for row in binance_file()["instruments"]:
        missing = [name for name in FIELDS if name not in row]
        assert not missing, (row["symbol"], missing)
    assert set(EXCHANGE_INFO_2024_03_28) | {"ENAUSDT"} == set(bundled("binance"))


@pytest.mark.parametrize("venue", VENUES)
def test_every_bundled_rule_is_inside_its_bounds(venue: str) -> None:
    book = bundled(venue)
    assert len(book) >= 7
    for inst in book.values():
        for rate in (inst.liquidation_fee, inst.trigger_protect, inst.market_take_bound):
            assert D(0) <= rate < D(1), inst.symbol
        assert inst.price_up > D(1) > inst.price_down > D(0), inst.symbol
        assert D(0) < inst.market_max_qty <= inst.max_qty <= D("1e12"), inst.symbol


def test_hyperliquid_charges_no_clearance_fee() -> None:
    book = bundled("hyperliquid")
    assert all(inst.liquidation_fee == D(0) for inst in book.values())
    # ... and neither does a Hyperliquid coin the bundle does not list (the file's default).
    assert book.default_rules["liquidation_fee"] == D(0)


def test_other_venues_apply_binances_rules_as_the_model() -> None:
    binance = bundled("binance")
    for venue in ("bybit", "okx"):
        for symbol, inst in bundled(venue).items():
            assert inst.rules() == binance[symbol].rules(), (venue, symbol)


BAD_VALUES = [
    ("liquidation_fee", "1", "rate in [0, 1)"),
    ("liquidation_fee", "-0.0125", "rate in [0, 1)"),
    ("trigger_protect", "1.5", "rate in [0, 1)"),
    ("market_take_bound", "1", "rate in [0, 1)"),
    ("price_up", "1", "price_up > 1 > price_down > 0"),
    ("price_up", "0.95", "price_up > 1 > price_down > 0"),
    ("price_down", "1.05", "price_up > 1 > price_down > 0"),
    ("price_down", "0", "price_up > 1 > price_down > 0"),
    ("market_max_qty", "0", "market_max_qty must be in (0, 1E+12]"),
    ("max_qty", "1e13", "max_qty must be in (0, 1E+12]"),
    ("max_qty", "-5", "max_qty must be in (0, 1E+12]"),
    ("liquidation_fee", "NaN", "liquidation_fee"),
    ("trigger_protect", "five percent", "trigger_protect"),
    ("liquidation_fee", 0.0125, "liquidation_fee"),
]


@pytest.mark.parametrize(("field", "value", "says"), BAD_VALUES)
def test_a_bad_rule_in_a_row_is_refused_with_a_clear_error(
    field: str, value: object, says: str
) -> None:
    data = binance_file()
    broken = copy.deepcopy(data)
    row = next(r for r in broken["instruments"] if r["symbol"] == "ETHUSDT")
    row[field] = value
    with pytest.raises(BadNumber) as caught:
        parse_book(broken)
    message = str(caught.value)
    assert message.startswith("ETHUSDT: "), message
    assert field in message
    assert says in message
    # The same data, unbroken, still parses: the refusal came from that one value.
    assert parse_book(data)["ETHUSDT"].liquidation_fee == D("0.012500")


def test_a_bad_default_rule_is_refused_too() -> None:
    data = binance_file()
    data["default_rules"] = {"price_down": "1"}
    with pytest.raises(BadNumber, match=r"^default_rules: price band"):
        parse_book(data)


def test_rows_fall_back_to_the_file_default_then_the_built_in_one() -> None:
    data = binance_file()
    data["default_rules"] = {"liquidation_fee": "0.02", "price_up": "1.2"}
    rows = data["instruments"]
    btc = next(r for r in rows if r["symbol"] == "BTCUSDT")
    for name in ("liquidation_fee", "price_up", "trigger_protect", "max_qty"):
        del btc[name]
    book = parse_book(data)
    assert book["BTCUSDT"].liquidation_fee == D("0.02")  # the file's default
    assert book["BTCUSDT"].price_up == D("1.2")
    assert book["BTCUSDT"].trigger_protect == D("0.05")  # built in: Binance's common value
    assert book["BTCUSDT"].max_qty == D("1e12")  # built in: no cap below the global bound
    assert book["BTCUSDT"].price_down == D("0.9500")  # stated in the row, kept
    assert book["ETHUSDT"].liquidation_fee == D("0.012500")  # a stated value wins


def test_an_instrument_built_in_code_gets_safe_defaults_and_is_checked() -> None:
    brackets = parse_brackets(
        [{"floor": "0", "cap": "1E+15", "max_leverage": 125, "mmr": "0.004", "cum": "0"}]
    )
    plain = Instrument("TUSDT", "T", "USDT", D("0.1"), D("0.001"), D("0.001"), D(5), brackets)
    assert (plain.liquidation_fee, plain.trigger_protect) == (D("0.0125"), D("0.05"))
    assert (plain.price_up, plain.price_down, plain.market_take_bound) == (
        D("1.05"),
        D("0.95"),
        D("0.05"),
    )
    assert plain.market_max_qty == plain.max_qty == D("1e12")
    with pytest.raises(BadNumber, match=r"^TUSDT: liquidation_fee must be a rate in \[0, 1\)"):
        Instrument(
            "TUSDT", "T", "USDT", D("0.1"), D("0.001"), D("0.001"), D(5), brackets,
            liquidation_fee=D("1.25"),
        )  # fmt: skip


def exchange_info(*symbols: dict[str, Any]) -> dict[str, Any]:
    return {"symbols": list(symbols)}


def binance_row(symbol: str, base: str, **rules: str) -> dict[str, Any]:
    filters: list[dict[str, str]] = [
        {"filterType": "PRICE_FILTER", "tickSize": "0.10"},
        {"filterType": "LOT_SIZE", "stepSize": "0.001", "minQty": "0.001"},
        {"filterType": "MIN_NOTIONAL", "notional": "100"},
    ]
    if "max_qty" in rules:
        filters[1]["maxQty"] = rules["max_qty"]
    if "market_max_qty" in rules:
        filters.append({"filterType": "MARKET_LOT_SIZE", "maxQty": rules["market_max_qty"]})
    if "up" in rules:
        filters.append(
            {"filterType": "PERCENT_PRICE", "multiplierUp": rules["up"], "multiplierDown": rules["down"]}
        )  # fmt: skip
    row: dict[str, Any] = {
        "symbol": symbol,
        "contractType": "PERPETUAL",
        "status": "TRADING",
        "baseAsset": base,
        "quoteAsset": "USDT",
        "filters": filters,
    }
    for key, name in (("fee", "liquidationFee"), ("protect", "triggerProtect")):
        if key in rules:
            row[name] = rules[key]
    if "bound" in rules:
        row["marketTakeBound"] = rules["bound"]
    return row


def refresh_binance(info: dict[str, Any]) -> dict[str, Instrument]:
    """Run the Binance refresh parser on an exchangeInfo answer (the network is the only part
    replaced: `fetch` is its seam)."""
    book = bundled("binance")
    default = parse_brackets(binance_file()["default_brackets"])
    out = rest._binance(lambda url, body: info, "http://venue", book, default)
    return {inst.symbol: inst for inst in out}


def test_refresh_takes_the_rules_binance_states() -> None:
    stated = dict(
        fee="0.015000",
        protect="0.1000",
        up="1.1000",
        down="0.9000",
        bound="0.10",
        market_max_qty="100",
        max_qty="1200",
    )
    got = refresh_binance(exchange_info(binance_row("BTCUSDT", "BTC", **stated)))["BTCUSDT"]
    assert got.rules() == {
        "liquidation_fee": D("0.015"),
        "trigger_protect": D("0.1"),
        "price_up": D("1.1"),
        "price_down": D("0.9"),
        "market_take_bound": D("0.1"),
        "market_max_qty": D("100"),
        "max_qty": D("1200"),
    }


def test_refresh_keeps_bundled_rules_the_answer_leaves_out() -> None:
    got = refresh_binance(
        exchange_info(
            binance_row("ETHUSDT", "ETH", fee="0.020000"),
            binance_row("NEWUSDT", "NEW"),
        )
    )
    eth = got["ETHUSDT"]
    assert eth.liquidation_fee == D("0.02")
    # the rest as bundled (the cited 2024-03-28 values)
    assert (eth.trigger_protect, eth.market_max_qty, eth.max_qty) == (D("0.05"), D(2000), D(10000))
    # a symbol the bundle lacks and the answer states nothing for: the built-in defaults
    assert got["NEWUSDT"].rules() == bundled("binance").default_rules


def test_refresh_refuses_an_impossible_stated_rule() -> None:
    info = exchange_info(binance_row("BTCUSDT", "BTC", up="0.9", down="0.8"))
    with pytest.raises(BadNumber, match=r"^BTCUSDT: price band"):
        refresh_binance(info)
