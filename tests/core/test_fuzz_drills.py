"""Fuzzing the drill format where users meet it: mutated example drills through the codec, then
through `papertrade simulate` and `papertrade import` in-process. The contract (issue 9): valid
output and exit 0, or exactly one clean error line (`FILE:LINE: what is wrong`) and exit 2 —
never a traceback. The long standalone run is `benchmarks/fuzz_drills.py`."""

from __future__ import annotations

import contextlib
import io
import json
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from papertrade.core import codec
from papertrade.tui.cli import main

DRILLS = Path(__file__).parents[2] / "examples" / "drills"
SOURCES = {p.name: p.read_text(encoding="utf-8").splitlines() for p in sorted(DRILLS.glob("*"))}

HOSTILE_TEXT = [
    "1e400",
    "1E+999999999",
    "-1E+999999999",
    "99999999999999999999",
    "1e27",
    "NaN",
    "Infinity",
    "-0",
    "0",
    "-1",
    "9" * 5000,
    "1.0000000000000000001",
    "1,5",
    "\x1b]0;pwned\x07",
    "\u0085\u2028",
    "",
]
HOSTILE_INTS = [-1, 2**63, 2**64, 253_402_300_800_000, 253_402_300_799_999, 10**30, 0]
EDGE_TEXT = ["1000000000000", "0.000000000000000001", "1000000000000000", "1", "-1", "0.01"]

hostile_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.sampled_from(HOSTILE_TEXT + EDGE_TEXT)
    | st.sampled_from(HOSTILE_INTS)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)


def _object_lines(lines: list[str]) -> list[int]:
    """Indexes of the lines that are still JSON objects (earlier mutations break some)."""
    out = []
    for i, text in enumerate(lines):
        try:
            if isinstance(json.loads(text), dict):
                out.append(i)
        except (ValueError, RecursionError):
            pass
    return out


@st.composite
def mutated_drill(draw: st.DrawFn) -> str:
    """An example drill with one to three mutations a user or an attacker could make."""
    lines = list(SOURCES[draw(st.sampled_from(sorted(SOURCES)))])
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(
            st.sampled_from(["value", "edge", "type", "key", "raw", "truncate", "lines", "deep"])
        )
        objects = _object_lines(lines)
        if kind in ("value", "edge", "type", "key") and objects:
            i = draw(st.sampled_from(objects))
            obj = json.loads(lines[i])
            key = draw(st.sampled_from(sorted(obj)))
            if kind == "value":
                obj[key] = draw(hostile_json)
            elif kind == "edge":
                obj[key] = draw(st.sampled_from(EDGE_TEXT) | st.sampled_from(HOSTILE_INTS))
            elif kind == "type":
                obj["type"] = draw(st.sampled_from([["mark"], {"t": 1}, 7, "account", "session"]))
            else:
                obj[draw(st.sampled_from(HOSTILE_TEXT))] = obj.pop(key)
            try:
                lines[i] = json.dumps(obj)
            except ValueError:  # an int past the int-str limit: write it by hand
                lines[i] = '{"type":"mark","ts":' + "7" * 5000 + "}"
        elif kind == "raw" and lines:
            i = draw(st.integers(0, len(lines) - 1))
            at = draw(st.integers(0, len(lines[i])))
            junk = draw(st.text(max_size=4) | st.sampled_from(['"', "}", "\x00", "\u2028"]))
            lines[i] = lines[i][:at] + junk + lines[i][at + 1 :]
        elif kind == "truncate":
            text = "\n".join(lines)
            lines = text[: draw(st.integers(0, len(text)))].split("\n")
        elif kind == "lines" and len(lines) >= 2:
            i, j = draw(st.permutations(range(len(lines))))[:2]
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == "deep":
            depth = draw(st.sampled_from([100, 3000, 40_000]))
            lines.insert(draw(st.integers(0, len(lines))), "[" * depth + "]" * depth)
    return "\n".join(lines) + "\n"


@settings(max_examples=100, deadline=None)
@given(text=mutated_drill())
def test_the_codec_returns_events_or_one_format_error_never_anything_else(text: str) -> None:
    try:
        _settings, events = codec.parse_lines(text.split("\n"))
    except codec.FormatError as exc:
        assert exc.line >= 1
        assert exc.message.isprintable() and len(exc.message) < 1000
    else:
        for event in events:  # whatever passed is inside the bounds and writes back out
            assert codec.parse_line(codec.dumps(event)) == event


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def assert_clean(code: int, out: str, err: str, command: str, path: Path) -> None:
    if code == 0:
        return
    assert code == 2, (code, err)
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].isprintable(), lines[0]
    assert re.match(rf"papertrade {command}: error: {re.escape(str(path))}:\d+: \S", lines[0]), (
        lines[0]
    )
    assert "Traceback" not in err


@pytest.mark.slow
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)
@given(text=mutated_drill())
def test_simulate_and_import_of_a_mutated_drill_succeed_or_say_where_it_is_wrong(
    text: str,
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "drill.jsonl"
        path.write_text(text, encoding="utf-8")
        code, out, err = run_cli(["simulate", str(path), "--json"])
        assert_clean(code, out, err, "simulate", path)
        if code == 0:
            kinds = [json.loads(line)["type"] for line in out.splitlines()]
            if kinds and kinds[-1] == "challenge":  # a session with rules ends with its verdict
                kinds.pop()
            assert kinds and kinds[-1] == "account"
        code, out, err = run_cli(["import", str(path), "--db", str(Path(tmp) / "j.db")])
        assert_clean(code, out, err, "import", path)
        if code == 0:
            assert out.startswith("imported ")


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ('{"type":{"a":1},"ts":1}', 'unknown type {"a": 1}'),
        ('{"type":"mark","ts":' + "7" * 5000 + "}", "integer with 5000 digits"),
        ("[" * 50_000 + "]" * 50_000, "longer than 65,536 characters"),
        ('{"type":"mark","ts":1,"symbol":"BTCUSDT","price":"1E+999999999"}', "at most"),
        ('{"type":"mark","ts":253402300800000,"symbol":"BTCUSDT","price":"1"}', "'ts'"),
        ('{"type":"mark","ts":1,"symbol":"BTCUSDT","price":NaN}', "NaN is not a number"),
    ],
)
@pytest.mark.parametrize("command", ["simulate", "import"])
def test_each_known_crash_is_now_one_error_line_with_file_and_line(
    tmp_path: Path, command: str, line: str, words: str
) -> None:
    path = tmp_path / "drill.jsonl"
    path.write_text('{"type":"snapshot","ts":0}\n' + line + "\n", encoding="utf-8")
    extra = ["--db", str(tmp_path / "j.db")] if command == "import" else []
    code, out, err = run_cli([command, str(path), *extra])
    assert code == 2 and out == ""
    assert_clean(code, out, err, command, path)
    assert f"{path}:2: " in err and words in err


def test_a_line_separator_inside_a_string_does_not_shift_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "drill.jsonl"
    lines = [
        '{"type":"session","name":"a\u2028b\u0085c"}',
        '{"type":"snapshot","ts":0}',
        '{"type":"mark","ts":1,"symbol":"BTCUSDT","price":"-1"}',
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, _, err = run_cli(["simulate", str(path)])
    assert code == 2 and f"{path}:3: mark: field 'price' must be positive" in err
