"""Peak memory of `papertrade simulate` on a long drill.

    python benchmarks/rss_simulate.py [--events 1000000] [--runs 5]

Runs `python -m papertrade simulate DRILL --json` as a whole process on the benchmark
workload (`benchmarks/workloads.py`: 10 symbols, each marked and quoted in turn, a position
and a resting order in every one) and reads the child's peak resident set size from the
kernel (`wait4`). The baseline, measured in the same run, is the same command on a 1,000-event
drill: the difference is what the length of the file costs. Target: ≤ 150 MiB at 1,000,000
events (it was 516 MiB when `simulate` held the whole file).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import RUNS, Spread, verdict
from benchmarks.workloads import write_drill

TARGET_MIB = 150


def peak_rss_mib(drill: Path) -> float:
    """The peak RSS of one `simulate --json` process over `drill`, output discarded."""
    with open(os.devnull, "w") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "papertrade", "simulate", str(drill), "--json"], stdout=sink
        )
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"simulate {drill} failed with status {proc.returncode}")
    return usage.ru_maxrss / 1024  # kilobytes on Linux


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=RUNS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        big = write_drill(Path(d) / "big.jsonl", args.events)
        small = write_drill(Path(d) / "small.jsonl", 1_000)
        got: list[float] = []
        base: list[float] = []
        for _ in range(args.runs):
            base.append(peak_rss_mib(small))
            got.append(peak_rss_mib(big))
    figure = Spread(tuple(got))
    ok = verdict(
        f"peak RSS, simulate --json, {args.events:,} events, 10 symbols",
        figure,
        "MiB",
        Spread(tuple(base)),
        "the same on 1,000 events",
        target=f"<= {TARGET_MIB} MiB (median)",
        passed=figure.median <= TARGET_MIB,
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
