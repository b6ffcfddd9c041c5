"""Taking over a replay: branch the saved session where the replay stands and trade on from
there on the recorded prices.

`take_over(player)` makes the branch in the store and returns one `TakeOver`, which owns what
trading the branch needs: its engine, its writer (journal + lock), the recorded-market feed
of the parent's market events after the branch point, and the store that feed reads. One
consumer, the terminal app (`PapertradeApp.adopt_take_over`), trades it; `TakeOver.close()`
releases all of it, once.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from papertrade.core.engine import Engine
from papertrade.tui.service.recorded import RecordedMarketFeed

if TYPE_CHECKING:
    from papertrade.saves.store import Store
    from papertrade.saves.writer import SessionWriter
    from papertrade.tui.service.replay import ReplayPlayer


@dataclass(slots=True)
class TakeOver:
    """What continuing live on recorded prices needs: feed `feed`'s events to `engine` and
    journal them, and the trader's commands, through `writer` (`writer.apply(event)` does
    both; its engine is `engine`). Stamp commands with `engine.last_ts` (sim time), not the
    wall clock, so the branch's journal stays in recorded time.

    `store` is the store the branch was made in and that `feed` reads the recording from: it
    must stay open while the feed plays; `close()` closes it when `owns_store`. `venue`,
    `symbols` (the recorded symbols the engine can trade) and `history` (the replay's price
    line up to the branch point) let a trading screen start where the replay left off."""

    branch_id: int
    name: str
    parent_id: int
    branch_seq: int
    engine: Engine
    writer: SessionWriter
    feed: RecordedMarketFeed
    store: Store
    venue: str
    symbols: tuple[str, ...] = ()
    history: dict[str, deque[tuple[int, Decimal]]] = field(default_factory=dict)
    owns_store: bool = False
    """Close `store` with the branch (the replay opened it for this take-over alone)."""
    closed: bool = False

    def close(self, status: str = "ended") -> str:
        """Save the branch as `status` (flush, final snapshot, unlock), stop the recording and
        close the store if this take-over owns it. Safe to call twice; returns the status
        saved, or `failed: why`."""
        if self.closed:
            return status
        self.closed = True
        saved = status
        try:
            self.writer.close(status)
        except Exception as exc:
            saved = f"failed: {exc}"
        self.feed.close()
        if self.owns_store:
            self.store.close()
        return saved

    @property
    def greeting(self) -> tuple[tuple[str, str], ...]:
        """What the trading log says first after the take-over."""
        return (
            (f"took over at seq {self.branch_seq}: branch session {self.name}", "bold"),
            ("space pauses/plays the recorded market · + / - its speed", "dim"),
        )


@dataclass(frozen=True, slots=True)
class Branch:
    """A branch made and resumed in the store: its id, engine and writer (lock held)."""

    branch_id: int
    engine: Engine
    writer: SessionWriter


def make_branch(store: Store, parent_id: int, at_seq: int, name: str | None = None) -> Branch:
    """Branch session `parent_id` after event `at_seq` and resume it for writing.

    The slow half of a take-over (it replays up to the branch point from the nearest
    snapshot): a screen runs it in a worker thread with a `store` opened in that thread.
    """
    branch_id = store.branch(parent_id, at_seq=at_seq, name=name)
    engine, writer = store.resume(branch_id)
    return Branch(branch_id, engine, writer)


def take_over(
    player: ReplayPlayer,
    name: str | None = None,
    *,
    owns_store: bool = False,
    branch: Branch | None = None,
) -> TakeOver:
    """Branch `player`'s session where it stands and hand over: the engine at that state, the
    branch's writer, and the recorded market after the branch point.

    The branch point is the last event played (`player.seq`); `branch` is that branch when it
    was already made (`make_branch`, off the UI thread). The feed plays the parent's market
    events after it at the player's speed, paused if the player was (a trader who paused to
    think takes over without the market running away); recorded commands after the branch
    point are dropped, since the trader now makes their own. The player stops.
    """
    store, info = player.store, player.info
    if branch is None:
        branch = make_branch(store, info.id, player.seq, name)
    was_paused = player.hand_over()
    engine, writer = branch.engine, branch.writer
    feed = RecordedMarketFeed(
        store,
        info.id,
        after_seq=player.seq,
        start_ts=player.sim_ts,
        speed=player.speed,
        clock=player.clock,
        sleep=player.sleep,
    )
    if was_paused:
        feed.pause()
    held = [p.symbol for p in player.engine.positions.values()]
    found = [*info.symbols, *player.engine.markets, *held]
    return TakeOver(
        branch_id=branch.branch_id,
        name=writer.name,
        parent_id=info.id,
        branch_seq=player.seq,
        engine=engine,
        writer=writer,
        feed=feed,
        store=store,
        venue=info.venue,
        symbols=tuple(s for s in sorted(dict.fromkeys(found)) if s in engine.instruments),
        history={s: deque(h, maxlen=h.maxlen) for s, h in player.history.items()},
        owns_store=owns_store,
    )
