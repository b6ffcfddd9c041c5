"""Fuzz `papertrade simulate` and `papertrade import` with mutated example drills.

Run: `python benchmarks/fuzz_drills.py [--runs 1000] [--seed 1] [--timeout 20] [--journal]`

Each run takes one drill of `examples/drills/`, applies one to three random mutations (byte
flips, truncation, field swaps, huge / negative / NaN numbers, bad types, deep nesting, line
shuffles) and calls the real CLI in-process (`papertrade.tui.cli.main`) for `simulate FILE`
and `import FILE --db TMP` (with `--journal`, then `sessions`, `stats`, `export` and
`replay --headless` on what was imported). The contract (issue 9): valid output with exit 0,
or exactly one clean error line and exit 2 — never a traceback, never a hang. Why in-process:
a subprocess per run costs half a second of interpreter start on a shared two-core machine; an
escaping exception is exactly what a traceback would be. Hangs are caught with `SIGALRM`.

It prints the counts per command and the first example of each failure kind, and exits 1
when any run broke the contract. It is run by hand (it takes a few minutes), not in the suite;
`tests/core/test_fuzz_drills.py` is the quick hypothesis version that is.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import random
import re
import signal
import sys
import tempfile
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

DRILLS = Path(__file__).resolve().parents[1] / "examples" / "drills"

NASTY_STRINGS = [
    "1e400",
    "1E+999999999",
    "-1E+999999999",
    "1e-400",
    "NaN",
    "-NaN",
    "sNaN",
    "Infinity",
    "-Infinity",
    "-0",
    "0",
    "-1",
    "99999999999999999999",
    "1e27",
    "1e12",
    "1000000000001",
    "0.0000000000000000001",
    "1.0000000000000000001",
    "9" * 5000,
    "",
    " ",
    "1,5",
    "0x10",
    "1_000",
    "\u0661",
    "\x1b]0;pwned\x07",
]
NASTY_INTS: list[Any] = [
    -1,
    0,
    2**63,
    2**64,
    -(2**63) - 1,
    253402300800000,
    253402300799999,
    10**30,
    1e3,
    1.5,
    True,
    "1767225600000",
]
EDGE_STRINGS = [
    "1000000000000",
    "999999999999.999999",
    "0.000000000000000001",
    "0.00000001",
    "1000000000000000",
    "123456789012.345678",
    "1",
    "-1",
    "0.01",
    "-0.01",
    "-1000000000000000",
]
EDGE_INTS = [0, 1, 125, 1000, 1_420_070_400_000, 253402300799999]
NASTY_VALUES: list[Any] = [None, True, [], {}, ["mark"], {"a": 1}, 1.5, -1, "x" * 300]


def _mutate_value(rng: random.Random, value: Any) -> Any:
    if isinstance(value, str):
        pool: list[Any] = NASTY_STRINGS + NASTY_VALUES
    elif isinstance(value, bool):
        pool = [*NASTY_VALUES, "true"]
    elif isinstance(value, int):
        pool = NASTY_INTS + NASTY_VALUES
    else:
        pool = NASTY_VALUES + NASTY_STRINGS
    return rng.choice(pool)


def _objects(lines: list[str]) -> list[tuple[int, dict[str, Any]]]:
    out = []
    for i, text in enumerate(lines):
        try:
            obj = json.loads(text)
        except (ValueError, RecursionError):
            continue
        if isinstance(obj, dict):
            out.append((i, obj))
    return out


def _dump(obj: object) -> str:
    # A 5,000-digit int cannot be written by json.dumps under the int-str limit: write it raw.
    try:
        return json.dumps(obj, separators=(",", ":"))
    except ValueError:
        return "{}"


def m_value(rng: random.Random, lines: list[str]) -> list[str]:
    """One field of one line replaced by a nasty value of a related type."""
    objs = _objects(lines)
    if not objs:
        return lines
    i, obj = rng.choice(objs)
    key = rng.choice(list(obj))
    obj[key] = _mutate_value(rng, obj[key])
    lines[i] = _dump(obj)
    return lines


def m_edge(rng: random.Random, lines: list[str]) -> list[str]:
    """One number replaced by a value at the edge of (or just inside) its bounds: the input
    passes validation and the engine must cope with it."""
    objs = _objects(lines)
    if not objs:
        return lines
    i, obj = rng.choice(objs)
    skip = {"type", "id", "symbol", "side", "order_type", "margin_mode", "ts"}
    keys = [k for k, v in obj.items() if isinstance(v, str | int) and k not in skip]
    if not keys:
        return lines
    key = rng.choice(keys)
    if isinstance(obj[key], bool):
        return lines
    obj[key] = rng.choice(EDGE_INTS if isinstance(obj[key], int) else EDGE_STRINGS)
    lines[i] = _dump(obj)
    return lines


def m_big_int_text(rng: random.Random, lines: list[str]) -> list[str]:
    """A numeric `ts` written as a 5,000-digit integer literal (over Python's int-str limit)."""
    objs = [(i, o) for i, o in _objects(lines) if "ts" in o]
    if not objs:
        return lines
    i, obj = rng.choice(objs)
    obj["ts"] = 0
    lines[i] = _dump(obj).replace('"ts":0', '"ts":' + "7" * rng.choice([20, 400, 5000]))
    return lines


def m_type(rng: random.Random, lines: list[str]) -> list[str]:
    """`type` as a list, object, number or another line's type."""
    objs = _objects(lines)
    if not objs:
        return lines
    i, obj = rng.choice(objs)
    obj["type"] = rng.choice(
        [["mark"], {"t": "mark"}, 1, None, "MARK", "account", "fill", "session", "quote", "order"]
    )
    lines[i] = _dump(obj)
    return lines


def m_key(rng: random.Random, lines: list[str]) -> list[str]:
    """A field renamed to hostile text (escape sequences, line separators, numbers)."""
    objs = _objects(lines)
    if not objs:
        return lines
    i, obj = rng.choice(objs)
    key = rng.choice(list(obj))
    obj[rng.choice([s for s in NASTY_STRINGS if len(s) < 100])] = obj.pop(key)
    lines[i] = _dump(obj)
    return lines


def m_swap_fields(rng: random.Random, lines: list[str]) -> list[str]:
    """Two values of one line swapped (a price where a ts goes, a side where a qty goes)."""
    objs = [(i, o) for i, o in _objects(lines) if len(o) >= 2]
    if not objs:
        return lines
    i, obj = rng.choice(objs)
    a, b = rng.sample(list(obj), 2)
    obj[a], obj[b] = obj[b], obj[a]
    lines[i] = _dump(obj)
    return lines


def m_move_field(rng: random.Random, lines: list[str]) -> list[str]:
    """A field copied from one line into another (unknown fields, wrong-type fields)."""
    objs = _objects(lines)
    if len(objs) < 2:
        return lines
    (i, a), (_, b) = rng.sample(objs, 2)
    key = rng.choice(list(b))
    a[key] = b[key]
    lines[i] = _dump(a)
    return lines


def m_flip(rng: random.Random, lines: list[str]) -> list[str]:
    """A few characters replaced by random ones (including controls and non-ASCII)."""
    text = "\n".join(lines)
    if not text:
        return lines
    chars = list(text)
    for _ in range(rng.randint(1, 4)):
        pos = rng.randrange(len(chars))
        chars[pos] = rng.choice(
            [*'"{},:9e-.\\', "\x00", "\x1b", "\u2028", "\x85", chr(rng.randrange(32, 0x250))]
        )
    return "".join(chars).split("\n")


def m_truncate(rng: random.Random, lines: list[str]) -> list[str]:
    text = "\n".join(lines)
    return text[: rng.randrange(len(text) + 1)].split("\n")


def m_lines(rng: random.Random, lines: list[str]) -> list[str]:
    """Lines duplicated, deleted or swapped (time going backwards, session not first)."""
    if len(lines) < 2:
        return lines
    i, j = rng.sample(range(len(lines)), 2)
    what = rng.randrange(3)
    if what == 0:
        lines.insert(j, lines[i])
    elif what == 1:
        del lines[i]
    else:
        lines[i], lines[j] = lines[j], lines[i]
    return lines


def m_nest(rng: random.Random, lines: list[str]) -> list[str]:
    """Deeply nested JSON (RecursionError in a naive decoder)."""
    depth = rng.choice([50, 1000, 100_000])
    lines.insert(rng.randrange(len(lines) + 1), "[" * depth + "]" * depth)
    return lines


def m_nest_field(rng: random.Random, lines: list[str]) -> list[str]:
    objs = _objects(lines)
    if not objs:
        return lines
    i, obj = rng.choice(objs)
    key = rng.choice(list(obj))
    depth = rng.choice([100, 5000])
    text = _dump({**obj, key: 0}).replace(f'"{key}":0', f'"{key}":' + "[" * depth + "]" * depth)
    lines[i] = text
    return lines


MUTATIONS: list[Callable[[random.Random, list[str]], list[str]]] = [
    m_edge,
    m_edge,
    m_edge,
    m_edge,
    m_edge,
    m_value,
    m_value,
    m_value,
    m_big_int_text,
    m_type,
    m_key,
    m_swap_fields,
    m_move_field,
    m_flip,
    m_truncate,
    m_lines,
    m_nest,
    m_nest_field,
]


def mutated_drills(seed: int, runs: int) -> Iterator[tuple[str, str]]:
    """(source drill name, mutated text), reproducibly from `seed`."""
    rng = random.Random(seed)
    sources = sorted(DRILLS.glob("*.jsonl"))
    texts = {p.name: p.read_text(encoding="utf-8").splitlines() for p in sources}
    for _ in range(runs):
        name = rng.choice(sorted(texts))
        lines = list(texts[name])
        # Half the runs stay mostly valid (edge values only) so the engine, not just the
        # validator, meets extreme numbers; the other half mix every kind of damage.
        pool = [m_edge] if rng.random() < 0.5 else MUTATIONS
        for _ in range(rng.randint(1, 3)):
            lines = rng.choice(pool)(rng, lines)
        yield name, "\n".join(lines) + "\n"


_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""Control characters (C0 but newline and tab, DEL, C1) that a printer let through."""


class Hang(Exception):
    pass


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise Hang


def verdict(argv: list[str], timeout: float) -> tuple[str, str]:
    """('ok' | 'error' | 'traceback' | 'hang' | 'bad_error' | 'bad_exit', detail)."""
    from papertrade.tui.cli import main

    out, err = io.StringIO(), io.StringIO()
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
    except Hang:
        return "hang", " ".join(argv)
    except SystemExit as exc:  # argparse: exit 2 with its own usage lines
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        return "traceback", traceback.format_exc(limit=-3)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    errors = err.getvalue()
    if code == 0:
        unsafe = _UNSAFE.search(out.getvalue())
        if unsafe:  # counted apart: the sanitiser's contract, not this fuzzer's
            return "ok_with_control_chars", f"{unsafe.group()!r} in the output of {argv[0]}"
        return "ok", ""
    if code == 2:
        lines = errors.splitlines()
        if len(lines) == 1 and "Traceback" not in errors and lines[0].isprintable():
            return "error", lines[0]
        return "bad_error", errors[:500]
    return "bad_exit", f"exit {code}: {errors[:500]}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=20.0)
    parser.add_argument(
        "--journal",
        action="store_true",
        help="after each import also run sessions, stats, export and replay on the journal",
    )
    args = parser.parse_args()
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    examples: dict[tuple[str, str, str], str] = {}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "drill.jsonl"
        for n, (source, text) in enumerate(mutated_drills(args.seed, args.runs)):
            path.write_text(text, encoding="utf-8")
            db = str(Path(tmp) / f"j{n}.db")
            runs = [
                ("simulate", ["simulate", str(path)]),
                ("import", ["import", str(path), "--db", db, "--name", "fuzz"]),
            ]
            if args.journal:
                runs += [
                    ("sessions", ["sessions", "--db", db]),
                    ("stats", ["stats", "fuzz", "--db", db]),
                    ("export", ["export", "fuzz", "--db", db, "--out", str(Path(tmp) / "x")]),
                    ("replay", ["replay", "fuzz", "--headless", "--speed", "max", "--db", db]),
                ]
            imported = False
            for command, argv in runs:
                if command in ("stats", "export", "replay") and not imported:
                    continue
                kind, detail = verdict(argv, args.timeout)
                imported = imported or (command == "import" and kind == "ok")
                counts[command][kind] += 1
                key = detail.strip().splitlines()[-1][:80] if detail.strip() else ""
                if kind not in ("ok", "error") and (command, kind, key) not in examples:
                    keep = Path(tmp).parent / f"fuzz-{command}-{kind}-{n}.jsonl"
                    keep.write_text(text, encoding="utf-8")
                    examples[command, kind, key] = f"{source} -> {keep}\n{detail}"
            for leftover in Path(tmp).glob(f"j{n}.db*"):
                leftover.unlink()
    elapsed = time.perf_counter() - started
    for command, counter in counts.items():
        total = sum(counter.values())
        parts = ", ".join(f"{k} {v}" for k, v in sorted(counter.items()))
        print(f"{command}: {total} runs: {parts}")
    for (command, kind, _), detail in examples.items():
        print(f"\n--- first {kind} in {command}: {detail}")
    print(f"\n{args.runs} mutated drills, seed {args.seed}, {elapsed:.0f} s")
    allowed = ("ok", "error", "ok_with_control_chars")
    broken = sum(c[k] for c in counts.values() for k in c if k not in allowed)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
