"""The `file:` feed plays every recorded format with the numbers that are in the file."""

from __future__ import annotations

import gzip
import itertools
from decimal import Decimal
from pathlib import Path

import pytest
from manual_time import ManualTime

from papertrade.core import codec
from papertrade.core.events import Funding, MarkPrice, Quote, Trade
from papertrade.feeds.base import Feed
from papertrade.feeds.file import FileFeed, FileFeedError, detect_format, symbol_from_name
from papertrade.feeds.registry import open_feed

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "offline"
HFT = FIXTURES / "btcusdt-2024-08-08-head60.hftbacktest.gz"
CRYPTOFEED = FIXTURES / "binance-futures-2021-07-22-head40.cryptofeed.ws.txt"
CANDLES_1M = FIXTURES / "binance-usdm-BTCUSDT-1m-head5.csv"
FUNDING = FIXTURES / "binance-usdm-BTCUSDT-8h-funding_rate-head4.csv"
MARK = FIXTURES / "binance-usdm-BTCUSDT-8h-mark-head3.csv"
ETH = FIXTURES / "ethusdt-2024-08-08-head1500.hftbacktest.gz"

D = Decimal


def events_of(path: Path, symbols: list[str] | None = None) -> list:
    return list(FileFeed(path, symbols, speed=0).events())


def test_formats_are_recognised_from_the_content() -> None:
    assert detect_format(HFT) == "hftbacktest"
    assert detect_format(CRYPTOFEED) == "cryptofeed"
    assert detect_format(CANDLES_1M) == "csv"
    assert symbol_from_name(CANDLES_1M.name) == "BTCUSDT"
    assert symbol_from_name("BTC_USDT_USDT-5m-futures.csv") == "BTCUSDT"


def test_hftbacktest_capture_plays_book_tickers_and_trades_with_a_derived_mark() -> None:
    events = events_of(HFT)
    assert events[:4] == [
        Quote(1723161256313, "BTCUSDT", D("61800.20"), D("61800.30"), D("2.507"), D("2.510")),
        MarkPrice(1723161256313, "BTCUSDT", D("61800.25")),  # derived from the mid
        Trade(1723161256322, "BTCUSDT", D("61800.30"), D("0.006")),
        Quote(1723161256322, "BTCUSDT", D("61800.20"), D("61800.30"), D("2.507"), D("2.504")),
    ]
    quotes = [e for e in events if isinstance(e, Quote)]
    trades = [e for e in events if isinstance(e, Trade)]
    marks = [e for e in events if isinstance(e, MarkPrice)]
    # 46 bookTicker and 6 trade frames; 6 depth frames and the REST snapshot are ignored
    assert (len(quotes), len(trades)) == (46, 6)
    assert trades[-1] == Trade(1723161256624, "BTCUSDT", D("61800.30"), D("0.003"))
    assert [m.ts for m in marks] == [1723161256313]  # at most one derived mark a second
    assert all(b.ts >= a.ts for a, b in itertools.pairwise(events))


def test_cryptofeed_capture_plays_book_tickers_and_agg_trades() -> None:
    events = events_of(CRYPTOFEED)
    assert events[:6] == [
        Quote(1626992741012, "SUSHIUSDT", D("7.6110"), D("7.6120"), D("2"), D("297")),
        MarkPrice(1626992741012, "SUSHIUSDT", D("7.6115")),
        Quote(1626992741163, "SUSHIUSDT", D("7.6110"), D("7.6120"), D("6"), D("297")),
        Quote(1626992741421, "CTKUSDT", D("1.01000"), D("1.01100"), D("85782"), D("6483")),
        MarkPrice(1626992741421, "CTKUSDT", D("1.01050")),
        Trade(1626992741421, "CTKUSDT", D("1.01100"), D("10")),  # aggTrade at its T
    ]
    only_ctk = events_of(CRYPTOFEED, ["CTKUSDT"])
    assert only_ctk and {e.symbol for e in only_ctk} == {"CTKUSDT"}


