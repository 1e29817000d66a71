#!/usr/bin/env python3
"""Naive baseline for `make bench`: the HPManager way of polling, one pymodbus request per register.

Reads a device list (host port unit per line) and the bench model layout, then polls every device
every INTERVAL seconds with one read request per register (asyncio, one connection per device).
Rewrites STATS_FILE every second with polls done, requests and failures (the benchmark reads it,
then kills this process). CPU is measured from /proc by the benchmark, which started this process.
"""
import asyncio, json, logging, os, sys, time

from pymodbus.client import AsyncModbusTcpClient

# The bench profile: 30 int16 inputs at every other address from 0, 10 float32 holdings from 100,
# 10 uint16 inputs from 500.
REGISTERS = [("input", 2 * i, 1) for i in range(30)] + [("holding", 100 + 2 * i, 2) for i in range(10)] \
    + [("input", 500 + i, 1) for i in range(10)]

logging.disable(logging.CRITICAL)  # pymodbus logs every failed connect
stats = {"polls": 0, "requests": 0, "failures": 0}


async def device(host, port, unit, interval, offset, stop):
    client = AsyncModbusTcpClient(host, port=port, timeout=3, retries=0)
    await asyncio.sleep(offset)
    next_due = time.monotonic()
    while not stop.is_set():
        try:
            if not client.connected:
                await client.connect()
            for table, address, count in REGISTERS:
                read = client.read_input_registers if table == "input" else client.read_holding_registers
                reply = await read(address, count=count, device_id=unit)
                stats["requests"] += 1
                if reply.isError():
                    raise RuntimeError(str(reply))
            stats["polls"] += 1
        except Exception:
            stats["failures"] += 1
        next_due += interval
        await asyncio.sleep(max(0, next_due - time.monotonic()))
    client.close()


async def main():
    interval = float(sys.argv[1])
    devices = [line.split() for line in open(sys.argv[2]) if line.strip()]
    stats_file = sys.argv[3]
    stop = asyncio.Event()
    for i, (h, p, u) in enumerate(devices):
        asyncio.create_task(device(h, int(p), int(u), interval, interval * i / len(devices), stop))
    while True:
        with open(stats_file + ".tmp", "w") as f:
            json.dump(stats, f)
        os.replace(stats_file + ".tmp", stats_file)
        await asyncio.sleep(1)


asyncio.run(main())
