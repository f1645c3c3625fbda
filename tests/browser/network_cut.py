"""A network drop between the browser and the gateway that a test can switch on and off.

Playwright's offline mode blocks new requests but leaves an open server-sent event stream running
(Chromium keeps delivering its events), so it cannot prove that the dashboard resumes. This is a
loopback TCP relay the page is loaded through: `cut()` aborts every connection it carries and
refuses new ones, as a dropped Wi-Fi would, until `restore()`. It runs its own event loop in a
thread, so it serves the browser whichever Playwright API (sync or async) the test drives it with.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit


class CuttableLink:
    """Relays 127.0.0.1:<port> to the gateway; `url` is the gateway's address through the relay."""

    def __init__(self, target_url: str) -> None:
        target = urlsplit(target_url)
        self.target = (target.hostname or "127.0.0.1", target.port or 80)
        self.up = True
        self.loop = asyncio.new_event_loop()
        self.writers: set[asyncio.StreamWriter] = set()
        self.thread = threading.Thread(target=self.loop.run_forever, name="cuttable-link", daemon=True)
        self.server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    def start(self) -> None:
        self.thread.start()
        self.server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve, "127.0.0.1", 0), self.loop
        ).result(timeout=10)

    def cut(self) -> None:
        asyncio.run_coroutine_threadsafe(self._cut(), self.loop).result(timeout=10)

    def restore(self) -> None:
        self.up = True

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._shut_down(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()

    async def _shut_down(self) -> None:
        await self._cut()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _cut(self) -> None:
        self.up = False
        for writer in list(self.writers):
            writer.transport.abort()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.up:
            writer.transport.abort()
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.writers |= {writer, upstream_writer}
        try:
            await asyncio.gather(self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer))
        finally:
            self.writers -= {writer, upstream_writer}

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()


@contextlib.contextmanager
def cuttable_link(target_url: str) -> Iterator[CuttableLink]:
    """A relay to `target_url` for the duration of a test."""
    link = CuttableLink(target_url)
    link.start()
    try:
        yield link
    finally:
        link.stop()
