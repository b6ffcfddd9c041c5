"""One module a subcommand, each with `add_parser(subparsers)` and `run(args) -> int`.

Headless commands must not import Textual (a test checks it), so only the bare `papertrade`
(the TUI) and `replay` without `--headless` reach for `tui.app`.
"""
