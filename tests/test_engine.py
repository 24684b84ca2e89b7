"""The engine's own guarantees, with a fake fetcher (pure logic, no network)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator

import httpx
import pytest

from hx.batch.engine import Batch
from hx.batch.feed import ItemSource, ThreadedItemSource
from hx.errors import ErrorKind, OutputError
from hx.models import BadLine, InputItem, RequestSpec, Result
from hx.settings import Settings


def specs(count: int) -> list[InputItem]:
    return [RequestSpec(line=n, url=f"http://h{n % 3}.example/{n}") for n in range(1, count + 1)]


def ok(spec: RequestSpec) -> Result:
    return Result(
        id=spec.record_id, line=spec.line, url=spec.url, method="GET", ok=True, status=200
    )


async def collect(batch: Batch, items: list[InputItem] | Iterator[InputItem]) -> list[Result]:
    return [result async for result in batch.results(ItemSource(items))]


def run_batch(settings: Settings, fetcher: object, items: object) -> list[Result]:
    async def main() -> list[Result]:
        async with httpx.AsyncClient(
            transport=httpx.MockTransport(lambda r: httpx.Response(200))
        ) as client:
            return await collect(Batch(client, settings, fetcher), items)  # type: ignore[arg-type]

    return asyncio.run(main())


def test_ordered_output_follows_input_order_whatever_finishes_first() -> None:
    rng = random.Random(7)

    async def fetcher(client: httpx.AsyncClient, spec: RequestSpec, settings: Settings) -> Result:
        await asyncio.sleep(rng.random() / 200)
        return ok(spec)

    results = run_batch(Settings(concurrency=8, ordered=True), fetcher, specs(200))
    assert [r.line for r in results] == list(range(1, 201))


def test_every_item_gets_exactly_one_result_bad_lines_included() -> None:
    async def fetcher(client: httpx.AsyncClient, spec: RequestSpec, settings: Settings) -> Result:
        return ok(spec)

    items: list[InputItem] = [*specs(50), BadLine(line=51, message="line 51: not a URL")]
    results = run_batch(Settings(concurrency=5), fetcher, items)
    assert sorted(r.line for r in results) == list(range(1, 52))
    bad = [r for r in results if not r.ok]
    assert [(r.line, r.error.kind if r.error else None) for r in bad] == [
        (51, ErrorKind.INVALID_INPUT)
    ]


def test_input_is_read_no_further_ahead_than_the_backlog() -> None:
    taken = 0
    most_ahead = 0
    finished = 0

    def source() -> Iterator[InputItem]:
        nonlocal taken
        for item in specs(400):
            taken += 1
            yield item

    async def fetcher(client: httpx.AsyncClient, spec: RequestSpec, settings: Settings) -> Result:
        nonlocal most_ahead, finished
        most_ahead = max(most_ahead, taken - finished)
        await asyncio.sleep(0)
        finished += 1
        return ok(spec)

    settings = Settings(concurrency=4, backlog=16)
    results = run_batch(settings, fetcher, source())
    assert len(results) == 400
    assert most_ahead <= 16


def stopped_batch(settings: Settings, count: int) -> list[Result]:
    """``count`` slow requests run with ``settings``, stop()ped as the signal handler
    stops them, 50 ms into the batch; every result is asserted interrupted."""

    async def scenario() -> list[Result]:
        transport = httpx.MockTransport(lambda request: httpx.Response(200))
        async with httpx.AsyncClient(transport=transport) as client:

            async def fetcher(
                client: httpx.AsyncClient, spec: RequestSpec, settings: Settings
            ) -> Result:
                await asyncio.sleep(30)
                return ok(spec)

            batch = Batch(client, settings, fetcher)
            asyncio.get_running_loop().call_later(0.05, batch.stop, 0.0, "interrupted by test")
            return [result async for result in batch.results(ItemSource(specs(count)))]

    results = asyncio.run(scenario())
    assert all(r.error is not None and r.error.kind == ErrorKind.INTERRUPTED for r in results)
    return results


def test_stop_cuts_requests_in_flight_and_reports_the_rest_as_interrupted() -> None:
    results = stopped_batch(Settings(concurrency=2, backlog=8), 20)
    # The backlog (8) bounds what was read: 2 on the wire, 6 read ahead.
    assert sorted(r.line for r in results) == list(range(1, 9))
    messages = [r.error.message for r in results if r.error]
    assert messages.count("interrupted by test while the request was running") == 2
    assert messages.count("interrupted by test before the request started") == 6


def test_items_read_ahead_wait_as_items_not_as_tasks() -> None:
    """A task starts only when a slot is free to send its request: with a backlog of
    50 and 3 slots, the tasks alive stay near 3, not 50."""
    most_tasks = 0

    async def fetcher(client: httpx.AsyncClient, spec: RequestSpec, settings: Settings) -> Result:
        nonlocal most_tasks
        most_tasks = max(most_tasks, len(asyncio.all_tasks()))
        await asyncio.sleep(0.001)
        return ok(spec)

    results = run_batch(Settings(concurrency=3, backlog=50), fetcher, specs(60))
    assert sorted(r.line for r in results) == list(range(1, 61))
    # The three requests, the test's main task, the dispatcher, admission and its
    # stop watcher.
    assert most_tasks <= 3 + 4


def test_a_request_waiting_for_its_host_leaves_the_wire_to_other_hosts() -> None:
    """Line 2 waits for host a (one connection per host) without holding the second
    slot, so line 3, to host b, goes out at once and finishes first."""
    finished: list[int] = []

    async def fetcher(client: httpx.AsyncClient, spec: RequestSpec, settings: Settings) -> Result:
        await asyncio.sleep(0.3 if "//a." in spec.url else 0)
        finished.append(spec.line)
        return ok(spec)

    items: list[InputItem] = [
        RequestSpec(line=1, url="http://a.example/1"),
        RequestSpec(line=2, url="http://a.example/2"),
        RequestSpec(line=3, url="http://b.example/3"),
    ]
    run_batch(Settings(concurrency=2, per_host=1), fetcher, items)
    assert finished == [3, 1, 2]


def test_items_that_send_nothing_do_not_wait_for_a_slot() -> None:
    """A bad line's record comes out while the only slot is busy with a slow request."""

    async def fetcher(client: httpx.AsyncClient, spec: RequestSpec, settings: Settings) -> Result:
        await asyncio.sleep(0.3)
        return ok(spec)

    items: list[InputItem] = [
        RequestSpec(line=1, url="http://a.example/1"),
        BadLine(line=2, message="line 2: not a URL"),
    ]
    results = run_batch(Settings(concurrency=1), fetcher, items)
    assert [r.line for r in results] == [2, 1]


