"""`file:PATH`: play recorded market data as a feed, at real speed, N× or as fast as possible.

Why: recorded real markets make reproducible sessions, demos and tests; the file feed turns
them into exactly the events a live feed produces. Formats (recognised from the content, gzip
or plain; samples of each, with their sources, under `tests/fixtures/offline/`):

- **drill / export JSON lines** (`core.codec`): market lines are played; the `session` line,
  user commands and `snapshot` lines are skipped (a feed carries market data only).
- **hftbacktest** (`<local_ns> <combined-stream JSON>`): Binance USDⓈ-M `bookTicker` → `Quote`,
  `trade`/`aggTrade` → `Trade`, `markPriceUpdate` → `MarkPrice`; the diff-depth frames
  (`depthUpdate`, `U`/`u`/`pu`) and the REST depth snapshot line (`lastUpdateId`, no symbol of
  its own: it belongs to the symbol whose diffs surround it) build a local book by Binance's
  rules (`feeds/diff_depth.py`), emitted as a `Book` of the top `depth` levels (20) at most
  every 100 ms of exchange time per symbol, as the live `depth20@100ms` stream does.
- **cryptofeed `.ws.txt`** (`<local_ts>: <combined-stream JSON>`; the connect and sent lines
  are skipped): same frames as above; `kline` is ignored, and so are its `depth` diffs, which
  have no snapshot in the same file to start a book from.
- **freqtrade CSV** (`open_time_ms,open,high,low,close,volume`), chosen by the file name:
  `funding_rate` → a `Funding` per row (the rate is in `open`); `mark` → `MarkPrice` points;
  other candles (1m, 5m, …) → per candle four points (open, then the low and the high in the
  candle's direction: low first for a rising candle, then close), at 0, ⅓, ⅔ of the candle and
  its last millisecond; each point is a `Quote` one tick wide touching the price (ask = price at
  the high, bid = price elsewhere), a `Trade` of a quarter of the candle's volume and a
  `MarkPrice` at the price. The symbol comes from the file name (`…BTCUSDT…`, `BTC_USDT…`).

**Marks**: the Binance captures carry no `markPrice` stream, so for them this feed *derives* a
`MarkPrice` from the book-ticker mid, at most one a second per symbol, without funding data
(a real mark follows an index of several spot venues and differs from the mid by a premium);
a symbol whose capture does carry `markPriceUpdate` frames gets those instead.

Timestamps follow the live Binance adapter: trades the trade time `T`, book tickers `T` (else
`E`), marks `E` (ms). Frames from different streams arrive
slightly out of order, so an event earlier than the previous one is stamped with the previous
one's time (time never runs backwards into the engine); a book ticker whose update id `u` is
not newer than the last one for its symbol is dropped as stale.

Recordings of other venues or shapes are refused, never played as silence (issue 10, bug 14:
the cryptofeed OKX capture used to play as "recorded 0 events", exit 0): a cryptofeed capture
whose connection is not a Binance one is refused when the feed is opened, naming the venue,
and a file whose frames are all of a kind this feed does not play fails with that count
instead of ending quietly. `sniff_symbols()` tells which symbols a recording holds, so the
terminal can say why a watchlist row stays `--`.

Pacing follows the timestamps: `speed=1` replays in real time, `N` N× faster, `0` as fast as
the consumer reads. Status: `connecting` → `live` while playing → `ended` at the end of the
file (`failed`, with the reason, if the file turns out to be corrupt).
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import gzip
import io
import json
import re
import time
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Literal

from papertrade.core.events import MARKET_TYPES, Funding, MarketEvent, MarkPrice, Quote, Trade
from papertrade.core.instruments import bundled
from papertrade.core.numbers import dec, floor_to, round_to

from .base import DEFAULT_DEPTH, Drop, FeedStatus, LocalFeed, check_depth, mono_ms
from .pacing import Ahead, Clock, Playback, PlaybackControls, Sleep

Format = Literal["drill", "hftbacktest", "cryptofeed", "csv"]

CSV_HEADER = ["open_time_ms", "open", "high", "low", "close", "volume"]
DERIVED_MARK_INTERVAL_MS = 1000
MAX_DEPTH = 1000  # a REST snapshot holds up to 1000 levels a side


class FileFeedError(ValueError):
    """The file cannot be played: unknown format or a corrupt line (with its number)."""


# --- reading ---------------------------------------------------------------------------------


def _open_text(path: Path) -> io.TextIOWrapper:
    with path.open("rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
    return path.open("r", encoding="utf-8")


_HFT_LINE = re.compile(r"^\d{10,} \{")
_CF_LINE = re.compile(r"^\d{9,}(\.\d+)?: \{")
_CF_CONNECT = re.compile(r"^(?P<url>\w+://(?P<host>[^/:\s]+)\S*) <->? ")
PLAYED_FRAMES = "Binance USDⓈ-M frames (bookTicker, trade, aggTrade, markPriceUpdate)"
SNIFF_EVENTS = 5000


def cryptofeed_host(path: Path) -> str | None:
    """The websocket host a cryptofeed capture connected to (its first `<->` line)."""
    with _open_text(path) as fh:
        for _, line in zip(range(50), fh, strict=False):
            match = _CF_CONNECT.match(line.strip())
            if match:
                return match.group("host")
    return None


def check_cryptofeed_venue(path: Path) -> None:
    """Refuse a cryptofeed capture of another venue: its frames would all be skipped."""
    host = cryptofeed_host(path)
    if host is not None and "binance" not in host.lower():
        venue = host.split(".")[-2] if host.count(".") >= 1 else host
        raise FileFeedError(
            f"{path.name}: a cryptofeed capture of {venue.upper()} ({host}); the file feed "
            f"plays {PLAYED_FRAMES} only — nothing in it could be played"
        )


def detect_format(path: Path) -> Format:
    """Recognise the format from the first meaningful lines."""
    with _open_text(path) as fh:
        for _, line in zip(range(50), fh, strict=False):
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            if text.replace(" ", "") == ",".join(CSV_HEADER):
                return "csv"
            if " <-> " in text or _CF_LINE.match(text):
                return "cryptofeed"
            if _HFT_LINE.match(text):
                return "hftbacktest"
            if text.startswith("{"):
                return "drill"
            break
    raise FileFeedError(
        f"{path}: unknown format (expected drill JSON lines, hftbacktest, cryptofeed .ws.txt "
        f"or a freqtrade CSV with header {','.join(CSV_HEADER)})"
    )


def symbol_from_name(name: str) -> str | None:
    """`binance-usdm-BTCUSDT-5m-….csv.gz` or `BTC_USDT_USDT-5m-futures.csv` → `BTCUSDT`."""
    match = re.search(r"(?<![A-Za-z0-9])([A-Z0-9]{2,})_?(USDT|USDC)(?![a-z])", name)
    return f"{match.group(1)}{match.group(2)}" if match else None


class FileFeed(PlaybackControls, LocalFeed):
    """Plays one recorded file; `events()` is the pure, unpaced sequence (tests, recorder).

    Pacing is `feeds.pacing.Playback`'s (`clock` and `sleep` injectable; `speed`, `pause()`
    and `resume()` while playing).
    """

    def __init__(
        self,
        path: str | Path,
        symbols: Collection[str] | None = None,
        *,
        speed: float = 1.0,
        derive_marks: bool = True,
        depth: int = DEFAULT_DEPTH,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if speed < 0:
            raise ValueError("speed must be >= 0 (0 = as fast as possible)")
        self.path = Path(path)
        if not self.path.is_file():
            raise FileFeedError(f"{self.path}: no such file")
        self.format = detect_format(self.path)
        if self.format == "cryptofeed":
            check_cryptofeed_venue(self.path)
        self.symbols: set[str] | None = set(symbols) if symbols else None
        """The symbols played; None = every symbol of the file."""
        self.derive_marks = derive_marks
        self.depth = check_depth(depth, MAX_DEPTH)
        """Levels per side of the books built from depth diffs (0: no books)."""
        self.name = f"file:{self.path.name}"
        self._playback = Playback(speed, clock=clock, sleep=sleep)
        LocalFeed.__init__(self)

    def add_symbol(self, symbol: str) -> None:
        """Also play `symbol`. A feed of every symbol of the file (`symbols is None`, the
        usual case) already plays it, so this changes nothing; a filtered feed widens its
        filter. Idempotent either way: one path per symbol, never a second feed."""
        if self.symbols is not None:
            self.symbols.add(symbol)

    def remove_symbol(self, symbol: str) -> None:
        """Nothing: the file plays what it recorded (a position in `symbol` still needs its
        marks), whatever the watchlist shows."""

    async def aclose(self) -> None:
        self._playback.stop()
        await super().aclose()

    async def _run(self) -> AsyncIterator[MarketEvent]:
        self._status = FeedStatus("live", since_ms=mono_ms())
        try:
            async for event in self._playback.play(Ahead(self.events())):
                yield event
            if not self.closed:
                self._status = FeedStatus("ended", "end of file", mono_ms())
        except FileFeedError as exc:
            self._status = FeedStatus("failed", str(exc), mono_ms())
            raise
        finally:
            if self._status.state == "live":
                self._status = FeedStatus("ended", "closed", mono_ms())

    def sniff_symbols(self, limit: int = SNIFF_EVENTS) -> set[str]:
        """The symbols among the file's first `limit` events (whatever the filter): enough
        for a recording's instruments without reading a long capture to its end."""
        found: set[str] = set()
        for i, event in enumerate(self._raw_events()):
            if i >= limit:
                break
            found.add(event.symbol)
        return found

    # --- the event sequence ----------------------------------------------------------------

    def events(self) -> Iterator[MarketEvent]:
        """Every market event of the file, filtered to `symbols`, time never decreasing."""
        last_ts = -1
        for event in self._raw_events():
            wanted = self.symbols  # looked up each time: `add_symbol` may widen it while playing
            if wanted is not None and event.symbol not in wanted:
                continue
            if event.ts < last_ts:
                event = _restamp(event, last_ts)
            last_ts = event.ts
            yield event

    def _raw_events(self) -> Iterator[MarketEvent]:
        readers: dict[Format, Callable[[Iterable[str]], Iterator[MarketEvent]]] = {
            "drill": self._drill,
            "hftbacktest": lambda lines: self._frames(lines, _split_hftbacktest),
            "cryptofeed": lambda lines: self._frames(lines, _split_cryptofeed),
            "csv": self._csv,
        }
        with _open_text(self.path) as fh:
            yield from readers[self.format](fh)

    def _drill(self, lines: Iterable[str]) -> Iterator[MarketEvent]:
        from papertrade.core import codec  # pydantic models: only when a drill is played

        try:
            for item in codec.iter_events(lines):
                if item.type in MARKET_TYPES:
                    yield item  # type: ignore[misc]
        except codec.FormatError as exc:
            raise FileFeedError(f"{self.path}: {exc}") from None

    def _frames(
        self, lines: Iterable[str], split: Callable[[str], str | None]
    ) -> Iterator[MarketEvent]:
        from pydantic import ValidationError

        from .diff_depth import DiffDepth
        from .file_frames import BookTicker, MarkPriceUpdate, parse_binance_model

        depth = DiffDepth(self.depth) if self.depth else None
        depth_symbol: str | None = None  # whose diffs a snapshot line (no symbol) belongs to
        held_snapshot: dict[str, object] | None = None
        last_u: dict[str, int] = {}
        next_mark: dict[str, int] = {}
        has_marks: set[str] = set()
        skipped = played = 0
        for number, line in enumerate(lines, start=1):
            payload = split(line)
            if payload is None:
                continue
            try:
                obj = json.loads(payload)
                data = obj.get("data", obj) if isinstance(obj, dict) else None
                if isinstance(data, dict) and (
                    data.get("e") == "depthUpdate" or "lastUpdateId" in data
                ):
                    skipped += 1  # depth alone is not a playable recording (no prices)
                    if depth is None:
                        continue
                    if "lastUpdateId" in data:
                        if depth_symbol is None:
                            held_snapshot = data
                            continue
                        books = depth.snapshot(depth_symbol, data)
                    else:
                        depth_symbol = data.get("s") if type(data.get("s")) is str else None
                        books = depth.diff(data)
                        if held_snapshot is not None and depth_symbol is not None:
                            books += depth.snapshot(depth_symbol, held_snapshot)
                            held_snapshot = None
                    yield from books
                    continue
                frame = parse_binance_model(obj)
            except (json.JSONDecodeError, ValidationError) as exc:
                raise FileFeedError(f"{self.path}: line {number}: bad frame: {exc}") from None
            except Drop as drop:
                raise FileFeedError(
                    f"{self.path}: line {number}: bad depth frame ({drop.reason})"
                ) from None
            if frame is None:
                skipped += 1
                continue
            played += 1
            try:
                event = frame.to_event()
            except ValueError as exc:
                raise FileFeedError(f"{self.path}: line {number}: bad frame: {exc}") from None
            if isinstance(frame, MarkPriceUpdate):
                has_marks.add(frame.s)
                yield event
            elif isinstance(frame, BookTicker):
                if frame.b > frame.a:
                    continue  # a crossed book ticker is a venue glitch; the next one fixes it
                if frame.u is not None:
                    if frame.u <= last_u.get(frame.s, -1):
                        continue
                    last_u[frame.s] = frame.u
                yield event
                if (
                    self.derive_marks
                    and frame.s not in has_marks
                    and event.ts >= next_mark.get(frame.s, -1)
                ):
                    next_mark[frame.s] = event.ts + DERIVED_MARK_INTERVAL_MS
                    yield MarkPrice(event.ts, frame.s, (frame.b + frame.a) / 2)
            else:
                yield event
        if skipped and not played:
            raise FileFeedError(
                f"{self.path.name}: {skipped} frames, none of them {PLAYED_FRAMES}: "
                "nothing to play (a recording of another venue or of depth only?)"
            )

    def _csv(self, lines: Iterable[str]) -> Iterator[MarketEvent]:
        name = self.path.name
        symbol = symbol_from_name(name)
        if symbol is None and self.symbols is not None and len(self.symbols) == 1:
            symbol = next(iter(self.symbols))
        if symbol is None:
            raise FileFeedError(f"{name}: cannot tell the symbol from the file name")
        reader = csv.reader(lines)
        header = [h.strip() for h in next(reader, [])]
        if header != CSV_HEADER:
            raise FileFeedError(f"{name}: expected header {','.join(CSV_HEADER)}")
        rows = _csv_rows(reader, name)
        if "funding" in name:
            for ts, o, _h, _l, _c, _v in rows:
                yield Funding(ts, symbol, o)
        elif "mark" in name.lower().replace("market", ""):
            for ts, points in _candle_paths(rows):
                for offset, price, _is_high in points:
                    yield MarkPrice(ts + offset, symbol, price)
        else:
            yield from _candle_events(rows, symbol)


