"""Hostile and clumsy clients for the load and abuse tests, in one asyncio process (so they do
not share a GIL with the client whose latency is measured). Bounded in count and time, loopback
only. Run as: python3 load_clients.py '<json config>'; prints one JSON line of counters.

Config keys (all optional): host, port, seconds, idle (count), trickle_identity (count),
trickle_uploads ([[image_id, token], ...]), slow_downloads ([image_id, token, count]),
chunk_bombs (count of concurrent bomb loops).
"""
import asyncio
import json
import resource
import socket
import sys
import time

CFG = json.loads(sys.argv[1])
HOST = CFG.get("host", "127.0.0.1")
PORT = CFG["port"]
END = time.monotonic() + CFG.get("seconds", 20)
stats = {"idle_open": 0, "idle_failed": 0, "trickle_open": 0, "trickle_cut": 0,
         "upload_trickles": 0, "download_bytes": 0, "download_open": 0, "bombs": 0,
         "bomb_answers": {}, "errors": 0}


async def connect(rcvbuf=None):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (HOST, PORT))
    return await asyncio.open_connection(sock=sock)


async def read_status(reader, timeout):
    line = await asyncio.wait_for(reader.readline(), timeout)
    return int(line.split()[1]) if line.startswith(b"HTTP/") else None


async def idle_keepalive():
    """A keep-alive connection that made one request, then idles (a load balancer's pool)."""
    try:
        reader, writer = await connect()
        writer.write(f"GET /versions HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
        await writer.drain()
        status = await read_status(reader, 30)
        while (await asyncio.wait_for(reader.readline(), 30)) not in (b"\r\n", b""):
            pass
        stats["idle_open" if status == 200 else "idle_failed"] += 1
        await asyncio.sleep(max(0, END - time.monotonic()))
        writer.close()
    except Exception:
        stats["idle_failed"] += 1


async def trickle(head, pace, piece):
    """Sends `head`, then `piece` every `pace` seconds until the end (or until cut)."""
    try:
        reader, writer = await connect()
        writer.write(head)
        await writer.drain()
        while time.monotonic() < END:
            await asyncio.sleep(pace)
            if reader.at_eof():
                stats["trickle_cut"] += 1
                break
            writer.write(piece)
            await writer.drain()
        writer.close()
    except (ConnectionError, OSError):
        stats["trickle_cut"] += 1


async def trickle_identity():
    stats["trickle_open"] += 1
    head = (f"POST /identity/v3/auth/tokens HTTP/1.1\r\nHost: {HOST}\r\n"
            "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{").encode()
    # 2 KiB/s: above the default minimum rate, so the server must carry these for the whole
    # run without a thread each.
    await trickle(head, 0.5, b" " * 1024)


async def trickle_upload(image_id, token):
    stats["upload_trickles"] += 1
    head = (f"PUT /v2/images/{image_id}/file HTTP/1.1\r\nHost: {HOST}\r\n"
            f"X-Auth-Token: {token}\r\nContent-Type: application/octet-stream\r\n"
            "Content-Length: 1073741824\r\n\r\n").encode()
    await trickle(head, 0.5, b"\0" * 1024)


async def slow_download(image_id, token):
    """Reads a big image slowly through a small receive buffer."""
    try:
        reader, writer = await connect(rcvbuf=16384)
        stats["download_open"] += 1
        writer.write((f"GET /v2/images/{image_id}/file HTTP/1.1\r\nHost: {HOST}\r\n"
                      f"X-Auth-Token: {token}\r\n\r\n").encode())
        await writer.drain()
        while time.monotonic() < END:
            chunk = await asyncio.wait_for(reader.read(65536), 30)
            if not chunk:
                break
            stats["download_bytes"] += len(chunk)
            await asyncio.sleep(0.05)
        writer.close()
    except Exception:
        stats["errors"] += 1


async def chunk_bomb():
    """Endless chunk extensions on the unauthenticated identity endpoint, reconnecting."""
    blob = b"a" * 65536
    while time.monotonic() < END:
        try:
            reader, writer = await connect()
            writer.write((f"POST /identity/v3/auth/tokens HTTP/1.1\r\nHost: {HOST}\r\n"
                          "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "1;").encode())
            stats["bombs"] += 1
            answer = asyncio.create_task(read_status(reader, 30))
            for _ in range(1024):  # up to 64 MiB of extension, stopping when answered
                if answer.done():
                    break
                try:
                    writer.write(blob)
                    await writer.drain()
                except (ConnectionError, OSError):
                    break
            status = await answer
            key = str(status)
            stats["bomb_answers"][key] = stats["bomb_answers"].get(key, 0) + 1
            writer.close()
        except (ConnectionError, OSError, asyncio.TimeoutError):
            stats["bomb_answers"]["reset"] = stats["bomb_answers"].get("reset", 0) + 1
        await asyncio.sleep(0.2)


async def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    tasks = []
    for _ in range(CFG.get("idle", 0)):
        tasks.append(asyncio.create_task(idle_keepalive()))
        if len(tasks) % 100 == 0:
            await asyncio.sleep(0.01)
    for _ in range(CFG.get("trickle_identity", 0)):
        tasks.append(asyncio.create_task(trickle_identity()))
    for image_id, token in CFG.get("trickle_uploads", []):
        tasks.append(asyncio.create_task(trickle_upload(image_id, token)))
    if CFG.get("slow_downloads"):
        image_id, token, count = CFG["slow_downloads"]
        for _ in range(count):
            tasks.append(asyncio.create_task(slow_download(image_id, token)))
    for _ in range(CFG.get("chunk_bombs", 0)):
        tasks.append(asyncio.create_task(chunk_bomb()))
    print("started", flush=True)
    await asyncio.gather(*tasks, return_exceptions=True)
    print(json.dumps(stats), flush=True)


asyncio.run(main())
