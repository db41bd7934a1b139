"""Microsoft Graph: who signed in and which drives they have.

Throttling (429/503) honours Retry-After within max_retries and max_wait; the traffic is
decorated with ``User-Agent: ISV|onedrive-gui|onedrive-gui/<version>`` as Microsoft asks.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

from onedrive_gui import APP_NAME, __version__
from onedrive_gui.core.errors import AuthError, GraphError, NetworkError
from onedrive_gui.core.i18n import _
from onedrive_gui.core.logging_setup import register_secret
from onedrive_gui.core.microsoft.clouds import GLOBAL, Cloud
from onedrive_gui.core.microsoft.clouds import cloud as cloud_named

log = logging.getLogger(__name__)

GRAPH_URL = "https://graph.microsoft.com/v1.0"
USER_AGENT = f"ISV|{APP_NAME}|{APP_NAME}/{__version__}"
HTTP_TIMEOUT = 30.0
_RETRY_STATUS = (429, 503)


@dataclass(frozen=True)
class UserInfo:
    id: str
    display_name: str
    user_principal_name: str
    mail: str | None

    @property
    def email(self) -> str:
        """The address to show: mail, or the UPN (personal accounts often have no mail)."""
        return self.mail or self.user_principal_name


@dataclass(frozen=True)
class DriveInfo:
    id: str
    name: str
    drive_type: str  # personal | business | documentLibrary
    owner_name: str | None
    quota_total: int | None
    quota_used: int | None
    is_default: bool


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date), or None when absent/garbled."""
    if not value:
        return None
    v = value.strip()
    try:
        return max(float(v), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(v)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float | str):
        try:
            return int(value)
        except ValueError:
            return None
    return None


def parse_drive(data: dict[str, Any], *, is_default: bool = False) -> DriveInfo:
    owner = data.get("owner") or {}
    owner_name = None
    for kind in ("user", "group", "application"):
        entry = owner.get(kind) if isinstance(owner, dict) else None
        if isinstance(entry, dict) and entry.get("displayName"):
            owner_name = str(entry["displayName"])
            break
    quota = data.get("quota") or {}
    return DriveInfo(
        id=str(data.get("id") or ""),
        name=str(data.get("name") or "OneDrive"),
        drive_type=str(data.get("driveType") or ""),
        owner_name=owner_name,
        quota_total=_int_or_none(quota.get("total")) if isinstance(quota, dict) else None,
        quota_used=_int_or_none(quota.get("used")) if isinstance(quota, dict) else None,
        is_default=is_default,
    )


@dataclass(frozen=True)
class SiteInfo:
    """A SharePoint site (or a Team's site) whose document libraries can be mounted."""

    id: str
    name: str
    web_url: str


@dataclass(frozen=True)
class TeamInfo:
    id: str  # = the Microsoft 365 group's id
    name: str


class PermissionMissing(GraphError):
    """Graph refused a call because the sign-in lacks an optional permission (``scope``)."""

    def __init__(self, scope: str, what: str) -> None:
        super().__init__(
            _("Permission not granted"),
            _(
                "Finding {what} needs the permission {scope}, which this sign-in does not have."
            ).format(what=what, scope=scope),
            _(
                "Add {scope} (Microsoft Graph, delegated) to your app registration's API "
                "permissions if it is not there, then sign in again and accept it."
            ).format(scope=scope),
            code="403",
        )
        self.scope = scope


def _needs(scope: str, what: str, call: Callable[[], Any]) -> Any:
    try:
        return call()
    except GraphError as exc:
        if exc.code in ("403", "accessDenied", "Authorization_RequestDenied", "Forbidden"):
            raise PermissionMissing(scope, what) from exc
        raise


def parse_site(data: dict[str, Any]) -> SiteInfo:
    return SiteInfo(
        id=str(data.get("id") or ""),
        name=str(data.get("displayName") or data.get("name") or data.get("webUrl") or ""),
        web_url=str(data.get("webUrl") or ""),
    )


