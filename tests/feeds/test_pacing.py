"""The one paced loop (`Playback`) and its arithmetic (`Pacer`), on a manual clock.

Every expected time is worked out by hand from the recorded timestamps and the speed: an
event `ts` ms after the anchor is due `ts / 1000 / speed` seconds after it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest
from manual_time import ManualTime, turns

from papertrade.feeds.pacing import MAX, MAX_BATCH, MAX_NAP, Ahead, Pacer, Playback

T0 = 1000.0


@dataclass(frozen=True)
class Tick:
    ts: int


def ticks(*ts: int) -> Ahead[Tick]:
    return Ahead(Tick(t) for t in ts)


async def played_at(playback: Playback, cue: Ahead[Tick], time: ManualTime) -> list[float]:
    """The clock reading at which each item was handed over, relative to the start."""
    return [time.now - T0 async for _ in playback.play(cue)]


@pytest.mark.parametrize(("speed", "expected"), [(1.0, [0, 1, 3.5]), (10.0, [0, 0.1, 0.35])])
async def test_each_event_is_due_its_recorded_distance_scaled_by_the_speed(
    speed: float, expected: list[float]
) -> None:
    time = ManualTime()
    playback = Playback(speed, clock=time.clock, sleep=time.sleep)
    # recorded 0 ms, 1000 ms, 3500 ms after the first event
    got = await played_at(playback, ticks(5_000, 6_000, 8_500), time)
    assert got == pytest.approx(expected)
    assert playback.last_ts == 8_500


async def test_max_speed_never_waits_on_recorded_time() -> None:
    time = ManualTime()
    playback = Playback(MAX, clock=time.clock, sleep=time.sleep)
    got = await played_at(playback, ticks(0, 60_000, 86_400_000), time)
    assert got == [0, 0, 0] and time.sleeps == []


async def test_a_long_gap_is_slept_in_short_naps() -> None:
    time = ManualTime()
    playback = Playback(1.0, clock=time.clock, sleep=time.sleep)
    got = await played_at(playback, ticks(0, 1_000), time)
    assert got == pytest.approx([0, 1.0])
    # 1 s of waiting in naps of at most MAX_NAP (0.1 s): ten of them
    assert len(time.sleeps) == round(1.0 / MAX_NAP)
    assert max(time.sleeps) <= MAX_NAP and sum(time.sleeps) == pytest.approx(1.0)


async def test_events_already_due_go_in_bounded_batches_between_yields() -> None:
    time = ManualTime()
    playback = Playback(1.0, clock=time.clock, sleep=time.sleep)
    n = 2 * MAX_BATCH + 7  # all at the same recorded time: all due at once
    got = await played_at(playback, ticks(*([42] * n)), time)
    assert len(got) == n and set(got) == {0}
    assert time.sleeps == [0, 0]  # one yield to the loop after each full batch of 500


async def test_a_long_pause_is_not_caught_up_the_next_event_keeps_its_distance() -> None:
    time = ManualTime()
    playback = Playback(1.0, clock=time.clock, sleep=time.sleep)
    gen = playback.play(ticks(0, 2_000, 3_000))
    assert (await anext(gen)).ts == 0
    playback.pause()
    nxt = asyncio.ensure_future(anext(gen))
    await turns()
    assert not nxt.done() and time.sleeps == []  # paused: no naps, nothing played
    time.now += 100.0  # the trader thinks for 100 s
    resumed_at = time.now
    playback.resume()
    assert (await nxt).ts == 2_000
    assert time.now - resumed_at == pytest.approx(2.0)  # 2 s after the resume, no burst
    assert (await anext(gen)).ts == 3_000
    assert time.now - resumed_at == pytest.approx(3.0)


async def test_a_speed_change_mid_gap_keeps_the_gap_from_the_last_event_at_the_new_speed() -> None:
    time = ManualTime()
    playback = Playback(1.0, clock=time.clock, sleep=time.sleep)
    time.at(3.0, lambda: setattr(playback, "speed", 10.0))  # 3 s into a 10 s gap
    got = await played_at(playback, ticks(0, 10_000, 20_000), time)
    # re-anchored at t=3 on the last event played (ts 0): 10 s / 10 later, then 10 s / 10
    assert got == pytest.approx([0, 3.0 + 1.0, 3.0 + 1.0 + 1.0])


async def test_switching_from_max_to_a_finite_speed_keeps_the_next_gap() -> None:
    time = ManualTime()
    playback = Playback(MAX, clock=time.clock, sleep=time.sleep)
    gen = playback.play(ticks(0, 500, 2_500))
    assert [(await anext(gen)).ts, (await anext(gen)).ts] == [0, 500]
    playback.speed = 2.0
    assert (await anext(gen)).ts == 2_500
    assert time.now - T0 == pytest.approx(2.0 / 2)  # 2 s recorded at 2×


async def test_a_jump_re_anchors_at_the_new_last_time_played() -> None:
    time = ManualTime()
    playback = Playback(1.0, clock=time.clock, sleep=time.sleep, last_ts=10_000)
    # the first event after a branch point or a seek keeps its distance from that point
    got = await played_at(playback, ticks(10_400, 11_000), time)
    assert got == pytest.approx([0.4, 1.0])
    playback.reanchor(None)  # back to the start: nothing played, the next is due at once
    assert await played_at(playback, ticks(0, 250), time) == pytest.approx([1.0, 1.25])
    playback.played(400)  # a manual step played ts 400
    assert playback.last_ts == 400


async def test_stop_ends_play_even_out_of_a_pause() -> None:
    time = ManualTime()
    playback = Playback(1.0, clock=time.clock, sleep=time.sleep)
    playback.pause()
    gen = playback.play(ticks(0, 1))
    nxt = asyncio.ensure_future(anext(gen))
    await turns()
    assert not nxt.done()
    playback.stop()
    with pytest.raises(StopAsyncIteration):
        await nxt
    assert playback.stopped


def test_the_pacer_maps_recorded_time_onto_the_clock() -> None:
    time = ManualTime()
    pacer = Pacer(4.0, time.clock)
    assert pacer.delay(8_000) == 0  # the first event anchors the clock
    assert pacer.delay(12_000) == pytest.approx(1.0)  # 4 s recorded at 4×
    time.now += 0.25
    assert pacer.delay(12_000) == pytest.approx(0.75)
    time.now += 5
    assert pacer.delay(12_000) == 0  # late: due now, never negative
    pacer.reanchor(12_000)
    assert pacer.delay(14_000) == pytest.approx(0.5)
    pacer.speed = MAX
    assert pacer.delay(10**12) == 0


def test_ahead_looks_one_item_ahead_without_taking_it() -> None:
    cue = ticks(3, 7)
    assert cue.next_ts() == 3 and cue.next_ts() == 3
    assert cue.take() == Tick(3)
    assert cue.next_ts() == 7 and cue.take() == Tick(7)
    assert cue.next_ts() is None
    with pytest.raises(LookupError):
        cue.take()


def test_bad_speeds_and_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        Playback(-1)
    with pytest.raises(ValueError):
        Playback(1.0, nap=0)
    playback = Playback(1.0)
    with pytest.raises(ValueError):
        playback.speed = float("nan")
