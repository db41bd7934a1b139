"""Microsoft's throttling of SharePoint / OneDrive traffic, as documented, for the emulator.

Source: Microsoft Learn, "Avoid getting throttled or blocked in SharePoint Online"
(sp-dev-docs, ``docs/general-development/how-to-avoid-getting-throttled-or-blocked-in-
sharepoint-online.md``, 2025-10), https://learn.microsoft.com/en-us/sharepoint/dev/general-
development/how-to-avoid-getting-throttled-or-blocked-in-sharepoint-online — summarised in
DESIGN §9 "Microsoft's throttling":

- **Per app per tenant**, resource units (RU) per minute and per 24 h, by the tenant's
  licences: 0–1,000: 1,250 / 1.2 M; 1,001–5,000: 2,500 / 2.4 M; 5,001–15,000: 3,750 /
  3.6 M; 15,001–50,000: 5,000 / 4.8 M; 50,000+: 6,250 / 6.0 M (:data:`TENANT_BANDS`).
- **Per user**: 3,000 requests per 5 minutes (any app).
- **Costs** (Graph): 1 RU a single-item GET, a delta with a token, a download; 2 RU a
  listing of children, a delta without a token, a create / update / delete / upload; 5 RU a
  permission operation (:func:`request_cost`).
- A throttled request is answered **429** (or 503) with **Retry-After** in seconds, and
  **throttled requests still count** against the limits, so a client that ignores
  Retry-After stays throttled longer.

The model: a sliding window per (tenant, app) of RU and per user of requests; a request
that would exceed a budget is refused, and counted all the same; ``Retry-After`` is the
time until enough of the window has passed for the request to fit (whole seconds, at least
1: rclone parses only integers). Windows and budgets can be scaled down together
(:meth:`ThrottlingModel.scaled`) so that a test sees minutes of behaviour in seconds.
Off by default: a FakeCloud throttles only with ``cloud.set_throttling(model)``.
"""

from __future__ import annotations

import math
import re
import threading
from collections import deque
from dataclasses import dataclass, field, replace

# (highest licence count of the band, RU per minute per app, RU per 24 h per app)
TENANT_BANDS: tuple[tuple[float, int, int], ...] = (
    (1_000, 1_250, 1_200_000),
    (5_000, 2_500, 2_400_000),
    (15_000, 3_750, 3_600_000),
    (50_000, 5_000, 4_800_000),
    (math.inf, 6_250, 6_000_000),
)
USER_REQUESTS = 3_000  # per user per 5 minutes
USER_WINDOW = 300.0
APP_WINDOW = 60.0
DAY = 86_400.0

_PERMISSIONS = re.compile(r"/(permissions|invite|createLink|grant)(/|$)")


def request_cost(method: str, path: str, query: dict[str, str], *, host_kind: str) -> int:
    """Resource units of one request (see the module docstring); *host_kind* is "graph",
    "upload" (upload-session fragments) or "download"."""
    if host_kind == "download":
        return 1
    if host_kind == "upload":
        return 2
    if _PERMISSIONS.search(path):
        return 5
    if method.upper() != "GET":
        return 2  # create, update, delete, upload (createUploadSession, PUT content)
    if path.rstrip("/").endswith("/delta") or "/delta(" in path:
        # a later page ($skiptoken) or a delta with a token: 1; an empty token is none
        return 1 if any(query.get(k) for k in ("token", "$deltatoken", "$skiptoken")) else 2
    if path.rstrip("/").endswith("/children"):
        return 2
    return 1  # a single item, its content (download)


@dataclass
class _Window:
    span: float
    entries: deque[tuple[float, int]] = field(default_factory=deque)
    total: int = 0

    def expire(self, now: float) -> None:
        while self.entries and self.entries[0][0] <= now - self.span:
            self.total -= self.entries.popleft()[1]

    def wait_for(self, amount: int, limit: int, now: float) -> float:
        """Seconds until *amount* more fits under *limit* (0 when it fits now)."""
        if self.total + amount <= limit:
            return 0.0
        excess = self.total + amount - limit
        for at, cost in self.entries:
            excess -= cost
            if excess <= 0:
                return at + self.span - now
        return self.span

    def add(self, now: float, amount: int) -> None:
        self.entries.append((now, amount))
        self.total += amount


@dataclass
class Decision:
    allowed: bool
    retry_after: int = 0  # seconds, when refused
    reason: str = ""  # "app" (per app per tenant), "app-day" or "user"


@dataclass
class ThrottlingModel:
    """See the module docstring. Defaults: a tenant of up to 1,000 licences."""

    app_ru_per_window: int = 1_250
    app_window: float = APP_WINDOW
    app_ru_per_day: int = 1_200_000
    user_requests_per_window: int = USER_REQUESTS
    user_window: float = USER_WINDOW
    status: int = 429  # or 503
    # RU of an upload-session fragment (Microsoft does not document it: 2 as any upload,
    # or 0 when only the session's creation is charged)
    fragment_cost: int = 2
    _apps: dict[tuple[str, str], _Window] = field(default_factory=dict, repr=False)
    _days: dict[tuple[str, str], _Window] = field(default_factory=dict, repr=False)
    _users: dict[str, _Window] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    refused: int = 0
    admitted: int = 0
    ru_used: int = 0

    @classmethod
    def for_tenant(cls, licences: int) -> ThrottlingModel:
        """The documented per-app limits of a tenant with *licences* licences."""
        for top, per_minute, per_day in TENANT_BANDS:
            if licences <= top:
                return cls(app_ru_per_window=per_minute, app_ru_per_day=per_day)
        raise AssertionError("unreachable: the last band is unbounded")

    def scaled(self, factor: float) -> ThrottlingModel:
        """The same limits with windows and budgets *factor* times as long / large
        (e.g. 1/6: 10 s windows of a sixth of the budget; the rate stays as documented)."""
        return replace(
            self,
            app_ru_per_window=max(1, round(self.app_ru_per_window * factor)),
            app_window=self.app_window * factor,
            app_ru_per_day=max(1, round(self.app_ru_per_day * factor)),
            user_requests_per_window=max(1, round(self.user_requests_per_window * factor)),
            user_window=self.user_window * factor,
            _apps={}, _days={}, _users={}, _lock=threading.Lock(),
            refused=0, admitted=0, ru_used=0,
        )

    def decide(self, tenant: str, app: str, user: str, cost: int, now: float) -> Decision:
        """Count one request (refused or not) and say whether it is served."""
        key = (tenant.lower(), app.lower())
        with self._lock:
            a = self._apps.setdefault(key, _Window(self.app_window))
            d = self._days.setdefault(key, _Window(DAY * self.app_window / APP_WINDOW))
            u = self._users.setdefault(user.lower(), _Window(self.user_window))
            for w in (a, d, u):
                w.expire(now)
            budgets = ((a, cost, self.app_ru_per_window, "app"),
                       (d, cost, self.app_ru_per_day, "app-day"),
                       (u, 1, self.user_requests_per_window, "user"))
            over = [w.total + n > limit for w, n, limit, _ in budgets]
            # Refused or not, the request counts (Microsoft: throttled requests count).
            for w, n, _, _ in budgets:
                w.add(now, n)
            self.ru_used += cost
            if not any(over):
                self.admitted += 1
                return Decision(True)
            # Retry-After: when the same request, sent again, fits (this one counted).
            wait, reason = max((w.wait_for(n, limit, now), why)
                               for w, n, limit, why in budgets)
            self.refused += 1
            return Decision(False, max(1, math.ceil(wait)), reason)
