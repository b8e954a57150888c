"""Batches: items that arrive while a batch runs go together in the next one."""

from __future__ import annotations

import asyncio

import pytest

from parley.services.batching import Batches


class Recorder:
    """A `run` that records each batch and waits until the test lets it finish."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.running: set[str] = set()
        self.overlaps: list[str] = []  # items whose key was in a running batch already
        self.release = asyncio.Event()
        self.release.set()
        self.refuse: set[str] = set()  # items answered with an error of their own

    async def run(self, items: list[str]) -> list[str | Exception]:
        """Upper-cases each item; a batch holding "boom" fails as a whole."""
        self.batches.append(items)
        keys = {key_of(item) for item in items}
        self.overlaps += [item for item in items if key_of(item) in self.running]
        self.running |= keys
        try:
            await self.release.wait()
        finally:
            self.running -= keys
        if "boom" in items:
            raise RuntimeError("the database went away")
        return [ValueError(item) if item in self.refuse else item.upper() for item in items]


def key_of(item: str) -> str:
    return item.partition(":")[0]  # "a:sent" and "a:delivered" are about the same text


def batches(recorder: Recorder, *, most: int = 3, at_once: int = 1) -> Batches[str, str]:
    return Batches(recorder.run, key=key_of, most=most, at_once=at_once)


async def started(items: list[str], into: Batches[str, str]) -> list[asyncio.Task[str]]:
    tasks = []
    for item in items:
        tasks.append(asyncio.create_task(into.submit(item)))
        await asyncio.sleep(0)  # each arrives on its own, as requests do
    return tasks


async def test_a_lone_item_runs_at_once_on_its_own() -> None:
    recorder = Recorder()
    assert await batches(recorder).submit("a:sent") == "A:SENT"
    assert recorder.batches == [["a:sent"]]


async def test_items_arriving_during_a_batch_go_together_in_the_next_up_to_the_most() -> None:
    recorder = Recorder()
    recorder.release.clear()
    tasks = await started(["a", "b", "c", "d", "e", "f"], batches(recorder, most=3))
    recorder.release.set()
    assert await asyncio.gather(*tasks) == ["A", "B", "C", "D", "E", "F"]
    assert recorder.batches == [["a"], ["b", "c", "d"], ["e", "f"]]


async def test_two_items_of_one_key_never_share_a_batch_nor_run_at_once() -> None:
    recorder = Recorder()
    recorder.release.clear()
    items = ["a:sent", "a:delivered", "b:sent", "a:read", "b:delivered"]
    tasks = await started(items, batches(recorder, most=5, at_once=2))
    recorder.release.set()
    assert await asyncio.gather(*tasks) == [item.upper() for item in items]
    assert all(len({key_of(i) for i in batch}) == len(batch) for batch in recorder.batches)
    assert recorder.overlaps == []
    # Each text's news is written in the order it arrived.
    written = [item for batch in recorder.batches for item in batch]
    assert [i for i in written if i.startswith("a")] == ["a:sent", "a:delivered", "a:read"]


async def test_an_item_refused_alone_fails_only_its_own_submitter() -> None:
    recorder = Recorder()
    recorder.release.clear()
    recorder.refuse = {"c"}
    tasks = await started(["a", "b", "c", "d"], batches(recorder))
    recorder.release.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert results[:2] == ["A", "B"] and results[3] == "D"
    assert isinstance(results[2], ValueError)


async def test_a_batch_that_fails_as_a_whole_fails_each_of_its_items_and_no_other() -> None:
    recorder = Recorder()
    recorder.release.clear()
    tasks = await started(["a", "b", "boom", "c", "d"], batches(recorder, most=2))
    recorder.release.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert recorder.batches == [["a"], ["b", "boom"], ["c", "d"]]
    assert results[0] == "A" and results[3:] == ["C", "D"]
    assert all(isinstance(r, RuntimeError) for r in results[1:3])


async def test_an_item_whose_caller_has_gone_is_not_run() -> None:
    recorder = Recorder()
    recorder.release.clear()
    tasks = await started(["a", "b", "c"], batches(recorder))
    tasks[1].cancel()
    recorder.release.set()
    assert await tasks[0] == "A" and await tasks[2] == "C"
    assert recorder.batches == [["a"], ["c"]]


async def test_an_item_arriving_as_a_batch_finds_nothing_to_do_still_gets_a_batch() -> None:
    recorder = Recorder()
    recorder.release.clear()
    into = batches(recorder, at_once=2)
    # "a:2" waits for "a:1"; the batch started for it finds nothing it may take and
    # ends just as "b" arrives, which must not wait behind "a:1" for a batch.
    tasks = await started(["a:1", "a:2", "b"], into)
    await asyncio.sleep(0)
    assert recorder.batches == [["a:1"], ["b"]]
    recorder.release.set()
    assert await asyncio.gather(*tasks) == ["A:1", "A:2", "B"]


@pytest.mark.parametrize("midway", [True, False], ids=["running", "not yet begun"])
async def test_a_batch_cancelled_leaves_no_submitter_waiting_and_the_next_runs(
    midway: bool,
) -> None:
    recorder = Recorder()
    recorder.release.clear()
    into = batches(recorder, at_once=2)
    # "a:1" runs in its submitter's task; "a:2" waits for it; "b" gets a batch of its own.
    tasks = await started(["a:1", "a:2", "b"], into)
    if midway:
        await asyncio.sleep(0)
        assert recorder.batches == [["a:1"], ["b"]]
    (drain,) = into._drains
    drain.cancel()
    await asyncio.sleep(0)
    recorder.release.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert results[:2] == ["A:1", "A:2"]
    if midway:
        assert isinstance(results[2], asyncio.CancelledError)
    else:
        assert results[2] == "B"  # still waiting when its batch was cancelled: run next


async def test_items_submitted_without_waiting_are_batched_and_finished_before_a_stop() -> None:
    recorder = Recorder()
    recorder.release.clear()
    into = batches(recorder, most=3)
    for item in ["a", "b", "c", "d"]:
        into.submit_without_waiting(item)  # the submitter goes on at once
    await asyncio.sleep(0)
    assert recorder.batches == [["a", "b", "c"]]
    recorder.release.set()
    await into.finish()
    assert recorder.batches == [["a", "b", "c"], ["d"]]


async def test_a_failure_nobody_waited_for_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    recorder = Recorder()
    recorder.refuse = {"b"}
    into = batches(recorder)
    into.submit_without_waiting("a")
    into.submit_without_waiting("b")
    await into.finish()
    assert recorder.batches == [["a", "b"]]
    (failure,) = caplog.records
    assert failure.levelname == "ERROR" and "not written" in failure.getMessage()
    assert failure.exc_info is not None and isinstance(failure.exc_info[1], ValueError)
