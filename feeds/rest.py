"""Refresh instrument rules (tick, step, minimums) from a venue's public REST API.

The bundled data in `core/data/` goes stale as venues relist and retick; this fetches the
current rules and merges them over the bundled book. Margin brackets are not public on most
venues (Binance's need an API key), so refreshed instruments keep their bundled brackets, or the
bundled default table for symbols the bundle does not know.

It never raises: any failure (network, HTTP status, junk JSON, a venue error code) returns the
bundled book and a notice saying why, so the app can start offline and tell the user. Uses
stdlib `urllib` in a worker thread — no new dependency, and the event loop never blocks.
"""

from __future__ import annotations

import asyncio
import json
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from importlib import resources
from typing import Any

from papertrade.core.instruments import Bracket, Instrument, InstrumentBook, bundled, parse_brackets
from papertrade.core.numbers import dec
from papertrade.feeds import binance, bybit, hyperliquid, okx
from papertrade.feeds.base import plain_text

MAX_BYTES = 32 * 2**20
BYBIT_MAX_PAGES = 20
USER_AGENT = "papertrade/0.1 (instrument refresh)"

_FILES = {
    "binance": "binance_usdm.json",
    "bybit": "bybit_linear.json",
    "okx": "okx_swap.json",
    "hyperliquid": "hyperliquid_perp.json",
}
DEFAULT_REST = {
    "binance": binance.REST_URL,
    "bybit": bybit.REST_URL,
    "okx": okx.REST_URL,
    "hyperliquid": hyperliquid.REST_URL,
}


class RefreshError(Exception):
    """The venue answered, but not with instruments we can use."""


def _http_json(url: str, body: Mapping[str, Any] | None, timeout: float) -> Any:
    """GET (or POST JSON) and parse; runs in a worker thread."""
    data = json.dumps(body).encode() if body is not None else None
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=headers)
    with urllib.request.urlopen(request, timeout=timeout) as response:
        raw = response.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise RefreshError("response too large")
    return json.loads(raw)


Fetch = Callable[[str, Mapping[str, Any] | None], Any]


def _default_brackets(venue: str) -> tuple[Bracket, ...]:
    name = _FILES.get(venue, _FILES["binance"])
    source = resources.files("papertrade.core.data").joinpath(name)
    if not source.is_file():
        source = resources.files("papertrade.core.data").joinpath(_FILES["binance"])
    return parse_brackets(json.loads(source.read_text(encoding="utf-8"))["default_brackets"])


def _instrument(
    book: InstrumentBook,
    default: tuple[Bracket, ...],
    symbol: str,
    base: str,
    tick: Decimal,
    step: Decimal,
    min_qty: Decimal,
    min_notional: Decimal,
    stated: Mapping[str, Decimal] | None = None,
) -> Instrument:
    """`stated`: the order and liquidation rules the venue's answer gives (Binance's do);
    any rule it does not give keeps the bundled value, or the bundle's default for a symbol
    the bundle does not know."""
    known = book.get(symbol)
    rules = dict(known.rules() if known is not None else book.default_rules)
    rules.update(stated or {})
    return Instrument(
        symbol=symbol,
        base=base,
        quote="USDT",
        tick_size=tick,
        step_size=step,
        min_qty=min_qty,
        min_notional=min_notional,
        brackets=known.brackets if known is not None else default,
        liquidation_fee=rules["liquidation_fee"],
        trigger_protect=rules["trigger_protect"],
        price_up=rules["price_up"],
        price_down=rules["price_down"],
        market_take_bound=rules["market_take_bound"],
        market_max_qty=rules["market_max_qty"],
        max_qty=rules["max_qty"],
    )


