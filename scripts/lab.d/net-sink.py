#!/usr/bin/env python3
"""The lab's throughput sink (docs/network.md, "Fair sharing", docs/benchmarks.md).

TCP: every connection is one measurement. Its bytes are counted from the first byte to the
last, and the result goes back to the client as one line,
  TWOFOLD-SINK bytes=N ms=M kbit=K
then the sink closes (and logs the line). A bench transfer announces its size first, in a line
"TWOFOLD-BENCH <bytes>": busybox nc does not half-close on its stdin's EOF, so the sink cannot
see the end, and on the emulated board a transfer stalls for seconds at a time (board run
test-20261207-071006 cut every bench short at the first 1.5 s pause). It ends at the announced
size, the client's EOF, or BENCH_IDLE seconds without data. Without the line (the flood), the
measurement ends at EOF or after IDLE seconds without data; the idle tail is not counted. Runs in the carrier's or the organisation's
namespace (scripts/lab.d/carrier.sh); host side only, never in an image.
"""
import argparse
import asyncio
import sys
import time

IDLE = 1.5           # seconds without data that end a flood's measurement
BENCH_IDLE = 30      # the same for an announced bench transfer
LIMIT = 1 << 30      # bytes: one measurement never runs longer than this
HEADER = b"TWOFOLD-BENCH "


def announced_size(head):
    """(size, rest) when `head` starts with a well-formed announcement, else (None, head)."""
    if not head.startswith(HEADER) or b"\n" not in head:
        return None, head
    line, rest = head.split(b"\n", 1)
    digits = line[len(HEADER):]
    if not digits.isdigit() or len(digits) > 10 or int(digits) > LIMIT:
        return None, head
    return int(digits), rest


async def measure(reader, writer):
    peer = writer.get_extra_info("peername")
    total, first, last, expected = 0, None, None, None
    try:
        head = b""
        while len(head) < 64 and b"\n" not in head:  # the announcement, if any, is short
            try:
                chunk = await asyncio.wait_for(reader.read(64 - len(head)), 60)
            except asyncio.TimeoutError:
                break
            if not chunk:
                break
            first = first or time.monotonic()
            head += chunk
            if not HEADER.startswith(head[:len(HEADER)]):
                break
        expected, rest = announced_size(head)
        if rest:
            last = time.monotonic()
            total = len(rest)
        while total < (expected if expected is not None else LIMIT):
            try:
                chunk = await asyncio.wait_for(reader.read(65536),
                                               (BENCH_IDLE if expected is not None else IDLE) if first else 60)
            except asyncio.TimeoutError:
                break
            if not chunk:
                break
            now = time.monotonic()
            first = first or now
            last = now
            total += len(chunk)
        ms = int(((last or 0) - (first or 0)) * 1000)
        kbit = int(total * 8 / ms) if ms > 0 else 0
        line = f"TWOFOLD-SINK bytes={total} ms={ms} kbit={kbit}"
        if expected is not None and total < expected:
            line += f" short of {expected}"
        print(f"{time.strftime('%H:%M:%S')} {peer[0]} {line}", flush=True)
        writer.write((line + "\n").encode())
        await writer.drain()
    except (ConnectionError, OSError) as error:
        print(f"{time.strftime('%H:%M:%S')} {peer[0]} error {error}", flush=True)
    finally:
        writer.close()


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bind", required=True)
    parser.add_argument("--tcp", type=int, required=True)
    args = parser.parse_args()
    server = await asyncio.start_server(measure, args.bind, args.tcp)
    print(f"sink on {args.bind} tcp {args.tcp}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
