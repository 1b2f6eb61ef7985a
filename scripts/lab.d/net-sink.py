#!/usr/bin/env python3
"""The lab's throughput sink (docs/network.md, "Fair sharing", docs/benchmarks.md).

TCP: every connection is one measurement. Its bytes are counted from the first byte to the
last, and the result goes back to the client as one line,
  TWOFOLD-SINK bytes=N ms=M kbit=K
then the sink closes (and logs the line). The measurement ends at the client's EOF, or when
nothing came for IDLE seconds (busybox nc does not always half-close on its stdin's EOF); the
idle tail is not counted. Runs in the carrier's or the organisation's
namespace (scripts/lab.d/carrier.sh); host side only, never in an image.
"""
import argparse
import asyncio
import sys
import time

IDLE = 1.5           # seconds without data that end a measurement
LIMIT = 1 << 30      # bytes: one measurement never runs longer than this


async def measure(reader, writer):
    peer = writer.get_extra_info("peername")
    total, first, last = 0, None, None
    try:
        while total < LIMIT:
            try:
                chunk = await asyncio.wait_for(reader.read(65536), IDLE if first else 60)
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