def _binance_rules(s: Mapping[str, Any], filters: Mapping[str, Any]) -> dict[str, Decimal]:
    """The rules one Binance `exchangeInfo` symbol states (see `core.instruments.Instrument`)."""
    sources = {
        "liquidation_fee": s.get("liquidationFee"),
        "trigger_protect": s.get("triggerProtect"),
        "price_up": filters.get("PERCENT_PRICE", {}).get("multiplierUp"),
        "price_down": filters.get("PERCENT_PRICE", {}).get("multiplierDown"),
        "market_take_bound": s.get("marketTakeBound"),
        "market_max_qty": filters.get("MARKET_LOT_SIZE", {}).get("maxQty"),
        "max_qty": filters.get("LOT_SIZE", {}).get("maxQty"),
    }
    return {name: dec(raw) for name, raw in sources.items() if raw is not None}


def _binance(fetch: Fetch, base: str, book: InstrumentBook, default: Any) -> list[Instrument]:
    info = fetch(f"{base}/fapi/v1/exchangeInfo", None)
    out = []
    for s in info["symbols"]:
        if s.get("contractType") != "PERPETUAL" or s.get("status") != "TRADING":
            continue
        if s.get("quoteAsset") != "USDT":
            continue
        filters = {f["filterType"]: f for f in s["filters"]}
        out.append(
            _instrument(
                book,
                default,
                s["symbol"],
                s["baseAsset"],
                dec(filters["PRICE_FILTER"]["tickSize"]),
                dec(filters["LOT_SIZE"]["stepSize"]),
                dec(filters["LOT_SIZE"]["minQty"]),
                dec(filters.get("MIN_NOTIONAL", {}).get("notional", "0")),
                _binance_rules(s, filters),
            )
        )
    return out


def _bybit(fetch: Fetch, base: str, book: InstrumentBook, default: Any) -> list[Instrument]:
    out = []
    cursor = ""
    for _ in range(BYBIT_MAX_PAGES):
        url = f"{base}/v5/market/instruments-info?category=linear&limit=1000"
        if cursor:
            url += f"&cursor={urllib.parse.quote(cursor)}"
        page = fetch(url, None)
        if page.get("retCode") != 0:
            raise RefreshError(f"Bybit retCode {page.get('retCode')}: {page.get('retMsg')}")
        result = page["result"]
        for s in result["list"]:
            if s.get("contractType") != "LinearPerpetual" or s.get("status") != "Trading":
                continue
            if s.get("quoteCoin") != "USDT":
                continue
            lot, price = s["lotSizeFilter"], s["priceFilter"]
            out.append(
                _instrument(
                    book,
                    default,
                    s["symbol"],
                    s["baseCoin"],
                    dec(price["tickSize"]),
                    dec(lot["qtyStep"]),
                    dec(lot["minOrderQty"]),
                    dec(lot.get("minNotionalValue", "0")),
                )
            )
        cursor = result.get("nextPageCursor") or ""
        if not cursor:
            break
    return out


def _okx(fetch: Fetch, base: str, book: InstrumentBook, default: Any) -> list[Instrument]:
    page = fetch(f"{base}/api/v5/public/instruments?instType=SWAP", None)
    if page.get("code") != "0":
        raise RefreshError(f"OKX code {page.get('code')}: {page.get('msg')}")
    out = []
    for s in page["data"]:
        if s.get("settleCcy") != "USDT" or s.get("ctType") != "linear":
            continue
        if s.get("state") != "live":
            continue
        symbol = okx.user_symbol(s["instId"])
        contract = okx.CONTRACTS.get(symbol)
        scale = contract.scale if contract is not None else Decimal(1)
        ct_val = dec(s["ctVal"])
        out.append(
            _instrument(
                book,
                default,
                symbol,
                symbol[:-4],
                dec(s["tickSz"]) * scale,
                dec(s["lotSz"]) * ct_val / scale,
                dec(s["minSz"]) * ct_val / scale,
                Decimal(0),
            )
        )
    return out


def _hl_tick(mark: Decimal, sz_decimals: int) -> Decimal:
    """Hyperliquid prices: at most 5 significant figures and 6 − szDecimals decimals, integers
    always allowed — so the tick depends on the price level; this is the tick at `mark`."""
    finest = Decimal(1).scaleb(-(6 - sz_decimals))
    sig = Decimal(1).scaleb(mark.adjusted() - 4) if mark > 0 else finest
    return min(max(sig, finest), Decimal(1))


