"""Channel throughput against local servers in a child process; prints JSON.

Run: ``.venv/bin/python -m tests.engine.channels.throughput [--emails N] [--sms N]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from pydantic import SecretStr

from engine.channels.base import Channel
from engine.channels.email import EmailChannel
from engine.channels.twilio.sms import SmsChannel
from tests.engine.channels.support import FROM_NUMBER, make_settings, message
from tests.fixtures.smtp_server import SmtpServer
from tests.fixtures.twilio_stub import ACCOUNT_SID, AUTH_TOKEN, TwilioStub


def serve_smtp(pipe: Connection) -> None:
    """Child process: an aiosmtpd server until told to stop; answers with the count."""
    with SmtpServer() as server:
        pipe.send(server.url)
        pipe.recv()
        pipe.send({"received": len(server.handler.received), "cpu_seconds": _cpu()})


def serve_twilio(pipe: Connection) -> None:
    """Child process: the Twilio stub until told to stop; answers with counts."""
    with TwilioStub() as stub:
        pipe.send(stub.base_url)
        pipe.recv()
        counts = {"requests": len(stub.requests), "violations": len(stub.violations)}
        pipe.send(counts | {"cpu_seconds": _cpu()})


def _cpu() -> float:
    return round(time.process_time(), 2)


async def pump(channel: Channel, kind: str, count: int, concurrency: int) -> float:
    """Send `count` messages with `concurrency` workers; seconds taken."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for number in range(count):
        queue.put_nowait(number)

    async def worker() -> None:
        while not queue.empty():
            number = queue.get_nowait()
            to = f"c{number}@example.org" if kind == "email" else f"+4366410{number:05d}"
            await channel.send(message(kind, notification_id=f"bench_{number}", to=to))

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started


def measure(
    serve: Callable[[Connection], None], build: Callable[[str], Channel], kind: str, count: int,
    concurrency: int,
) -> dict[str, Any]:  # fmt: skip
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.Process(target=serve, args=(child,), daemon=True)
    process.start()
    channel = build(parent.recv())

    async def run() -> float:
        async with channel:
            await pump(channel, kind, min(200, count), concurrency)  # warm-up
            return await pump(channel, kind, count, concurrency)

    cpu_before = time.process_time()
    seconds = asyncio.run(run())
    client_cpu = round(time.process_time() - cpu_before, 2)
    parent.send("stop")
    server_side = parent.recv()
    process.join()
    return {"kind": kind, "messages": count, "concurrency": concurrency,
            "seconds": round(seconds, 3), "per_second": round(count / seconds, 1),
            "client_cpu_seconds": client_cpu, "server": server_side}  # fmt: skip


def email_channel(url: str, connections: int) -> EmailChannel:
    settings = make_settings(smtp_url=SecretStr(url), smtp_concurrency=connections)
    channel = EmailChannel.from_settings(settings)
    assert channel is not None
    return channel


def sms_channel(base_url: str) -> SmsChannel:
    settings = make_settings(
        twilio_account_sid=ACCOUNT_SID, twilio_auth_token=SecretStr(AUTH_TOKEN),
        twilio_from_number=FROM_NUMBER, twilio_api_base_url=base_url,
    )  # fmt: skip
    channel = SmsChannel.from_settings(settings)
    assert channel is not None
    return channel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--emails", type=int, default=4000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--sms", type=int, default=2000)
    parser.add_argument("--sms-concurrency", type=int, default=16)
    args = parser.parse_args()
    results = [
        measure(serve_smtp, lambda url: email_channel(url, args.connections), "email",
                args.emails, args.connections),
        measure(serve_twilio, sms_channel, "sms", args.sms, args.sms_concurrency),
    ]  # fmt: skip
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
