#!/usr/bin/env python3
"""The desktop's public door: a TCP front for xpra that throttles password guessing.

xpra checks DESKTOP_PASSWORD inside its websocket and only waits a second before closing a failed
attempt, so many connections in parallel can guess freely. Every attempt needs a new websocket, so
this front counts websocket upgrades per source address (IPv6 by /64) in a token bucket and answers
429 once the bucket is empty. Plain HTTP (the HTML5 client's files) passes, with a cap on
connections per address. Usage: xpra-door.py LISTEN_HOST LISTEN_PORT UPSTREAM_PORT
"""
import asyncio
import ipaddress
import os
import sys
import time

BURST = int(os.environ.get("DESKTOP_LOGIN_BURST", "5"))
REFILL_S = float(os.environ.get("DESKTOP_LOGIN_REFILL_S", "12"))
MAX_CONNECTIONS_PER_ADDRESS = 32
HEADER_LIMIT = 16384
HEADER_TIMEOUT_S = 10

buckets = {}  # address key -> [tokens, last refill time]
connections = {}  # address key -> open connections


def address_key(host):
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host
    if ip.version == 6 and ip.ipv4_mapped:
        return str(ip.ipv4_mapped)
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def take_token(key):
    now = time.monotonic()
    if len(buckets) > 10000:  # forget addresses whose bucket has refilled, so a spread of sources cannot grow it
        for stale in [k for k, (t, last) in buckets.items() if t + (now - last) / REFILL_S >= BURST]:
            del buckets[stale]
    tokens, last = buckets.get(key, (BURST, now))
    tokens = min(BURST, tokens + (now - last) / REFILL_S)
    if tokens < 1:
        buckets[key] = (tokens, now)
        return int((1 - tokens) * REFILL_S) + 1
    buckets[key] = (tokens - 1, now)
    return 0


def log(message, **fields):
    detail = " ".join(f"{k}={v}" for k, v in fields.items())
    print(f"xpra-door: {message} {detail}".rstrip(), file=sys.stderr, flush=True)


async def pipe(reader, writer):
    try:
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                break
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def handle(client_reader, client_writer, upstream_port):
    peer = client_writer.get_extra_info("peername") or ("?", 0)
    key = address_key(peer[0])
    if connections.get(key, 0) >= MAX_CONNECTIONS_PER_ADDRESS:
        client_writer.close()
        return
    connections[key] = connections.get(key, 0) + 1
    try:
        head = b""
        try:
            while b"\r\n\r\n" not in head and len(head) < HEADER_LIMIT:
                chunk = await asyncio.wait_for(client_reader.read(4096), HEADER_TIMEOUT_S)
                if not chunk:
                    break
                head += chunk
        except asyncio.TimeoutError:
            pass
        if not head:
            return
        headers = head.split(b"\r\n\r\n", 1)[0].lower()
        if b"upgrade: websocket" in headers:
            wait_s = take_token(key)
            if wait_s:
                log("login attempt refused (too many)", address=key, retry_after_s=wait_s)
                client_writer.write(
                    b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: %d\r\nContent-Length: 0\r\nConnection: close\r\n\r\n" % wait_s
                )
                await client_writer.drain()
                return
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", upstream_port)
        upstream_writer.write(head)
        await upstream_writer.drain()
        await asyncio.gather(pipe(client_reader, upstream_writer), pipe(upstream_reader, client_writer))
    except (ConnectionError, OSError):
        pass
    finally:
        connections[key] -= 1
        if connections[key] == 0:
            del connections[key]
        try:
            client_writer.close()
        except Exception:
            pass


async def main():
    host, port, upstream_port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    server = await asyncio.start_server(lambda r, w: handle(r, w, upstream_port), host, port)
    log("listening", address=f"{host}:{port}", upstream=f"127.0.0.1:{upstream_port}", burst=BURST, refill_s=REFILL_S)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
