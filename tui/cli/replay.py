"""`papertrade replay SESSION --headless [--json]`: recompute a saved session's outcomes.

The journal is fed to a fresh engine and printed exactly as `papertrade simulate` prints a
drill, so `replay` and `simulate` of the session's export give the same lines. When the
session's outcomes were stored live, the recomputed ones are checked against them and any
difference is an error (exit 1): that is the proof a replay is exact. Without `--headless`
it opens the terminal on the replay screen (`--speed 1|10|60|max`), where `t` takes the
session over into the full trading terminal.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator

from papertrade.core import codec
from papertrade.core import events as ev
from papertrade.core.engine import RULES, RULES_VERSION
from papertrade.core.numbers import human
from papertrade.core.text import plural, printable
from papertrade.saves.store import Store, instruments_for, new_engine
from papertrade.tui.cli.sessions import add_db_option, opened_store


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of `papertrade replay` (its summary is in `tui.cli.COMMANDS`)."""
    p.description = (
        "Replay SESSION (id or name) through the engine and print its outcomes "
        "like `papertrade simulate`."
    )
    p.add_argument("session", metavar="SESSION", help="session id or name")
    p.add_argument("--headless", action="store_true", help="print instead of opening the TUI")
    p.add_argument("--json", action="store_true", help="one JSON object per outcome line")
    p.add_argument(
        "--speed",
        default="1",
        metavar="1|10|60|max",
        help="interactive replay: speed over the recorded timestamps (default 1)",
    )
    add_db_option(p)
    p.set_defaults(handler=run)


def replay_outcomes(store: Store, ref: str | int) -> Iterator[ev.Outcome]:
    """Every outcome of the session's journal, then the final account (as `simulate`)."""
    info = store.session(ref)
    engine = new_engine(info.settings, instruments_for(info.venue))
    for _, event in store.events(info.id):
        yield from engine.apply(event)
    yield engine.account()


def run(args: argparse.Namespace) -> int:
    from papertrade.tui.cli.simulate import write_outcomes

    if not args.headless:
        return run_interactive(args.db, args.session, args.speed)
    with opened_store(args) as store:
        info = store.session(args.session)
        if not args.json:
            sys.stdout.write(
                f"Replaying {plural(info.events, 'event')} of session {printable(info.name)}: "
                "starting "
                f"balance {human(info.settings.balance)} USDT, "
                f"taker {info.settings.taker_fee * 100}% / "
                f"maker {info.settings.maker_fee * 100}%\n\n"
            )
        recomputed: list[str] = []

        def recording() -> Iterator[ev.Outcome]:
            for outcome in replay_outcomes(store, info.id):
                recomputed.append(codec.dumps(outcome))
                yield outcome

        write_outcomes(recording(), args.json, sys.stdout)
        # Outcomes stored for the whole journal of a finished session: they must match.
        if info.fills is not None and info.status != "running":
            stored = [text for _, text in store.stored_outcomes(info.id)]
            if stored != recomputed[:-1]:
                where = next(
                    (
                        n
                        for n, (a, b) in enumerate(zip(stored, recomputed, strict=False), 1)
                        if a != b
                    ),
                    min(len(stored), len(recomputed) - 1) + 1,
                )
                if info.rules_version != RULES_VERSION:
                    changes = "; ".join(
                        RULES[v] for v in range(info.rules_version + 1, RULES_VERSION + 1)
                    )
                    # Not damage: the rules moved on since it was recorded (README "Replays
                    # across rule changes"); the journal and its stored outcomes are intact.
                    print(
                        f"papertrade replay: note: outcome {where} differs from what the live "
                        f"session recorded: it was recorded under engine rules "
                        f"{info.rules_version} and this papertrade replays it under rules "
                        f"{RULES_VERSION} (since then: {changes})",
                        file=sys.stderr,
                    )
                    return 0
                print(
                    f"papertrade replay: error: outcome {where} differs from what the live "
                    "session recorded",
                    file=sys.stderr,
                )
                return 1
    return 0


def run_interactive(
    db_path: str | None, session: str, speed: str, *, require_tty: bool = True
) -> int:
    """The terminal on the replay of `session`; a take-over (`t`) trades the branch in the
    same terminal. Returns the exit status (2 on bad input).

    Without a terminal (output piped, run from a script) a full-screen app cannot work, so
    that is refused with a pointer to `--headless` instead of drawing into a pipe. The store
    is opened once up front so a wrong database or an unknown session is a plain error.
    """
    from papertrade.feeds.pacing import parse_speed
    from papertrade.saves.errors import StoreError

    if require_tty and not sys.stdout.isatty():
        print(
            "papertrade replay: error: the interactive replay needs a terminal; use "
            "--headless to print the session's outcomes",
            file=sys.stderr,
        )
        return 2
    try:
        factor = parse_speed(speed)
        with Store.open(db_path) as store:
            info = store.session(session)
            where = str(store.path)
    except (ValueError, StoreError) as exc:
        print(f"papertrade replay: error: {printable(exc)}", file=sys.stderr)
        return 2
    from papertrade.tui.app import PapertradeApp, ReplayStart

    app = PapertradeApp(None, db_path=where, replay=ReplayStart(info.id, factor))
    try:
        app.run()
    finally:
        app.close_session("interrupted")
    taken = app.taken
    if taken is not None:
        status = app.saved_status or "ended"
        print(
            f"papertrade: branch session #{taken.branch_id} {printable(taken.name)!r} saved in "
            f"{printable(where)} "
            f"({status})"
        )
    return 1 if app.return_code not in (0, None) else 0
