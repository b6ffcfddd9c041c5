"""Journal rows of books (saves/payload.py's book branch): one front-coded string per side,
lossless to the character, every row decoding alone; old rows of `["price","qty"]` pairs still
read."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from papertrade.core.events import Book
from papertrade.saves import payload

# prices as venues write them: plain decimals of varying length and trailing zeros
_TEXT = st.builds(
    lambda whole, frac, zeros: f"{whole}.{frac}{'0' * zeros}" if frac else str(whole),
    st.integers(1, 10**9),
    st.sampled_from(["", "1", "25", "5", "999", "0001"]),
    st.integers(0, 2),
)


@st.composite
def books(draw: st.DrawFn) -> Book:
    prices = sorted({Decimal(t) for t in draw(st.lists(_TEXT, max_size=40))})
    cut = draw(st.integers(0, len(prices)))
    qty = st.sampled_from(["0.001", "1", "2.50", "1000000", "0.1000"]).map(Decimal)
    bids = tuple((p, draw(qty)) for p in reversed(prices[:cut]))
    asks = tuple((p, draw(qty)) for p in prices[cut:])
    return Book(1_723_161_256_505, "BTCUSDT", bids, asks)


@settings(max_examples=80, deadline=None)
@given(books())
def test_a_book_row_reads_back_exactly_with_every_price_text_kept(book: Book) -> None:
    kind, ts, text = payload.encode(book)
    back = payload.decode(kind, ts, text)
    assert back == book
    assert [str(p) for p, _ in back.bids + back.asks] == [str(p) for p, _ in book.bids + book.asks]
    assert [str(q) for _, q in back.bids + back.asks] == [str(q) for _, q in book.bids + book.asks]


def test_the_stored_form_and_the_old_pairs_form() -> None:
    d = Decimal
    book = Book(5, "BTCUSDT", ((d("94999.90"), d("0.458")), (d("94999.80"), d("0.457"))),
                ((d("95000.00"), d("1")), (d("95001.5"), d("2"))))  # fmt: skip
    # 94999.80 shares "94999." (6 characters) with the level before it
    assert payload.encode(book) == (
        "book", 5, '["BTCUSDT","094999.90:0.458,680:0.457","095000.00:1,41.5:2"]'
    )  # fmt: skip
    old = (
        '["BTCUSDT",[["94999.90","0.458"],["94999.80","0.457"]],[["95000.00","1"],["95001.5","2"]]]'
    )
    assert payload.decode("book", 5, old) == book
