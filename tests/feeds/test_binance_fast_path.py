"""Binance book tickers take a fast path recognised by their shape (issue 14); it must decide
every frame exactly as the model does.

The reference is the same adapter on the same frame with one trailing space: still the same
JSON, but no longer the exact shape, so it takes the model path. Both must give the same
stream, events and drop counts, frame after frame (the sequencer's memory included).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from papertrade.feeds.binance import _BOOK_TICKER, BinanceAdapter

FIXTURE = (
    Path(__file__).parents[1] / "fixtures" / "offline" / "btcusdt-2024-08-08-head60.hftbacktest.gz"
)
NOW_MS = 1_723_161_256_313

NUMBER = st.one_of(
    st.sampled_from(["61800.20", "61800.30", "0", "0.000", "2.507", "1e3", "-1", "1000000000000"]),
    st.from_regex(r"\A[0-9]{1,13}(\.[0-9]{0,18})?\Z"),
    st.integers(0, 10),  # a number sent as a JSON number: refused
)
INT = st.one_of(st.integers(0, 10**19), st.just(-1), st.sampled_from(["5", None]))
TIME = st.one_of(st.integers(NOW_MS - 10**6, NOW_MS + 10**6), st.sampled_from([0, 1, 10**18]))


@st.composite
def frames(draw: st.DrawFn) -> str:
    data: dict[str, Any] = {
        "e": draw(st.sampled_from(["bookTicker", "bookTicker", "bookticker"])),
        "u": draw(INT),
        "s": draw(st.sampled_from(["BTCUSDT", "BTCUSDT", "ETHUSDT", "BTC\\USDT"])),
        "b": draw(NUMBER),
        "B": draw(NUMBER),
        "a": draw(NUMBER),
        "A": draw(NUMBER),
        "T": draw(TIME),
        "E": draw(TIME),
    }
    if draw(st.booleans()):
        del data[draw(st.sampled_from(sorted(data)))]
    stream = draw(st.sampled_from(["btcusdt@bookTicker", "ethusdt@bookTicker", "x y"]))
    return json.dumps({"stream": stream, "data": data}, separators=(",", ":"))


def outcome(adapter: BinanceAdapter, raw: str) -> tuple[object, ...]:
    stream, events = adapter.decode("public", raw)
    return stream, events, dict(adapter.stats.dropped)


@settings(max_examples=100, deadline=None)
@given(st.lists(frames(), min_size=1, max_size=6))
def test_the_fast_path_decides_every_frame_as_the_model_does(raws: list[str]) -> None:
    fast, model = BinanceAdapter(["BTCUSDT"]), BinanceAdapter(["BTCUSDT"])
    for raw in raws:
        assert _BOOK_TICKER(raw + " ") is None
        assert outcome(fast, raw) == outcome(model, raw + " ")


def test_recorded_book_tickers_take_the_fast_path_and_decode_as_the_model_does() -> None:
    with gzip.open(FIXTURE, "rt", encoding="utf-8") as f:
        raws = [line.split(" ", 1)[1].rstrip("\n") for line in f if "@bookTicker" in line]
    assert len(raws) > 40
    assert all(_BOOK_TICKER(raw) for raw in raws)  # else the speed-up is silently gone
    fast, model = BinanceAdapter(["BTCUSDT"]), BinanceAdapter(["BTCUSDT"])
    for raw in raws:
        assert outcome(fast, raw) == outcome(model, raw + " ")
    before = fast.stats.dropped["duplicate"] + fast.stats.dropped["out_of_order"]
    assert sum(len(fast.decode("public", raw)[1]) for raw in raws) == 0  # all seen before
    after = fast.stats.dropped["duplicate"] + fast.stats.dropped["out_of_order"]
    assert after - before == len(raws)
