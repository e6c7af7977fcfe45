#!/usr/bin/env python3
"""The desktop's public door: a TCP front for xpra that throttles password guessing.

xpra checks DESKTOP_PASSWORD inside its websocket and only waits a second before closing a failed
attempt, so many connections in parallel can guess freely. Every attempt needs a new websocket, so
this front counts websocket upgrades per source address (IPv6 by /64) in a token bucket and answers
429 once the bucket is empty. Plain HTTP (the HTML5 client's files) passes, with a cap on
connections per address. Behind a reverse proxy (compose: Caddy) every connection comes from the
proxy, so DESKTOP_TRUSTED_PROXIES (addresses or CIDR ranges, comma-separated) names the proxies whose
X-Forwarded-For is believed: the client is its last entry that is not a trusted proxy.
Usage: xpra-door.py LISTEN_HOST LISTEN_PORT UPSTREAM_PORT
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


def parse_trusted(value):
    networks = []
    for entry in (e.strip() for e in value.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            sys.exit(f'xpra-door: DESKTOP_TRUSTED_PROXIES: "{entry}" is not an IP address or CIDR range')
    return networks


TRUSTED_PROXIES = parse_trusted(os.environ.get("DESKTOP_TRUSTED_PROXIES", ""))

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


def plain_ip(host):
    try:
        ip = ipaddress.ip_address(host.strip().split("%")[0])
    except ValueError:
        return None
    return ip.ipv4_mapped if ip.version == 6 and ip.ipv4_mapped else ip


def is_trusted(host):
    ip = plain_ip(host)
    return ip is not None and any(ip in network for network in TRUSTED_PROXIES)


def forwarded_client(peer_host, headers):
    """The client a trusted proxy names in X-Forwarded-For, read from its end (like the dashboard)."""
    hops = []
    for line in headers.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip() == b"x-forwarded-for":
            hops += [h.strip() for h in value.decode("latin1").split(",") if h.strip()]
    address = peer_host
    while is_trusted(address) and hops:
        address = hops.pop()
    return address


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
    # A trusted proxy's connections are counted under the client it names, once its headers are read.
    key = None if is_trusted(peer[0]) else address_key(peer[0])
    if key is not None:
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
        if key is None:
            key = address_key(forwarded_client(peer[0], headers))
            if connections.get(key, 0) >= MAX_CONNECTIONS_PER_ADDRESS:
                key = None
                return
            connections[key] = connections.get(key, 0) + 1
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
        if key is not None:
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
    log(
        "listening",
        address=f"{host}:{port}",
        upstream=f"127.0.0.1:{upstream_port}",
        burst=BURST,
        refill_s=REFILL_S,
        trusted_proxies=",".join(str(n) for n in TRUSTED_PROXIES) or "none",
    )
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
