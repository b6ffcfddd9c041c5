"""`papertrade simulate --json` against a bare JSON parse of the same file, both whole processes.

    python benchmarks/simulate.py [--events 200000] [--runs 9]

The drill is the benchmark workload (`benchmarks/workloads.py`: 200,000 marks and quotes of 10
symbols, each holding a position and a resting order). The figure is the wall time of
`python -m papertrade simulate DRILL --json` (start-up, strict decoding of every line, the
engine, the report); the baseline, alternated with it run after run, is a process that does
nothing but `json.loads` each line of the same file. Their ratio is what strict decoding and
the engine cost on top of merely reading the file. Target: ratio <= 1.5 (median); it was
4.0-4.3 when every line went through pydantic models (issue 14).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import Spread, interleaved, verdict
from benchmarks.workloads import write_drill

TARGET = 1.5
SIMULATE_RUNS = 9
"""Runs by default: more than the suite's five, as each figure is one whole process of about
half a second, and on this shared 2-core VM one process's speed differs from the next one's by
up to a third (run ratios from 0.94 to 1.81 within one set of five, in CPU time as in wall
time), so the median of five still moved by 0.2 from set to set."""
BARE = "import json, sys\nfor line in open(sys.argv[1], encoding='utf-8'):\n    json.loads(line)\n"


ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
"""The children's environment: with a bytecode cache, as an installed package has (see
startup.py; `main` points `PYTHONPYCACHEPREFIX` at a temporary directory)."""


def timed(argv: list[str]) -> float:
    """Wall time of one whole process, its output discarded; it must succeed."""
    with open(os.devnull, "w") as sink:
        start = time.perf_counter()
        status = subprocess.run(argv, stdout=sink, env=ENV).returncode
        took = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{' '.join(argv)} failed with status {status}")
    return took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=SIMULATE_RUNS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        ENV["PYTHONPYCACHEPREFIX"] = str(Path(d) / "pycache")
        drill = str(write_drill(Path(d) / "drill.jsonl", args.events))
        ours_argv = [sys.executable, "-m", "papertrade", "simulate", drill, "--json"]
        bare_argv = [sys.executable, "-c", BARE, drill]
        timed(ours_argv)  # warm the bytecode cache and the page cache for both
        timed(bare_argv)
        ours, bare = interleaved([lambda: timed(ours_argv), lambda: timed(bare_argv)], args.runs)
    ratio = Spread(tuple(o / b for o, b in zip(ours.values, bare.values, strict=True)))
    ok = verdict(
        f"simulate --json, {args.events:,} marks and quotes, 10 symbols, whole process",
        ours,
        "s",
        bare,
        "a process json.loads-ing each line",
        ratio=ratio,
        target=f"ratio <= {TARGET} (median)",
        passed=ratio.median <= TARGET,
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
