"""`papertrade simulate` streams its file: same verdicts, same output, memory that does not
grow with the file (issue 14).

The streaming reader (`drillfile.stream_drill`) checks the whole-file rules itself, one line at
a time; a differential property holds it to `codec.parse_lines` (through `read_drill`), the
reader every other command uses: the same lines are accepted with equal settings and events,
and refused with the same `FILE:LINE: ...` words.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from papertrade.core import events as ev
from papertrade.saves.store import Store
from papertrade.tui.cli import main
from papertrade.tui.cli.drillfile import DrillFile, read_drill, stream_drill
from papertrade.tui.errors import UsageError

ROOT = Path(__file__).resolve().parents[2]
DRILLS = ROOT / "examples" / "drills"

LINES = st.one_of(
    st.builds(
        lambda ts, p: f'{{"type":"mark","ts":{ts},"symbol":"BTCUSDT","price":"{p}"}}',
        st.integers(1_767_225_600_000, 1_767_225_600_009),
        st.sampled_from(["60000", "60000.5", "0", "-1", "1e400", "abc"]),
    ),
    st.builds(
        lambda ts: f'{{"type":"quote","ts":{ts},"symbol":"ETHUSDT","bid":"3000","ask":"3000.01"}}',
        st.integers(1_767_225_600_000, 1_767_225_600_009),
    ),
    st.sampled_from(
        [
            '{"type":"session","balance":"5000"}',
            '{"type":"session","balance":"5000","taker_fee":"0.001"}',
            '{"type":"snapshot","ts":1767225600005}',
            '{"type":"mark","ts":1767225600003,"symbol":"BTCUSDT","price":1}',
            '{"type":"mark","ts":1767225600003,"symbol":"BTCUSDT","price":"1","extra":1}',
            '{"type":"order","ts":1767225600004,"id":"a","symbol":"BTCUSDT","side":"buy",'
            '"qty":"0.01","order_type":"market"}',
            "",
            "   ",
            "# a comment",
            "{not json",
            "[1, 2]",
            '  {"type":"snapshot","ts":1767225600009}  \r',
        ]
    ),
)


def stream(path: str) -> tuple[ev.SessionSettings, list[ev.Event]]:
    with DrillFile(path) as drill:
        items = list(stream_drill(drill))
    head, *events = items
    assert isinstance(head, ev.SessionSettings)
    assert not any(isinstance(e, ev.SessionSettings) for e in events)
    return head, events  # type: ignore[return-value]


def verdict(read: object, path: str) -> object:
    try:
        return read(path)  # type: ignore[operator]
    except UsageError as exc:
        return f"refused: {exc}"


@settings(max_examples=80, deadline=None)
@given(st.lists(LINES, max_size=8), st.booleans())
def test_streaming_accepts_and_refuses_exactly_what_the_whole_file_reader_does(
    lines: list[str], final_newline: bool
) -> None:
    text = "\n".join(lines) + ("\n" if final_newline else "")
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "drill.jsonl"
        path.write_text(text, encoding="utf-8", newline="")
        assert verdict(stream, str(path)) == verdict(read_drill, str(path))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_bad_last_line_leaves_the_output_empty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = (DRILLS / "limit-orders.jsonl").read_text(encoding="utf-8")
    drill = tmp_path / "late.jsonl"
    drill.write_text(good + '{"type":"snapshot","ts":1}\n', encoding="utf-8")
    last = len(good.split("\n"))
    for mode in ([], ["--json"]):
        code, out, err = run(capsys, "simulate", str(drill), *mode)
        assert code == 2 and out == ""
        assert f"{drill}:{last}: ts 1 is before the previous line's ts" in err


def test_standard_input_with_save_prints_what_the_file_prints_and_stores_every_event(
    tmp_path: Path,
) -> None:
    drill = DRILLS / "limit-orders.jsonl"
    db = tmp_path / "s.sqlite3"

    def papertrade(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "papertrade", "simulate", *args],
            capture_output=True,
            text=True,
            input=stdin,
            cwd=ROOT,
        )

    from_file = papertrade(str(drill))
    piped = papertrade(
        "-", "--save", "--name", "piped", "--db", str(db), stdin=drill.read_text("utf-8")
    )
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout == from_file.stdout.replace(str(drill), "-")
    _, events = read_drill(str(drill))
    with Store.open(db) as store:
        assert [e for _, e in store.events("piped")] == events


def test_memory_does_not_hold_the_events(tmp_path: Path) -> None:
    """Forty times the lines cost no more than a few MiB more: nothing is kept per line."""
    line = '{"type":"mark","ts":%d,"symbol":"BTCUSDT","price":"60000.5"}\n'

    def peak_mib(n: int) -> float:
        drill = tmp_path / f"{n}.jsonl"
        with drill.open("w", encoding="utf-8") as f:
            for k in range(n):
                f.write(line % (1_767_225_600_000 + k))
        probe = (
            "import resource, sys, io\n"
            "from papertrade.tui.cli import main\n"
            "sys.stdout = io.StringIO()\n"
            f"main(['simulate', {str(drill)!r}, '--json'])\n"
            "sys.stderr.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))\n"
        )
        done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return int(done.stderr.strip()) / 1024

    small, large = peak_mib(1_000), peak_mib(40_000)
    # Held whole, 39,000 more mark events are ~15 MiB of lines and event objects.
    assert large - small < 5, (small, large)


def test_json_lines_split_at_a_newline_only(tmp_path: Path) -> None:
    """A U+2028 inside a string is not a line break: line numbers stay an editor's."""
    drill = tmp_path / "u2028.jsonl"
    drill.write_text(
        '{"type":"order","ts":1767225600000,"id":"a\u2028b","symbol":"BTCUSDT","side":"buy",'
        '"qty":"1","order_type":"market"}\n{"type":"snapshot","ts":0}\n',
        encoding="utf-8",
    )
    assert verdict(stream, str(drill)) == verdict(read_drill, str(drill))
    assert str(verdict(stream, str(drill))).startswith(f"refused: {drill}:2: ")


def test_an_unreadable_stream_is_a_usage_error(tmp_path: Path) -> None:
    drill = tmp_path / "latin1.jsonl"
    drill.write_bytes(b'{"type":"snapshot","ts":1}\n\xff\xfe\n')
    assert verdict(stream, str(drill)) == f"refused: {drill} is not a UTF-8 text file"
    assert verdict(read_drill, str(drill)) == verdict(stream, str(drill))
