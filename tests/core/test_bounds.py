"""The bounds every number and time from outside must meet, and the Decimal context behind them:
what is accepted at each edge, what is refused with which words, and that nothing the engine
can derive from bounded inputs fails to quantize or print."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from decimal import InvalidOperation, localcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from papertrade.core import codec
from papertrade.core import events as ev
from papertrade.core import numbers as n
from papertrade.core.engine import Engine


@pytest.mark.parametrize(
    ("bound", "inside", "outside", "words"),
    [
        (n.PRICE, "1000000000000", "1000000000000.1", "at most 1,000,000,000,000"),
        (n.PRICE, "0.000000000000000001", "0", "must be positive"),
        (n.QTY, "1e12", "1.000000000001e12", "at most 1,000,000,000,000"),
        (n.QTY, "0.5", "-0.5", "must be positive"),
        (n.SIZE, "0", "-0.000001", "zero or more"),
        (n.BALANCE, "1000000000000000", "1000000000000001", "at most 1,000,000,000,000,000"),
        (n.AMOUNT, "-1000000000000000", "-1000000000000001", "at least -1,000,000,000,000,000"),
        (n.RATE, "-1", "-1.0001", "at least -1"),
        (n.RATE, "1", "1.5", "at most 1"),
        (n.FEE_RATE, "0.01", "0.0101", "at most 0.01"),
        (n.PERCENT, "100", "100.01", "at most 100"),
    ],
)
def test_each_bound_takes_its_edge_and_refuses_one_step_past_it(
    bound: n.Bound, inside: str, outside: str, words: str
) -> None:
    assert bound.parse(inside) == D(inside)
    with pytest.raises(n.OutOfBounds, match=words):
        bound.parse(outside)


def test_eighteen_significant_digits_and_places_fit_nineteen_do_not() -> None:
    assert n.PRICE.parse("123456789012.345678") == D("123456789012.345678")  # 18 digits
    assert n.PRICE.parse("0.000000000000000001") == D("1e-18")  # 18 places
    with pytest.raises(n.OutOfBounds, match="18 significant digits"):
        n.PRICE.parse("123456789012.3456789")  # 19 digits, under 1e12
    with pytest.raises(n.OutOfBounds, match="18 decimal places"):
        n.PRICE.parse("0.0000000000000000001")
    # trailing zeros are not significant: 1.000…0 (30 zeros) is 1
    assert n.PRICE.parse("1." + "0" * 30) == 1


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("1e400", r"at most 1,000,000,000,000 \(got 1E\+400\)"),
        ("1E+999999999", "at most 1,000,000,000,000"),
        ("-1E+999999999", "must be positive"),
        ("1E-999999999", "18 decimal places"),
        ("9" * 20, "at most 1,000,000,000,000"),
        ("NaN", "not a finite number"),
        ("-Infinity", "not a finite number"),
        ("sNaN", "not a finite number"),
        ("9" * 5000, "too long"),
        ("1_000", "not a number"),
        ("\u0661", "not a number"),  # ARABIC-INDIC DIGIT ONE: Decimal would read it as 1
        ("0x10", "not a number"),
        ("1,5", "not a number"),
        ("", "not a number"),
    ],
)
def test_absurd_number_text_is_refused_with_words_not_an_exception(text: str, words: str) -> None:
    with pytest.raises(n.BadNumber, match=words):
        n.PRICE.parse(text)


def test_error_messages_show_untrusted_text_escaped_and_short() -> None:
    with pytest.raises(n.BadNumber) as info:
        n.dec("\x1b]0;pwned\x07")
    assert "\x1b" not in str(info.value) and "\\x1b" in str(info.value)
    with pytest.raises(n.BadNumber) as info:
        n.dec("x" * 60)
    assert len(str(info.value)) < 80


def test_minus_zero_reads_as_zero_so_it_never_prints_as_minus_zero() -> None:
    zero = n.dec("-0")
    assert zero == 0 and not zero.is_signed()
    assert n.plain(zero) == "0" and n.human(zero) == "0.00"
    assert n.SIZE.parse("-0.00") == 0


def test_dec_refuses_magnitudes_no_bound_could_ever_want() -> None:
    assert n.dec("1e100") == D("1e100")
    with pytest.raises(n.OutOfBounds, match="sensible range"):
        n.dec("1e101")
    with pytest.raises(n.OutOfBounds, match="sensible range"):
        n.dec("1e-101")
    with pytest.raises(n.BadNumber, match="too many digits"):
        n.dec(10**70)
    with pytest.raises(n.BadNumber):
        n.dec(True)
    with pytest.raises(n.BadNumber, match="decimal string"):
        n.dec(1.5)


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        (0, True),
        (253_402_300_799_999, True),  # 9999-12-31T23:59:59.999Z
        (253_402_300_800_000, False),
        (-1, False),
        (2**63, False),
        (10**5000, False),
        (True, False),
        (1e3, False),
        ("1767225600000", False),
    ],
    ids=[
        "zero",
        "year-9999",
        "past-9999",
        "negative",
        "2**63",
        "5001-digits",
        "bool",
        "float",
        "text",
    ],
)
def test_timestamps_are_integer_ms_from_1970_to_year_9999(value: object, ok: bool) -> None:
    if ok:
        assert n.timestamp(value) == value
    else:
        with pytest.raises(n.OutOfBounds) as info:
            n.timestamp(value)
        assert len(str(info.value)) < 120  # 10**5000 is not printed (int-str limit)


def test_the_documented_time_constants_are_the_dates_they_claim() -> None:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    end = datetime(9999, 12, 31, 23, 59, 59, 999_000, tzinfo=UTC)
    assert (end - epoch) // timedelta(milliseconds=1) == n.MAX_TS_MS
    start = datetime(2015, 1, 1, tzinfo=UTC)
    assert (start - epoch) // timedelta(milliseconds=1) == n.MIN_LIVE_TS_MS
    assert n.LIVE_FUTURE_MS == 24 * 3600 * 1000


def test_leverage_is_a_whole_number_from_1_to_125() -> None:
    assert n.leverage(1) == 1 and n.leverage(125) == 125
    for bad in (0, 126, -5, True, 2.0, "10", 10**5000):  # 10**5000: not printable as str
        with pytest.raises(n.OutOfBounds):
            n.leverage(bad)
    assert n.leverage(1000, high=n.MAX_DRILL_LEVERAGE) == 1000


# --- the context: bounded inputs never make quantize or formatting fail -------------------------


def test_the_default_context_would_fail_where_the_bounded_helpers_do_not() -> None:
    # The largest notional bounded inputs allow: 1e12 price x 1e12 quantity = 1e24, which at
    # USDT's 8 decimals needs 25 + 8 = 33 digits: more than the default context's 28.
    notional = n.MAX_PRICE * n.MAX_QTY
    with localcontext() as ctx:
        ctx.prec = 28
        with pytest.raises(InvalidOperation):
            notional.quantize(n.MONEY)
    assert n.money(notional) == D("1e24")
    assert n.human(notional) == "1,000,000,000,000,000,000,000,000.00"
    fee = n.money(notional * D("0.0005"))  # 1e24 * 5e-4 = 5e20
    assert n.plain(fee) == "500000000000000000000"
    assert n.quantize(D("123456789012345678901234567890.00005"), D("0.0001")) == D(
        "123456789012345678901234567890.0000"
    )  # half-even: ...0.00005 -> ...0.0000


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (D("NaN"), "NaN"),
        (D("-Infinity"), "-Infinity"),
        (D("1E+999999999"), "1.00E+999999999"),
        (D("-0.004"), "0.00"),
        (D("-0.005"), "0.00"),  # ties to even: -0.005 -> -0.00, shown as 0.00
        (D("-0.015"), "-0.02"),
        (D("1E-999999999"), "0.00"),
        (D("1234567.891"), "1,234,567.89"),
    ],
)
def test_human_never_raises_and_never_shows_minus_zero(value: D, text: str) -> None:
    assert n.human(value) == text


def test_plain_never_raises_and_drops_only_trailing_zeros() -> None:
    assert n.plain(D("1E+4")) == "10000"
    assert n.plain(D("1.50")) == "1.5"
    assert n.plain(D("-1E+999999999")) == "-1E+999999999"
    assert n.plain(D("sNaN")) == "sNaN"
    long = D("1." + "1" * 40)  # more digits than the default context keeps
    assert n.plain(long) == "1." + "1" * 40


_price = st.decimals(min_value=D("1e-8"), max_value=n.MAX_PRICE, places=8)
_qty = st.decimals(min_value=D("1e-8"), max_value=n.MAX_QTY, places=8)
_rate = st.decimals(min_value=-n.MAX_RATE, max_value=n.MAX_RATE, places=8)


@settings(max_examples=100, deadline=None)
@given(price=_price, qty=_qty, rate=_rate)
def test_anything_derived_from_bounded_inputs_quantizes_and_prints(
    price: D, qty: D, rate: D
) -> None:
    notional = price * qty
    for value in (notional, notional * rate, notional / price, -notional):
        amount = n.money(value)
        shown = n.human(amount)
        assert D(shown.replace(",", "")) == n.quantize(amount, D("0.01"))
        assert n.dec(n.plain(amount)) == amount


# --- the engine behind the edges: any bounded stream, every outcome formats --------------------

_bounded_price = st.sampled_from(
    [D("1e-18"), D("0.1"), D("3000"), D("60000"), D("999999999999.9"), D("1e12")]
) | st.decimals(min_value=D("0.1"), max_value=D("1e12"), places=1)
_bounded_qty = st.sampled_from([D("0.001"), D("1"), D("1000000"), D("1e12")]) | st.decimals(
    min_value=D("0.001"), max_value=D("1e12"), places=3
)


@st.composite
def bounded_stream(draw: st.DrawFn) -> list[ev.Event]:
    out: list[ev.Event] = []
    ts = 0
    for i in range(draw(st.integers(1, 12))):
        ts += draw(st.integers(0, 10**6))
        px = draw(_bounded_price)
        kind = draw(st.sampled_from(["mark", "quote", "order", "funding", "close", "margin"]))
        if kind == "mark":
            out.append(ev.MarkPrice(ts, "BTCUSDT", px, None, draw(_rate), ts + 1))
        elif kind == "quote":
            out.append(ev.Quote(ts, "BTCUSDT", px, px))
        elif kind == "order":
            side = draw(st.sampled_from(ev.SIDES))
            mode = draw(st.sampled_from(ev.MARGIN_MODES))
            lev = draw(st.integers(1, 125))
            out.append(
                ev.PlaceOrder(
                    ts, f"o{i}", "BTCUSDT", side, draw(_bounded_qty), "market", None, mode, lev
                )
            )
        elif kind == "funding":
            out.append(ev.Funding(ts, "BTCUSDT", draw(_rate)))
        elif kind == "close":
            out.append(ev.ClosePosition(ts, "BTCUSDT"))
        else:
            amount = draw(st.sampled_from([D("-1e15"), D("-1"), D("1"), D("1e15")]))
            out.append(ev.AdjustMargin(ts, "BTCUSDT", amount))
    return out


@settings(max_examples=75, deadline=None)
@given(stream=bounded_stream(), balance=st.sampled_from([D("1"), D("10000"), D("1e15")]))
def test_any_bounded_stream_runs_and_every_outcome_formats(
    stream: list[ev.Event], balance: D
) -> None:
    engine = Engine(settings=ev.SessionSettings(balance, D("0.01"), D("-0.01")))
    for event in stream:
        for outcome in engine.apply(event):
            codec.dumps(outcome)
    state = engine.account()
    codec.dumps(state)
    for value in (state.wallet_balance, state.margin_balance, state.available_balance):
        n.human(value)
    for pos in state.positions:
        assert n.human(pos.unrealized_pnl) and n.plain(pos.entry_price) and n.human(pos.margin)