def test_one_minute_candles_become_open_extremes_close_points() -> None:
    events = events_of(CANDLES_1M)
    t0 = 1746372780000  # 95505.4 / 95505.5 / 95502.7 / 95502.7, 16.536: a falling candle
    qty = D("4.134")  # a quarter of the volume, on the 0.001 step
    assert events[:12] == [
        Quote(t0, "BTCUSDT", D("95505.4"), D("95505.5")),
        Trade(t0, "BTCUSDT", D("95505.4"), qty),
        MarkPrice(t0, "BTCUSDT", D("95505.4")),
        Quote(t0 + 20_000, "BTCUSDT", D("95505.4"), D("95505.5")),  # the high first: ask = high
        Trade(t0 + 20_000, "BTCUSDT", D("95505.5"), qty),
        MarkPrice(t0 + 20_000, "BTCUSDT", D("95505.5")),
        Quote(t0 + 40_000, "BTCUSDT", D("95502.7"), D("95502.8")),
        Trade(t0 + 40_000, "BTCUSDT", D("95502.7"), qty),
        MarkPrice(t0 + 40_000, "BTCUSDT", D("95502.7")),
        Quote(t0 + 59_999, "BTCUSDT", D("95502.7"), D("95502.8")),
        Trade(t0 + 59_999, "BTCUSDT", D("95502.7"), qty),
        MarkPrice(t0 + 59_999, "BTCUSDT", D("95502.7")),
    ]
    # the fourth candle rises (95457.7 -> 95467.7): its low comes before its high
    fourth = [e.price for e in events[36:48] if isinstance(e, Trade)]
    assert fourth == [D("95457.7"), D("95457.6"), D("95467.7"), D("95467.7")]
    assert len(events) == 5 * 12


def test_funding_and_mark_csv_files() -> None:
    assert events_of(FUNDING) == [
        Funding(1741276800000, "BTCUSDT", D("0.00006818")),
        Funding(1741305600000, "BTCUSDT", D("-0.00000612")),
        Funding(1741334400001, "BTCUSDT", D("-0.00001539")),
        Funding(1741363200000, "BTCUSDT", D("0.00002028")),
    ]
    marks = events_of(MARK)
    assert marks[:4] == [
        MarkPrice(1741276800000, "BTCUSDT", D("90776.94748889")),
        MarkPrice(1741286400000, "BTCUSDT", D("91023.10873333")),
        MarkPrice(1741296000000, "BTCUSDT", D("87808.72914815")),
        MarkPrice(1741305599999, "BTCUSDT", D("89887.9")),
    ]
    assert len(marks) == 12


DRILL = """\
{"type":"session","balance":"5000"}
# a comment
{"type":"quote","ts":1000,"symbol":"BTCUSDT","bid":"100","ask":"100.1"}
{"type":"order","ts":1000,"id":"o1","symbol":"BTCUSDT","side":"buy","qty":"1","order_type":"market"}
{"type":"mark","ts":2000,"symbol":"BTCUSDT","price":"100.05"}
{"type":"cancel","ts":2500,"id":"o1"}
{"type":"snapshot","ts":2500}
{"type":"trade","ts":3000,"symbol":"BTCUSDT","price":"100.1","qty":"0.5"}
{"type":"funding","ts":11000,"symbol":"BTCUSDT","rate":"0.0001"}
"""


def test_drill_files_play_market_lines_and_skip_commands(tmp_path: Path) -> None:
    path = tmp_path / "drill.jsonl"
    path.write_text(DRILL)
    assert detect_format(path) == "drill"
    assert events_of(path) == [
        Quote(1000, "BTCUSDT", D("100"), D("100.1")),
        MarkPrice(2000, "BTCUSDT", D("100.05")),
        Trade(3000, "BTCUSDT", D("100.1"), D("0.5")),
        Funding(11000, "BTCUSDT", D("0.0001")),
    ]
    gz = tmp_path / "drill.jsonl.gz"
    gz.write_bytes(gzip.compress(DRILL.encode()))
    assert events_of(gz) == events_of(path)


async def test_playback_speed_follows_the_recorded_timestamps(tmp_path: Path) -> None:
    path = tmp_path / "ten-seconds.jsonl"
    path.write_text(DRILL)  # market lines at 1, 2, 3 and 11 s: ten seconds of market time
    time = ManualTime()
    feed = open_feed(f"file:{path}", [], speed="100x", clock=time.clock, sleep=time.sleep)
    assert isinstance(feed, Feed) and feed.status.state == "connecting"
    got: list[tuple[int, float]] = []
    async for event in feed:
        got.append((event.ts, time.elapsed))
    # each line (ts - 1 s) / 100 after the first
    assert got == [
        (1000, 0),
        (2000, pytest.approx(0.01)),
        (3000, pytest.approx(0.02)),
        (11000, pytest.approx(0.10)),
    ]
    assert feed.status.state == "ended"

    fast_time = ManualTime()
    fast = open_feed(f"file:{path}", [], speed="max", clock=fast_time.clock, sleep=fast_time.sleep)
    assert [e.ts async for e in fast] == [ts for ts, _ in got]
    assert fast_time.sleeps == []  # max speed never waits


