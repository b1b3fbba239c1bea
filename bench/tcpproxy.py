"""A TCP proxy on loopback that can make a server go away in the two ways networks do.

    proxy = TcpProxy(5432).start()      # listens on 127.0.0.1:proxy.port, forwards to :5432
    proxy.refuse()      # connections refused: the port is closed, open connections reset
    proxy.blackhole()   # a partition: connections open, but every byte vanishes both ways
    proxy.restore()     # the network is back (connections caught in the black hole are reset)
    proxy.stop()

It runs its own event loop in a thread, so a test, a benchmark or a server in another process can
sit behind it. Only loopback: it never listens or connects anywhere else."""
from __future__ import annotations

import asyncio
import socket
import threading

LOOPBACK = "127.0.0.1"


class TcpProxy:
    def __init__(self, target_port: int, target_host: str = LOOPBACK, port: int = 0):
        if target_host not in (LOOPBACK, "localhost"):
            raise ValueError("the proxy only forwards to loopback")
        self.target = (target_host, target_port)
        self.port = port
        self.mode = "pass"
        self.accepted = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tcpproxy", daemon=True)
        self._server: asyncio.AbstractServer | None = None
        self._conns: set[asyncio.Transport] = set()

    # -- control, from any thread -------------------------------------------------------------

    def start(self) -> "TcpProxy":
        self._thread.start()
        self._call(self._listen)
        return self

    def refuse(self) -> None:
        """Close the port (new connections get ECONNREFUSED) and reset every open connection."""
        self._call(self._refuse)

    def blackhole(self) -> None:
        """Keep accepting, forward nothing: requests hang as they do when packets vanish."""
        self._call(self._blackhole)

    def restore(self) -> None:
        self._call(self._restore)

    def stop(self) -> None:
        if self._thread.is_alive():
            self._call(self._refuse)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)

    def _call(self, fn) -> None:
        asyncio.run_coroutine_threadsafe(fn(), self._loop).result(10)

    # -- inside the proxy's loop ----------------------------------------------------------------

    async def _listen(self) -> None:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((LOOPBACK, self.port))
        self.port = sock.getsockname()[1]
        self._server = await asyncio.start_server(self._accept, sock=sock)

    async def _refuse(self) -> None:
        self.mode = "refuse"
        if self._server is not None:
            self._server.close()
            self._server = None
        self._reset_all()

    async def _blackhole(self) -> None:
        if self._server is None:
            await self._listen()
        self.mode = "blackhole"

    async def _restore(self) -> None:
        if self.mode == "blackhole":
            # Bytes were dropped mid-stream: these connections can never be used again.
            self._reset_all()
        self.mode = "pass"
        if self._server is None:
            await self._listen()

    def _reset_all(self) -> None:
        for t in list(self._conns):
            t.abort()
        self._conns.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        self._conns.add(writer.transport)
        up_w = None
        try:
            if self.mode == "pass":
                try:
                    up_r, up_w = await asyncio.open_connection(*self.target)
                except OSError:
                    return
                self._conns.add(up_w.transport)
                await asyncio.gather(self._pipe(reader, up_w), self._pipe(up_r, writer))
            else:
                await self._pipe(reader, None)
        finally:
            for w in (writer, up_w):
                if w is not None:
                    self._conns.discard(w.transport)
                    w.transport.abort()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter | None) -> None:
        try:
            while data := await reader.read(65536):
                if self.mode == "pass" and writer is not None:
                    writer.write(data)
                    await writer.drain()
                # otherwise the bytes vanish, as in a partition
        except (ConnectionError, OSError):
            pass
        finally:
            if writer is not None:
                writer.transport.abort()
