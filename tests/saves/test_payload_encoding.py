"""A journal row's payload is exactly the JSON array the format has always had.

`payload.encode` writes the text out by hand for speed (issue 14); old journals and old
readers must not see a difference, so every row is compared here with the reference the
format was defined by: `json.dumps` of the field values, decimals as `str`, trailing nulls
dropped, compact separators.
"""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from papertrade.core import events as ev
from papertrade.saves import payload
from papertrade.saves.synthetic import random_stream, symbol_hour


def reference(event: ev.Event) -> str:
    values: list[Any] = [
        str(getattr(event, f.name)) if isinstance(getattr(event, f.name), Decimal)
        else getattr(event, f.name)
        for f in dataclasses.fields(event)
        if f.name != "ts"
    ]  # fmt: skip
    while values and values[-1] is None:
        values.pop()
    return json.dumps(values, separators=(",", ":"))


TEXT = st.text(max_size=12)  # quotes, backslashes, control characters, any plane
DECIMALS = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False, places=None),
    st.sampled_from([Decimal("60088.0"), Decimal("1E+2"), Decimal("-0"), Decimal("0.000")]),
)
MAYBE = st.one_of(st.none(), DECIMALS)
TS = st.integers(0, 2**62)
EVENTS = st.one_of(
    st.builds(ev.Quote, TS, TEXT, DECIMALS, DECIMALS, MAYBE, MAYBE),
    st.builds(ev.MarkPrice, TS, TEXT, DECIMALS, MAYBE, MAYBE, st.one_of(st.none(), TS)),
    st.builds(ev.Trade, TS, TEXT, DECIMALS, DECIMALS),
    st.builds(ev.Funding, TS, TEXT, DECIMALS),
    st.builds(
        ev.PlaceOrder,
        TS,
        TEXT,
        TEXT,
        st.sampled_from(ev.SIDES),
        DECIMALS,
        st.sampled_from(["market", "limit"]),
        MAYBE,
        st.sampled_from([None, *ev.MARGIN_MODES]),
        st.one_of(st.none(), st.integers(1, 125)),
        st.booleans(),
        st.booleans(),
    ),
    st.builds(ev.CancelOrder, TS, TEXT),
    st.builds(ev.SetLeverage, TS, TEXT, st.integers(1, 125)),
    st.builds(ev.Snapshot, TS),
)


@settings(max_examples=100, deadline=None)
@given(EVENTS)
def test_every_event_encodes_to_the_reference_json(event: ev.Event) -> None:
    kind, ts, text = payload.encode(event)
    assert (kind, ts, text) == (event.type, event.ts, reference(event))


def test_recorded_and_random_sessions_encode_to_the_reference_and_decode_back() -> None:
    events = [*symbol_hour(seed=3), *random_stream(4, 3000)][::7]
    for event in events:
        kind, ts, text = payload.encode(event)
        assert text == reference(event)
        assert payload.decode(kind, ts, text) == event
