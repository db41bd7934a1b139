"""Client of rclone's remote control API (``rclone rcd``) on loopback."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from onedrive_gui.core.errors import RcloneError
from onedrive_gui.core.i18n import _
from onedrive_gui.core.logging_setup import redact

if TYPE_CHECKING:
    import requests

log = logging.getLogger(__name__)

DECRYPT_FAILED_MARK = "unable to decrypt configuration"

# vfs/stats reports CacheMode as rclone's enum number in some versions.
_CACHE_MODES = {0: "off", 1: "minimal", 2: "writes", 3: "full"}
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


class RcCallError(RcloneError):
    """rclone answered an rc call with an error status."""

    def __init__(self, method: str, status: int, error_text: str) -> None:
        self.method = method
        self.status = status
        self.error_text = redact(error_text)
        if status in (401, 403):
            hint = _("Restart the app; its connection to rclone was not accepted.")
        elif DECRYPT_FAILED_MARK in error_text:
            hint = _("The rclone config password in your keyring does not open the config.")
        else:
            hint = _("See the rclone log for details.")
        super().__init__(
            _("rclone refused a request"),
            _(
                "rclone answered '{method}' with status {status}: {error_text}"
            ).format(method=method, status=status, error_text=self.error_text),
            hint,
        )


def parse_duration(value: Any) -> float | None:
    """A duration from rc as seconds: int/float nanoseconds or a Go string ("1m30s")."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) / 1e9
    text = str(value).strip()
    if text in ("0", "off"):
        return 0.0
    total = 0.0
    num = ""
    i = 0
    matched = False
    while i < len(text):
        ch = text[i]
        if ch.isdigit() or ch in ".-":
            num += ch
            i += 1
            continue
        unit = ""
        while i < len(text) and not (text[i].isdigit() or text[i] in ".-"):
            unit += text[i]
            i += 1
        if not num or unit not in _UNITS:
            return None
        total += float(num) * _UNITS[unit]
        num = ""
        matched = True
    if num:  # trailing bare number: seconds
        try:
            total += float(num)
        except ValueError:
            return None
        matched = True
    return total if matched else None


def _int(value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, str):
        try:
            return int(float(value))
        except ValueError:
            return 0
    return 0


