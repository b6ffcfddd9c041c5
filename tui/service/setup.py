"""Opening a trading session: the options the command line reads, checked, and the session
started or resumed in the store — before any screen exists.

Why here and not in the CLI: `papertrade`, `papertrade record` and the screens all need the
same answers (which symbols are valid for a venue, which session to resume, what a resumed
sim continues from). Every check raises `SetupError` with words for the trader, so a bad
option or a locked session is a plain error and exit status 2, never a half-drawn screen.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from papertrade.core import codec
from papertrade.core import events as ev
from papertrade.core.challenge import rules_from_state
from papertrade.core.engine import Engine
from papertrade.core.instruments import InstrumentBook, instruments_for
from papertrade.core.numbers import BALANCE, BadNumber
from papertrade.core.text import plural, printable
from papertrade.feeds.pacing import parse_speed
from papertrade.feeds.registry import DEFAULT_SYMBOLS, feed_kind
from papertrade.saves.errors import StoreError
from papertrade.saves.store import Store

if TYPE_CHECKING:
    from papertrade.saves.catalogue import SessionInfo
    from papertrade.saves.writer import SessionWriter
    from papertrade.tui.service.recorded import RecordedMarketFeed

SYMBOL = re.compile(r"^[A-Z0-9]{2,30}$")
NAME_MAX = 64
NAME_RULES = (
    f"1-{NAME_MAX} printable characters, not all digits (those read as a session id), "
    "not already used in the database"
)


DEFAULT_FILL_MODEL: ev.FillModel = "queue"
"""How a new terminal session fills unless `--fill-model` says otherwise, whatever the feed:
market orders walk the book and resting limits wait their turn in the queue (README "Fill
models"). A feed with no book yet fills market orders at the touch and says so."""


class SetupError(Exception):
    """A bad option or an unusable store/session: printed plainly, exit status 2."""


def parse_fill_model(text: str | None) -> ev.FillModel | None:
    """`--fill-model touch|book|queue` (None: not given)."""
    if text is None:
        return None
    for model in ev.FILL_MODELS:
        if text.strip().lower() == model:
            return model
    raise SetupError(
        f"--fill-model: {printable(text)!r} is not a fill model; one of: "
        f"{', '.join(ev.FILL_MODELS)}"
    )


def parse_symbols(text: str | None, kind: str) -> list[str]:
    """`--symbols BTCUSDT,ETHUSDT` for a feed of `kind`: well-formed (case-insensitive, no
    empty parts), known to the venue's instruments (a `file:` recording may hold any), without
    repeats. None: the default watchlist (a file plays what it holds)."""
    if text is None:
        return [] if kind == "file" else list(DEFAULT_SYMBOLS)
    out: list[str] = []
    for raw in text.split(","):
        symbol = raw.strip().upper()
        if not SYMBOL.match(symbol):
            raise SetupError(
                f"--symbols: {printable(raw.strip())!r} is not a symbol; expected a "
                "comma-separated list like BTCUSDT,ETHUSDT"
            )
        if symbol not in out:
            out.append(symbol)
    if kind != "file":
        book = instruments_for(kind)
        unknown = [s for s in out if s not in book]
        if unknown:
            venue = "binance" if kind == "sim" else kind
            sample = ", ".join(list(book)[:5])
            raise SetupError(
                f"unknown symbol{'s' if len(unknown) > 1 else ''} for {kind}: "
                f"{', '.join(unknown)} (the {venue} instruments include {sample}, …)"
            )
    return out


def parse_balance(text: str) -> Decimal:
    """`--balance`: a positive amount of USDT within `core.numbers.BALANCE`."""
    try:
        return BALANCE.parse(text.strip())
    except BadNumber as exc:
        raise SetupError(f"--balance: {exc}") from None


def parse_rules(
    *,
    max_daily_loss: str | None = None,
    max_drawdown: str | None = None,
    max_leverage: str | None = None,
    max_position_notional: str | None = None,
    refill: bool = False,
) -> dict[str, object]:
    """The challenge options (`core.challenge`), checked by the drill `session` line's own
    rules so an option and a drill field accept exactly the same values."""
    given: dict[str, object] = {
        k: v.strip()
        for k, v in (
            ("max_daily_loss", max_daily_loss),
            ("max_drawdown", max_drawdown),
            ("max_position_notional", max_position_notional),
        )
        if v is not None
    }
    if max_leverage is not None:
        text = max_leverage.strip().lower().removesuffix("x")
        given["max_leverage"] = int(text) if text.isdigit() and len(text) < 6 else max_leverage
    if refill:
        given["refill"] = True
    try:
        codec.parse_object({"type": "session", **given})
    except codec.FormatError as exc:
        reason = exc.message.removeprefix("session: ")
        for key in given:
            option = f"--{key.replace('_', '-')}"
            reason = reason.replace(f"field '{key}'", option).replace(f"'{key}'", option)
        raise SetupError(reason) from None
    return given


def check_name(text: str | None) -> str | None:
    """A `--name` for a new session, checked before anything is opened: a name every listing
    can print as typed and `replay NAME` can find (an all-digit name would be taken for a
    session id). Whether it is taken is the store's answer, later."""
    if text is None:
        return None
    name = text.strip()
    if not name:
        raise SetupError(f"--name must not be empty ({NAME_RULES})")
    if len(name) > NAME_MAX:
        raise SetupError(f"--name is {len(name)} characters long; at most {NAME_MAX}")
    if not name.isprintable():
        raise SetupError(f"--name '{printable(name)}' contains control characters ({NAME_RULES})")
    if name.isdigit():
        raise SetupError(
            f"--name {name!r} is all digits and would read as a session id; add a letter"
        )
    return name


def check_feed(spec: str, speed: str | float) -> str:
    """The kind of feed `spec` names (SetupError if unknown), with `--speed` checked too."""
    try:
        kind = feed_kind(spec)
        parse_speed(speed)
    except ValueError as exc:
        raise SetupError(str(exc)) from None
    return kind


def check_recording(spec: str, chosen: Sequence[str], book: InstrumentBook) -> RecordingCheck:
    """Open a `file:` recording before the terminal does, and say what it can show.

    Why: a recording of another venue used to play as silence, and symbols it does not hold
    (or that are not bundled instruments) sat in the watchlist as `--` rows with no word why.
    Refused (SetupError): a file the feed cannot play, a file none of whose symbols can be
    traded, a chosen symbol that is not a bundled instrument. Otherwise the watchlist
    defaults to the recording's tradable symbols and the notes say what is left out.
    """
    from papertrade.feeds.file import SNIFF_EVENTS, FileFeed, FileFeedError  # file: only

    try:
        feed = FileFeed(spec.strip()[5:], speed=0)
        held = feed.sniff_symbols()
    except (FileFeedError, OSError) as exc:
        raise SetupError(str(exc)) from None
    name = feed.path.name
    tradable = sorted(s for s in held if s in book)
    foreign = sorted(held - set(tradable))
    if held and not tradable:
        raise SetupError(
            f"{name}: nothing in it can be traded: it holds {', '.join(foreign)}, none of them "
            f"a bundled {book.venue} instrument (papertrade needs each symbol's tick, step and "
            "leverage brackets)"
        )
    unknown = [s for s in chosen if s not in book]
    if unknown:
        raise SetupError(
            f"--symbols: {', '.join(unknown)} not a bundled {book.venue} instrument "
            f"(this recording's tradable symbols: {', '.join(tradable) or 'none'})"
        )
    notes: list[str] = []
    if foreign:
        notes.append(
            f"{', '.join(foreign)}: in {name} but not bundled {book.venue} instruments, so not "
            "shown and not tradable"
        )
    symbols = list(chosen) or tradable
    missing = [s for s in symbols if held and s not in held]
    if missing:
        rows = "its row stays" if len(missing) == 1 else "their rows stay"
        notes.append(
            f"{', '.join(missing)}: not in the first {SNIFF_EVENTS:,} events of {name} (it "
            f"holds {', '.join(sorted(held))}): {rows} -- until prices come"
        )
    return RecordingCheck(symbols, notes)


@dataclass(frozen=True, slots=True)
class RecordingCheck:
    symbols: list[str]
    """The watchlist: as chosen, else every tradable symbol of the recording."""
    notes: list[str]


def branch_market(store: Store, info: SessionInfo, speed: float) -> RecordedMarketFeed:
    """The market a resumed branch trades on: its parent's recorded market events after
    the point the branch has reached (issue 10, bug 11: it used to open on the live venue).

    A branch never traded goes on right after its branch point. One already traded has
    journaled the parent's market up to its last event: it goes on after the last parent
    market event at or before that time. SetupError, saying why, when the parent's
    recording has nothing left to play.
    """
    from papertrade.tui.service.recorded import RecordedMarketFeed  # branches only

    assert info.parent_id is not None and info.branch_seq is not None
    parent = store.session(info.parent_id)
    traded = info.last_seq > info.branch_seq and info.last_ts is not None
    after, remaining = info.branch_seq, False
    for seq, event in store.branch_market_events(info.id):
        if traded and info.last_ts is not None and event.ts <= info.last_ts:
            after = seq
            continue
        remaining = True
        break
    if not remaining:
        raise SetupError(
            f"branch {info.name!r} cannot go on: its recorded market (session "
            f"{parent.name!r}) has no market data after event {after:,}; pass --feed to trade "
            "it on another market"
        )
    return RecordedMarketFeed(store, parent.id, after_seq=after, start_ts=info.last_ts, speed=speed)


def latest_interrupted(store: Store) -> int | None:
    """The newest session a crash or a kill left `interrupted`, if any."""
    sessions = store.interrupted()
    return sessions[-1].id if sessions else None


@dataclass(slots=True)
class OpenedSession:
    """A session ready to trade: the open store, the engine and its writer (lock held)."""

    store: Store
    engine: Engine
    writer: SessionWriter
    spec: str
    """The feed spec the session trades on (`binance`, `sim`, `file:PATH`)."""
    kind: str
    symbols: list[str]
    resumed: bool = False
    start_prices: dict[str, Decimal] = field(default_factory=dict)
    """For a resumed session: the last mark (else mid) per symbol, where a sim continues."""
    notes: list[str] = field(default_factory=list)
    """What the trader should read first in the log (e.g. why a recording's row stays --)."""
    recorded: RecordedMarketFeed | None = None
    """A resumed branch's market: its parent's recorded market after where the branch is."""

    def describe_resume(self) -> str:
        engine, writer = self.engine, self.writer
        return (
            f"resumed session #{writer.id} {writer.name}: "
            f"{plural(len(engine.positions), 'position')}, "
            f"{plural(len(engine.orders), 'open order')}, "
            f"wallet {engine.wallet_balance():,.2f} USDT"
        )


def open_session(
    db: Path | str | None,
    *,
    feed: str | None,
    symbols: str | None,
    balance: str,
    name: str | None,
    resume: str | None,
    speed: str | float = 1,
    exchange_limits: bool = True,
    rules: dict[str, object] | None = None,
    fill_model: str | None = None,
) -> OpenedSession:
    """Open the store and start a new session, or resume `resume` (an id or name; "" = the
    latest interrupted one). Everything opened is closed again when this raises.

    A new session trades with the exchange's limits (price band, market take bound, largest
    order sizes) unless `exchange_limits` is off; a resumed one keeps what it was started with.
    `rules`: challenge rules (`parse_rules`) for a new session; a resumed one keeps its own.
    `fill_model` (`--fill-model`): how a new session fills (default `DEFAULT_FILL_MODEL`); a
    resumed one keeps the model it was traded under, so its journal replays exactly.
    """
    model = parse_fill_model(fill_model)
    spec = feed or "binance"
    kind = check_feed(spec, speed)
    start_balance = parse_balance(balance)
    name = check_name(name)
    try:
        store = Store.open(db)
    except StoreError as exc:
        raise SetupError(str(exc)) from None
    writer: SessionWriter | None = None
    try:
        if resume is not None:
            ref: str | int | None = resume or latest_interrupted(store)
            if ref is None:
                raise SetupError("no interrupted session to resume (see `papertrade sessions`)")
            info = store.session(ref)
            if feed is None and info.venue == "file" and info.parent_id is None:
                raise SetupError(
                    f"session {info.name!r} was recorded from a file: feed; pass --feed file:PATH"
                )
            recorded: RecordedMarketFeed | None = None
            if feed is None and info.parent_id is not None:
                recorded = branch_market(store, info, parse_speed(speed))
                spec, kind = recorded.name, info.venue
            elif feed is None:
                spec, kind = info.venue, feed_kind(info.venue)
            chosen = list(info.symbols) or parse_symbols(None, kind)
            if symbols:
                chosen = list(dict.fromkeys([*chosen, *parse_symbols(symbols, kind)]))
            notes: list[str] = []
            if recorded is not None:
                notes.append(
                    f"branch of session #{info.parent_id}: trading on its recorded market "
                    f"after event {recorded.after_seq:,} ({recorded.name})"
                )
            elif kind == "file":
                checked = check_recording(spec, chosen, instruments_for(kind))
                chosen, notes = checked.symbols, checked.notes
            engine, writer = store.resume(info.id)
            if model is not None:
                notes.append(
                    f"--fill-model {model} applies to new sessions: this one fills by the "
                    f"model it was traded under, {engine.settings.fill_model}"
                )
            return OpenedSession(
                store,
                engine,
                writer,
                spec,
                kind,
                chosen,
                True,
                last_prices(engine),
                notes,
                recorded,
            )
        chosen = parse_symbols(symbols, kind)
        notes = []
        if kind == "file":
            checked = check_recording(spec, chosen, instruments_for(kind))
            chosen, notes = checked.symbols, checked.notes
        settings = rules_from_state(
            ev.SessionSettings(
                balance=start_balance,
                exchange_limits=exchange_limits,
                fill_model=model or DEFAULT_FILL_MODEL,
            ),
            rules or {},
        )
        engine = Engine(instruments_for(kind), settings)
        writer = store.start_session(name, kind, chosen, settings, engine=engine)
        return OpenedSession(store, engine, writer, spec, kind, chosen, notes=notes)
    except (StoreError, ValueError, SetupError) as exc:
        if writer is not None:
            writer.close("interrupted")
        store.close()
        raise SetupError(str(exc)) from None


def last_prices(engine: Engine, symbols: Sequence[str] | None = None) -> dict[str, Decimal]:
    """The engine's last mark per symbol (else the quote mid): where a resumed sim goes on."""
    out: dict[str, Decimal] = {}
    for symbol, market in engine.markets.items():
        if symbols is not None and symbol not in symbols:
            continue
        if market.mark is not None:
            out[symbol] = market.mark
        elif market.bid is not None and market.ask is not None:
            out[symbol] = (market.bid + market.ask) / Decimal(2)
    return out
