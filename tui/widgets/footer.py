"""`SteadyFooter`: Textual's footer, rebuilt only when the keys it shows change.

Why: Textual's `Footer` throws away and re-mounts every key (16 widgets on the trading screen)
whenever its screen's bindings are refreshed, and that happens on every screen change: a
dialog opening suspends the trading screen, closing it resumes it, and each costs a full
rebuild of a footer that then looks exactly the same (issue 10, bug 13: dialogs must open
at once). Behind a dialog the footer is not even visible.
"""

from __future__ import annotations

from collections.abc import Hashable

from textual.screen import Screen
from textual.widgets import Footer


class SteadyFooter(Footer):
    _shown: Hashable = None

    def bindings_changed(self, screen: Screen[object]) -> None:
        if screen is not self.app.screen and self._shown is not None:
            return  # hidden behind a dialog: it keeps what it showed
        shown = self._keys(screen)
        if shown == self._shown:
            return
        self._shown = shown
        super().bindings_changed(screen)

    def _keys(self, screen: Screen[object]) -> Hashable:
        """What the footer would show: each shown binding, its key display and state."""
        app = self.app
        return tuple(
            (key, b.action, b.description, app.get_key_display(b), enabled, tooltip)
            for key, (_, b, enabled, tooltip) in screen.active_bindings.items()
            if b.show or key == app.COMMAND_PALETTE_BINDING
        )