def _float(value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return 0.0
    return 0.0


def cache_mode_name(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return _CACHE_MODES.get(value, str(value))
    return str(value) if value is not None else ""


@dataclass(frozen=True)
class MountInfo:
    fs: str
    mount_point: str
    mounted_on: str


@dataclass(frozen=True)
class VfsStats:
    fs: str
    cache_mode: str
    uploads_in_progress: int
    uploads_queued: int
    errored_files: int
    files_in_cache: int
    bytes_used: int
    out_of_space: bool
    raw: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @property
    def pending_uploads(self) -> int:
        return self.uploads_in_progress + self.uploads_queued


@dataclass(frozen=True)
class Transfer:
    name: str
    size: int
    bytes: int
    percentage: int
    speed: float
    eta: float | None


@dataclass(frozen=True)
class CoreStats:
    bytes: int
    speed: float
    transfers: int
    errors: int
    checks: int
    fatal_error: bool
    retry_error: bool
    last_error: str | None
    elapsed_time: float
    transferring: list[Transfer]
    raw: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)


@dataclass(frozen=True)
class About:
    total: int | None
    used: int | None
    free: int | None
    trashed: int | None


def _opt_int(value: Any) -> int | None:
    return None if value is None else _int(value)


class RcClient:
    """Calls ``<url>/<method>`` with JSON and Basic auth; never through a proxy."""

    def __init__(self, url: str, user: str, password: str, *, timeout: float = 60.0) -> None:
        self.url = url.rstrip("/")
        self.user = user  # not secret (recorded for crash recovery); the password is
        self.timeout = timeout
        import requests  # on first use: the tray starts without it

        self._session = requests.Session()
        self._session.trust_env = False  # loopback: never HTTP(S)_PROXY, never .netrc
        self._session.auth = (user, password)

    def close(self) -> None:
        self._session.close()

    def call(
        self,
        method: str,
        params: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        import requests

        url = f"{self.url}/{method.lstrip('/')}"
        try:
            resp = self._session.post(
                url, json=dict(params or {}), timeout=timeout or self.timeout
            )
        except requests.ConnectionError as exc:
            raise RcloneError(
                _("rclone stopped responding"),
                _(
                    "The app's rclone at {url} cannot be reached (call '{method}')."
                ).format(url=self.url, method=method),
                _("Restart the app. If this repeats, check the rclone log."),
            ) from exc
        except requests.Timeout as exc:
            raise RcloneError(
                _("rclone does not answer"),
                _("rclone did not answer '{method}' within {timeout:.0f} s.").format(
                    method=method, timeout=timeout or self.timeout),
                _("Check your network connection and the rclone log, then try again."),
            ) from exc
        if resp.status_code != 200:
            raise RcCallError(method, resp.status_code, _error_text(resp))
        try:
            data = resp.json()
        except ValueError as exc:
            raise RcloneError(
                _("Unexpected answer from rclone"),
                _(
                    "rclone answered '{method}' with something that is not JSON."
                ).format(method=method),
                _("See the rclone log for details."),
            ) from exc
        if not isinstance(data, dict):
            raise RcloneError(
                _("Unexpected answer from rclone"),
                _(
                    "rclone answered '{method}' with JSON that is not an object."
                ).format(method=method),
                _("See the rclone log for details."),
            )
        return data

    # ---- typed helpers ---------------------------------------------------------------

    def noop(self, **params: Any) -> dict[str, Any]:
        return self.call("rc/noop", params)

    def version(self) -> dict[str, Any]:
        return self.call("core/version")

    def quit(self, exit_code: int = 0) -> None:
        self.call("core/quit", {"exitCode": exit_code} if exit_code else {}, timeout=10)

    def mount(
        self,
        fs: str,
        mount_point: str,
        mount_type: str = "",
        mount_opt: Mapping[str, Any] | None = None,
        vfs_opt: Mapping[str, Any] | None = None,
        *,
        config: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> str:
        """Mount *fs*; returns the mount point rclone used (e.g. the letter chosen for ``*``).

        *config* is rclone's per-call ``_config`` (global options such as UserAgent,
        TPSLimit, Transfers in rclone's key names): it applies to this mount only.
        """
        params: dict[str, Any] = {"fs": fs, "mountPoint": mount_point}
        if config:
            params["_config"] = dict(config)
        if mount_type:
            params["mountType"] = mount_type
        if mount_opt:
            params["mountOpt"] = dict(mount_opt)
        if vfs_opt:
            params["vfsOpt"] = dict(vfs_opt)
        data = self.call("mount/mount", params, timeout=timeout)
        mp = data.get("mountPoint")
        return str(mp) if mp else mount_point

    def unmount(self, mount_point: str, *, timeout: float | None = None) -> None:
        self.call("mount/unmount", {"mountPoint": mount_point}, timeout=timeout)

    def unmount_all(self, *, timeout: float | None = None) -> None:
        self.call("mount/unmountall", timeout=timeout)

    def list_mounts(self) -> list[MountInfo]:
        data = self.call("mount/listmounts")
        out = []
        for m in data.get("mountPoints") or []:
            if isinstance(m, dict):
                out.append(
                    MountInfo(
                        fs=str(m.get("Fs", "")),
                        mount_point=str(m.get("MountPoint", "")),
                        mounted_on=str(m.get("MountedOn", "")),
                    )
                )
        return out

    def vfs_stats(self, fs: str | None = None) -> VfsStats:
        data = self.call("vfs/stats", {"fs": fs} if fs else {})
        disk = data.get("diskCache") or {}
        opt = data.get("opt") or {}
        return VfsStats(
            fs=str(data.get("fs", fs or "")),
            cache_mode=cache_mode_name(opt.get("CacheMode")),
            uploads_in_progress=_int(disk.get("uploadsInProgress")),
            uploads_queued=_int(disk.get("uploadsQueued")),
            errored_files=_int(disk.get("erroredFiles")),
            files_in_cache=_int(disk.get("files")),
            bytes_used=_int(disk.get("bytesUsed")),
            out_of_space=bool(disk.get("outOfSpace", False)),
            raw=data,
        )

    def core_stats(self, group: str | None = None) -> CoreStats:
        data = self.call("core/stats", {"group": group} if group else {})
        transferring = []
        for t in data.get("transferring") or []:
            if isinstance(t, dict):
                eta = t.get("eta")
                transferring.append(
                    Transfer(
                        name=str(t.get("name", "")),
                        size=_int(t.get("size")),
                        bytes=_int(t.get("bytes")),
                        percentage=_int(t.get("percentage")),
                        speed=_float(t.get("speed")),
                        eta=None if eta is None else _float(eta),
                    )
                )
        last = data.get("lastError")
        return CoreStats(
            bytes=_int(data.get("bytes")),
            speed=_float(data.get("speed")),
            transfers=_int(data.get("transfers")),
            errors=_int(data.get("errors")),
            checks=_int(data.get("checks")),
            fatal_error=bool(data.get("fatalError", False)),
            retry_error=bool(data.get("retryError", False)),
            last_error=redact(str(last)) if last else None,
            elapsed_time=_float(data.get("elapsedTime")),
            transferring=transferring,
            raw=data,
        )

    def about(self, fs: str, *, timeout: float | None = None) -> About:
        data = self.call("operations/about", {"fs": fs}, timeout=timeout)
        return About(
            total=_opt_int(data.get("total")),
            used=_opt_int(data.get("used")),
            free=_opt_int(data.get("free")),
            trashed=_opt_int(data.get("trashed")),
        )

    def config_create(
        self,
        name: str,
        type_: str,
        parameters: Mapping[str, Any],
        opt: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"name": name, "type": type_, "parameters": dict(parameters)}
        if opt:
            params["opt"] = dict(opt)
        return self.call("config/create", params, timeout=timeout)

    def config_update(
        self,
        name: str,
        parameters: Mapping[str, Any],
        opt: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"name": name, "parameters": dict(parameters)}
        if opt:
            params["opt"] = dict(opt)
        return self.call("config/update", params, timeout=timeout)

    def config_delete(self, name: str) -> None:
        self.call("config/delete", {"name": name})

    def config_get(self, name: str) -> dict[str, Any]:
        """The remote's keys (secrets included, as rclone stores them); {} when unknown."""
        return self.call("config/get", {"name": name})

    def config_listremotes(self) -> list[str]:
        data = self.call("config/listremotes")
        return [str(r) for r in data.get("remotes") or []]


def _error_text(resp: requests.Response) -> str:
    """rclone's "error" field only: its answer also echoes the request ("input")."""
    try:
        data = resp.json()
    except ValueError:
        text = resp.text.strip().splitlines()
        return text[0][:200] if text else resp.reason or _("no details")
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"])
    return resp.reason or _("no details")

