"""Under a burst of large bodies a served app's memory stays flat: each is refused with 413 after at
most the limit of it was read, whether it declares its length or streams in chunks."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from linli_shared.errors import PROBLEM_JSON
from linli_shared.natsserver import free_port
from linli_shared.processes import ServiceProcess

pytestmark = pytest.mark.integration

MB = 1024 * 1024
CHUNK = 64 * 1024
TAG = b'"tag-0123456789",'
FLAT = 8 * MB
"""How much the peak may grow under the burst: the app holds at most 1 MB of each of 20 bodies."""


def body_chunks(total: int) -> Iterator[bytes]:
    """A JSON body {"tags": [...]} of about `total` bytes, in CHUNK-sized pieces."""
    head, tail = b'{"tags":[', b'"end"]}'
    piece = TAG * (CHUNK // len(TAG))
    yield head
    for _ in range(max(0, (total - len(head) - len(tail)) // len(piece))):
        yield piece
    yield tail


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


async def put_tags(port: int, total: int, *, chunked: bool) -> Answer:
    """PUT a body of about `total` bytes, chunked or with its Content-Length, reading the answer
    while the body is still being sent (the server may answer before it has read it)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    size = sum(len(chunk) for chunk in body_chunks(total))
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}"
    writer.write(
        f"PUT /v1/tags HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n{framing}\r\n\r\n".encode()
    )

    async def send_body() -> None:
        for chunk in body_chunks(total):
            writer.write(b"%x\r\n%b\r\n" % (len(chunk), chunk) if chunked else chunk)
            await writer.drain()
        if chunked:
            writer.write(b"0\r\n\r\n")
            await writer.drain()

    sending = asyncio.create_task(send_body())
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 60)
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines if line)}
        body = await reader.readexactly(int(headers["content-length"]))
    finally:
        sending.cancel()
        try:
            await sending
        except (asyncio.CancelledError, ConnectionError):
            pass
        writer.close()
    return Answer(int(status_line.split()[1]), headers, body)


def peak_rss(pid: int) -> int:
    """The process's high-water mark of resident memory (VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc status")


Serve = Callable[[int], ServiceProcess]


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serve]:
    """Start the small app under uvicorn with a given LINLI_MAX_BODY_BYTES; stopped afterwards."""
    processes: list[ServiceProcess] = []

    def start(max_body_bytes: int) -> ServiceProcess:
        here = str(Path(__file__).parent)
        env = {
            "PYTHONPATH": os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")])),
            "LINLI_MAX_BODY_BYTES": str(max_body_bytes),
            "LINLI_BODIES_WORKERS": "1",
        }
        process = ServiceProcess(
            "bodies",
            free_port(),
            env,
            tmp_path / f"bodies-{len(processes)}.log",
            app="body_limit_app:create_app",
        )
        processes.append(process)
        process.start()
        process.wait_healthy(path="/healthz")
        return process

    yield start
    for process in processes:
        process.stop()


def server_pid(process: ServiceProcess) -> int:
    assert process.process is not None
    return process.process.pid


async def test_memory_stays_flat_under_a_burst_of_large_bodies(serve: Serve) -> None:
    process = serve(MB)
    for chunked in (True, False):  # warm every path once, so what follows measures only the burst
        warm = await put_tags(process.port, 4 * MB, chunked=chunked)
        assert warm.status == 413
    small = await put_tags(process.port, 64 * 1024, chunked=True)
    assert small.status == 200, small.body
    before = peak_rss(server_pid(process))

    burst = [put_tags(process.port, 20 * MB, chunked=i % 2 == 0) for i in range(20)]
    answers = await asyncio.gather(*burst)

    grown = peak_rss(server_pid(process)) - before
    for answer in answers:
        assert answer.status == 413
        assert answer.headers["content-type"] == PROBLEM_JSON
        assert json.loads(answer.body)["max_bytes"] == MB
    assert grown < FLAT, f"peak memory grew by {grown / MB:.1f} MB under 20 bodies of 20 MB"


async def test_the_measure_sees_a_body_taken_whole(serve: Serve) -> None:
    """The control: with a limit above the body, the same measure sees the memory a body costs."""
    process = serve(64 * MB)
    small = await put_tags(process.port, 64 * 1024, chunked=True)
    assert small.status == 200
    before = peak_rss(server_pid(process))
    taken = await put_tags(process.port, 8 * MB, chunked=True)
    assert taken.status == 200, taken.body
    assert peak_rss(server_pid(process)) - before > FLAT, "one 8 MB body taken whole passes the bound"
