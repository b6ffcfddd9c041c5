"""ReplayPlayer and RecordedMarketFeed on a real SQLite store, without Textual.

Sessions come from the shipped drills (imported through the store API) and from the seeded
synthetic stream; expected outcomes are computed independently with a bare `Engine`.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from manual_time import ManualTime, settle, turns

from papertrade.core import codec
from papertrade.core import events as ev
from papertrade.core.engine import Engine
from papertrade.feeds.pacing import MAX, faster, parse_speed, slower, speed_label
from papertrade.saves.store import Store
from papertrade.saves.synthetic import random_stream
from papertrade.tui.service.replay import ReplayPlayer
from papertrade.tui.service.takeover import take_over

ROOT = Path(__file__).resolve().parents[2]
DRILLS = ROOT / "examples" / "drills"


def _drill(name: str) -> tuple[ev.SessionSettings, list[ev.Event]]:
    return codec.parse_lines((DRILLS / name).read_text().splitlines())


def _expected(settings: ev.SessionSettings, events: list[ev.Event]) -> list[tuple[int, str]]:
    engine = Engine(settings=settings)
    out = []
    for seq, event in enumerate(events, start=1):
        out += [(seq, codec.dumps(o)) for o in engine.apply(event)]
    return out


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "papertrade.db")
    yield s
    s.close()


def _import(store: Store, drill: str, name: str) -> int:
    settings, events = _drill(drill)
    return store.import_session(settings, events, name=name)


def _crash_player(
    store: Store, speed: float, *, steps: int = 0
) -> tuple[list[ev.Event], ManualTime, ReplayPlayer]:
    """The crash drill in the store, a player on a manual clock, `steps` entries played."""
    settings, events = _drill("btc-crash-cross.jsonl")
    store.import_session(settings, events, name="crash")
    fake = ManualTime()
    player = ReplayPlayer(store, "crash", speed=speed, clock=fake.clock, sleep=fake.sleep)
    for _ in range(steps):
        player.step()
    return events, fake, player


@pytest.mark.parametrize("drill", ["btc-crash-cross.jsonl", "limit-orders.jsonl", "funding.jsonl"])
def test_playing_a_drill_session_to_the_end_gives_the_engines_own_outcomes(
    store: Store, drill: str
) -> None:
    _import(store, drill, "s")
    player = ReplayPlayer(store, "s", speed=MAX)
    player.play_to_end()
    got = [(seq, codec.dumps(o)) for seq, o in player.outcomes]
    assert got == _expected(*_drill(drill))
    assert player.finished and player.seq == player.total


def test_a_long_synthetic_session_replays_identically_across_journal_chunks(store: Store) -> None:
    events = list(random_stream(11, 4500))
    settings = ev.SessionSettings()
    store.import_session(settings, events, name="synthetic")
    player = ReplayPlayer(store, "synthetic", speed=MAX)
    player.play_to_end()
    assert [(s, codec.dumps(o)) for s, o in player.outcomes] == _expected(settings, events)
    reference = Engine(settings=settings)
    for e in events:
        reference.apply(e)
    # (journal decimals come back normalised, 49485.0 -> 49485: compare values, not text)
    assert player.engine.account() == reference.account()
    assert player.engine.totals == reference.totals


def test_step_plays_exactly_one_journal_entry(store: Store) -> None:
    _import(store, "btc-crash-cross.jsonl", "crash")
    player = ReplayPlayer(store, "crash")
    first = player.step()
    assert first is not None and first.seq == 1 and player.seq == 1
    assert isinstance(first.event, ev.MarkPrice) and first.outcomes == ()
    player.step()
    third = player.step()
    assert third is not None and third.seq == 3
    assert isinstance(third.event, ev.PlaceOrder)  # recorded commands are played too
    assert [o.type for o in third.outcomes] == ["fill"]
    assert "ETHUSDT" in player.engine.positions
    assert player.sim_ts == 1767225601000


async def test_a_paused_player_plays_nothing_until_resumed(store: Store) -> None:
    _import(store, "btc-crash-cross.jsonl", "crash")
    fake = ManualTime()
    player = ReplayPlayer(store, "crash", speed=MAX, clock=fake.clock, sleep=fake.sleep)
    player.pause()
    task = asyncio.create_task(player.run())
    await turns()
    assert player.seq == 0 and not task.done()
    assert player.step() is not None and player.seq == 1  # `.` still steps while paused
    player.resume()
    await asyncio.wait_for(task, 60)
    assert player.finished


@pytest.mark.parametrize("speed", [1.0, 10.0, 60.0])
async def test_recorded_gaps_are_slept_scaled_by_the_speed(store: Store, speed: float) -> None:
    events, fake, player = _crash_player(store, speed)
    await asyncio.wait_for(player.run(), 60)
    span_s = (events[-1].ts - events[0].ts) / 1000
    assert sum(fake.sleeps) == pytest.approx(span_s / speed)
    assert max(fake.sleeps) <= 0.1 + 1e-9  # long gaps are slept in short naps


async def test_max_speed_never_waits_on_recorded_time(store: Store) -> None:
    _import(store, "btc-crash-cross.jsonl", "crash")
    fake = ManualTime()
    player = ReplayPlayer(store, "crash", speed=MAX, clock=fake.clock, sleep=fake.sleep)
    await asyncio.wait_for(player.run(), 60)
    assert player.finished and all(s == 0 for s in fake.sleeps)


async def test_changing_speed_mid_play_rescales_the_rest(store: Store) -> None:
    events, fake, player = _crash_player(store, 1.0, steps=5)  # up to ts 1767225603000
    player.speed = 60.0
    await asyncio.wait_for(player.run(), 60)
    # the clock restarts at the last event played (events[4]): every later gap is kept,
    # the first one included, scaled to the new speed
    rest_s = (events[-1].ts - events[4].ts) / 1000
    assert sum(fake.sleeps) == pytest.approx(rest_s / 60)


async def test_a_speed_change_mid_gap_keeps_the_gap_from_the_last_event_at_the_new_speed(
    store: Store,
) -> None:
    # up to events[4]; events[5] is 57 s later
    events, fake, player = _crash_player(store, 1.0, steps=5)
    fake.at(10, lambda: setattr(player, "speed", 60.0))  # 10 s into the gap
    await asyncio.wait_for(player.run(), 60)
    # re-anchored at events[4] when the speed changed: the rest is its recorded span / 60
    rest_s = (events[-1].ts - events[4].ts) / 1000
    assert fake.elapsed == pytest.approx(10 + rest_s / 60)


async def test_a_long_pause_mid_gap_is_not_caught_up_on_resume(store: Store) -> None:
    events, fake, player = _crash_player(store, 1.0, steps=5)
    fake.at(10, player.pause)
    task = asyncio.create_task(player.run())
    await settle(lambda: player.paused, "the pause")
    naps = len(fake.sleeps)
    await turns()
    assert len(fake.sleeps) == naps and player.seq == 5  # paused: no naps, nothing played
    fake.now += 1000  # the trader steps away for 1000 s
    resumed_at = fake.now
    player.resume()
    await asyncio.wait_for(task, 60)
    # every recorded gap after events[4] is played in full, the interrupted one included
    assert fake.now - resumed_at == pytest.approx((events[-1].ts - events[4].ts) / 1000)
    assert player.finished


def test_speed_ladder_and_labels() -> None:
    assert [faster(1), faster(10), faster(60), faster(MAX)] == [10, 60, MAX, MAX]
    assert [slower(MAX), slower(60), slower(10), slower(1)] == [60, 10, 1, 1]
    assert faster(5) == 10 and slower(5) == 1
    assert [speed_label(s) for s in (1, 10, 60, MAX)] == ["1×", "10×", "60×", "max"]
    assert parse_speed("max") == MAX and parse_speed("10x") == 10 and parse_speed("60") == 60
    with pytest.raises(ValueError):
        parse_speed("fast-ish")


async def test_take_over_branches_at_the_current_seq_and_feeds_only_later_market_events(
    store: Store,
) -> None:
    settings, events = _drill("limit-orders.jsonl")
    parent = store.import_session(settings, events, name="limits")
    player = ReplayPlayer(store, "limits", speed=MAX)
    for _ in range(5):
        player.step()
    taken = take_over(player, name="my-branch")
    try:
        info = store.session(taken.branch_id)
        assert (info.parent_id, info.branch_seq, info.name) == (parent, 5, "my-branch")
        assert (taken.parent_id, taken.branch_seq) == (parent, 5)
        reference = Engine(settings=settings)
        for e in events[:5]:
            reference.apply(e)
        assert taken.engine.account() == reference.account()
        assert taken.engine.account() == player.engine.account()
        assert player.step() is None  # the player is done once taken over

        remaining = list(taken.feed.events())
        assert [seq for seq, _ in remaining] == [7, 8, 12, 13]
        assert all(e.type in ev.MARKET_TYPES for _, e in remaining)
        streamed = [e async for e in taken.feed]  # speed max: no waiting
        assert streamed == [e for _, e in remaining]
        assert taken.feed.status.state == "ended"

        # the trader's own order goes into the branch's journal, after the inherited prefix
        order = ev.PlaceOrder(
            taken.engine.last_ts, "mine", "SOLUSDT", "sell", Decimal("1"), "market"
        )
        outcomes = taken.writer.apply(order)
        assert [o.type for o in outcomes] == ["fill"]
        taken.writer.apply(streamed[0])
    finally:
        taken.writer.close()
    journal = list(store.events(taken.branch_id))
    assert [s for s, _ in journal] == [1, 2, 3, 4, 5, 6, 7]
    assert journal[5][1] == order
    assert list(store.events(parent)) == list(enumerate(events, start=1))  # parent untouched


def test_replay_module_does_not_import_textual() -> None:
    import subprocess

    code = "import sys, papertrade.tui.service.replay, papertrade.tui.service.takeover; print('textual' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_starting_from_a_later_seq_uses_the_stores_state_and_plays_the_rest(store: Store) -> None:
    settings, events = _drill("limit-orders.jsonl")
    store.import_session(settings, events, name="limits")
    player = ReplayPlayer(store, "limits", start_seq=7)
    assert player.seq == 7 and "dip-buy" not in player.engine.orders  # filled at seq 7
    player.play_to_end()
    assert [(s, codec.dumps(o)) for s, o in player.outcomes] == [
        (s, o) for s, o in _expected(settings, events) if s > 7
    ]


async def test_the_take_over_feed_is_a_feed_paced_by_recorded_time(store: Store) -> None:
    from papertrade.feeds.base import Feed

    events, fake, player = _crash_player(store, 10.0, steps=4)
    taken = take_over(player)
    try:
        feed = taken.feed
        assert isinstance(feed, Feed) and feed.status.state == "connecting"
        got = [e async for e in feed]
        assert [e.ts for e in got] == [e.ts for e in events[4:] if e.type in ev.MARKET_TYPES]
        # paced from the branch point (events[3], the last event played), so the first
        # recorded event after it keeps its distance too
        assert sum(fake.sleeps) == pytest.approx((got[-1].ts - events[3].ts) / 1000 / 10)
        assert feed.status.state == "ended" and feed.position == len(events)
    finally:
        taken.writer.close()


async def test_the_recorded_market_resumes_and_changes_speed_without_rushing(
    store: Store,
) -> None:
    events, fake, player = _crash_player(store, 1.0, steps=4)  # the branch point is events[3]
    player.pause()
    taken = take_over(player)
    try:
        feed = taken.feed
        assert feed.paused  # taken over while paused: the market waits for the trader
        stream = aiter(feed)
        first = asyncio.ensure_future(anext(stream))
        for _ in range(20):
            await asyncio.sleep(0)
        assert not first.done() and fake.sleeps == []
        fake.now += 500
        resumed_at = fake.now
        feed.resume()
        # events[4] is a snapshot (not market data); events[5] keeps its 58 s from events[3]
        assert (await first) == events[5]
        assert fake.now - resumed_at == pytest.approx((events[5].ts - events[3].ts) / 1000)
        feed.speed = 10.0
        changed_at = fake.now
        assert (await anext(stream)) == events[6]
        assert fake.now - changed_at == pytest.approx((events[6].ts - events[5].ts) / 1000 / 10)
        await feed.aclose()
        assert [e async for e in stream] == [] and feed.status.state == "ended"
    finally:
        taken.writer.close()


def test_seeking_back_and_playing_on_gives_the_same_outcomes_again(store: Store) -> None:
    events = list(random_stream(3, 1500))
    settings = ev.SessionSettings()
    store.import_session(settings, events, name="synthetic")
    store.snapshot_every = 250
    store.derive("synthetic")  # stores snapshots every 250 events
    player = ReplayPlayer(store, "synthetic", speed=MAX)
    for _ in range(900):
        player.step()
    assert player.seek(400) == 400
    assert all(s <= 400 for s, _ in player.outcomes)
    player.play_to_end()
    assert [(s, codec.dumps(o)) for s, o in player.outcomes] == _expected(settings, events)
    assert player.seek(10_000) == 1500 and player.finished
    assert player.seek(0) == 0 and player.outcomes == [] and player.sim_ts is None
