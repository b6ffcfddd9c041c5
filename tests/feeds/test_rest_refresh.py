"""Instrument refresh against a local http.server: success merges over the bundle, any failure
returns the bundle plus a notice and never raises."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from papertrade.core.instruments import bundled
from papertrade.feeds import hyperliquid, okx
from papertrade.feeds.rest import okx_contracts, refresh_instruments


class Routes:
    """What the fake REST server answers: path (with query) → (status, body)."""

    def __init__(self) -> None:
        self.answers: dict[str, tuple[int, Any]] = {}
        self.requests: list[tuple[str, str, bytes]] = []


@pytest.fixture
def rest() -> Iterator[tuple[str, Routes]]:
    routes = Routes()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            routes.requests.append((self.command, self.path, self.rfile.read(length)))
            status, body = routes.answers.get(self.path, (404, {"msg": "not found"}))
            payload = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = _answer
        do_POST = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", routes
    finally:
        server.shutdown()
        server.server_close()


def binance_symbol(symbol: str, base: str, tick: str, step: str, **extra: str) -> dict[str, Any]:
    return {
        "symbol": symbol,
        "contractType": extra.get("contractType", "PERPETUAL"),
        "status": extra.get("status", "TRADING"),
        "baseAsset": base,
        "quoteAsset": "USDT",
        "filters": [
            {"filterType": "PRICE_FILTER", "tickSize": tick},
            {"filterType": "LOT_SIZE", "stepSize": step, "minQty": step},
            {"filterType": "MIN_NOTIONAL", "notional": "5"},
        ],
    }


async def test_binance_exchange_info_merges_over_bundle(rest: tuple[str, Routes]) -> None:
    url, routes = rest
    routes.answers["/fapi/v1/exchangeInfo"] = (
        200,
        {
            "symbols": [
                binance_symbol("BTCUSDT", "BTC", "0.50", "0.002"),
                binance_symbol("NEWUSDT", "NEW", "0.0001", "1"),
                binance_symbol("OLDUSDT", "OLD", "0.1", "1", status="SETTLING"),
            ]
        },
    )
    book, notice = await refresh_instruments("binance", url)
    assert notice is None
    assert book["BTCUSDT"].tick_size == Decimal("0.50")
    assert book["BTCUSDT"].brackets == bundled("binance")["BTCUSDT"].brackets
    assert book["NEWUSDT"].step_size == Decimal("1")
    assert book["NEWUSDT"].brackets[0].max_leverage == 50  # the default table
    assert "OLDUSDT" not in book
    assert "ETHUSDT" in book  # bundled entries stay


async def test_bybit_pages_through_the_cursor(rest: tuple[str, Routes]) -> None:
    url, routes = rest

    def row(symbol: str, base: str) -> dict[str, Any]:
        return {
            "symbol": symbol, "contractType": "LinearPerpetual", "status": "Trading",
            "baseCoin": base, "quoteCoin": "USDT", "priceFilter": {"tickSize": "0.01"},
            "lotSizeFilter": {"qtyStep": "0.1", "minOrderQty": "0.1", "minNotionalValue": "5"},
        }  # fmt: skip

    first = "/v5/market/instruments-info?category=linear&limit=1000"
    routes.answers[first] = (
        200,
        {"retCode": 0, "result": {"list": [row("AAAUSDT", "AAA")], "nextPageCursor": "p2"}},
    )
    routes.answers[first + "&cursor=p2"] = (
        200,
        {"retCode": 0, "result": {"list": [row("BBBUSDT", "BBB")], "nextPageCursor": ""}},
    )
    book, notice = await refresh_instruments("bybit", url)
    assert notice is None
    assert {"AAAUSDT", "BBBUSDT", "BTCUSDT"} <= set(book)
    assert [p for _, p, _ in routes.requests] == [first, first + "&cursor=p2"]


async def test_okx_contract_sizes_become_base_units(rest: tuple[str, Routes]) -> None:
    url, routes = rest
    routes.answers["/api/v5/public/instruments?instType=SWAP"] = (
        200,
        {"code": "0", "msg": "", "data": [
            {"instId": "BTC-USDT-SWAP", "ctType": "linear", "settleCcy": "USDT", "state": "live",
             "ctVal": "0.01", "tickSz": "0.1", "lotSz": "0.01", "minSz": "0.01"},
            {"instId": "BTC-USD-SWAP", "ctType": "inverse", "settleCcy": "BTC", "state": "live",
             "ctVal": "100", "tickSz": "0.1", "lotSz": "1", "minSz": "1"},
        ]},
    )  # fmt: skip
    book, notice = await refresh_instruments("okx", url)
    assert notice is None
    assert book["BTCUSDT"].step_size == Decimal("0.0001")
    assert book["BTCUSDT"].min_qty == Decimal("0.0001")


async def test_hyperliquid_meta_and_ticks(rest: tuple[str, Routes]) -> None:
    url, routes = rest
    routes.answers["/info"] = (
        200,
        [
            {"universe": [{"name": "BTC", "szDecimals": 5, "maxLeverage": 40},
                          {"name": "kPEPE", "szDecimals": 0, "maxLeverage": 10},
                          {"name": "OLD", "szDecimals": 1, "maxLeverage": 3, "isDelisted": True}]},
            [{"markPx": "80640.0"}, {"markPx": "0.012345"}, {"markPx": "1.0"}],
        ],
    )  # fmt: skip
    book, notice = await refresh_instruments("hyperliquid", url)
    assert notice is None
    btc = book["BTCUSDT"]
    assert (btc.tick_size, btc.step_size) == (Decimal(1), Decimal("0.00001"))
    assert book["1000PEPEUSDT"].tick_size == Decimal("0.000001")
    assert "OLDUSDT" not in book
    assert json.loads(routes.requests[0][2]) == {"type": "metaAndAssetCtxs"}


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (503, {"msg": "maintenance"}, "HTTPError: HTTP Error 503"),
        (200, b"<html>not json", "JSONDecodeError"),
        (
            200,
            {"symbols": [{"contractType": "PERPETUAL", "status": "TRADING", "quoteAsset": "USDT"}]},
            "KeyError",
        ),
        (200, {"symbols": []}, "RefreshError: no instruments in the answer"),
    ],
)
async def test_any_failure_returns_the_bundle_and_a_notice(
    rest: tuple[str, Routes], status: int, body: Any, reason: str
) -> None:
    url, routes = rest
    routes.answers["/fapi/v1/exchangeInfo"] = (status, body)
    book, notice = await refresh_instruments("binance", url)
    assert book is bundled("binance")
    assert notice is not None
    assert notice.startswith("instrument refresh from binance failed (")
    assert reason in notice
    assert notice.endswith(f"using bundled data from {bundled('binance').as_of}")


async def test_unreachable_host_returns_the_bundle(unused_tcp_port: int) -> None:
    book, notice = await refresh_instruments("okx", f"http://127.0.0.1:{unused_tcp_port}", 2)
    assert book is bundled("okx")
    assert notice is not None and "URLError" in notice


def test_bundled_venue_files_agree_with_the_adapters() -> None:
    """The data files document the venue symbol mapping; the adapters are what run."""
    import importlib.resources as res

    for name, venue, mapping in [
        ("okx_swap.json", "okx", okx.venue_symbol),
        ("hyperliquid_perp.json", "hyperliquid", hyperliquid.venue_symbol),
    ]:
        data = json.loads(
            res.files("papertrade.core.data").joinpath(name).read_text(encoding="utf-8")
        )
        assert data["venue"] == venue
        for row in data["instruments"]:
            assert mapping(row["symbol"]) == row["venue_symbol"]
            if venue == "okx":
                assert okx.CONTRACTS[row["symbol"]].ct_val == Decimal(row["ct_val"])
    for venue in ("bybit", "okx", "hyperliquid"):
        book = bundled(venue)
        assert {"BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT", "DOGEUSDT"} <= set(book)


async def test_okx_contract_sizes_feed_the_adapter(rest: tuple[str, Routes]) -> None:
    url, routes = rest
    routes.answers["/api/v5/public/instruments?instType=SWAP"] = (
        200,
        {"code": "0", "msg": "", "data": [
            {"instId": "ADA-USDT-SWAP", "ctType": "linear", "settleCcy": "USDT", "state": "live",
             "ctVal": "100", "tickSz": "0.0001", "lotSz": "0.1", "minSz": "0.1"},
        ]},
    )  # fmt: skip
    contracts, notice = await okx_contracts(url)
    assert notice is None
    assert contracts["ADAUSDT"] == okx.Contract("ADA-USDT-SWAP", Decimal(100))
    assert contracts["BTCUSDT"] == okx.CONTRACTS["BTCUSDT"]
    adapter = okx.OkxAdapter(["ADAUSDT"], contracts=contracts)
    assert adapter.args()[0] == {"channel": "mark-price", "instId": "ADA-USDT-SWAP"}

    routes.answers["/api/v5/public/instruments?instType=SWAP"] = (503, {"msg": "down"})
    contracts, notice = await okx_contracts(url)
    assert contracts == okx.CONTRACTS
    assert notice is not None and "HTTP Error 503" in notice
