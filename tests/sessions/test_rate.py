"""RateMeter: events per second over a sliding window, steady and at start-up."""

from __future__ import annotations

import pytest

from facebank.sessions.rate import RateMeter


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_steady_stream_reads_its_rate() -> None:
    clock = FakeClock()
    meter = RateMeter(window_s=5.0, clock=clock)
    for _ in range(30):  # 5 per second for 6 s
        meter.tick()
        clock.now += 0.2
    assert meter.rate() == pytest.approx(5.0, rel=0.05)


def test_start_up_burst_does_not_read_high() -> None:
    clock = FakeClock()
    meter = RateMeter(clock=clock)
    for _ in range(3):  # three frames in 0.2 s as a stream opens
        meter.tick()
        clock.now += 0.1
    assert meter.rate() <= 2.0


def test_stalled_source_decays_to_zero() -> None:
    clock = FakeClock()
    meter = RateMeter(window_s=5.0, clock=clock)
    for _ in range(10):
        meter.tick()
        clock.now += 0.2
    clock.now += 10
    assert meter.rate() == 0.0
