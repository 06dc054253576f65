"""Benchmarks: scripts that print figures (p50/p99, throughput, memory). Not part of the test suite."""
