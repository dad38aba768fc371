"""SingleFlightCheck: shared, bounded, and never more stuck threads than allowed."""

from __future__ import annotations

import asyncio
import threading

import pytest

from facebank.observability.probe import CheckTimeout, SingleFlightCheck


def test_concurrent_callers_share_one_check() -> None:
    calls = 0
    gate = threading.Event()

    def check() -> int:
        nonlocal calls
        calls += 1
        gate.wait(5)
        return calls

    probe = SingleFlightCheck(check)

    async def main() -> list[int]:
        tasks = [asyncio.create_task(probe.run(5)) for _ in range(5)]
        await asyncio.sleep(0.05)
        gate.set()
        return await asyncio.gather(*tasks)

    assert asyncio.run(main()) == [1, 1, 1, 1, 1]
    assert asyncio.run(probe.run(5)) == 2  # a finished check is not reused


def test_a_hung_check_times_out_and_is_replaced_up_to_a_bound() -> None:
    release = threading.Event()
    probe = SingleFlightCheck(lambda: release.wait(30), max_stuck=2)

    async def probe_once() -> str:
        try:
            await probe.run(0.1)
        except CheckTimeout as exc:
            return str(exc)
        return "answered"

    async def main() -> list[str]:
        return [await probe_once() for _ in range(4)]

    answers = asyncio.run(main())
    assert answers[:2] == ["no answer within 0.1 s"] * 2
    assert all("stuck" in answer for answer in answers[2:])  # no third thread was started
    assert probe.running == 2
    release.set()
    for _ in range(50):
        if probe.running == 0:
            break
        threading.Event().wait(0.05)
    assert probe.running == 0
    assert asyncio.run(probe.run(1)) is True


def test_errors_reach_the_caller() -> None:
    def check() -> None:
        raise ConnectionError("refused")

    with pytest.raises(ConnectionError, match="refused"):
        asyncio.run(SingleFlightCheck(check).run(1))