async def test_a_file_feed_plays_every_symbol_so_adding_one_changes_nothing() -> None:
    feed = FileFeed(CRYPTOFEED, speed=0)
    assert feed.symbols is None
    feed.add_symbol("CTKUSDT")
    feed.remove_symbol("SUSHIUSDT")  # the file plays what it recorded
    assert feed.symbols is None
    assert [e async for e in feed] == events_of(CRYPTOFEED)

    only_ctk = FileFeed(CRYPTOFEED, ["CTKUSDT"], speed=0)
    only_ctk.add_symbol("SUSHIUSDT")  # a filtered feed widens its filter
    assert only_ctk.symbols == {"CTKUSDT", "SUSHIUSDT"}
    assert list(only_ctk.events()) == events_of(CRYPTOFEED, ["CTKUSDT", "SUSHIUSDT"])


async def test_closing_mid_file_ends_the_feed() -> None:
    feed = FileFeed(HFT, speed=0)
    async for _ in feed:
        assert feed.status.state == "live"
        break
    await feed.aclose()
    assert feed.status.state == "ended"


async def test_a_corrupt_file_fails_with_the_line_number(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(
        '{"type":"quote","ts":1,"symbol":"BTCUSDT","bid":"1","ask":"2"}\n{"type":"quote"\n'
    )
    feed = FileFeed(path, speed=0)
    with pytest.raises(FileFeedError, match="line 2"):
        _ = [e async for e in feed]
    assert feed.status.state == "failed" and "line 2" in feed.status.detail

    unknown = tmp_path / "notes.txt"
    unknown.write_text("hello\n")
    with pytest.raises(FileFeedError, match="unknown format"):
        FileFeed(unknown)
    with pytest.raises(FileFeedError, match="no such file"):
        open_feed(f"file:{tmp_path / 'missing.jsonl'}", [])


def test_a_longer_eth_capture_plays_in_order_and_round_trips_through_the_codec() -> None:
    events = events_of(ETH)
    raw = gzip.decompress(ETH.read_bytes()).decode().splitlines()
    assert len(raw) == 1500
    trade_frames = sum('"e":"trade"' in line for line in raw)
    ticker_frames = sum('"e":"bookTicker"' in line for line in raw)
    trades = [e for e in events if isinstance(e, Trade)]
    quotes = [e for e in events if isinstance(e, Quote)]
    marks = [e for e in events if isinstance(e, MarkPrice)]
    assert len(trades) == trade_frames > 0  # every trade is played
    assert 0 < len(quotes) <= ticker_frames  # stale or crossed book tickers are dropped
    # 7.4 s of capture: a derived mark at most once a second, so 8 of them
    assert (events[0].ts, events[-1].ts) == (1723161256310, 1723161263748)
    assert len(marks) == 8 and all(b.ts - a.ts >= 1000 for a, b in itertools.pairwise(marks))
    assert all(b.ts >= a.ts for a, b in itertools.pairwise(events))
    # and books from the capture's depth diffs and its REST snapshot (test_file_depth.py)
    assert {e.type for e in events} == {"quote", "trade", "mark", "book"}
    lines = [codec.dumps(e) for e in events]
    _, parsed = codec.parse_lines(lines)
    assert parsed == events


OKX = FIXTURES / "okx-v5-2022-05-13-head28.cryptofeed.ws.txt"


def test_a_cryptofeed_capture_of_okx_is_refused_naming_the_venue() -> None:
    """Issue 10 bug 14: it played as "recorded 0 events", exit 0, without a word."""
    with pytest.raises(FileFeedError) as caught:
        FileFeed(OKX, speed=0)
    words = str(caught.value)
    assert "cryptofeed capture of OKX (ws.okx.com)" in words
    assert "plays Binance USDⓈ-M frames" in words


def test_a_file_whose_frames_are_all_unplayable_fails_instead_of_ending_quietly(
    tmp_path: Path,
) -> None:
    """The same OKX frames without the connect and sent lines (so the venue is not named):
    24 frames (18 subscription acks, 3 tickers, 3 trades), none of them a Binance frame."""
    lines = [line for line in OKX.read_text().splitlines() if " <-" not in line]
    assert len(lines) == 28 - 4  # the connect line and 3 sent subscriptions dropped
    bare = tmp_path / "bare.ws.txt"
    bare.write_text("\n".join(lines) + "\n")
    with pytest.raises(FileFeedError, match=r"bare\.ws\.txt: 24 frames, none of them Binance"):
        list(FileFeed(bare, speed=0).events())


def test_sniffing_a_recording_names_its_symbols() -> None:
    assert FileFeed(CRYPTOFEED, speed=0).sniff_symbols() == {"SUSHIUSDT", "AKROUSDT", "CTKUSDT"}
    assert FileFeed(HFT, speed=0).sniff_symbols(limit=5) == {"BTCUSDT"}
