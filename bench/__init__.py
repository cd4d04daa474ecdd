"""Benchmarks (`make bench`): each prints its figures next to a baseline measured in the same
run, as a ratio. Results are recorded in bench/RESULTS.md."""
