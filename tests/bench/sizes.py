"""The benchmark's sizes, from the environment (see bench.py's docstring)."""

from __future__ import annotations

import os

RESIDENTS = int(os.environ.get("LINLI_BENCH_RESIDENTS", "1000"))
WORKERS = int(os.environ.get("LINLI_BENCH_WORKERS", "8"))
EVENTS = int(os.environ.get("LINLI_BENCH_EVENTS", "5000"))
REDEMPTIONS = int(os.environ.get("LINLI_BENCH_REDEMPTIONS", "500"))
CREDITS = int(os.environ.get("LINLI_BENCH_CREDITS", "500"))
DONATIONS = int(os.environ.get("LINLI_BENCH_DONATIONS", "500"))
NOTIFICATIONS = int(os.environ.get("LINLI_BENCH_NOTIFICATIONS", "1000"))
WARMUP = 2 * WORKERS
