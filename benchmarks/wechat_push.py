"""WeChat message push end to end: what the adapter (HTTP, signature, XML, AES, retry records) adds.

One run, rounds interleaved (so a noisy moment on a shared machine hits every configuration):

* core: `ConversationService.handle` called directly (no HTTP, no XML) - the floor;
* plain / safe: the real worker process (`python -m bot wechat`, the contract's entry point)
  answering pushes from the fake WeChat side (tests/bot/wechat/fake_wechat.py), in plain
  and in safe mode (the fake encrypts and decrypts with wechatpy).

Simulated users run a closed loop (each sends its next message when the passive reply to
the previous one has arrived); latency is from the start of the POST to the reply read.
Each user's script reaches a full answer. CPU per turn: the worker process (from /proc) and
the driver (the fake WeChat side, or for "core" the whole core). The machine's bound: two cores shared by the
driver, the worker and Redis.

Usage: .venv/bin/python benchmarks/wechat_push.py [--users 20] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.harness import cpu_seconds, free_port  # noqa: E402
from tests.bot.wechat.fake_wechat import AES_KEY, APP_ID, APP_SECRET, TOKEN, FakeWeChat  # noqa: E402

SCRIPT = ("你好", "乌鲁木齐", "灵活就业", "断了4个月", "要交多少钱")
TODAY = date(2026, 11, 30)


@dataclass
class Result:
    name: str
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    cpu: float = 0.0  # the worker process (core: none, it runs in the driver)
    driver_cpu: float = 0.0

    def add(self, latencies: list[float], seconds: float, cpu: float, driver_cpu: float) -> None:
        self.latencies += latencies
        self.seconds += seconds
        self.cpu += cpu
        self.driver_cpu += driver_cpu

    def row(self) -> str:
        lat = sorted(self.latencies)
        p50 = statistics.median(lat) * 1000
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000
        rate = len(lat) / self.seconds
        cpu = f"{self.cpu / len(lat) * 1000:9.2f}" if self.cpu else "        -"
        return f"{self.name:6} {rate:9.1f} {p50:9.2f} {p99:9.2f} {cpu} {self.driver_cpu / len(lat) * 1000:9.2f}"


async def start_worker(fake: FakeWeChat, port: int, redis_url: str, prefix: str, safe: bool
                       ) -> asyncio.subprocess.Process:
    env = {**os.environ, "WECHAT_TOKEN": TOKEN, "WECHAT_APPID": APP_ID, "WECHAT_APPSECRET": APP_SECRET,
           "WECHAT_API_BASE": fake.base, "REDIS_URL": redis_url, "REDIS_KEY_PREFIX": prefix,
           "WECHAT_AES_KEY": AES_KEY if safe else "",
           "DEEPLINK_KEY": os.environ.get("DEEPLINK_KEY") or "wechat-benchmark-deeplink-key"}  # default refused
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "wechat", "--listen", f"127.0.0.1:{port}", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    await proc.stdout.readline()  # the "started" line: the rules are loaded and the port is bound
    return proc


async def drive_http(fake: FakeWeChat, url: str, users: int, tag: str) -> tuple[list[float], float]:
    latencies: list[float] = []

    async def user(n: int) -> None:
        openid = f"o{tag}{n:05d}"
        for text in SCRIPT:
            start = time.perf_counter()
            reply = await fake.push(url, fake.text(openid, text))
            latencies.append(time.perf_counter() - start)
            assert reply.content, f"no passive reply to {text!r}: {reply}"

    began = time.perf_counter()
    await asyncio.gather(*(user(n) for n in range(users)))
    return latencies, time.perf_counter() - began


async def drive_core(redis_url: str, prefix: str, users: int, tag: str) -> tuple[list[float], float, float]:
    from bot.runtime import open_runtime
    from flows.messages import ChatKind, InEvent
    from flows.service import CollectingSink

    latencies: list[float] = []
    async with open_runtime(redis_url, key_prefix=prefix) as rt:
        service = rt.make_service(CollectingSink(), clock=lambda: TODAY)

        async def user(n: int) -> None:
            openid = f"o{tag}{n:05d}"
            for i, text in enumerate(SCRIPT):
                event = InEvent("wechat", APP_ID, openid, openid, ChatKind.PRIVATE, f"m{tag}{n}{i}", text=text)
                start = time.perf_counter()
                assert await service.handle(event)
                latencies.append(time.perf_counter() - start)

        cpu0, began = time.process_time(), time.perf_counter()
        await asyncio.gather(*(user(n) for n in range(users)))
        return latencies, time.perf_counter() - began, time.process_time() - cpu0


async def main(users: int, rounds: int) -> None:
    from flows.redis_embed import open_redis

    handle = await open_redis(os.environ.get("REDIS_URL") or None, Path(tempfile.mkdtemp()))
    prefix = f"ybbench:{uuid.uuid4().hex[:8]}"
    results = {name: Result(name) for name in ("core", "plain", "safe")}
    try:
        async with FakeWeChat() as plain_fake, FakeWeChat(aes_key=AES_KEY) as safe_fake:
            workers = {}
            for name, fake in (("plain", plain_fake), ("safe", safe_fake)):
                port = free_port()
                proc = await start_worker(fake, port, handle.url, f"{prefix}:{name}", name == "safe")
                workers[name] = (fake, proc, f"http://127.0.0.1:{port}/wechat")
            for r in range(rounds):
                lat, secs, cpu = await drive_core(handle.url, f"{prefix}:core", users, f"c{r}")
                results["core"].add(lat, secs, 0.0, cpu)
                for name, (fake, proc, url) in workers.items():
                    cpu0, own0 = cpu_seconds(proc.pid), time.process_time()
                    lat, secs = await drive_http(fake, url, users, f"{name[0]}{r}")
                    results[name].add(lat, secs, cpu_seconds(proc.pid) - cpu0, time.process_time() - own0)
            for _fake, proc, _url in workers.values():
                proc.terminate()
                await proc.wait()
    finally:
        async for key in handle.client.scan_iter(match=f"{prefix}:*", count=1000):
            await handle.client.unlink(key)
        await handle.close()
    print(f"WeChat push, {users} users x {len(SCRIPT)} turns x {rounds} interleaved rounds; "
          f"Redis {'REDIS_URL' if os.environ.get('REDIS_URL') else 'embedded'}; {os.cpu_count()} CPUs shared "
          "by driver, worker and Redis")
    print("config  turns/s   p50 ms    p99 ms  worker CPU  driver CPU (ms per turn; core runs in the driver)")
    for result in results.values():
        print(result.row())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.users, args.rounds))
