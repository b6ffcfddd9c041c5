"""The bare `papertrade` command line: options, resume, and Textual staying out of headless use."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

import pytest

from tui.commands.app import SetupError, build_parser, prepare


def args_for(tmp_path, tui, *extra: str):
    return build_parser().parse_args(
        [
            "--feed",
            f"file:{tui.FIXTURE}",
            "--speed",
            "max",
            "--db",
            str(tmp_path / "cli.db"),
            *extra,
        ]
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--symbols", "BTCUSDT,NOPE"], "unknown symbol 'NOPE'"),
        (["--balance", "lots"], "--balance: not a number"),
        (["--balance", "-5"], "--balance must be a positive number"),
        (["--feed", "kraken"], "unknown feed 'kraken'"),
        (["--resume"], "no interrupted session to resume"),
    ],
)
def test_bad_options_are_refused_before_the_terminal_starts(tmp_path, argv, message):
    args = build_parser().parse_args([*argv, "--db", str(tmp_path / "x.db")])
    with pytest.raises(SetupError, match=message):
        prepare(args)


async def test_resume_continues_an_interrupted_session_with_its_position(tmp_path, tui):
    app = prepare(args_for(tmp_path, tui, "--name", "first"))
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        app.session.order("BTCUSDT", "buy", Decimal("0.01"))
    app.close_session("interrupted")  # as if the terminal had died
    app.store.close()

    again = prepare(args_for(tmp_path, tui, "--resume"))
    try:
        assert again.session_name == "first"
        async with again.run_test(size=(120, 40)) as pilot:
            await tui.settle(pilot)
            assert again.session.engine.positions["BTCUSDT"].qty == Decimal("0.01")
            assert again.trading.positions.row_keys == ["BTCUSDT"]
            assert again.session.next_order_id() == "u2", "ids never collide after a resume"
    finally:
        again.close_session("ended")
        again.store.close()


def test_headless_modules_do_not_import_textual():
    code = (
        "import sys, tui.cli, tui.session, tui.commands.app; "
        "tui.commands.app.build_parser(); "
        "assert 'textual' not in sys.modules, 'textual imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
