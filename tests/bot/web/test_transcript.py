"""The page's transcript in Redis: what a request gets back from its own write.

The append (the same Lua the store's commit runs for a turn's entries) returns the entries after the page's `since` as a range of the list's
tail (their numbers are consecutive); a full read (`since`) is the reference it must match
whatever the page has: nothing yet, a trimmed-away number, a cleared page, a number from
the future.
"""

from __future__ import annotations

from datetime import timedelta

from redis.asyncio import Redis

from bot.web.transcript import MAX_ENTRIES, Transcript
from flows.store import KeySpace


def entry(n: int) -> dict[str, object]:
    return {"role": "bot", "text": f"第{n}条 <b>\t{n}</b>", "uid": f"m-{n}"}


async def test_an_append_returns_what_the_page_lacks_as_a_full_read_would(redis: Redis, keyspace: KeySpace) -> None:
    transcript = Transcript(redis, keyspace, timedelta(minutes=5))
    cid = "web:web:s1:s1"
    assert await transcript.append(cid, [entry(1)], since=0) == [{**entry(1), "seq": 1}]
    for n in range(2, MAX_ENTRIES + 20, 3):  # past the kept length: the oldest are trimmed away
        await transcript.append(cid, [entry(n), entry(n + 1), entry(n + 2)])
    last = (await transcript.since(cid, 0))[-1]["seq"]
    assert len(await transcript.since(cid, 0)) == MAX_ENTRIES
    for since in (0, 1, last - MAX_ENTRIES - 5, last - MAX_ENTRIES, last - 7, last - 1, last, last + 1, last + 50):
        got = await transcript.append(cid, [entry(1000), entry(1001)], since=since)
        assert got == await transcript.since(cid, since), since  # what a full read after the write gives
        if since <= last:
            assert got[-2:] == [{**entry(1000), "seq": last + 1}, {**entry(1001), "seq": last + 2}]
        last += 2
    # A turn with nothing to show still returns what another request wrote meanwhile.
    assert await transcript.append(cid, [], since=last - 2) == await transcript.since(cid, last - 2)
    assert await transcript.append(cid, [], since=last) == []
    # "重新开始": the page is emptied, numbers keep rising, a page's old number still works.
    await transcript.clear(cid)
    got = await transcript.append(cid, [entry(1)], since=3)
    assert got == [{**entry(1), "seq": last + 1}]
    assert await transcript.append(cid, [entry(2)], since=last + 1) == [{**entry(2), "seq": last + 2}]
    assert await transcript.append(cid, [entry(3)]) == []  # since -1: nothing asked for
    # A restart's reply empties the page in its own write (a refused restart leaves it as it was).
    got = await transcript.append(cid, [entry(4)], since=last + 2, clear=True)
    assert got == [{**entry(4), "seq": last + 4}] == await transcript.since(cid, 0)
