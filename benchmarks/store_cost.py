"""Redis server time per update and Redis memory per conversation of the conversation store.

    .venv/bin/python -m benchmarks.store_cost [--users 2000]

Starts its own redis-server (loopback, ephemeral port, no persistence, temporary folder),
runs a scripted conversation per user through `ConversationService` with the real
`GapDialog` (every reply awaited by a sink that keeps nothing), gives each conversation
one reminder, and prints:

* Redis server CPU per update (INFO cpu of the server process: every command, with
  its networking and parsing) and the time spent in scripts, with the split by command
  from INFO commandstats (a script's inner calls appear under their own names too);
* memory per conversation: the `used_memory` growth divided by the conversations, once
  the flood counters (which live only for their window) have expired, and MEMORY USAGE
  of one conversation's keys.

Only the store's share is here: the outbound limiter and the adapters are measured
end to end elsewhere. The machine's load shows in server time too; compare runs made
at the same time.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from flows.dialog import GapDialog
from flows.messages import ChatKind, InEvent, OutMessage
from flows.redis_embed import connect
from flows.service import ConversationService
from flows.store import ConversationStore, KeySpace, StoreConfig
from flows.turn import ScheduleReminder
from tests.redis_servers import RedisServer

SCRIPT = ["/start", "我在乌鲁木齐", "灵活就业", "断了4个月", "每月基数4000", "还能补吗", "要交多少钱", "谢谢"]
TODAY = date(2026, 11, 30)


class NullSink:
    async def deliver(self, event: InEvent, messages: list[OutMessage]) -> None:
        return None


def _event(user: int, update_id: int, text: str) -> InEvent:
    return InEvent("telegram", "7000000001", str(user), str(user), ChatKind.PRIVATE, str(update_id), text=text)


async def run(users: int) -> None:
    server = RedisServer(Path(tempfile.mkdtemp()) / "redis").start()
    await asyncio.to_thread(server.cli, "CONFIG", "SET", "appendonly", "no")
    client: Any = await connect(server.url, cluster=False)
    try:
        config = StoreConfig(flood_window=timedelta(seconds=1))  # counters gone before memory is read
        store = ConversationStore(client, KeySpace("yb"), config)
        service = ConversationService(store, GapDialog.create(), NullSink(), lambda: TODAY)
        await client.config_resetstat()
        cpu_before = await client.info("cpu")
        before_info = await client.info("memory")
        before = before_info["used_memory"]
        update_id = 900_000_000
        for text in SCRIPT:
            for user in range(users):
                update_id += 7  # other chats' updates in between, as on a busy bot
                await service.submit(_event(5_000_000_000 + user, update_id, text))
        for user in range(users):
            cid = _event(5_000_000_000 + user, 0, "").conversation_id
            reminder = ScheduleReminder("waiting_ends", TODAY + timedelta(days=150), "您的医保等待期将于2027-04-29结束，可以正常报销了。")
            await service.reminders.schedule(cid, reminder)
        stats = await client.info("commandstats")
        cpu_after = await client.info("cpu")
        cpu = sum(cpu_after[f] - cpu_before[f] for f in ("used_cpu_user", "used_cpu_sys"))
        await asyncio.sleep(1.5)  # flood counters expire; a full SCAN removes the expired ones
        left = [key async for key in client.scan_iter("yb:*", count=1000)]
        after_info = await client.info("memory")
        after = after_info["used_memory"]
        split = {f: (after_info[f] - before_info[f]) / users for f in ("used_memory_dataset", "used_memory_overhead")}
        updates = users * len(SCRIPT)
        # commandstats counts a script's inner calls under their own names as well as in the
        # script's time: the top-level time is the scripts plus the commands no script sent.
        scripts = sum(v["usec"] for k, v in stats.items() if k in ("cmdstat_evalsha", "cmdstat_eval"))
        print(f"{users} conversations x {len(SCRIPT)} updates, one reminder each; server {server.url}")
        print(f"Redis server CPU per update (process, networking included): {cpu / updates * 1e6:.1f} us; "
              f"in scripts: {scripts / updates:.1f} us")
        for name, v in sorted(stats.items(), key=lambda kv: -kv[1]["usec"])[:8]:
            print(f"  {name.removeprefix('cmdstat_'):18s} {v['usec'] / updates:6.1f} us/update  "
                  f"{v['calls'] / updates:5.2f} calls/update")
        print(f"Redis memory per conversation (used_memory growth): {(after - before) / users:.0f} B; "
              f"(dataset {split['used_memory_dataset']:.0f} B, overhead {split['used_memory_overhead']:.0f} B); "
              f"{len(left) / users:.2f} keys per conversation")
        sample = _event(5_000_000_000, 0, "").conversation_id
        for key in (*store.keys.all_of(sample), store.keys.reminders_due):
            usage = await client.memory_usage(key)
            if usage:
                print(f"  MEMORY USAGE {key}: {usage} B" + (" (shared by all)" if "{" not in key else ""))
    finally:
        await client.aclose()
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=2000)
    asyncio.run(run(parser.parse_args().users))


if __name__ == "__main__":
    main()
