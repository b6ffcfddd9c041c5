"""The user's config file: where it lives, what it may say, and why it was refused.

Why an edge of its own: the file is text a person wrote, read before any screen exists, so it
is validated here once (pydantic, unknown keys refused) and a mistake becomes one plain
sentence naming the file and the key — `papertrade: error: …`, exit status 2 — never a
traceback and never a silently ignored typo. Textual-free: which keys the terminal binds is
the terminal's business, so the caller passes a `check_keys` that judges the `[keys]` table.

Location: `$PAPERTRADE_CONFIG` when set (the file must then exist), else `config.toml` in the
platform's user config directory (`~/.config/papertrade/` on Linux); no file there means the
defaults. The keys are documented in docs/CONFIG.md.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import platformdirs

from papertrade.tui.service.setup import SetupError

ENV_VAR = "PAPERTRADE_CONFIG"
FILE_NAME = "config.toml"
MAX_BYTES = 64 * 1024
"""A config file is a few lines; anything larger is not one (and is not read into memory)."""
MAX_KEY_CHARS = 40
KEY = re.compile(r"^(?:(?:ctrl|alt|shift|super|meta|hyper)\+)*(?:[!-~]|[a-z0-9_]{2,})$")
"""One key as Textual names it: optional modifiers, then one printable ASCII character
(`B`, `/`) or a key name (`delete`, `f5`, `question_mark`)."""

KeyCheck = Callable[[Mapping[str, str]], list[str]]


class ConfigError(SetupError):
    """The config file cannot be used; the message names the file and what to fix."""


@dataclass(frozen=True, slots=True)
class Config:
    """What the config file may set. Every key is optional; unknown keys are refused.

    A plain dataclass: the terminal starts with it before its first frame, and pydantic (the
    file's validator, `_file_model`) is imported only when there is a file to read."""

    confirm_close: bool = False
    """`c` (close a position at market) asks y/n first. Off by default, like Binance's
    one-click close."""
    keys: dict[str, str] = field(default_factory=dict)
    """Binding id → key(s), comma-separated (`buy = "B"`, `help = "question_mark,f1"`);
    applied with Textual's `App.set_keymap`."""


KEYS = tuple(f.name for f in dataclasses.fields(Config))
"""The config file's keys, in the order they are documented."""


@cache
def _file_model() -> Any:
    """The pydantic model that validates a file's table: `Config`'s fields, strict, unknown
    keys refused (built on first need)."""
    from pydantic import ConfigDict, create_model

    return create_model(
        "ConfigFile",
        __config__=ConfigDict(extra="forbid", frozen=True, strict=True),
        confirm_close=(bool, False),
        keys=(dict[str, str], {}),
    )


def config_path(env: Mapping[str, str] | None = None) -> Path:
    """`$PAPERTRADE_CONFIG`, else `config.toml` in the user config directory."""
    named = (os.environ if env is None else env).get(ENV_VAR, "").strip()
    if named:
        return Path(named).expanduser()
    return platformdirs.user_config_path("papertrade", appauthor=False) / FILE_NAME


def load_config(
    path: Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    check_keys: KeyCheck | None = None,
) -> Config:
    """The config at `path` (default: `config_path(env)`), validated; ConfigError otherwise.

    A missing file at the default location is the defaults; a file named explicitly (by
    `path` or `$PAPERTRADE_CONFIG`) must exist — a typo in the variable would otherwise be
    ignored in silence. `check_keys` returns what is wrong with the `[keys]` table (unknown
    binding ids, keys two bindings would share), one sentence each.
    """
    explicit = path is not None or bool((os.environ if env is None else env).get(ENV_VAR, ""))
    where = path if path is not None else config_path(env)
    shown = _printable(str(where))
    try:
        with where.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        if explicit:
            source = f"${ENV_VAR}" if path is None else "the config path"
            raise ConfigError(f"config file {shown} (from {source}) does not exist") from None
        return Config()
    except IsADirectoryError:
        raise ConfigError(f"config file {shown} is a directory, not a file") from None
    except OSError as exc:
        reason = _printable(exc.strerror or type(exc).__name__)
        raise ConfigError(f"config file {shown} cannot be read: {reason}") from None
    if len(raw) > MAX_BYTES:
        raise ConfigError(f"config file {shown} is over {MAX_BYTES // 1024} KiB: not a config")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {shown} is not UTF-8 text (byte {exc.start})") from None
    import tomllib  # only when there is a file (most starts have none)

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"config file {shown} is not valid TOML: {_printable(str(exc))}"
        ) from None
    config = _validate(data, shown)
    problems = [f"[keys] {p}" for p in _key_syntax(config.keys)]
    if not problems and check_keys is not None:
        problems = [f"[keys] {p}" for p in check_keys(config.keys)]
    if problems:
        raise ConfigError(f"config file {shown}: " + "; ".join(problems))
    return config


def _validate(data: dict[str, Any], shown: str) -> Config:
    from pydantic import ValidationError

    try:
        checked = _file_model().model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(_printable(str(part)) for part in first["loc"])
        kind = first["type"]
        if kind == "extra_forbidden":
            known = ", ".join(KEYS)
            looks_like_a_key = len(first["loc"]) == 1 and isinstance(first.get("input"), str)
            hint = " (put key bindings under [keys])" if looks_like_a_key else ""
            message = f"unknown key {key!r}{hint}; known keys: {known}"
        elif kind.startswith("bool"):
            message = f"{key} must be true or false (no quotes)"
        elif kind.startswith(("dict", "model")):
            message = f"{key} must be a table, e.g. [{key}]"
        elif kind.startswith("string"):
            message = f'{key} must be a quoted key name, e.g. "B" or "ctrl+b"'
        else:
            message = f"{key}: {_printable(first['msg'])}"
        raise ConfigError(f"config file {shown}: {message}") from None
    return Config(confirm_close=checked.confirm_close, keys=dict(checked.keys))


def _key_syntax(keys: Mapping[str, str]) -> list[str]:
    problems: list[str] = []
    for binding, value in keys.items():
        name = _printable(binding)
        parts = [part.strip() for part in value.split(",")]
        if not value.strip() or len(value) > 4 * MAX_KEY_CHARS:
            problems.append(
                f"{name} = {_printable(value)!r}: give one key or a few, comma-separated"
            )
            continue
        for part in parts:
            if len(part) > MAX_KEY_CHARS or not KEY.match(part):
                problems.append(
                    f"{name} = {_printable(value)!r}: {_printable(part)!r} is not a key name "
                    '(examples: "B", "ctrl+b", "f5", "delete", "slash")'
                )
    return problems


def _printable(text: str) -> str:
    """`text` with control and other unprintable characters escaped, cut to 200: file names
    and keys come from outside and are printed to the terminal."""
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return shown if len(shown) <= 200 else shown[:199] + "…"
