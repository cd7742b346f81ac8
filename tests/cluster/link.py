"""A district's link to the hub as a TCP forwarder the test controls: cut it hard (connections reset,
new ones refused) or drop it silently (sockets stay open, nothing gets through), then bring it back."""

from __future__ import annotations

import asyncio
import threading
from enum import Enum

from linli_shared.natsserver import free_port

CHUNK = 64 * 1024


class LinkState(Enum):
    UP = "up"
    CUT = "cut"
    SILENT = "silent"


class LinkProxy:
    """Forwards 127.0.0.1:`port` to 127.0.0.1:`target`, on an event loop in a thread of its own."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.port = free_port()
        self.state = LinkState.UP
        self._loop = asyncio.new_event_loop()
        self._writers: set[asyncio.StreamWriter] = set()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._flowing = asyncio.Event()

    def start(self) -> None:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._listen(), self._loop)
        future.result(timeout=10)

    async def _listen(self) -> None:
        self._flowing.set()
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.state is LinkState.CUT:
            writer.close()
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.target)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, upstream_writer}
        await asyncio.gather(
            self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer), return_exceptions=True
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(CHUNK):
                await self._flowing.wait()  # held, as TCP holds what it cannot deliver yet
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()
            self._writers.discard(writer)

    def _set(self, state: LinkState) -> None:
        self.state = state
        if state is LinkState.SILENT:
            self._flowing.clear()
        else:
            self._flowing.set()
        if state is LinkState.CUT:
            for writer in list(self._writers):
                writer.transport.abort()  # a reset, as when the far side's host goes away

    def cut(self) -> None:
        self._loop.call_soon_threadsafe(self._set, LinkState.CUT)

    def silence(self) -> None:
        self._loop.call_soon_threadsafe(self._set, LinkState.SILENT)

    def restore(self) -> None:
        self._loop.call_soon_threadsafe(self._set, LinkState.UP)

    def stop(self) -> None:
        async def close() -> None:
            self._set(LinkState.CUT)
            if self._server is not None:
                self._server.close()
            pending = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
