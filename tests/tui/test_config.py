"""The user's config file: where it is found, every refusal as one sentence naming the file and
the key, and what it changes in the terminal — `confirm_close` and keys remapped by binding id.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from screen_host import until

from papertrade.tui.app import keymap_problems, load_terminal_config
from papertrade.tui.cli import main
from papertrade.tui.screens.stops import CloseModal
from papertrade.tui.screens.ticket import OrderTicket
from papertrade.tui.service.config import (
    ENV_VAR,
    KEYS,
    Config,
    ConfigError,
    config_path,
    load_config,
)
from papertrade.tui.service.setup import SetupError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --- where the file is ------------------------------------------------------------------------


def test_the_file_is_in_the_user_config_dir_unless_the_variable_names_one(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert config_path({}) == tmp_path / "xdg" / "papertrade" / "config.toml"
    assert config_path({ENV_VAR: str(tmp_path / "mine.toml")}) == tmp_path / "mine.toml"
    assert config_path({ENV_VAR: "  "}) == tmp_path / "xdg" / "papertrade" / "config.toml"


def test_no_file_in_the_default_place_means_the_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    config = load_config(env={})
    assert config == Config()
    assert config.confirm_close is False and config.keys == {}


def test_a_file_named_by_the_variable_must_exist(tmp_path):
    missing = tmp_path / "typo.toml"
    with pytest.raises(ConfigError, match=rf"{missing} \(from \$PAPERTRADE_CONFIG\) does not"):
        load_config(env={ENV_VAR: str(missing)})


def test_a_full_file_is_read(tmp_path):
    path = write(tmp_path, 'confirm_close = true\n\n[keys]\nbuy = "K"\nhelp = "?,f1"\n')
    config = load_terminal_config(path)
    assert config.confirm_close is True
    assert config.keys == {"buy": "K", "help": "?,f1"}


# --- refusals: one sentence, the file and the key named ----------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("confirm_clsoe = true\n", "unknown key 'confirm_clsoe'; known keys: confirm_close, keys"),
        ('buy = "B"\n', "unknown key 'buy' (put key bindings under [keys])"),
        ('confirm_close = "yes"\n', "confirm_close must be true or false (no quotes)"),
        ("confirm_close = 1\n", "confirm_close must be true or false"),
        ('keys = "B"\n', "keys must be a table, e.g. [keys]"),
        ("[keys]\nbuy = 1\n", 'keys.buy must be a quoted key name, e.g. "B"'),
        ("confirm_close = tru\n", "is not valid TOML"),
        ('[keys]\nbuy = "shift b"\n', "'shift b' is not a key name"),
        ('[keys]\nbuy = ""\n', "buy = '': give one key or a few, comma-separated"),
        ('[keys]\nbyu = "B"\n', "unknown binding id 'byu'; the ids are: "),
        ('[keys]\nbuy = "s"\n', "buy = 's': 's' is already 'sell'"),
        ('[keys]\nbuy = "K"\nsell = "K"\n', "sell = 'K': 'K' is already 'buy'"),
        ('[keys]\nbuy = "j"\n', "buy = 'j': 'j' is already 'cursor_down'"),
    ],
)
def test_a_bad_file_is_refused_naming_the_file_and_the_key(tmp_path, text, words):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_terminal_config(path)
    message = str(caught.value)
    assert message.startswith(f"config file {path}"), message
    assert words in message, message
    assert isinstance(caught.value, SetupError)  # the command line's exit-2 error


def test_untrusted_text_in_a_refusal_is_escaped(tmp_path):
    path = write(tmp_path, '"\\u001b[31mred" = true\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert "\x1b" not in message
    assert "\\x1b[31mred" in message


def test_bytes_that_are_not_text_or_too_many_are_refused(tmp_path):
    path = tmp_path / "config.toml"
    path.write_bytes(b"confirm_close = true\n\xff\n")
    with pytest.raises(ConfigError, match="is not UTF-8 text"):
        load_config(path)
    path.write_bytes(b"#" * (64 * 1024 + 1))
    with pytest.raises(ConfigError, match="over 64 KiB"):
        load_config(path)
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path)


def test_remapping_keys_that_swap_or_stay_is_not_a_clash():
    assert keymap_problems({"buy": "s", "sell": "b"}) == []
    assert keymap_problems({"buy": "b", "help": "question_mark,f1"}) == []


def test_the_command_line_says_what_is_wrong_and_opens_no_session(tmp_path, monkeypatch, capsys):
    path = write(tmp_path, "confirm_close = maybe\n")
    monkeypatch.setenv(ENV_VAR, str(path))
    db = tmp_path / "none.db"
    assert main(["--feed", "sim", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"papertrade: error: config file {path} is not valid TOML")
    assert "Traceback" not in err
    assert not db.exists(), "a bad config changes nothing"


# --- what it changes in the terminal -----------------------------------------------------------


async def test_a_keymap_moves_buy_to_shift_k(app_factory, tui):
    app = app_factory()
    app.config = load_terminal_config(write(tui_tmp(app), '[keys]\nbuy = "K"\n'))
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        await pilot.press("b")
        await pilot.pause()
        assert app.screen is app.trading, "b no longer opens the ticket"
        await pilot.press("K")
        await until(pilot, lambda: isinstance(app.screen, OrderTicket), "the ticket on K")
        ticket = app.screen
        assert isinstance(ticket, OrderTicket)
        assert (ticket.symbol, ticket.side) == ("BTCUSDT", "buy")
        await pilot.press("escape")
        await pilot.press("s")  # the other keys are where they were
        await until(pilot, lambda: isinstance(app.screen, OrderTicket), "the sell ticket")
        assert app.screen.side == "sell"


async def test_confirm_close_adds_no_second_question_to_c(app_factory, tui):
    """Since issue 12 `c` always asks how much to close (its confirmation); a config with
    `confirm_close = true` still loads and does not ask a y/n on top of it."""
    app = app_factory()
    app.config = Config(confirm_close=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.settle(pilot)
        engine = app.session.engine
        app.session.order("BTCUSDT", "buy", Decimal("0.01"))
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, CloseModal), "the close dialog")
        await pilot.press("enter")
        await until(pilot, lambda: "BTCUSDT" not in engine.positions, "the close")
        assert app.screen is app.trading


def tui_tmp(app) -> Path:
    """The test's tmp directory (the app's database lives there)."""
    return Path(app.db_path).parent


# --- docs/CONFIG.md stays true ---------------------------------------------------------------

DOC = Path(__file__).resolve().parents[2] / "docs" / "CONFIG.md"


def test_the_documented_example_is_a_valid_config(tmp_path):
    text = DOC.read_text(encoding="utf-8")
    example = text.split("```toml\n", 1)[1].split("```", 1)[0]
    config = load_terminal_config(write(tmp_path, example))
    assert config.confirm_close is True
    assert config.keys == {"buy": "K", "sell": "S,ctrl+s", "sessions": "f2", "help": "?,f1"}


def test_every_binding_id_and_config_key_is_documented():
    text = DOC.read_text(encoding="utf-8")
    problems = keymap_problems({"no-such-id": "f12"})
    ids = problems[0].split("the ids are: ", 1)[1].split(", ")
    assert "buy" in ids and "alert" in ids
    assert [i for i in ids if f"| `{i}` |" not in text] == []
    documented = [f"`{k}`" in text or f"`[{k}]`" in text for k in KEYS]
    assert all(documented), KEYS