def test_stop_reports_requests_waiting_for_their_host_as_not_started() -> None:
    # Three hosts, one request each at a time: lines 1-3 go out, and the backlog (8)
    # fills with requests waiting for their host.
    results = stopped_batch(Settings(concurrency=4, per_host=1, backlog=8), 20)
    assert sorted(r.line for r in results) == list(range(1, 9))
    messages = [r.error.message for r in results if r.error]
    assert messages.count("interrupted by test while the request was running") == 3
    assert messages.count("interrupted by test before the request started") == 5


def test_a_consumer_that_stops_early_leaves_nothing_running_and_every_slot_back() -> None:
    """The consumer takes some results and closes the batch: no request goes out after
    that, no task is left, and every slot comes back, also one taken for a task that
    was cancelled before its first step (lines 1 and 2 end in the same loop turn)."""
    sent: list[int] = []

    async def fetcher(client: httpx.AsyncClient, spec: RequestSpec, settings: Settings) -> Result:
        sent.append(spec.line)
        await asyncio.sleep({1: 0.02, 2: 0.02}.get(spec.line, 30))
        return ok(spec)

    async def main() -> None:
        transport = httpx.MockTransport(lambda request: httpx.Response(200))
        async with httpx.AsyncClient(transport=transport) as client:
            batch = Batch(client, Settings(concurrency=2, backlog=5, ordered=True), fetcher)
            items = [RequestSpec(line=n, url=f"http://h{n}.example/") for n in range(1, 20)]
            results = batch.results(ItemSource(items))
            assert (await results.__anext__()).line == 1
            await results.aclose()
            sent_when_closed = list(sent)
            await asyncio.sleep(0.05)
            assert sent == sent_when_closed
            assert asyncio.all_tasks() == {asyncio.current_task()}
            assert batch._slots.free == 2  # (white-box: a lost slot shows nowhere else)

    asyncio.run(main())


