"""`papertrade instruments`: the bundled rules, and a refresh from a local REST server that
marks what changed — or falls back to the bundle with the reason."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).parents[2]
EXCHANGE_INFO = {
    "symbols": [
        {
            "symbol": "BTCUSDT",
            "contractType": "PERPETUAL",
            "status": "TRADING",
            "baseAsset": "BTC",
            "quoteAsset": "USDT",
            "filters": [
                {"filterType": "PRICE_FILTER", "tickSize": "0.50"},
                {"filterType": "LOT_SIZE", "stepSize": "0.001", "minQty": "0.001"},
                {"filterType": "MIN_NOTIONAL", "notional": "100"},
            ],
        }
    ]
}


@pytest.fixture
def exchange_info() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            ok = self.path == "/fapi/v1/exchangeInfo"
            body = json.dumps(EXCHANGE_INFO if ok else {"msg": "no"}).encode()
            self.send_response(200 if ok else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def papertrade(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "papertrade", "instruments", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )


def test_bundled_rules_as_json() -> None:
    result = papertrade("BTCUSDT", "--json")
    assert result.returncode == 0
    assert json.loads(result.stdout) == {
        "symbol": "BTCUSDT",
        "tick_size": "0.1",
        "step_size": "0.001",
        "min_qty": "0.001",
        "min_notional": "100",
        "max_leverage": 150,
        "first_bracket_cap": "300000",
        "first_bracket_mmr": "0.004",
    }


def test_refresh_marks_what_the_venue_changed(exchange_info: str) -> None:
    result = papertrade("BTCUSDT", "ETHUSDT", "--refresh", "--rest-url", exchange_info, "--json")
    assert result.returncode == 0, result.stderr
    btc, eth = (json.loads(line) for line in result.stdout.splitlines())
    assert (btc["tick_size"], btc["vs_bundled"]) == ("0.5", "changed: tick_size")
    assert eth["vs_bundled"] == "same"  # not in the answer: the bundled entry stays


def test_failed_refresh_falls_back_to_the_bundle_and_says_why(exchange_info: str) -> None:
    result = papertrade("BTCUSDT", "--feed", "bybit", "--refresh", "--rest-url", exchange_info)
    assert result.returncode == 0
    assert "instrument refresh from bybit failed" in result.stderr
    assert "using bundled data" in result.stderr
    assert "(bundled" in result.stdout


def test_unknown_symbol_is_refused() -> None:
    result = papertrade("NOPEUSDT")
    assert result.returncode == 2
    assert "unknown symbol(s) on binance: NOPEUSDT" in result.stderr
