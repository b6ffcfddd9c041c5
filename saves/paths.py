"""Where the session database lives: `--db PATH`, else `$PAPERTRADE_DB`, else the user data dir.

Kept apart from the store so the CLI can print the location without opening anything.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "PAPERTRADE_DB"
FILE_NAME = "papertrade.sqlite3"


def default_db_path() -> Path:
    """The database used when no path is given: `$PAPERTRADE_DB` or the platform data dir."""
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return Path(env).expanduser()
    import platformdirs  # only here: commands that never open the store start without it

    return platformdirs.user_data_path("papertrade", appauthor=False) / FILE_NAME


def resolve_db_path(path: str | os.PathLike[str] | None) -> Path:
    """An explicit path wins over the environment and the default."""
    if path is None or str(path) == "":
        return default_db_path()
    return Path(path).expanduser()


def lock_dir(db_path: Path) -> Path:
    """Sidecar directory of per-session writer locks (`<db>.locks/`)."""
    return db_path.with_name(db_path.name + ".locks")
