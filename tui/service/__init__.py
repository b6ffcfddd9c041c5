"""The application without a screen: everything that runs a session without drawing it.

Live trading state (`trading`), the replay player (`replay`), the recorded market as a feed
(`recorded`), take-over (`takeover`), session listing (`listing`) and session set-up shared by
the command line and the screens (`setup`). Nothing here imports Textual (a test checks it):
the CLI subcommands and the Textual screens both build on this layer, never on each other.
"""
