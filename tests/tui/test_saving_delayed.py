"""The status bar says when saving is held up: another program holding the database's write
lock delays the journal, the trader sees "saving delayed", and nothing is lost once it lets go.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from screen_host import SIZE, until

from papertrade.saves.store import Store


async def test_a_held_write_lock_shows_saving_delayed_then_saves_everything(
    app_factory: Callable[..., Any], tui: SimpleNamespace
) -> None:
    app = app_factory(name="held")
    db = app.store.path
    async with app.run_test(size=SIZE) as pilot:
        await tui.settle(pilot)
        other = sqlite3.connect(db, timeout=0.1, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another program takes the write lock and keeps it
        try:
            app.session.order("BTCUSDT", "buy", Decimal("0.01"))
            bar = app.trading.status_bar

            def delayed() -> bool:
                app.trading.flush()
                return "saving delayed" in str(bar.render())

            await until(pilot, delayed, "the status bar to say saving is delayed")
        finally:
            other.execute("ROLLBACK")
            other.close()
        await until(pilot, lambda: app.writer.health.state == "ok", "saving to catch up")
        app.writer.flush()
    with Store.open(db) as store:
        orders = [e for _, e in store.events(store.resolve("held")) if e.type == "order"]
    assert len(orders) == 1  # the order placed while the file was locked was saved
