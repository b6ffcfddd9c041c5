"""The `file:` feed's books: a real hftbacktest cut (one REST depth snapshot among Binance
`depth@0ms` diffs, tests/fixtures/offline/README.md) turned into `Book` events by Binance's
diff-depth rules, checked against the same recording's book tickers."""

from __future__ import annotations

import gzip
import json
from decimal import Decimal as D
from pathlib import Path
from typing import Any

from papertrade.core.events import Book
from papertrade.feeds.file import FileFeed

CUT = (
    Path(__file__).resolve().parents[1]
    / "fixtures/offline/btcusdt-2024-08-08-head300.hftbacktest.gz"
)
SNAPSHOT_ID = 5123107852948  # `lastUpdateId` of line 55


def frames() -> list[tuple[str, dict[str, Any]]]:
    """(local ns, JSON) of every line of the cut."""
    out = []
    with gzip.open(CUT, "rt", encoding="utf-8") as f:
        for line in f:
            ns, payload = line.split(" ", 1)
            out.append((ns, json.loads(payload)))
    return out


def books(path: Path, **kw: Any) -> list[Book]:
    return [e for e in FileFeed(path, speed=0, **kw).events() if isinstance(e, Book)]


def diffs() -> list[dict[str, Any]]:
    return [o["data"] for _, o in frames() if o.get("data", {}).get("e") == "depthUpdate"]


def test_books_follow_the_recorded_book_ticker_at_the_same_update_id() -> None:
    """Independent check: Binance's book ticker is pushed on every change of the best levels,
    so the ticker with the highest `u` not past a diff's `u` is the top of the book right after
    that diff. Every book the feed builds must show exactly that top. Which diffs make a book:
    from the one that straddles the snapshot on, the first, then each at least 100 ms (its `T`)
    after the last one that made a book."""
    got = books(CUT)
    tickers = [o["data"] for _, o in frames() if o.get("data", {}).get("e") == "bookTicker"]
    applied = [d for d in diffs() if d["u"] >= SNAPSHOT_ID]
    assert applied[0]["U"] <= SNAPSHOT_ID
    shown: list[dict[str, Any]] = []
    for d in applied:
        if not shown or d["T"] >= shown[-1]["T"] + 100:
            shown.append(d)
    assert len(got) == len(shown) == 8
    for book, diff in zip(got, shown, strict=True):
        assert len(book.bids) == len(book.asks) == 20
        assert book.ts >= diff["T"]  # its time, or a later one: time never runs back
        top = max((t for t in tickers if t["u"] <= diff["u"]), key=lambda t: t["u"])
        assert book.bids[0] == (D(top["b"]), D(top["B"]))
        assert book.asks[0] == (D(top["a"]), D(top["A"]))


def test_the_first_book_is_the_snapshot_with_the_straddling_diff_applied() -> None:
    """Rules 2–3: the diffs older than the snapshot are dropped; the first applied one has
    U ≤ lastUpdateId ≤ u (diff 5 of the cut, recorded before the snapshot line)."""
    straddling = [d for d in diffs() if d["U"] <= SNAPSHOT_ID <= d["u"]]
    assert len(straddling) == 1
    snapshot = next(o for _, o in frames() if "lastUpdateId" in o)
    bids = {D(p): D(q) for p, q in snapshot["bids"]}
    for p, q in straddling[0]["b"]:
        if D(q):
            bids[D(p)] = D(q)
        else:
            bids.pop(D(p), None)
    expected = sorted(bids.items(), reverse=True)[:20]
    assert list(books(CUT)[0].bids) == expected


def test_a_broken_update_chain_stops_the_books(tmp_path: Path) -> None:
    """Rule 4: a diff whose `pu` is not the previous `u` loses the book; with no later snapshot
    in the file, no book follows it."""
    with gzip.open(CUT, "rt", encoding="utf-8") as f:
        lines = f.read().splitlines()
    seen = 0
    for i, line in enumerate(lines):
        if '"e":"depthUpdate"' in line:
            seen += 1
            if seen == 12:  # a diff after the snapshot, after a few books
                lines[i] = line.replace('"pu":', '"pu":1', 1)
                cut_ts = json.loads(line.split(" ", 1)[1])["data"]["T"]
    path = tmp_path / "broken.hftbacktest"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    got = books(path)
    assert got == [b for b in books(CUT) if b.ts < cut_ts]
    assert 0 < len(got) < 8


def test_depth_levels_and_off(tmp_path: Path) -> None:
    assert all(len(b.bids) == 5 for b in books(CUT, depth=5))
    assert books(CUT, depth=0) == []