def _hyperliquid(fetch: Fetch, base: str, book: InstrumentBook, default: Any) -> list[Instrument]:
    meta, ctxs = fetch(f"{base}/info", {"type": "metaAndAssetCtxs"})
    out = []
    for asset, ctx in zip(meta["universe"], ctxs, strict=False):
        if asset.get("isDelisted"):
            continue
        szd = int(asset["szDecimals"])
        step = Decimal(1).scaleb(-szd)
        mark = dec(ctx.get("markPx") or "0")
        symbol = hyperliquid.user_symbol(asset["name"])
        out.append(
            _instrument(
                book,
                default,
                symbol,
                symbol[:-4],
                _hl_tick(mark, szd),
                step,
                step,
                Decimal(10),
            )
        )
    return out


_PARSERS: dict[str, Callable[[Fetch, str, InstrumentBook, Any], list[Instrument]]] = {
    "binance": _binance,
    "bybit": _bybit,
    "okx": _okx,
    "hyperliquid": _hyperliquid,
}


def _refresh_sync(venue: str, base_url: str, timeout: float) -> Iterable[Instrument]:
    book = bundled(venue)
    default = _default_brackets(venue)
    fetch: Fetch = lambda url, body: _http_json(url, body, timeout)  # noqa: E731
    instruments = _PARSERS[venue](fetch, base_url.rstrip("/"), book, default)
    if not instruments:
        raise RefreshError("no instruments in the answer")
    return instruments


async def refresh_instruments(
    venue: str, rest_url: str | None = None, http_timeout: float = 10.0
) -> tuple[InstrumentBook, str | None]:
    """The venue's instruments merged over the bundled book, and None; or, on any failure, the
    bundled book and a notice for the user. Never raises (except on cancellation)."""
    book = bundled(venue)
    if venue not in _PARSERS:
        return book, f"no instrument refresh for venue {venue!r}; using bundled data"
    base = rest_url or DEFAULT_REST[venue]
    try:
        instruments = await asyncio.to_thread(_refresh_sync, venue, base, http_timeout)
    except Exception as exc:  # any failure means: keep the bundled data, say why
        reason = plain_text(f"{type(exc).__name__}: {exc}", 160)
        when = f" from {book.as_of}" if book.as_of else ""
        return book, f"instrument refresh from {venue} failed ({reason}); using bundled data{when}"
    return book.with_instruments(instruments), None


def _okx_contracts_sync(base_url: str, timeout: float) -> dict[str, okx.Contract]:
    page = _http_json(
        f"{base_url.rstrip('/')}/api/v5/public/instruments?instType=SWAP", None, timeout
    )
    if page.get("code") != "0":
        raise RefreshError(f"OKX code {page.get('code')}: {page.get('msg')}")
    out = {}
    for s in page["data"]:
        if s.get("settleCcy") != "USDT" or s.get("ctType") != "linear":
            continue
        symbol = okx.user_symbol(s["instId"])
        known = okx.CONTRACTS.get(symbol)
        scale = known.scale if known is not None else Decimal(1)
        out[symbol] = okx.Contract(s["instId"], dec(s["ctVal"]), scale)
    return out


async def okx_contracts(
    rest_url: str | None = None, http_timeout: float = 10.0
) -> tuple[dict[str, okx.Contract], str | None]:
    """OKX contract sizes for every USDT swap, for `open_venue_feed("okx", ..., contracts=...)`
    — the bundled table only knows the main symbols. On failure: the bundled table and a notice."""
    try:
        found = await asyncio.to_thread(_okx_contracts_sync, rest_url or okx.REST_URL, http_timeout)
    except Exception as exc:  # keep the bundled table, say why
        reason = plain_text(f"{type(exc).__name__}: {exc}", 160)
        return dict(okx.CONTRACTS), f"OKX contract sizes unavailable ({reason}); using bundled"
    return dict(okx.CONTRACTS) | found, None
