"""Stops, trailing stops, time in force and amends go through the journal and replay exactly;
rows written before they existed read as they always did."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest

from papertrade.core import codec
from papertrade.core import events as ev
from papertrade.core.engine import RULES_VERSION, Engine
from papertrade.saves import payload
from papertrade.saves.errors import StoreError
from papertrade.saves.store import Store

SETTINGS = ev.SessionSettings(D("10000"), D("0.0005"), D("0.0002"))
T = 1_767_225_600_000

EVENTS: list[ev.Event] = [
    ev.Quote(T, "BTCUSDT", D("59990"), D("60000")),
    ev.Trade(T, "BTCUSDT", D("60000"), D("0.5")),
    ev.MarkPrice(T, "BTCUSDT", D("60000")),
    ev.PlaceOrder(T + 1, "long", "BTCUSDT", "buy", D("0.5"), "market"),
    ev.PlaceOrder(
        T + 2, "sl", "BTCUSDT", "sell", D(0), "stop_market", trigger_price=D("58000.0"),
        working_type="mark", close_position=True, price_protect=True,
    ),
    ev.PlaceOrder(
        T + 3, "ts", "BTCUSDT", "sell", D("0.2"), "trailing_stop_market", reduce_only=True,
        activation_price=D("61000"), callback_rate=D("1.5"),
    ),
    ev.PlaceOrder(
        T + 4, "g", "BTCUSDT", "buy", D("0.1"), "limit", D("59000"), time_in_force="GTD",
        good_till=T + 3_600_000,
    ),
    ev.AmendOrder(T + 5, "sl", trigger_price=D("58500")),
    ev.AmendOrder(T + 6, "g", qty=D("0.2"), price=D("59100")),
    ev.Trade(T + 7, "BTCUSDT", D("61500"), D("1")),
    ev.Trade(T + 8, "BTCUSDT", D("60500"), D("1")),
    ev.MarkPrice(T + 9, "BTCUSDT", D("58400")),
    ev.Snapshot(T + 10),
]  # fmt: skip


def test_every_new_field_survives_a_journal_row() -> None:
    for event in EVENTS:
        kind, ts, text = payload.encode(event)
        assert payload.decode(kind, ts, text) == event
        assert payload.to_line(kind, ts, text) == codec.dumps(event)


def test_plain_orders_are_stored_as_before_and_old_rows_still_read() -> None:
    order = ev.PlaceOrder(T, "a", "BTCUSDT", "buy", D("0.5"), "limit", D("59000.0"))
    # the layout journals had before conditional orders: 10 fields, the new ones all unset
    # (older versions of papertrade read these rows too)
    old = '["a","BTCUSDT","buy","0.5","limit","59000.0",null,null,false,false]'
    assert payload.encode(order) == ("order", T, old)
    assert payload.decode("order", T, old) == order
    flagged = ev.PlaceOrder(T, "a", "BTCUSDT", "buy", D("0.5"), "limit", D("59000.0"),
                            price_protect=False)  # fmt: skip
    assert payload.decode(*payload.encode(flagged)) == flagged  # an explicit false stays
    assert payload.decode("order", T, '["a","BTCUSDT","buy","0.5","market"]') == ev.PlaceOrder(
        T, "a", "BTCUSDT", "buy", D("0.5"), "market"
    )


def test_a_recorded_session_with_stops_replays_to_the_same_outcomes(tmp_path: Path) -> None:
    engine = Engine(settings=SETTINGS)
    with Store.open(tmp_path / "j.sqlite3") as store:
        writer = store.start_session("stops", "binance", ["BTCUSDT"], SETTINGS, engine=engine)
        live = [o for e in EVENTS for o in writer.apply(e)]
        writer.close()
        kinds = [o.type for o in live]
        # the trailing stop activated at 61,500 and fired at 60,500 ≤ 61,500 × 0.985 = 60,577.5;
        # the mark at 58,400 ≤ 58,500 fired the amended position stop
        assert kinds.count("order_triggered") == 2 and "rejected" not in kinds
        replayed = [o for _, _, outs in store.replay("stops") for o in outs]
        assert replayed == live
        assert [text for _, text in store.stored_outcomes("stops")] == [
            codec.dumps(o) for o in live
        ]
        assert store.engine_at("stops", len(EVENTS)).to_state() == engine.to_state()


def test_a_session_with_exchange_limits_keeps_them_through_save_and_replay(
    tmp_path: Path,
) -> None:
    # BTCUSDT's band is mark × 0.95 .. mark × 1.05 (core/data SOURCES.md, PERCENT_PRICE):
    # at mark 60,000 a buy limit at 56,000 is below 57,000 and refused; without the limits
    # it rests. The refusal must survive the round trip through the journal.
    far = ev.PlaceOrder(T + 5, "far", "BTCUSDT", "buy", D("0.01"), "limit", D("56000.0"))
    events = [*EVENTS[:3], far]
    banded = ev.SessionSettings(D("10000"), D(0), D(0), exchange_limits=True)
    engine = Engine(settings=banded)
    live = [o for e in events for o in engine.apply(e)]
    assert [type(o) for o in live] == [ev.Rejected]
    with Store.open(tmp_path / "b.sqlite3") as store:
        store.import_session(banded, events, name="banded")
        info = store.session("banded")
        assert info.settings.exchange_limits is True
        assert info.rules_version == RULES_VERSION
        assert store.engine_at("banded", len(events)).to_state() == engine.to_state()
        assert not store.engine_at("banded", len(events)).orders
    plain = ev.SessionSettings(D("10000"), D(0), D(0))
    with Store.open(tmp_path / "p.sqlite3") as store:
        store.import_session(plain, events, name="plain")
        assert store.session("plain").settings.exchange_limits is False
        assert list(store.engine_at("plain", len(events)).orders) == ["far"]


def test_a_session_written_before_rules_were_recorded_reads_as_rules_1(tmp_path: Path) -> None:
    with Store.open(tmp_path / "old.sqlite3") as store:
        store.import_session(SETTINGS, EVENTS, name="old")
        store.conn.execute("UPDATE sessions SET rules = '{}'")  # what schema 2 rows migrate to
        info = store.session("old")
        assert (info.rules_version, info.settings.exchange_limits) == (1, False)
        store.conn.execute("""UPDATE sessions SET rules = '{"engine_rules": 99}'""")
        with pytest.raises(StoreError, match="engine_rules 99 is not a rules version"):
            store.session("old")
