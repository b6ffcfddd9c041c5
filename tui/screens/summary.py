"""`SummaryScreen`: how a session went — the numbers a trader reviews, and the equity curve.

Shown when a session ends (a take-over branch closed, a replay played out) or on demand; the
quit summary of a trading session also shows the same trades all isolated and all cross. It
takes ready `SessionStats` or a session to compute them for; computing replays the whole
journal (`Store.stats`), so that runs in a thread worker with its own `Store` connection.
Definitions of every number are in `saves/stats.py`; this screen only lays them out. The
equity change is shown with its parts (realized, unrealized at the end, fees, funding,
liquidation losses; costs negative) and their sum, so Net PnL never silently disagrees with
the final equity (issue 10, bug 10).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Static
from textual.worker import Worker, WorkerState
from textual_plotext import PlotextPlot

from papertrade.core.shadow import RunFigures
from papertrade.saves.stats import SessionStats
from papertrade.saves.store import Store, instruments_for
from papertrade.tui.service.listing import fmt_duration
from papertrade.tui.service.shadows import compare_journal
from papertrade.tui.widgets import fmt
from papertrade.tui.widgets.chart import Scale, scale
from papertrade.tui.widgets.footer import SteadyFooter


def stats_rows(
    stats: SessionStats, modes: Sequence[RunFigures] = ()
) -> list[tuple[str, str | Text]]:
    """(label, value) pairs in reading order: result first, then how it was made. `modes`
    (all isolated, all cross: the same trades in one margin mode) follow the final equity,
    the figure they answer."""

    def money(value: Decimal | None) -> str | Text:
        return fmt.signed_text(fmt.money(value), value)

    in_market = fmt_duration(stats.time_in_market_ms)
    if stats.time_in_market_pct is not None:
        in_market += f" ({fmt.pct(stats.time_in_market_pct, 1, signed=False)})"
    drawdown = fmt.money(stats.max_drawdown)
    if stats.max_drawdown_pct is not None:
        drawdown += f" ({fmt.pct(stats.max_drawdown_pct, 1, signed=False)})"
    span = (
        fmt_duration(stats.end_ts - stats.start_ts)
        if stats.start_ts is not None and stats.end_ts is not None
        else fmt.DASH
    )
    parts = stats.breakdown()
    total = sum((v for _, v in parts), Decimal(0))
    change = stats.equity_change
    adds_up = Text(fmt.money(total), style="bold")
    if total == change:
        adds_up.append(" ✓", style="bold green")
    else:
        adds_up.append(f" ≠ by {fmt.money(change - total)}", style="bold red")
    return [
        ("Starting balance", fmt.money(stats.starting_balance)),
        ("Final equity", Text(fmt.money(stats.final_equity), style="bold")),
        *((f"  if all {mode}", _mode_value(f)) for mode, f in zip(MODES, modes, strict=False)),
        ("Equity change", money(change)),
        *((f"  {label[0].upper()}{label[1:]}", money(value)) for label, value in parts),
        ("  Sum of the parts", adds_up),
        ("Net realized PnL", money(stats.net_pnl)),
        ("Trades (fills)", str(stats.trades)),
        ("Closing trades", f"{stats.closing_trades} ({stats.wins} won, {stats.losses} lost)"),
        ("Win rate", fmt.pct(stats.win_rate, 1, signed=False)),
        ("Average win", money(stats.average_win)),
        ("Average loss", money(stats.average_loss)),
        ("Largest loss", money(stats.largest_loss)),
        ("Max drawdown", drawdown),
        ("Liquidations", Text(str(stats.liquidations), style="red" if stats.liquidations else "")),
        ("Time in market", in_market),
        ("Session span", span),
        *_challenge_rows(stats),
    ]


def _challenge_rows(stats: SessionStats) -> list[tuple[str, str | Text]]:
    rows: list[tuple[str, str | Text]] = []
    if stats.challenge:
        verdict = "passed" if stats.passed else "failed"
        style = "bold green" if stats.passed else "bold red"
        rows.append(("Challenge", Text(verdict, style=style)))
        rows += [(f"  {rule}", fmt.utc(ts)) for ts, rule in stats.breaches]
    if stats.refill:
        rows.append(("Wipes (refilled)", str(len(stats.refills))))
        rows += [("  wiped", fmt.utc(ts)) for ts, _ in stats.refills]
    return rows


MODES = ("isolated", "cross")


def _mode_value(figures: RunFigures) -> Text:
    """Its final equity (margin balance), and its liquidations if any."""
    text = Text(fmt.money(figures.margin_balance))
    if figures.liquidations:
        text.append(f" · {figures.liquidations} liq", style="red")
    return text


def compute(db_path: Path | str | None, session: str | int) -> SessionStats:
    with Store.open(db_path) as store:
        return store.stats(session)


def compute_with_modes(
    db_path: Path | str | None, session: str | int
) -> tuple[SessionStats, tuple[RunFigures, ...]]:
    """The statistics and the same journal all isolated and all cross (`compare_journal`)."""
    with Store.open(db_path) as store:
        info = store.session(session, totals=False)
        stats = store.stats(info.id)
        comparison = compare_journal(store, info.id, instruments_for(info.venue))
    return stats, tuple(comparison.figures[f"all_{mode}"] for mode in MODES)


class SummaryScreen(Screen[None]):
    """A session's summary; `escape`/`q` goes back."""

    DEFAULT_CSS = """
    SummaryScreen #summary-title { height: 1; background: $panel; padding: 0 1; }
    SummaryScreen Horizontal { height: 1fr; }
    SummaryScreen #summary-stats { width: 48; padding: 1 2; }
    SummaryScreen #summary-equity { width: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "back", "Back")]

    def __init__(
        self,
        stats: SessionStats | None = None,
        *,
        db_path: Path | str | None = None,
        session: str | int | None = None,
        session_name: str | None = None,
        title: str | None = None,
        compare_modes: bool = False,
    ) -> None:
        """`compare_modes`: also replay the session all isolated and all cross (the quit
        summary of a trading session does)."""
        if stats is None and session is None:
            raise ValueError("give the stats or a session to compute them for")
        super().__init__()
        self.stats = stats
        self.db_path = db_path
        self.session = session
        self.title_text = title or session_name or f"Session {session or ''}".strip()
        self.compare_modes = compare_modes
        self.modes: tuple[RunFigures, ...] = ()
        self.equity_axis: Scale | None = None
        """The equity chart's y axis as last drawn (None without a curve)."""

    def compose(self) -> ComposeResult:
        title = Text("Summary: ", style="bold")
        title.append(self.title_text)  # a session name: untrusted, never markup
        yield Static(title, id="summary-title")
        with Horizontal():
            yield Static("computing…", id="summary-stats")
            yield PlotextPlot(id="summary-equity")
        yield SteadyFooter()

    def on_mount(self) -> None:
        if self.stats is not None:
            self.show(self.stats)
        else:
            self._compute()

    @work(thread=True, group="summary", exclusive=True, exit_on_error=False)
    def _compute(self) -> tuple[SessionStats, tuple[RunFigures, ...]]:
        assert self.session is not None
        if self.compare_modes:
            return compute_with_modes(self.db_path, self.session)
        return compute(self.db_path, self.session), ()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "summary":
            return
        if event.state == WorkerState.SUCCESS and event.worker.result is not None:
            stats, self.modes = event.worker.result
            self.show(stats)
        elif event.state == WorkerState.ERROR:
            text = Text(f"cannot compute the summary: {event.worker.error}", style="bold red")
            self.query_one("#summary-stats", Static).update(text)
        else:
            pass  # still running

    def show(self, stats: SessionStats) -> None:
        self.stats = stats
        grid = Table.grid(padding=(0, 2))
        grid.add_column(no_wrap=True)
        grid.add_column(justify="right", no_wrap=True)
        for label, value in stats_rows(stats, self.modes):
            grid.add_row(label, value)
        self.query_one("#summary-stats", Static).update(grid)
        self._plot(stats.equity_curve)

    def _plot(self, curve: tuple[tuple[int, Decimal], ...]) -> None:
        plot = self.query_one("#summary-equity", PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        if len(curve) < 2:
            self.equity_axis = None
            plt.title("equity: not enough data for a curve")
        else:
            t0 = curve[0][0]
            xs = [(ts - t0) / 60_000 for ts, _ in curve]
            ys = [float(v) for _, v in curve]
            # The axis from the curve, as the price chart's: left to plotext, a session
            # that never traded (equity flat at 10,000) was drawn on 5,000 .. 15,000.
            axis = self.equity_axis = scale(ys, None, None)
            plt.title("equity (margin balance, USDT)")
            plt.plot(xs, ys, marker="braille", color="cyan")
            plt.ylim(axis.lo, axis.hi)
            plt.xlabel("minutes")
        plot.refresh()

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.dismiss(None)  # runs the caller's callback, if it pushed us with one
        else:
            self.app.exit()
