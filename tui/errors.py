"""Errors the command line turns into `papertrade CMD: error: ...` and exit status 2.

Kept apart from `tui.cli` so `python -m tui.cli` (which loads that module as `__main__`)
still catches the same class the subcommands raise.
"""


class UsageError(Exception):
    """Bad command-line input or an unusable file: said plainly, nothing changed."""
