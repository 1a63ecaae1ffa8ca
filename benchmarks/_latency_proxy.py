"""A TCP proxy that adds latency, for benchmarks of what a network's round trip costs.

Everything the client sends reaches the upstream ``--delay`` seconds later (bytes keep
their order and several may be on their way at once, as on a real link); answers come
back at once. So each request, and each flight of a TLS handshake, pays the delay once,
as a round trip to a distant service does. TLS passes through untouched.

    python benchmarks/_latency_proxy.py --upstream 127.0.0.1:10000 --delay 0.02

It prints ``PORT <n>`` (the port it listens on, on 127.0.0.1) and serves until killed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys


async def _delayed(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float
) -> None:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def receive() -> None:
        while data := await reader.read(65536):
            queue.put_nowait((loop.time() + delay, data))
        queue.put_nowait((loop.time() + delay, b""))

    receiving = asyncio.ensure_future(receive())
    try:
        while True:
            due, data = await queue.get()
            if (wait := due - loop.time()) > 0:
                await asyncio.sleep(wait)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    finally:
        receiving.cancel()
        writer.close()


async def _plain(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


async def _serve(upstream: tuple[str, int], delay: float) -> None:
    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            up_r, up_w = await asyncio.open_connection(*upstream)
        except OSError:
            client_w.close()
            return
        # Either side's end ends both: HTTP clients close idle connections, not half.
        await asyncio.wait(
            [
                asyncio.ensure_future(_delayed(client_r, up_w, delay)),
                asyncio.ensure_future(_plain(up_r, client_w)),
            ],
            return_when=asyncio.FIRST_COMPLETED,
        )
        up_w.close()
        client_w.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(f"PORT {port}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--upstream", required=True, help="host:port")
    parser.add_argument("--delay", type=float, required=True, help="seconds")
    args = parser.parse_args()
    host, _, port = args.upstream.rpartition(":")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve((host, int(port)), args.delay))
    return 0


if __name__ == "__main__":
    sys.exit(main())
