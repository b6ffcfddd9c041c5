"""`python -m benchmarks`: every benchmark, one after the other, then a summary.

Each runs as its own process (as `python benchmarks/NAME.py ARGS` would), prints its figures
against the baseline measured in the same run, its target and PASS/FAIL; the summary lists
each one's verdict (its exit status) and time. Exit status 1 if any missed its target.
`--only NAME ...` runs some of them. Under five minutes on a quiet two-core machine.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

SUITE: dict[str, list[str]] = {
    "startup": [],
    "feeds": [],
    "journal": [],
    "engine": [],
    "preview": [],
    "simulate": [],
    "rss_simulate": [],
    "tui_latency": ["--busy"],
    "feeds_burst": ["--seconds", "3"],
}
"""Script name (under benchmarks/) and its arguments. Not here, run by hand: `fuzz_drills`
(minutes of mutated drills), `writer_stall` (a 10 s held lock), `modal_open`."""


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--only", nargs="+", choices=list(SUITE), metavar="NAME")
    args = parser.parse_args()
    chosen = args.only or list(SUITE)
    results: list[tuple[str, int, float]] = []
    started = time.perf_counter()
    for name in chosen:
        print(f"\n=== {name} ===", flush=True)
        t = time.perf_counter()
        status = subprocess.run(
            [sys.executable, str(HERE / f"{name}.py"), *SUITE[name]], cwd=HERE.parent
        ).returncode
        results.append((name, status, time.perf_counter() - t))
    print("\n=== summary ===")
    for name, status, took in results:
        verdict = "PASS" if status == 0 else f"FAIL (exit {status})"
        print(f"{name:14} {verdict:16} {took:6.1f} s")
    print(f"{'total':14} {'':16} {time.perf_counter() - started:6.1f} s")
    return 0 if all(status == 0 for _, status, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