class GraphClient:
    def __init__(self, access_token: str, *, max_retries: int = 5, max_wait: float = 120.0,
                 sleep: Callable[[float], None] = time.sleep, cloud: str = GLOBAL) -> None:
        register_secret(access_token)
        self.cloud: Cloud = cloud_named(cloud)
        self._token = access_token
        self.max_retries = max_retries
        self.max_wait = max_wait
        self._sleep = sleep
        self._session: Any = None
        self._default_drive_id: str | None = None

    def _http(self) -> Any:
        if self._session is None:
            import requests

            from onedrive_gui.core.microsoft.tls import use_os_trust_store

            use_os_trust_store()
            s = requests.Session()
            s.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
            self._session = s
        return self._session

    def get(self, path: str) -> dict[str, Any]:
        """GET a Graph path (``/me``) with throttling retries; the JSON object."""
        import requests

        url = (path if path.startswith(self.cloud.graph_url + "/")
               else self.cloud.graph_url + path)
        waited = 0.0
        attempt = 0
        while True:
            try:
                resp = self._http().get(url, timeout=HTTP_TIMEOUT, headers={
                    "Authorization": f"Bearer {self._token}"})
            except requests.exceptions.RequestException as exc:
                log.debug("Graph request failed: %s", type(exc).__name__)
                raise NetworkError(
                    _("Cannot reach Microsoft"),
                    _(
                        "The app cannot reach Microsoft Graph ({graph_host})."
                    ).format(graph_host=self.cloud.graph_host),
                    _("Check your connection/proxy (internet access, HTTPS_PROXY) and try again."),
                ) from exc
            status = int(resp.status_code)
            if status in _RETRY_STATUS:
                delay = retry_after_seconds(resp.headers.get("Retry-After"))
                if delay is None:
                    delay = float(min(2 ** attempt, 30))
                if attempt >= self.max_retries or waited + delay > self.max_wait:
                    raise GraphError(
                        _("Microsoft is busy") if status == 503 else _("Too many requests"),
                        _(
                            "Microsoft Graph keeps refusing requests (HTTP {status}) and asked "
                            "to wait {delay:g} more seconds."
                        ).format(status=status, delay=delay),
                        _("Wait a few minutes and try again."),
                        code=str(status),
                    )
                log.info("Graph throttled (HTTP %d); retrying in %g s", status, delay)
                self._sleep(delay)
                waited += delay
                attempt += 1
                continue
            if status == 401:
                raise AuthError(
                    _("Sign in again"),
                    _("Microsoft Graph no longer accepts this sign-in (the access token expired "
                    "or was revoked)."),
                    _("Sign in again."),
                    code="401",
                )
            if status >= 400:
                raise self._graph_error(resp, path)
            try:
                data = resp.json()
            except ValueError as exc:
                raise GraphError(_("Unexpected answer from Microsoft"),
                                 _("Microsoft Graph sent an answer that is not JSON."),
                                 _("Try again; if it keeps happening, check your proxy.")) from exc
            if not isinstance(data, dict):
                raise GraphError(_("Unexpected answer from Microsoft"),
                                 _("Microsoft Graph sent an unexpected answer."), _("Try again."))
            return data

    def _pages(self, path: str, limit: int = 500) -> list[dict[str, Any]]:
        """Every object of a collection, following @odata.nextLink (at most *limit*)."""
        out: list[dict[str, Any]] = []
        next_path: str | None = path
        while next_path and len(out) < limit:
            data = self.get(next_path)
            out.extend(v for v in data.get("value") or [] if isinstance(v, dict))
            link = data.get("@odata.nextLink")
            next_path = str(link) if isinstance(link, str) and link.startswith(
                self.cloud.graph_url + "/") else None
        return out[:limit]

    @staticmethod
    def _graph_error(resp: Any, path: str) -> GraphError:
        code, message = "", ""
        try:
            body = resp.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            code = str(body["error"].get("code") or "")
            message = str(body["error"].get("message") or "")
        status = int(resp.status_code)
        detail = f": {message[:300]}" if message else "."
        if status == 403:
            return GraphError(_("Access denied"), _(
                "Microsoft Graph refused access to {path}{detail}"
            ).format(path=path, detail=detail),
                              _("Check the API permissions of your app registration (Files.* and "
                              "User.Read, delegated) and sign in again."), code=code or "403")
        if status == 404:
            return GraphError(_("Not found"), _(
                "Microsoft Graph found nothing at {path}{detail}"
            ).format(path=path, detail=detail),
                              _("Check that this account has OneDrive (sign in to "
                              "onedrive.com once to create it)."), code=code or "404")
        return GraphError(_("Microsoft Graph error"),
                          _(
                              "Microsoft Graph answered HTTP {status} for {path}{detail}"
                          ).format(status=status, path=path, detail=detail),
                          _("Try again in a few minutes."), code=code or str(status))

    # ------------------------------------------------------------------ typed calls
    def me(self) -> UserInfo:
        d = self.get("/me")
        upn = str(d.get("userPrincipalName") or "")
        mail = d.get("mail")
        return UserInfo(
            id=str(d.get("id") or ""),
            display_name=str(d.get("displayName") or upn),
            user_principal_name=upn,
            mail=str(mail) if mail else None,
        )

    def default_drive(self) -> DriveInfo:
        d = parse_drive(self.get("/me/drive"), is_default=True)
        self._default_drive_id = d.id
        return d

    def drives(self) -> list[DriveInfo]:
        """The account's drives, the default one first, without duplicates."""
        default = self.default_drive()
        out = [default]
        seen = {default.id}
        for raw in self.get("/me/drives").get("value") or []:
            if not isinstance(raw, dict):
                continue
            d = parse_drive(raw)
            if d.id and d.id not in seen:
                seen.add(d.id)
                out.append(d)
        return out

    def drive(self, drive_id: str) -> DriveInfo:
        if self._default_drive_id is None:
            self.default_drive()
        data = self.get(f"/drives/{quote(drive_id, safe='!')}")
        return parse_drive(data, is_default=str(data.get("id")) == self._default_drive_id)

    # ------------------------------------------------------------------ libraries
    def search_sites(self, query: str) -> list[SiteInfo]:
        """SharePoint sites matching *query* (needs Sites.Read.All; work/school only)."""
        q = quote(query.strip(), safe="")
        found = _needs("Sites.Read.All", _("SharePoint sites"),
                       lambda: self._pages(f"/sites?search={q}"))
        return [parse_site(v) for v in found]

    def followed_sites(self) -> list[SiteInfo]:
        """The sites the user follows (needs Sites.Read.All; work/school only)."""
        found = _needs("Sites.Read.All", _("the sites you follow"),
                       lambda: self._pages("/me/followedSites"))
        return [parse_site(v) for v in found]

    def joined_teams(self) -> list[TeamInfo]:
        """The user's Teams (needs Team.ReadBasic.All; work/school only)."""
        found = _needs("Team.ReadBasic.All", _("your Teams"),
                       lambda: self._pages("/me/joinedTeams"))
        return [TeamInfo(id=str(v.get("id") or ""), name=str(v.get("displayName") or ""))
                for v in found]

    def site_drives(self, site_id: str) -> list[DriveInfo]:
        """The document libraries of a site (Files.Read is enough)."""
        return [parse_drive(v) for v in
                self._pages(f"/sites/{quote(site_id, safe='!,.')}/drives")]

    def group_drive(self, group_id: str) -> DriveInfo:
        """A Team's (Microsoft 365 group's) document library."""
        return parse_drive(self.get(f"/groups/{quote(group_id, safe='')}/drive"))

    def library(self, drive_id: str) -> DriveInfo:
        """Any drive by ID, with the driveType Graph reports for its root — what rclone
        itself writes as ``drive_type`` (parentReference.driveType of ``/drives/{id}/root``)."""
        drive = parse_drive(self.get(f"/drives/{quote(drive_id, safe='!')}"))
        root = self.get(f"/drives/{quote(drive_id, safe='!')}/root")
        ref = root.get("parentReference")
        kind = str(ref.get("driveType") or "") if isinstance(ref, dict) else ""
        if kind and kind != drive.drive_type:
            drive = DriveInfo(drive.id, drive.name, kind, drive.owner_name, drive.quota_total,
                              drive.quota_used, drive.is_default)
        return drive
