"""The `book` input line and the session's `fill_model`: strict at the edge, lossless in the
journal's row encoding."""

from __future__ import annotations

from decimal import Decimal

import pytest

from papertrade.core import codec
from papertrade.core import events as ev
from papertrade.saves import payload


def _book(bids: str, asks: str) -> str:
    return f'{{"type":"book","ts":5,"symbol":"btcusdt","bids":{bids},"asks":{asks}}}'


def test_a_book_line_reads_best_first_with_exact_decimals() -> None:
    event = codec.parse_line(_book('[["100.50","1"],["99","2.5"]]', '[["101","0.001"]]'))
    assert event == ev.Book(
        ts=5,
        symbol="BTCUSDT",
        bids=((Decimal("100.50"), Decimal("1")), (Decimal("99"), Decimal("2.5"))),
        asks=((Decimal("101"), Decimal("0.001")),),
    )


@pytest.mark.parametrize(
    ("bids", "asks", "words"),
    [
        ('[["99","1"],["100","1"]]', "[]", "bids must fall level by level"),
        ("[]", '[["101","1"],["100","1"]]', "asks must rise level by level"),
        ('[["101","1"]]', '[["100","1"]]', "the book is crossed"),
        ('[["101","1"]]', '[["101","1"]]', "the book is crossed"),
        ('[["99",1]]', "[]", 'level 1: must be a decimal string such as "1.5"'),
        ('[["99","0"]]', "[]", "level 1: must be positive"),
        ('[["99"]]', "[]", 'level 1 must be a ["price", "qty"] pair'),
        ('"x"', "[]", 'must be a list of ["price", "qty"] pairs'),
    ],
)
def test_a_bad_book_line_is_refused_with_the_reason(bids: str, asks: str, words: str) -> None:
    with pytest.raises(codec.FormatError, match=r"^line 3: book: ") as err:
        codec.parse_line(_book(bids, asks), 3)
    assert words in err.value.message


def test_too_many_levels_are_refused() -> None:
    levels = ",".join(f'["{100000 - i}","1"]' for i in range(codec.MAX_BOOK_LEVELS + 1))
    with pytest.raises(codec.FormatError, match="at most 1000 are read"):
        codec.parse_line(_book(f"[{levels}]", "[]"))


def test_the_session_fill_model_defaults_to_touch_and_is_written_only_when_set() -> None:
    plain = codec.parse_line('{"type":"session"}')
    assert isinstance(plain, ev.SessionSettings) and plain.fill_model == "touch"
    assert "fill_model" not in codec.dumps(plain)
    queued = codec.parse_line('{"type":"session","fill_model":"queue"}')
    assert isinstance(queued, ev.SessionSettings) and queued.fill_model == "queue"
    assert '"fill_model":"queue"' in codec.dumps(queued)
    with pytest.raises(codec.FormatError, match="fill_model"):
        codec.parse_line('{"type":"session","fill_model":"optimistic"}')


def test_a_book_row_in_the_journal_keeps_every_digit() -> None:
    event = codec.parse_line(_book('[["100.50","1.0"]]', '[["101.00","2"]]'))
    assert isinstance(event, ev.Book)
    kind, ts, text = payload.encode(event)
    # one front-coded string per side (saves/payload.py): "0" = no characters shared
    assert (kind, ts, text) == ("book", 5, '["BTCUSDT","0100.50:1.0","0101.00:2"]')
    back = payload.decode(kind, ts, text)
    assert isinstance(back, ev.Book)
    assert str(back.bids[0][0]) == "100.50" and str(back.asks[0][0]) == "101.00"