def _csv_rows(
    reader: Iterable[list[str]], name: str
) -> Iterator[tuple[int, Decimal, Decimal, Decimal, Decimal, Decimal]]:
    for number, row in enumerate(reader, start=2):
        if not row:
            continue
        try:
            ts = int(row[0])
            o, h, low, c, v = (dec(x) for x in row[1:6])
        except (ValueError, IndexError) as exc:
            raise FileFeedError(f"{name}: line {number}: bad row {row!r}: {exc}") from None
        yield ts, o, h, low, c, v


_Row = tuple[int, Decimal, Decimal, Decimal, Decimal, Decimal]


def _candle_paths(
    rows: Iterable[_Row],
) -> Iterator[tuple[int, list[tuple[int, Decimal, bool]]]]:
    """Per candle: its open time and four (offset ms, price, is the high) points."""
    interval: int | None = None
    pending: _Row | None = None
    for row in rows:
        if pending is not None:
            gap = row[0] - pending[0]
            if gap > 0:
                interval = gap if interval is None else min(interval, gap)
            yield pending[0], _points(pending, interval or 60_000)
        pending = row
    if pending is not None:
        yield pending[0], _points(pending, interval or 60_000)


def _points(row: _Row, interval: int) -> list[tuple[int, Decimal, bool]]:
    _ts, o, h, low, c, _v = row
    first, second = ((low, False), (h, True)) if c >= o else ((h, True), (low, False))
    return [
        (0, o, False),
        (interval // 3, first[0], first[1]),
        (2 * interval // 3, second[0], second[1]),
        (interval - 1, c, False),
    ]


def _candle_events(rows: Iterable[_Row], symbol: str) -> Iterator[MarketEvent]:
    try:
        inst = bundled("binance")[symbol]
        tick, step = inst.tick_size, inst.step_size
    except (OSError, ValueError, KeyError):
        tick, step = None, None
    volumes: dict[int, Decimal] = {}

    def with_volume() -> Iterator[_Row]:
        for row in rows:
            volumes[row[0]] = row[5]
            yield row

    for ts, points in _candle_paths(with_volume()):
        volume = volumes.pop(ts)
        t = tick or _grid_of(points)
        s = step or Decimal("0.001")
        qty = max(s, floor_to(volume / 4, s))
        for offset, raw, is_high in points:
            price = round_to(raw, t)
            bid, ask = (price - t, price) if is_high else (price, price + t)
            when = ts + offset
            yield Quote(when, symbol, bid, ask)
            yield Trade(when, symbol, price, qty)
            yield MarkPrice(when, symbol, price)


def _grid_of(points: list[tuple[int, Decimal, bool]]) -> Decimal:
    """Smallest decimal place used by the candle's prices (when the symbol is not bundled)."""
    exponent = min(int(p.normalize().as_tuple().exponent) for _, p, _ in points)
    return Decimal(1).scaleb(min(exponent, 0))


def _split_hftbacktest(line: str) -> str | None:
    _, sep, payload = line.partition(" ")
    return payload if sep and ('"stream"' in payload or '"lastUpdateId"' in payload) else None


def _split_cryptofeed(line: str) -> str | None:
    if " <-> " in line or " <- " in line:
        return None
    _, sep, payload = line.partition(": ")
    return payload if sep and payload.startswith("{") else None


def _restamp(event: MarketEvent, ts: int) -> MarketEvent:
    return dataclasses.replace(event, ts=ts)
