"""Opening the terminal on a `file:` recording says what it can and cannot show (issue 10,
bug 14): the OKX capture used to play as silence, and a symbol the recording does not hold,
or that is not a bundled instrument, sat in the watchlist as `--` with no word why."""

from __future__ import annotations

from pathlib import Path

import pytest

from papertrade.tui.cli.terminal import build_parser, prepare
from papertrade.tui.service.setup import SetupError

OFFLINE = Path(__file__).resolve().parents[1] / "fixtures" / "offline"
OKX = OFFLINE / "okx-v5-2022-05-13-head28.cryptofeed.ws.txt"
ALTS = OFFLINE / "binance-futures-2021-07-22-head40.cryptofeed.ws.txt"


def _args(tmp_path: Path, path: Path, *extra: str):
    return build_parser().parse_args(
        ["--feed", f"file:{path}", "--speed", "max", "--db", str(tmp_path / "r.db"), *extra]
    )


def test_an_okx_capture_is_refused_before_the_terminal_starts(tmp_path: Path) -> None:
    with pytest.raises(SetupError, match=r"cryptofeed capture of OKX \(ws\.okx\.com\)"):
        prepare(_args(tmp_path, OKX))


def test_a_recording_of_symbols_papertrade_does_not_know_says_why(tmp_path: Path, tui) -> None:
    with pytest.raises(SetupError) as caught:
        prepare(_args(tmp_path, ALTS))
    words = str(caught.value)
    assert "nothing in it can be traded: it holds AKROUSDT, CTKUSDT, SUSHIUSDT" in words
    assert "bundled binance instrument" in words
    with pytest.raises(SetupError, match=r"--symbols: SUSHIUSDT not a bundled binance"):
        prepare(_args(tmp_path, tui.FIXTURE, "--symbols", "SUSHIUSDT"))


async def test_a_symbol_missing_from_the_recording_is_explained_in_the_log(
    tmp_path: Path, tui
) -> None:
    app = prepare(_args(tmp_path, tui.FIXTURE, "--symbols", "BTCUSDT,DOGEUSDT"))
    assert app.session is not None and app.store is not None
    try:
        notes = [text for text, _ in app.session.notes]
        assert any(
            "DOGEUSDT: not in the first 5,000 events of market.jsonl (it holds BNBUSDT, "
            "BTCUSDT, ETHUSDT, SOLUSDT, XRPUSDT): its row stays -- until prices come" in n
            for n in notes
        ), notes
    finally:
        app.close_session("ended")
        app.store.close()


async def test_unbundled_symbols_of_a_recording_are_named_and_the_rest_is_watched(
    tmp_path: Path,
) -> None:
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text(
        '{"type":"quote","ts":1735689600000,"symbol":"BTCUSDT","bid":"94999.9","ask":"95000"}\n'
        '{"type":"quote","ts":1735689600001,"symbol":"AKROUSDT","bid":"0.01","ask":"0.011"}\n'
    )
    app = prepare(_args(tmp_path, mixed))
    assert app.session is not None and app.store is not None
    try:
        assert app.session.watchlist == ["BTCUSDT"]
        notes = [text for text, _ in app.session.notes]
        assert (
            "AKROUSDT: in mixed.jsonl but not bundled binance instruments, so not shown and "
            "not tradable" in notes
        )
    finally:
        app.close_session("ended")
        app.store.close()
