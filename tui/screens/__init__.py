"""Screens of the terminal: trading (main), help, small modals; sessions/replay/summary are
added beside them by their own modules and imported lazily by the app."""
