"""`papertrade record` keeps books: the real command on the real `file:` feed (a cut of a real
capture with depth), into a real SQLite store and a drill file; books conflated like quotes."""

from __future__ import annotations

from pathlib import Path

import pytest

from papertrade.core import codec
from papertrade.core.events import Book
from papertrade.feeds.file import FileFeed
from papertrade.saves.store import Store
from papertrade.tui.cli import main

CUT = (
    Path(__file__).resolve().parents[1]
    / "fixtures/offline/btcusdt-2024-08-08-head300.hftbacktest.gz"
)


def test_record_saves_the_books_of_the_feed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "rec.jsonl"
    code = main(
        ["record", "--feed", f"file:{CUT}", "--speed", "max", "--conflate", "0",
         "--db", str(tmp_path / "rec.db"), "--out", str(out)]
    )  # fmt: skip
    assert code == 0
    expected = [e for e in FileFeed(CUT, speed=0).events() if isinstance(e, Book)]
    assert len(expected) == 8
    _, drill = codec.parse_lines(out.read_text().splitlines())
    assert [e for e in drill if isinstance(e, Book)] == expected
    store = Store.open(tmp_path / "rec.db")
    try:
        (info,) = store.sessions()
        journal = [e for _, e in store.events(info.id)]
    finally:
        store.close()
    assert [e for e in journal if isinstance(e, Book)] == expected  # the compact rows read back
    assert "book 8;" in capsys.readouterr().err


def test_record_depth_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["record", "--feed", f"file:{CUT}", "--speed", "max", "--db", str(tmp_path / "r.db")]
    assert main([*args, "--depth", "5", "--out", str(tmp_path / "five.jsonl")]) == 0
    _, drill = codec.parse_lines((tmp_path / "five.jsonl").read_text().splitlines())
    books = [e for e in drill if isinstance(e, Book)]
    assert books and all(len(b.bids) == len(b.asks) == 5 for b in books)
    assert main([*args, "--depth", "-1"]) == 2
    assert "--depth must be >= 0" in capsys.readouterr().err
