"""papertrade: paper-trade crypto perpetual futures in the terminal on an exact margin engine.

This folder is the `papertrade` package itself; pyproject maps the top-level folders under it
(`core/` → `papertrade.core`, `feeds/` → `papertrade.feeds`, `saves/` → `papertrade.saves`,
`tui/` → `papertrade.tui`) so that one installed name holds them all and none of their generic
names (`core`, `tui`, `saves`) collides with another distribution's. See docs/ARCHITECTURE.md.
"""

__version__ = "0.2.0"
