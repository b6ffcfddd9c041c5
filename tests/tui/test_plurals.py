"""Counts read as English: "1 event", "2 events" (issue 10: "1 events", "5 fill", "1
instruments"). One helper writes every count and its noun (`papertrade.core.text.plural`);
these drive the commands and the terminal with a one-event session."""

from __future__ import annotations

from pathlib import Path

import pytest
from screen_host import shows

from papertrade.core.text import plural
from papertrade.tui.cli import build_parser, main

build_parser()  # import every command module outside any test's capsys

ONE_EVENT = '{"type":"session","balance":"1000"}\n{"type":"mark","ts":1767225600000,"symbol":"BTCUSDT","price":"60000"}\n'


def test_plural_counts_and_nouns() -> None:
    assert plural(1, "event") == "1 event"
    assert plural(0, "event") == "0 events"
    assert plural(1234, "event") == "1,234 events"
    assert plural(1, "position") == "1 position"
    assert plural(2, "match", "matches") == "2 matches"


def test_one_event_is_said_in_the_singular_by_import_replay_export_and_delete(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "p.db")
    drill = tmp_path / "one.jsonl"
    drill.write_text(ONE_EVENT)
    assert main(["import", str(drill), "--name", "one", "--db", db]) == 0
    out, err = capsys.readouterr()
    assert "imported 1 event from" in out + err
    assert main(["replay", "one", "--headless", "--db", db]) == 0
    out, err = capsys.readouterr()
    assert "Replaying 1 event of session one" in out + err
    assert main(["export", "one", "--out", str(tmp_path / "x.jsonl"), "--db", db]) == 0
    out, err = capsys.readouterr()
    assert "exported session one (1 event)" in out + err
    assert main(["sessions", "--delete", "one", "--db", db]) == 0
    out, err = capsys.readouterr()
    assert "(id 1, 1 event)" in out + err
    assert "1 events" not in out + err


def test_one_instrument_is_one_instrument(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["instruments", "--feed", "binance", "BTCUSDT"]) == 0
    out, _ = capsys.readouterr()
    assert "1 instrument on binance" in out


async def test_the_terminal_counts_in_the_singular_too(app_factory, tui) -> None:
    from decimal import Decimal

    from papertrade.tui.screens.modals import ConfirmModal

    app = app_factory()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        session = app.session
        session.order("BTCUSDT", "buy", Decimal("0.01"), order_type="limit", price=Decimal(90000))
        await pilot.press("X")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        assert app.screen.question == "Cancel 1 open order?"
        await pilot.press("n")
        await pilot.press("S")  # the sessions list: this one session
        assert await shows(app, pilot, "1 session  ·")
