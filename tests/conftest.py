"""Suite-wide ordering: the long tests (marked `slow` or `tmux`) run first.

Why: `python -m pytest -n 2` runs with `--dist worksteal` (pyproject); a worker that runs out of
tests takes some of the other's. A 20-second test collected last would start last and leave
one core idle while it runs; started first, the short tests fill in around it.
"""

from __future__ import annotations

import pytest

LONG = ("tmux", "slow")  # the real binary in tmux first: the longest of all


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # a stable sort: the same order on every xdist worker, each group in collection order
    items.sort(
        key=lambda item: next((n for n, m in enumerate(LONG) if item.get_closest_marker(m)), 2)
    )
