"""Throughput benchmarks: `make bench`. They print figures and assert nothing on time."""
