"""Challenge rules, refills and gaps as a trader meets them: the terminal's options, its
status bar, the session summary, `stats`, and the drills through `papertrade simulate`.

Every figure is worked out by hand from the drill's lines (their fees are zero)."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from screen_host import Host

from papertrade.core import codec
from papertrade.core import events as ev
from papertrade.saves.store import Store
from papertrade.tui.cli.terminal import build_parser, prepare
from papertrade.tui.screens.summary import SummaryScreen, stats_rows
from papertrade.tui.service.setup import SetupError

ROOT = Path(__file__).parents[2]
DRILLS = ROOT / "examples" / "drills"
DAY1 = 1_767_225_600_000  # 2026-01-01 00:00:00 UTC


def simulate(name: str, *flags: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "papertrade", "simulate", str(DRILLS / name), *flags],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def lines(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in simulate(name, "--json").splitlines()]


def test_the_daily_loss_drill_refuses_leverage_size_and_then_opening_until_the_next_day() -> None:
    out = [o for o in lines("challenge-daily-loss.jsonl") if o["type"] != "account"]
    assert [(o["type"], o.get("order_id")) for o in out] == [
        ("rejected", "too-much-leverage"), ("rejected", "too-big"), ("fill", "long"),
        ("rule_breached", None), ("rejected", "add-more"), ("fill", "cut-half"),
        ("fill", "next-day"), ("challenge", None),
    ]  # fmt: skip
    assert "max_leverage" in out[0]["reason"] and "max_position_notional" in out[1]["reason"]
    # 1 BTC from 60,000 to 59,500: −500, 5 % of the day's opening 10,000
    assert {k: out[3][k] for k in ("ts", "rule", "limit", "value")} == {
        "ts": DAY1 + 6000,
        "rule": "max_daily_loss",
        "limit": "500",
        "value": "500",
    }
    assert D(out[5]["realized_pnl"]) == D("0.5") * (D(59500) - D(60000))
    assert out[-1]["passed"] is False
    assert out[-1]["breaches"] == [{"ts": DAY1 + 6000, "rule": "max_daily_loss"}]
    text = simulate("challenge-daily-loss.jsonl")
    assert "Challenge: failed: max_daily_loss reached at 2026-01-01 00:00:06 UTC" in text


def test_the_drawdown_drill_trails_the_peak_and_blocks_for_the_session() -> None:
    out = [o for o in lines("challenge-drawdown.jsonl") if o["type"] != "account"]
    breach = next(o for o in out if o["type"] == "rule_breached")
    # peak 10,000 + 1,000 at 61,000; 4 % of 11,000 = 440, reached at 60,560
    assert (breach["rule"], breach["limit"], breach["value"]) == ("max_drawdown", "440", "440")
    refused = [o["order_id"] for o in out if o["type"] == "rejected"]
    assert refused == ["add-more", "next-day"]  # the next day too
    closed = next(o for o in out if o.get("order_id") == "close")
    assert D(closed["realized_pnl"]) == D(60560) - D(60000)


def test_the_refill_drill_counts_two_wipes_and_goes_on() -> None:
    out = lines("refill-wipes.jsonl")
    refills = [o for o in out if o["type"] == "refill"]
    # each time 1 BTC at 100x lost the whole 1,000 wallet: refilled with 1,000
    assert refills == [
        {"type": "refill", "ts": DAY1 + 61_000, "amount": "1000"},
        {"type": "refill", "ts": DAY1 + 63_000, "amount": "1000"},
    ]
    summary = out[-1]
    assert (summary["type"], summary["passed"], summary["wipes"]) == ("challenge", None, 2)
    final = [o for o in out if o["type"] == "account"][-1]
    assert D(final["wallet_balance"]) == D(1000)
    text = simulate("refill-wipes.jsonl")
    assert "Wipes: 2 (2026-01-01 00:01:01 UTC, 2026-01-01 00:01:03 UTC)" in text
    assert "Challenge:" not in text  # no loss rule: nothing to pass or fail


def test_the_gap_drill_names_the_stop_and_the_liquidation() -> None:
    out = lines("gap-liquidation.jsonl")
    trig = next(o for o in out if o["type"] == "order_triggered")
    # ETH mark 3,000 then 2,950 30 s later: (2,950 − 3,000) / 3,000 = −1.666…% → −1.67
    assert (trig["after_gap_ms"], trig["price_move"]) == (30_000, "-1.67")
    liq = next(o for o in out if o["type"] == "liquidation")
    # BTC mark 59,800 then 58,000 47 s later: −1,800 / 59,800 = −3.0100…% → −3.01
    assert (liq["after_gap_ms"], liq["price_move"]) == (47_000, "-3.01")
    assert "after_gap_ms" not in next(o for o in out if o["type"] == "fill")
    text = simulate("gap-liquidation.jsonl")
    assert "liquidated on the first price after a 47 s feed gap (price moved -3.01 %)" in text
    assert "triggered on the first price after a 30 s feed gap (price moved -1.67 %)" in text


def args_for(tmp_path: Path, tui: Any, *extra: str) -> Any:
    db = str(tmp_path / "cli.db")
    return build_parser().parse_args(
        ["--feed", f"file:{tui.FIXTURE}", "--speed", "max", "--db", db, *extra]
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--max-daily-loss", "5x"], "--max-daily-loss"),
        (["--max-drawdown", "150%"], "--max-drawdown must be at most 100"),
        (["--max-leverage", "0"], "--max-leverage must be from 1"),
        (["--max-position-notional", "-1"], "--max-position-notional"),
    ],
)
def test_a_bad_rule_option_is_refused_before_the_terminal_starts(
    tmp_path: Path, argv: list[str], message: str
) -> None:
    args = build_parser().parse_args([*argv, "--db", str(tmp_path / "x.db")])
    with pytest.raises(SetupError, match=message):
        prepare(args)
    assert not (tmp_path / "x.db").exists() or not Store.open(tmp_path / "x.db").sessions()


async def test_a_breach_shows_in_the_status_bar_and_the_rules_are_kept_with_the_session(
    tmp_path: Path, tui: Any
) -> None:
    # 0.01 USDT of drawdown: the taker fee of the first fill alone reaches it
    app = prepare(args_for(tmp_path, tui, "--name", "funded", "--max-drawdown", "0.01", "--refill"))
    assert app.session is not None and app.store is not None
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await tui.settle(pilot)
            assert "challenge on track · 0 wipes" in str(app.trading.status_bar.render())
            out = app.session.order("BTCUSDT", "buy", D("0.01"), "market")
            fill = out[0]
            assert isinstance(fill, ev.Fill) and fill.fee > 0
            [breach] = [o for o in out if isinstance(o, ev.RuleBreached)]
            assert (breach.rule, breach.limit) == ("max_drawdown", D("0.01"))
            app.trading.flush()
            await pilot.pause()
            bar = str(app.trading.status_bar.render())
            assert "RULE BREACHED max_drawdown: no new positions for the session" in bar
            again = app.session.order("BTCUSDT", "buy", D("0.01"), "market")
            assert isinstance(again[0], ev.Rejected) and "max_drawdown" in again[0].reason
        settings = app.store.session("funded").settings
        assert settings.max_drawdown == ev.Limit(D("0.01")) and settings.refill
    finally:
        app.close_session("ended")
        app.store.close()


def _imported(tmp_path: Path, drill: str) -> Path:
    path = tmp_path / "papertrade.db"
    settings, events = codec.parse_lines((DRILLS / drill).read_text().splitlines())
    with Store.open(path) as store:
        store.import_session(settings, events, name="drill")
    return path


def _plain(rows: list[tuple[str, str | Text]]) -> dict[str, str]:
    return {k: v.plain if isinstance(v, Text) else v for k, v in rows}


async def test_the_summary_says_the_challenge_failed_and_when(tmp_path: Path) -> None:
    db = _imported(tmp_path, "challenge-daily-loss.jsonl")
    app = Host(lambda: SummaryScreen(db_path=db, session="drill", title="drill"))
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SummaryScreen) and screen.stats is not None
        rows = _plain(stats_rows(screen.stats))
        assert rows["Challenge"] == "failed"
        assert rows["  max_daily_loss"] == "2026-01-01 00:00:06 UTC"
        assert "Wipes (refilled)" not in rows
        shot = app.export_screenshot().replace("&#160;", " ")
        assert "Challenge" in shot and "failed" in shot


def test_stats_count_the_wipes_and_the_refills_add_up(tmp_path: Path) -> None:
    db = _imported(tmp_path, "refill-wipes.jsonl")
    with Store.open(db) as store:
        s = store.stats("drill")
    assert s.refills == ((DAY1 + 61_000, D("1000")), (DAY1 + 63_000, D("1000")))
    parts = dict(s.breakdown())
    # two wallets of 1,000 lost, two refills of 1,000: back at 1,000
    assert parts["refills"] == D(2000)
    assert sum(parts.values()) == s.equity_change == D(0)
    result = subprocess.run(
        [sys.executable, "-m", "papertrade", "stats", "drill", "--json", "--db", str(db)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["wipes"], data["challenge_passed"]) == (2, None)
    assert [r["ts"] for r in data["refills"]] == [DAY1 + 61_000, DAY1 + 63_000]


def test_the_log_says_what_was_breached_refilled_and_fired_after_a_gap() -> None:
    from papertrade.tui.widgets.log import describe

    breach = describe(ev.RuleBreached(DAY1, "max_daily_loss", D("500"), D("512.5")))
    assert breach is not None
    assert breach[0] == (
        "RULE BREACHED challenge rule max_daily_loss reached: 512.50 USDT against a limit of "
        "500.00 USDT; no new positions until 00:00 UTC"
    )
    refill = describe(ev.Refill(DAY1, D("1000")))
    assert refill is not None and "refilled with 1,000.00 USDT" in refill[0]
    fired = ev.OrderTriggered(
        DAY1, "sl", "BTCUSDT", "stop_market", D("59000"), D("58000"), 47_000, D("-3.1")
    )
    words = describe(fired)
    assert words is not None
    assert words[0].endswith(
        "triggered on the first price after a 47 s feed gap (price moved -3.1 %)"
    )