@pytest.mark.parametrize("exc", [KeyError("boom"), MemoryError(), RecursionError("deep")])
def test_an_exception_in_one_request_is_its_record_and_the_batch_goes_on(
    exc: BaseException,
) -> None:
    async def fetcher(client: httpx.AsyncClient, spec: RequestSpec, settings: Settings) -> Result:
        if spec.line == 3:
            raise exc
        return ok(spec)

    results = run_batch(Settings(concurrency=2), fetcher, specs(10))
    assert sorted(r.line for r in results) == list(range(1, 11))
    failed = [r for r in results if not r.ok]
    assert [r.line for r in failed] == [3]
    error = failed[0].error
    assert error is not None and error.kind == ErrorKind.INTERNAL
    assert error.message.startswith(f"internal error: {type(exc).__name__}")
    assert error.message.endswith("(a bug in hx: please report it)")


def test_a_batch_level_error_from_a_fetcher_ends_the_run() -> None:
    async def fetcher(client: httpx.AsyncClient, spec: RequestSpec, settings: Settings) -> Result:
        if spec.line == 3:
            raise OutputError("disk full")
        return ok(spec)

    with pytest.raises(OutputError):
        run_batch(Settings(concurrency=2), fetcher, specs(10))


@pytest.mark.parametrize("source", [ItemSource, ThreadedItemSource])
def test_a_bug_in_the_input_surfaces_instead_of_hanging(source: type[ItemSource]) -> None:
    """The input thread once swallowed RecursionError (a RuntimeError) and never said "end"."""

    def items() -> Iterator[InputItem]:
        yield from specs(2)
        raise RecursionError("a reader bug")

    async def fetcher(client: httpx.AsyncClient, spec: RequestSpec, settings: Settings) -> Result:
        return ok(spec)

    async def main() -> list[Result]:
        async with httpx.AsyncClient(
            transport=httpx.MockTransport(lambda r: httpx.Response(200))
        ) as client:
            batch = Batch(client, Settings(concurrency=2), fetcher)
            return [result async for result in batch.results(source(items()))]

    with pytest.raises(RecursionError, match="a reader bug"):
        asyncio.run(asyncio.wait_for(main(), 10))


class RecordingJournal:
    """A journal that notes, for each entry, how many results the consumer had taken."""

    def __init__(self) -> None:
        self.taken = 0
        self.entries: list[tuple[int, int]] = []  # (line, results taken when journaled)

    def previous(self, spec: RequestSpec) -> Result | None:
        return None

    def record(self, spec: RequestSpec, result: Result) -> None:
        self.entries.append((spec.line, self.taken))


@pytest.mark.parametrize("ordered", [False, True])
def test_a_request_is_journaled_only_after_its_result_was_handed_over(ordered: bool) -> None:
    journal = RecordingJournal()

    async def fetcher(client: httpx.AsyncClient, spec: RequestSpec, settings: Settings) -> Result:
        await asyncio.sleep(random.random() / 100)
        return ok(spec)

    async def main() -> list[int]:
        lines = []
        async with httpx.AsyncClient(
            transport=httpx.MockTransport(lambda r: httpx.Response(200))
        ) as client:
            batch = Batch(client, Settings(concurrency=4, ordered=ordered), fetcher, journal)
            async for result in batch.results(ItemSource(specs(20))):
                assert result.line not in [line for line, _ in journal.entries]
                journal.taken += 1
                lines.append(result.line)
        return lines

    lines = asyncio.run(main())
    # Each entry was made after its own result (and those before it) were taken.
    assert [line for line, _ in journal.entries] == lines
    assert [taken for _, taken in journal.entries] == list(range(1, 21))
