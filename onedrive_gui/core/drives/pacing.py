"""How fast the upload scheduler releases uploads: a rate that adapts to Microsoft's throttling.

SharePoint/OneDrive throttles per app registration and tenant (resource units a minute, by
tenant size, shared by every device and account using the same app; DESIGN §9). No fixed
rate fits every tenant, so the scheduler (core/drives/uploads.py) releases held uploads
through a :class:`Pacer`:

* **Slow start, then additive increase**: while uploads wait for the pacer (demand above
  the rate), the rate grows every :data:`INCREASE_EVERY` seconds without throttling — it
  doubles while no budget is known (never throttled, nothing remembered: a few hundred
  small files fit in the smallest tenant's minute, and a rate that started low and grew
  by steps made them wait several times as long as plain rclone), then by :data:`STEP`
  releases a second, and slowly (:data:`SLOW_STEP`) above 90 % of the rate last seen
  throttled, and above the rate remembered from an earlier session. The transfer slots
  bound what is released at any rate.
* **Decrease to what the budget allowed**: each time the cloud throttles (429/503 with
  Retry-After, seen in rclone's log by the mount monitor), nothing is released until its
  Retry-After has passed, and the rate (once per episode: one throttling episode shows as
  several refused requests, up to :data:`DECREASE_EVERY` seconds apart or while the cloud
  asks to wait) drops to :data:`BACK_OFF` of the
  releases of the last :data:`BUDGET_WINDOW` — Microsoft's budget is per minute, so they
  are what it allowed (what other programs of the same app registration spent is left
  out, as it should be) — or, when that is not below the rate, to half the rate. For
  :data:`STEADY_FOR` seconds after, the rate grows no higher than that minute's releases:
  probing above a budget just met costs a refused request per transfer in flight each
  time. And from then on no minute holds more releases than :data:`BACK_OFF` of that
  minute's (more as the rate probes above it): the budget is a sliding minute, so
  a burst that spent it in the first seconds must leave the window before more go — a
  rate alone released into a window still full (seen: five throttling episodes in the
  first six minutes at 600 resource units a minute). Files released but held again while
  the cloud asked to wait (:meth:`Pacer.returned`) sent nothing and do not count.
* A ceiling: the user's request limit (TPSLimit) stays the hard limit of the account's
  rclone itself; the pacer never plans more releases a second than that.
* **Remembered** (:class:`RateMemory`): the rate learned is stored per app registration
  (client ID) and tenant, and the next session starts under it (at
  :data:`REMEMBERED_SHARE` of it, probing slowly above) instead of meeting the budget again.

Qt-free; the clock is injectable (tests use a fake one). Not thread-safe by itself: the
scheduler calls it under its own lock.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from onedrive_gui.core.atomic import write_atomic

log = logging.getLogger(__name__)

START = 2.0  # releases a second with nothing learned yet
FLOOR = 0.2  # never slower than one release in 5 s
STEP = 0.5  # additive increase, releases a second
SLOW_STEP = 0.01  # the increase near the rate last throttled, or above the remembered one
INCREASE_EVERY = 1.0  # seconds between increases
DECREASE_EVERY = 5.0  # one decrease per throttling episode
SLOW_ABOVE = 0.9  # of the rate last throttled: grow a tenth as fast above that
DEFAULT_RETRY_AFTER = 5.0  # seconds, when the cloud named none
BUDGET_WINDOW = 60.0  # Microsoft's app budget: resource units a minute (DESIGN §9)
BACK_OFF = 0.9  # of the last minute's releases, after a throttling
# an upload spends its budget up to this long after its release (waiting for a slot, its
# check's listing before it): a release leaves the minute's cap only this much later
SPENT_AFTER = 10.0
STEADY_FOR = 600.0  # seconds after a throttling without growth above that minute's releases
# (each probe above a budget met costs a refused request per transfer in flight: seen every
# 5 minutes at 300 s, 4 refusals each time, with a budget that did not change)
REMEMBERED_SHARE = 0.7  # a new session starts at this share of the rate remembered
MAX_RATE = 100.0  # releases a second; far above any tenant's budget for uploads
# The releases kept in store: a second's worth at the rate (at least the burst). The
# scheduler asks once a tick (a second): a store of only the burst would cap the rate there.
STORE_SECONDS = 1.0


class Pacer:
    """Releases a second for one account's uploads (see the module docstring)."""

    def __init__(
        self,
        start: float | None = None,
        *,
        ceiling: float | None = None,
        burst: int = 4,
        throttled_at: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ceiling = MAX_RATE if not ceiling or ceiling <= 0 else min(ceiling, MAX_RATE)
        self._clock = clock
        self.rate = min(self.ceiling, max(FLOOR, start if start else START))
        self.burst = max(1, burst)
        self.throttled_at = throttled_at  # the rate at the last throttling, if any
        self.throttles = 0  # throttling episodes this session
        self._learned: float | None = None  # the rate set by the last decrease
        self._first_throttle: float | None = None
        self._released_since = 0  # releases since the first throttling
        self._recent: deque[tuple[float, int]] = deque()  # releases of the last minute
        self._minute: float | None = None  # releases a minute may hold (after a throttling)
        now = clock()
        self._tokens = min(self._store(), max(1.0, self.rate))
        self._filled = now
        self._paused_until = now
        self._increased = now
        self._decreased = -math.inf

    def _store(self) -> float:
        return max(float(self.burst), self.rate * STORE_SECONDS)

    def _refill(self, now: float) -> None:
        if now > self._filled:
            self._tokens = min(self._store(), self._tokens + (now - self._filled) * self.rate)
            self._filled = now

    def allowance(self) -> int:
        """How many uploads may be released now."""
        now = self._clock()
        if now < self._paused_until:
            self._filled = now  # nothing accrues while the cloud asks to wait
            return 0
        self._refill(now)
        allowed = int(self._tokens)
        if self._minute is not None:
            self._forget(now)
            # grows as the rate probes above the rate of the minute refused
            top = self.throttled_at or self.rate
            cap = self._minute * max(1.0, self.rate / top)
            allowed = min(allowed, max(0, int(cap - sum(n for _, n in self._recent))))
        return allowed

    def returned(self, count: int) -> None:
        """*count* of the files released lately were held again before they started (the
        cloud asked to wait): they spent nothing of the budget (nor of the minute the
        throttling measured, when it is the throttling now)."""
        if self._minute is not None and self._clock() < self._paused_until:
            self._minute = max(1.0, self._minute - BACK_OFF * count)
        while count > 0 and self._recent:
            at, n = self._recent.pop()
            if n > count:
                self._recent.append((at, n - count))
                break
            count -= n

    def waiting(self) -> bool:
        """The cloud asked to wait (Retry-After) and the wait is not over."""
        return self._clock() < self._paused_until

    def released(self, count: int, *, more_waiting: bool) -> None:
        """*count* uploads were released; *more_waiting*: others were ready but held back by
        the rate (the only time the rate grows: no demand, no evidence the budget allows it)."""
        now = self._clock()
        self._refill(now)
        self._tokens = max(0.0, self._tokens - count)
        if self._first_throttle is not None:
            self._released_since += count
        if count:
            self._recent.append((now, count))
        self._forget(now)
        if not more_waiting:
            self._increased = now
            return
        if now - self._increased < INCREASE_EVERY or now < self._paused_until:
            return
        steps = (now - self._increased) / INCREASE_EVERY
        self._increased = now
        step = STEP if self.throttled_at is not None else max(STEP, self.rate)  # slow start
        top = self.ceiling
        if self.throttled_at is not None and self.rate >= SLOW_ABOVE * self.throttled_at:
            step = SLOW_STEP
            if now - self._decreased < STEADY_FOR:
                top = min(top, max(self.rate, self.throttled_at))
        self.rate = min(top, self.rate + step * min(steps, 5.0))

    def _forget(self, now: float) -> None:
        while self._recent and self._recent[0][0] <= now - BUDGET_WINDOW - SPENT_AFTER:
            self._recent.popleft()

    def _spent(self, now: float) -> int:
        """Releases of the last :data:`BUDGET_WINDOW`."""
        return sum(n for at, n in self._recent if at > now - BUDGET_WINDOW)

    @property
    def learned(self) -> float | None:
        """What to remember: the rate the last throttling set, or, when lower, the rate
        achieved since the first throttling (what the budget allowed, in practice)."""
        if self._learned is None or self._first_throttle is None:
            return None
        span = self._clock() - self._first_throttle
        if span < 2 * DECREASE_EVERY or self._released_since == 0:
            return self._learned
        return max(FLOOR, min(self._learned, self._released_since / span))

    def throttled(self, retry_after: float | None) -> None:
        """The cloud refused a request (429/503) and asked to wait *retry_after* seconds."""
        now = self._clock()
        wait = retry_after if retry_after and retry_after > 0 else DEFAULT_RETRY_AFTER
        # still waiting: a request sent before the wait began (or its retry), the same episode
        same = now < self._paused_until or now - self._decreased < DECREASE_EVERY
        self._paused_until = max(self._paused_until, now + wait)
        self._tokens = 0.0
        self._filled = now
        self._increased = self._paused_until
        if same:
            return
        self._decreased = now
        self.throttles += 1
        self._forget(now)
        spent = self._spent(now)
        allowed = spent / BUDGET_WINDOW
        if 0 < allowed < self.rate:  # what the last minute's budget allowed
            self.throttled_at = allowed
            self.rate = max(FLOOR, allowed * BACK_OFF)
        else:
            self.throttled_at = self.rate
            self.rate = max(FLOOR, self.rate / 2)
        if spent:  # no minute holds more than what this one was refused after
            self._minute = BACK_OFF * spent if self._minute is None else min(
                self._minute, BACK_OFF * spent)
        self._learned = self.rate
        if self._first_throttle is None:
            self._first_throttle = now
        log.info("uploads throttled by the cloud: releasing %.2f a second from now "
                 "(after %.0f s)", self.rate, wait)


def _positive(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and (
            math.isfinite(value) and value > 0):
        return float(value)
    return None


def pacing_key(client_id: str, tenant: str) -> str:
    """The key of one app registration in one tenant (case-insensitive)."""
    return f"{client_id.strip().lower()}|{tenant.strip().lower()}"


class RateMemory:
    """The upload rate learned per app registration and tenant, in a small JSON file
    (written atomically, owner-only): ``{key: {"rate": r, "throttled_at": t, "at": epoch}}``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def _read(self) -> dict[str, dict[str, float]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("reading the learned upload rates %s: %s (starting afresh)",
                        self.path, exc)
            return {}
        if not isinstance(data, dict):
            return {}
        return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, dict)}

    def load(self, key: str) -> tuple[float | None, float | None]:
        """(rate, rate last throttled) learned for *key*; (None, None) when none."""
        with self._lock:
            entry = self._read().get(key.lower()) or {}
        return _positive(entry.get("rate")), _positive(entry.get("throttled_at"))

    def pacer(self, key: str, *, ceiling: float | None = None, burst: int = 4,
              clock: Callable[[], float] = time.monotonic) -> Pacer:
        """A pacer for *key* starting under what was learned for it."""
        rate, at = self.load(key)
        if rate is not None:  # a margin below what was learned (the budget is shared, and
            # a halved rate is near the limit), probing slowly above it
            rate *= REMEMBERED_SHARE
            at = min(at or math.inf, rate / SLOW_ABOVE)
        return Pacer(rate, ceiling=ceiling, burst=burst, throttled_at=at, clock=clock)

    def store(self, key: str, pacer: Pacer) -> None:
        """Remember what *pacer* learned — only when it met the cloud's limit in this session:
        a rate never throttled says nothing new about the budget."""
        if pacer.throttles == 0 or pacer.throttled_at is None or pacer.learned is None:
            return
        with self._lock:
            data = self._read()
            # the rate the last throttling set, not what the pacer grew to since (it grows
            # until the next 429)
            data[key.lower()] = {"rate": round(pacer.learned, 3),
                         "throttled_at": round(pacer.throttled_at, 3), "at": time.time()}
            write_atomic(self.path, json.dumps(data, indent=1, sort_keys=True).encode("utf-8"),
                         0o600)
