"""A session's fill model goes with it: a journal with books under `queue` replays to the same
outcomes, a resume from a snapshot continues with the same queue positions, a branch trades
under the same model, and rows written before fill models read as `touch`."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest

from papertrade.core import codec
from papertrade.core import events as ev
from papertrade.core.engine import Engine
from papertrade.saves.errors import StoreError
from papertrade.saves.store import Store

T = 1_767_225_600_000
BTC = "BTCUSDT"
QUEUE = ev.SessionSettings(D("100000"), D("0.0005"), D("0.0002"), fill_model="queue")


def lv(*pairs: tuple[str, str]) -> tuple[ev.Level, ...]:
    return tuple((D(p), D(q)) for p, q in pairs)


BOOK = ev.Book(
    T, BTC, lv(("59999.9", "1.5"), ("59999.5", "3.2")), lv(("60000.0", "0.4"), ("60000.5", "2"))
)
EVENTS: list[ev.Event] = [
    ev.MarkPrice(T, BTC, D("60000")),
    BOOK,
    ev.PlaceOrder(T + 1, "m", BTC, "buy", D("1"), "market"),  # 0.4 + 0.6 over two levels
    ev.PlaceOrder(T + 2, "b", BTC, "buy", D("1"), "limit", D("59999.5")),  # 3.2 ahead
    ev.Trade(T + 3, BTC, D("59999.5"), D("2")),
    ev.Trade(T + 4, BTC, D("59999.5"), D("1.5")),  # 1.2 ahead, then 0.3 fills
    ev.Book(T + 5, BTC, lv(("59999.9", "1"), ("59999.5", "0.2")), lv(("60000.0", "1"))),
    ev.Trade(T + 6, BTC, D("59999.5"), D("0.5")),  # fills 0.5 more
    ev.Snapshot(T + 7),
]


def live_outcomes() -> tuple[Engine, list[ev.Outcome]]:
    engine = Engine(settings=QUEUE)
    return engine, [o for e in EVENTS for o in engine.apply(e)]


def test_a_queue_session_with_books_replays_exactly_from_the_journal(tmp_path: Path) -> None:
    engine, live = live_outcomes()
    filled = [o.qty for o in live if isinstance(o, ev.Fill) and o.order_id == "b"]
    assert filled == [D("0.3"), D("0.5")]  # what the tape gives it, by hand above
    with Store.open(tmp_path / "q.sqlite3") as store:
        store.import_session(QUEUE, EVENTS, name="q")
        assert store.session("q").settings.fill_model == "queue"
        replayed = [o for _, _, outs in store.replay("q") for o in outs]
        assert replayed == live
        assert store.engine_at("q").to_state() == engine.to_state()
        assert [codec.dumps(o) for o in replayed] == [codec.dumps(o) for o in live]


def test_a_resumed_queue_session_continues_with_its_queue_positions(tmp_path: Path) -> None:
    _, live = live_outcomes()
    cut = 5  # after the first trade at 59,999.5: 1.2 still ahead of order b
    with Store.open(tmp_path / "r.sqlite3") as store:
        store.snapshot_every = 2
        first = Engine(settings=QUEUE)
        writer = store.start_session("r", "binance", [BTC], QUEUE, engine=first)
        head = [o for e in EVENTS[:cut] for o in writer.apply(e)]
        writer.close()
        engine, writer = store.resume("r")
        assert engine.settings.fill_model == "queue"
        assert next(o.queue_ahead for o in engine.account().open_orders) == D("1.2")
        tail = [o for e in EVENTS[cut:] for o in writer.apply(e)]
        writer.close()
        assert head + tail == live


def test_a_branch_trades_under_its_parents_fill_model(tmp_path: Path) -> None:
    with Store.open(tmp_path / "b.sqlite3") as store:
        store.import_session(QUEUE, EVENTS, name="parent")
        store.branch("parent", at_seq=3, name="child")
        assert store.session("child").settings.fill_model == "queue"
        engine, writer = store.resume("child")
        out = writer.apply(ev.PlaceOrder(T + 10, "x", BTC, "buy", D("2"), "limit", D("59999.5")))
        writer.close()
        assert out == []
        assert next(o.queue_ahead for o in engine.account().open_orders if o.id == "x") == D("3.2")


def test_rows_without_a_fill_model_read_as_touch_and_a_bad_one_is_refused(
    tmp_path: Path,
) -> None:
    with Store.open(tmp_path / "o.sqlite3") as store:
        store.import_session(ev.SessionSettings(), EVENTS[:2], name="old")
        text = store.conn.execute("SELECT rules FROM sessions").fetchone()[0]
        assert "fill_model" not in text  # a touch session's row is what it always was
        assert store.session("old").settings.fill_model == "touch"
        store.conn.execute("""UPDATE sessions SET rules = '{"fill_model": "magic"}'""")
        with pytest.raises(StoreError, match="fill_model 'magic' is not one of"):
            store.session("old")
