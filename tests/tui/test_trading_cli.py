"""The bare `papertrade` command line: options, resume, and Textual staying out of headless use."""

from __future__ import annotations

import gc
from decimal import Decimal

import pytest

from papertrade.tui.cli.terminal import build_parser, offer_resume, prepare, run
from papertrade.tui.service.setup import SetupError


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
        (["--symbols", "BTCUSDT,NOPE"], "unknown symbol for binance: NOPE"),
        (["--symbols", "BTCUSDT,,ETHUSDT"], "'' is not a symbol"),
        (["--balance", "lots"], "--balance: not a number"),
        (["--balance", "-5"], "--balance: must be positive"),
        (["--balance", "1e40"], "--balance: must be at most"),
        (["--name", "12345"], "all digits"),
        (["--name", "ev\x1bil"], "control characters"),
        (["--feed", "kraken"], "unknown feed 'kraken'"),
        (["--resume"], "no interrupted session to resume"),
    ],
)
def test_bad_options_are_refused_before_the_terminal_starts(tmp_path, argv, message):
    args = build_parser().parse_args([*argv, "--db", str(tmp_path / "x.db")])
    with pytest.raises(SetupError, match=message):
        prepare(args)


def test_a_refused_start_turns_the_collector_back_on(tmp_path, capsys):
    """`run` starts with the cyclic collector off (issue 14: the first frame sooner); a start
    that ends before the terminal settles, here on a bad option, must not leave it off."""
    assert gc.isenabled()
    args = build_parser().parse_args(["--balance", "lots", "--db", str(tmp_path / "x.db")])
    assert run(args) == 2
    assert "--balance: not a number" in capsys.readouterr().err
    assert gc.isenabled()


async def test_resume_continues_an_interrupted_session_with_its_position(tmp_path, tui):
    app = prepare(args_for(tmp_path, tui, "--name", "first"))
    assert app.session is not None and app.store is not None
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        app.session.order("BTCUSDT", "buy", Decimal("0.01"))
    app.close_session("interrupted")  # as if the terminal had died
    app.store.close()

    again = prepare(args_for(tmp_path, tui, "--resume"))
    assert again.session is not None and again.store is not None
    try:
        assert again.session_name == "first"
        pending = [text for text, _ in again.session.notes]  # what the log shows first
        assert any(
            "resumed session #1 first: 1 position, 0 open orders" in text for text in pending
        )
        async with again.run_test(size=(120, 40)) as pilot:
            await tui.settle(pilot)
            assert again.session.engine.positions["BTCUSDT"].qty == Decimal("0.01")
            assert again.trading.positions.row_keys == ["BTCUSDT"]
            assert again.session.next_order_id() == "u2", "ids never collide after a resume"
    finally:
        again.close_session("ended")
        again.store.close()


async def test_the_next_start_offers_to_resume_an_interrupted_session(tmp_path, tui):
    app = prepare(args_for(tmp_path, tui, "--name", "crashed"))
    assert app.store is not None
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
    app.close_session("interrupted")
    app.store.close()
    questions: list[str] = []

    def say(answer: str):
        def ask(question: str) -> str:
            questions.append(question)
            return answer

        return ask

    declined = args_for(tmp_path, tui)
    offer_resume(declined, ask=say("n"))
    assert declined.resume is None
    assert "'crashed' (file) was interrupted. Resume it? [Y/n]" in questions[0]
    accepted = args_for(tmp_path, tui)
    offer_resume(accepted, ask=say(""))  # enter = yes
    assert accepted.resume == "1"
    # nothing to offer in a fresh store: no question at all
    fresh = build_parser().parse_args(["--db", str(tmp_path / "fresh.db")])
    offer_resume(fresh, ask=say("y"))
    assert fresh.resume is None and len(questions) == 2


@pytest.mark.parametrize(("flag", "refused"), [((), True), (("--exchange-limits", "off"), False)])
async def test_a_new_terminal_session_trades_within_the_exchange_limits(
    tmp_path, tui, flag, refused
):
    # BTCUSDT's PERCENT_PRICE band is mark × 0.95 .. × 1.05 (core/data/SOURCES.md): a buy
    # limit at half the mark is outside it, and Binance refuses it; `off` lets it rest.
    app = prepare(args_for(tmp_path, tui, "--name", "banded", *flag))
    assert app.session is not None and app.store is not None
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await tui.settle(pilot)
            mark = app.session.engine.markets["BTCUSDT"].mark
            assert mark is not None
            half = (mark / 2).quantize(Decimal("0.1"))
            out = app.session.order("BTCUSDT", "buy", Decimal("0.01"), "limit", half)
            reasons = [o.reason for o in out if hasattr(o, "reason")]
            if refused:
                assert reasons and "band" in reasons[0]
                assert app.session.engine.orders == {}
            else:
                assert reasons == [] and list(app.session.engine.orders) == ["u1"]
        assert app.store.session("banded").settings.exchange_limits is refused
    finally:
        app.close_session("ended")
        app.store.close()
