"""The upload pacer (core/drives/pacing.py): releases a second that follow the cloud's
throttling — its logic with a fake clock; the data path is tested through real rclone in
test_uploads.py."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from onedrive_gui.core.drives import pacing
from onedrive_gui.core.drives.pacing import Pacer, RateMemory, pacing_key


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def drain(p: Pacer, clock: Clock, seconds: float, *, step: float = 0.1) -> int:
    """Release whatever the pacer allows, with more always waiting, for *seconds*."""
    released = 0
    end = clock.now + seconds
    while clock.now < end:
        n = p.allowance()
        p.released(n, more_waiting=True)
        released += n
        clock.now += step
    return released


def test_releases_follow_the_rate_and_grow_while_uploads_wait() -> None:
    clock = Clock()
    p = Pacer(2.0, burst=4, throttled_at=50.0, clock=clock)  # a budget known
    first = drain(p, clock, 1.0)
    assert 2 <= first <= 4  # the burst, then the start rate
    drain(p, clock, 10.0)
    assert p.rate == pytest.approx(2.0 + 10 * pacing.STEP, abs=pacing.STEP)


def test_with_no_budget_known_the_rate_doubles_every_second() -> None:
    # slow start: 300 small files fit in the smallest tenant's minute; a rate growing by
    # half a file a second made them take 4x plain rclone's time (benchmarks.throttling)
    clock = Clock()
    p = Pacer(2.0, burst=4, clock=clock)
    drain(p, clock, 3.05)
    assert p.rate == pytest.approx(16.0)
    released = drain(p, clock, 10.0)
    assert p.rate == pacing.MAX_RATE and released > 500


def test_asked_once_a_second_the_rate_is_not_capped_by_the_burst() -> None:
    # the scheduler asks once a tick (a second): a store of only the burst (the transfer
    # slots, 4) released at most 4 a second whatever the rate
    clock = Clock()
    p = Pacer(8.0, burst=4, clock=clock)
    assert drain(p, clock, 10.0, step=1.0) >= 75


def test_no_growth_without_demand() -> None:
    clock = Clock()
    p = Pacer(2.0, clock=clock)
    for _ in range(100):
        p.released(p.allowance(), more_waiting=False)
        clock.now += 0.1
    assert p.rate == 2.0


def test_throttling_halves_the_rate_and_pauses_for_retry_after() -> None:
    clock = Clock()
    p = Pacer(8.0, burst=4, clock=clock)
    p.throttled(7.0)
    p.throttled(7.0)  # the same episode: several refused requests, one decrease
    assert p.rate == 4.0
    assert p.throttled_at == 8.0
    assert drain(p, clock, 6.9) == 0  # nothing released while the cloud asks to wait
    assert p.rate == 4.0  # and no growth
    clock.now += 0.2
    assert p.allowance() >= 0
    released = drain(p, clock, 5.0)
    assert released >= 15
    assert p.rate > 4.0  # growing again once the wait is over
    clock.now += pacing.DECREASE_EVERY
    p.throttled(None)  # a later episode: a default wait; the minute's releases were what
    # Microsoft's per-minute budget allowed: a little below that from now on
    assert p.throttled_at == pytest.approx(released / pacing.BUDGET_WINDOW)
    assert p.rate == pytest.approx(pacing.BACK_OFF * released / pacing.BUDGET_WINDOW)
    assert p.allowance() == 0


def test_refusals_while_the_cloud_asks_to_wait_are_one_episode() -> None:
    clock = Clock()
    p = Pacer(8.0, clock=clock)
    p.throttled(9.0)
    clock.now += pacing.DECREASE_EVERY + 1  # a request sent before (rclone's retry) is
    p.throttled(3.0)  # refused again while the wait lasts: no second decrease
    assert p.rate == 4.0 and p.throttles == 1
    assert p.allowance() == 0


def test_after_a_throttling_the_rate_stays_below_what_the_minutes_budget_allowed() -> None:
    clock = Clock()
    p = Pacer(2.0, burst=4, clock=clock)
    released = drain(p, clock, 5.0)  # doubling all the while (slow start): 32 at the end
    assert p.rate > 15
    p.throttled(2.0)  # the minute's budget was spent: 1 refused request
    allowed = released / pacing.BUDGET_WINDOW
    assert p.throttled_at == pytest.approx(allowed)
    assert p.rate == pytest.approx(pacing.BACK_OFF * allowed)
    # uploads keep waiting: the rate comes back up to the minute's, not above it, for a
    # while (each probe above a budget just met costs a 429 per transfer in flight)
    again = drain(p, clock, pacing.STEADY_FOR - 10)
    assert p.rate == pytest.approx(allowed)
    assert again <= allowed * pacing.STEADY_FOR
    drain(p, clock, 60.0)
    assert p.rate > allowed  # then it probes again, slowly
    assert p.rate <= allowed + 61 * pacing.SLOW_STEP


def test_growth_is_slow_near_the_rate_last_throttled() -> None:
    clock = Clock()
    p = Pacer(2.0, throttled_at=5.0, clock=clock)
    drain(p, clock, 20.0)  # full steps up to 90 % of 5, a tenth of a step a second above
    assert 4.5 <= p.rate <= 4.5 + pacing.STEP + 20 * pacing.SLOW_STEP
    unknown = Pacer(2.0, clock=clock)
    drain(unknown, clock, 20.0)
    assert unknown.rate > 10.0


def test_the_users_limit_is_a_hard_ceiling() -> None:
    clock = Clock()
    p = Pacer(1.0, ceiling=3.0, clock=clock)
    drain(p, clock, 60.0)
    assert p.rate == 3.0
    assert Pacer(50.0, ceiling=3.0, clock=clock).rate == 3.0  # a remembered rate too


def test_the_rate_never_falls_below_the_floor() -> None:
    clock = Clock()
    p = Pacer(1.0, clock=clock)
    for _ in range(20):
        clock.now += pacing.DECREASE_EVERY
        p.throttled(1.0)
    assert p.rate == pacing.FLOOR
    clock.now += 10.0
    assert drain(p, clock, 10.0) >= 1


def test_the_learned_rate_is_remembered_per_app_and_tenant(tmp_path: Path) -> None:
    clock = Clock()
    memory = RateMemory(tmp_path / "rates.json")
    key = pacing_key("11111111-2222-3333-4444-555555555555", "Contoso.onmicrosoft.com")
    other = pacing_key("11111111-2222-3333-4444-555555555555", "fabrikam.onmicrosoft.com")
    first = memory.pacer(key, clock=clock)
    assert first.rate == pacing.START
    memory.store(key, first)  # never throttled: nothing learned
    assert not (tmp_path / "rates.json").exists()
    drain(first, clock, 20.0)
    first.throttled(3.0)
    learned = first.rate
    memory.store(key, first)
    if os.name == "posix":
        assert (tmp_path / "rates.json").stat().st_mode & 0o077 == 0
    again = RateMemory(tmp_path / "rates.json").pacer(key.upper(), clock=clock)
    assert again.rate == pytest.approx(learned * pacing.REMEMBERED_SHARE, abs=0.001)
    drain(again, clock, 20.0)  # it probes slowly above the remembered rate
    assert again.rate <= learned * pacing.REMEMBERED_SHARE + 21 * pacing.SLOW_STEP
    assert RateMemory(tmp_path / "rates.json").pacer(other, clock=clock).rate == pacing.START
    drain(again, clock, 20.0)
    memory.store(key, again)  # a session that never met the limit learned nothing new
    assert memory.load(key)[0] == pytest.approx(learned, abs=0.001)


def test_a_damaged_memory_starts_afresh(tmp_path: Path) -> None:
    path = tmp_path / "rates.json"
    path.write_text("{not json")
    assert RateMemory(path).load("k") == (None, None)
    path.write_text(json.dumps({"k": {"rate": "fast", "throttled_at": -1}}))
    assert RateMemory(path).load("k") == (None, None)


def test_what_is_remembered_is_at_most_what_the_budget_let_through() -> None:
    clock = Clock()
    p = Pacer(6.0, clock=clock)
    p.throttled(1.0)  # halved to 3 a second, but the uploads only got through at 0.5
    for _ in range(10):
        clock.now += 2.0
        p.released(1, more_waiting=False)
    assert p.learned == pytest.approx(0.5)


def test_after_a_throttling_no_minute_holds_more_than_the_one_refused() -> None:
    # Microsoft's budget is a sliding minute: 120 files released in the first 20 s spent it;
    # the rate the throttling sets (0.9 x 120 / 60 s) released into that full minute drew a
    # refusal at every later episode (benchmarks.throttling, 600 RU/min)
    clock = Clock()
    p = Pacer(6.0, ceiling=6.0, burst=6, throttled_at=50.0, clock=clock)
    assert drain(p, clock, 20.0) == pytest.approx(120, abs=8)
    p.throttled(1.0)
    p.returned(6)  # released, held again before they started: they spent nothing
    minute = sum(n for _, n in p._recent)
    assert minute == pytest.approx(114, abs=8)
    # the rate allows ~1.7 a second, but the minute still holds what was refused: nothing
    # more until those releases leave it (40 s from now), then as they go
    assert drain(p, clock, 38.0) == 0
    later = drain(p, clock, 60.0)
    assert 0 < later <= pacing.BACK_OFF * minute + 1
    # the rate probing above the one of the minute refused lifts it again
    assert p.throttled_at is not None
    p.rate = 1.5 * p.throttled_at
    assert drain(p, clock, 60.0) > pacing.BACK_OFF * minute + 1
