"""papertrade's benchmarks: each prints its figure, the baseline measured in the same run, the
target and PASS/FAIL. `python -m benchmarks` runs them all; see benchmarks/README.md."""
