"""The HTTP rows' load client: `wrk` (C, epoll) with a generated Lua script, and what a run cost the server.

httpx tops out near 500-700 requests/s on this machine (pitfall 24), so it cannot see a fast service;
wrk with two threads can, and the bare hello row shows by how much it is not the ceiling.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import statistics
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from linli_registry.domain import ID_CHECK_CHARS, ID_WEIGHTS

WRK_THREADS = int(os.environ.get("LINLI_BENCH_WRK_THREADS", "2"))
PROFILE_DIR = os.environ.get("LINLI_BENCH_PROFILE")
"""Where py-spy (when installed) writes a collapsed-stack profile of each timed run's server; unset: none."""
EPOCH_1940 = -946771200  # 1940-01-01T00:00Z: birth dates of generated ID numbers count from it

LUA = """
local counter = 0  -- tid: a global each thread gets from setup()
local next_tid = 0
function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
end
local weights = {@WEIGHTS@}
local checks = "@CHECKS@"
function id_number(n)
  local born = os.date("!%Y%m%d", @EPOCH@ + math.floor(n / 1000) * 86400)
  local first = string.format("110105%s%03d", born, n % 1000)
  local total = 0
  for i = 1, 17 do total = total + tonumber(first:sub(i, i)) * weights[i] end
  local r = total % 11 + 1
  return first .. checks:sub(r, r)
end
function request()
  local n = @OFFSET@ + counter * @THREADS@ + tid
  counter = counter + 1
  local headers = @HEADERS@
  if @KEYED@ then headers["Idempotency-Key"] = "@RUN@-" .. n end
  return wrk.format(@METHOD@, @PATH@, headers, @BODY@)
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "status": %d, "connect": %d, "read": %d, '
    .. '"write": %d, "timeout": %d, "p50_us": %d, "p99_us": %d}\\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string literal is a valid Lua string literal for these values


def lua_script(
    *, method: str, path: str, headers: dict[str, str], body: str, keyed: bool, run: str, offset: int
) -> str:
    """A wrk script: request number n (distinct across threads, from `offset`) sends `body`, a Lua
    expression that may use n and id_number(n); with `keyed`, an Idempotency-Key of its own."""
    table = "{" + ", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items()) + "}"
    replacements = {
        "WEIGHTS": ", ".join(str(w) for w in ID_WEIGHTS),
        "CHECKS": ID_CHECK_CHARS,
        "EPOCH": str(EPOCH_1940),
        "OFFSET": str(offset),
        "THREADS": str(WRK_THREADS),
        "HEADERS": table,
        "KEYED": "true" if keyed else "false",
        "RUN": run,
        "METHOD": lua_string(method),
        "PATH": lua_string(path),
        "BODY": body,
    }
    return re.sub(r"@(\w+)@", lambda match: replacements[match[1]], LUA)


@dataclass(frozen=True)
class WrkRun:
    requests: int
    seconds: float
    failed: int  # answers that were not 2xx, plus socket errors
    p50_ms: float
    p99_ms: float
    cpu_seconds: float  # user + system time of the server's processes during the run
    rss_mb: list[float]  # resident memory of each server process after the run
    load: str  # the load average as the run began

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @classmethod
    def of_rounds(cls, runs: list[WrkRun]) -> WrkRun:
        """Rounds of one server as one run: requests, time and CPU added up; the median of the
        rounds' p50 and the worst p99; memory after the last; the load average as the first began."""
        return cls(
            requests=sum(run.requests for run in runs),
            seconds=sum(run.seconds for run in runs),
            failed=sum(run.failed for run in runs),
            p50_ms=statistics.median(run.p50_ms for run in runs),
            p99_ms=max(run.p99_ms for run in runs),
            cpu_seconds=sum(run.cpu_seconds for run in runs),
            rss_mb=runs[-1].rss_mb,
            load=runs[0].load,
        )

    @property
    def cpu_ms_per_request(self) -> float:
        return 1000 * self.cpu_seconds / max(self.requests, 1)


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


TICKS = os.sysconf("SC_CLK_TCK")


@contextmanager
def profiled(processes: list[int], name: str) -> Iterator[None]:
    """py-spy sampling the serving process (the last: a worker when there are several) meanwhile."""
    spy = shutil.which("py-spy")
    if PROFILE_DIR is None or spy is None:
        yield
        return
    out = Path(PROFILE_DIR) / f"{name}-{processes[-1]}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    command = [spy, "record", "--format", "raw", "--nonblocking", "-r", "200", "-o", str(out)]
    recorder = subprocess.Popen([*command, "-p", str(processes[-1])], stdout=subprocess.DEVNULL)
    try:
        yield
    finally:
        recorder.send_signal(signal.SIGINT)
        recorder.wait(timeout=30)


def server_processes(pid: int) -> list[int]:
    """The uvicorn process and its workers (its children), read from /proc."""
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and entry.name != str(pid):
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:  # the field after the state: parent pid
                children.append(int(entry.name))
    return [pid, *children]


def cpu_seconds(pids: list[int]) -> float:
    """User + system time of these processes so far (what `ps` calls TIME)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))
    return total / TICKS


def rss_mb(pids: list[int]) -> list[float]:
    sizes = []
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        kilobytes = next((line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")), "0")
        sizes.append(int(kilobytes) / 1024)
    return sizes


def run_wrk(
    url: str, script: str, workdir: Path, *, seconds: float, connections: int, server_pid: int
) -> WrkRun:
    """Load `url` for `seconds` with `connections` keep-alive connections; measure the server's CPU."""
    binary = shutil.which("wrk")
    if binary is None:
        raise LookupError("wrk is not installed (apt-get install -y wrk)")
    path = workdir / f"wrk-{abs(hash(script))}.lua"
    workdir.mkdir(parents=True, exist_ok=True)
    path.write_text(script)
    processes = server_processes(server_pid)
    load = load_average()
    cpu_before = cpu_seconds(processes)
    duration = f"-d{max(1, round(seconds))}s"  # whole seconds: wrk takes no fractions
    command = [binary, f"-t{WRK_THREADS}", f"-c{connections}", duration, "--timeout", "30s"]
    with profiled(processes, path.stem):
        done = subprocess.run([*command, "-s", str(path), url], capture_output=True, text=True, check=False)
    cpu_after = cpu_seconds(processes)
    line = next((x for x in done.stdout.splitlines() if x.startswith("WRK_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout[-2000:]} {done.stderr[-2000:]}")
    figures = json.loads(line.removeprefix("WRK_JSON "))
    failed = sum(figures[k] for k in ("status", "connect", "read", "write", "timeout"))
    rss = rss_mb(processes)
    return WrkRun(
        requests=figures["requests"],
        seconds=figures["duration_us"] / 1e6,
        failed=failed,
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        cpu_seconds=cpu_after - cpu_before,
        rss_mb=rss,
        load=load,
    )
