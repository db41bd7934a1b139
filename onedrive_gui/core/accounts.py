"""AccountService: the UI-free facade the command line and the desktop app both call.

It ties the pieces together — sign-in, drive discovery, the keyring, the encrypted
rclone config and the settings file — and keeps each change all-or-nothing.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from onedrive_gui.core.errors import AppError, RcloneError, ValidationError
from onedrive_gui.core.i18n import _
from onedrive_gui.core.settings import Account, AppSettings, MountOptions, SettingsStore
from onedrive_gui.core.system.paths import AppPaths
from onedrive_gui.core.system.secrets import SecretStore
from onedrive_gui.core.validation import (
    clean_secret,
    validate_account_name,
    validate_client_id,
    validate_tenant,
)

if TYPE_CHECKING:  # sign-in and Graph load on first use: the tray starts without them
    from onedrive_gui.core.microsoft.graph import DriveInfo, UserInfo
    from onedrive_gui.core.microsoft.oauth import SignIn, TokenResult
    from onedrive_gui.core.rclone.binary import RcloneBinary

DEFAULT_PORT = 53682  # = core.microsoft.loopback.DEFAULT_PORT (checked by a test)
log = logging.getLogger(__name__)


def _remotes() -> Any:
    """rclone's remotes module, imported on first use (it pulls in requests: keep start-up
    light for the tray)."""
    from onedrive_gui.core.rclone import remotes

    return remotes


class AccountService:
    """Accounts: add, list, re-authorize, rotate the secret, remove."""

    def __init__(
        self,
        paths: AppPaths,
        *,
        secrets: SecretStore | None = None,
        store: SettingsStore | None = None,
    ) -> None:
        self.paths = paths
        self.secrets = secrets or SecretStore()
        self.store = store or SettingsStore(paths.settings_file)
        self._settings: AppSettings | None = None
        self._lock = threading.RLock()
        self._engine: Any = None
        self._expiry_at_mount: dict[str, datetime | None] = {}

    # settings -----------------------------------------------------------------
    @property
    def settings(self) -> AppSettings:
        with self._lock:
            if self._settings is None:
                self._settings = self.store.load()
            return self._settings

    def save_settings(self, settings: AppSettings) -> None:
        with self._lock:
            self.store.save(settings)
            self._settings = settings
            if self._engine is not None:
                self._engine.rclone_path = settings.rclone_path

    def account(self, name: str) -> Account:
        return self.settings.account(name)

    @property
    def engine(self) -> Any:
        """The app's :class:`~onedrive_gui.core.rclone.engine.RcloneEngine` (built lazily)."""
        with self._lock:
            if self._engine is None:
                from onedrive_gui.core.rclone.engine import (
                    RcloneEngine,  # pulls in requests: lazily
                )

                self._engine = RcloneEngine(
                    self.paths,
                    self.secrets,
                    rclone_path=self.settings.rclone_path,
                )
            return self._engine

    def find_rclone(self, path: str | None) -> RcloneBinary:
        """The rclone at *path* (None: where the app looks by itself), run to check that it
        is rclone and new enough: what Settings shows, and checks before it saves a path.
        Raises RcloneError saying what is wrong."""
        from onedrive_gui.core.rclone.binary import locate_rclone

        return locate_rclone(path)

    def _require_config(self, account: Account) -> None:
        """The account's rclone config file is gone: say so, never recreate silently."""
        if not self.engine.has_config(account.name):
            path = self.engine.config_path(account.name)
            raise RcloneError(
                _("rclone configuration missing"),
                _("The rclone config of '{name}' ({path}) was deleted or moved, so its tokens "
                  "are gone.").format(name=account.name, path=path),
                _("Restore the file from a backup, or remove the account and add it again."),
            )

    def _rc(self, account: Account) -> Any:
        """The rc client of *account*'s own rclone (started with its limits if needed)."""
        return self.engine.client(account.name, account.options.global_flags())

    def rcd_factory(self, name: str, limits: dict[str, Any] | None = None) -> Any:
        """The MountManager's ``rcd_factory``: account *name*'s rclone, with *limits*."""
        return self.engine.rcd(name, limits)

    # sign-in --------------------------------------------------------------------
    def sign_in(
        self,
        client_id: str,
        client_secret: str,
        tenant: str = "common",
        *,
        port: int = DEFAULT_PORT,
        timeout: float = 300.0,
        cloud: str = "global",
        extra_scopes: tuple[str, ...] = (),
    ) -> SignIn:
        """A new interactive sign-in (not started): call start(), open the URL, wait()."""
        from onedrive_gui.core.microsoft.clouds import cloud as cloud_named
        from onedrive_gui.core.microsoft.clouds import validate_tenant_for_cloud
        from onedrive_gui.core.microsoft.oauth import SignIn

        c = cloud_named(cloud)
        return SignIn(
            validate_client_id(client_id),
            clean_secret(client_secret)[0],
            tenant=validate_tenant_for_cloud(validate_tenant(tenant), c),
            port=port,
            timeout=timeout,
            cloud=c.key,
            extra_scopes=extra_scopes,
        )

    def discover(self, token: TokenResult, cloud: str = "global"
                 ) -> tuple[UserInfo, list[DriveInfo]]:
        from onedrive_gui.core.microsoft.graph import GraphClient

        graph = GraphClient(token.access_token, cloud=cloud)
        return graph.me(), graph.drives()

    def signed_in(self, name: str, extra_scopes: tuple[str, ...] = ()) -> TokenResult:
        """Fresh tokens of account *name*'s sign-in (its refresh token, no browser): another
        drive or library of the same sign-in can become an account of its own."""
        from onedrive_gui.core.microsoft.oauth import refresh

        with self._lock:
            account = self.account(name)
            self._require_config(account)
            stored = _remotes().get_remote(self._rc(account), account.name).get("token")
            secret = self.secrets.get_client_secret(account.name)
        try:
            refresh_token = str(json.loads(str(stored or "{}")).get("refresh_token") or "")
        except ValueError:
            refresh_token = ""
        if not refresh_token:
            raise RcloneError(
                _("No sign-in stored"),
                _("The rclone config holds no usable sign-in for '{name}'.").format(name=name),
                _("Sign in again: onedrive-gui reauth {name}.").format(name=name),
            )
        return refresh(account.client_id, secret, refresh_token, tenant=account.tenant,
                       cloud=account.cloud, extra_scopes=extra_scopes)

    # accounts -------------------------------------------------------------------
    def add_account(
        self,
        name: str,
        *,
        client_id: str,
        client_secret: str,
        tenant: str,
        token: TokenResult,
        user: UserInfo,
        drive: DriveInfo,
        secret_expires: date | None,
        mount_point: str | None,
        auto_mount: bool = False,
        options: MountOptions | None = None,
        cloud: str = "global",
    ) -> Account:
        """Keyring secret + encrypted rclone remote + settings entry, or nothing at all."""
        from onedrive_gui.core.microsoft.clouds import cloud as cloud_named

        with self._lock:
            settings = self.settings
            region = cloud_named(cloud).rclone_region
            name = validate_account_name(name, settings.names())
            client_id = validate_client_id(client_id)
            secret = clean_secret(client_secret)[0]
            tenant = validate_tenant(tenant)
            opts = options or MountOptions()
            opts.validate()
            self.secrets.check()
            rc = self.engine.client(name, opts.global_flags())
            if name in _remotes().remote_names(rc):
                raise ValidationError(
                    _("Name already used"),
                    _(
                        "The app's rclone config already has a remote named '{name}'."
                    ).format(name=name),
                    _("Pick another name."),
                )
            account = Account(
                name=name,
                client_id=client_id,
                tenant=tenant,
                cloud=region,
                display_name=user.display_name,
                username=user.email,
                drive_id=drive.id,
                drive_type=drive.drive_type,
                drive_name=drive.name,
                secret_expires=secret_expires,
                last_sign_in=datetime.now(UTC),
                last_token_refresh=datetime.now(UTC),
                mount_point=mount_point,
                auto_mount=auto_mount,
                options=opts,
            )
            done: list[Callable[[], None]] = []
            try:
                self.secrets.set_client_secret(name, secret)
                done.append(lambda: self.secrets.delete_client_secret(name))
                _remotes().create_onedrive_remote(
                    rc,
                    name,
                    client_id=client_id,
                    client_secret=secret,
                    token_json=token.rclone_token_json(),
                    drive_id=drive.id,
                    drive_type=drive.drive_type,
                    tenant=tenant,
                    region=region,
                )
                done.append(lambda: _remotes().delete_remote(self.engine.client(name), name))
                new = replace(settings, accounts=[*settings.accounts, account])
                self.save_settings(new)
            except BaseException:
                for undo in reversed(done):
                    try:
                        undo()
                    except AppError as undo_err:
                        log.error("could not undo a step of adding %s: %s", name, undo_err)
                raise
            return account

    def remove_account(self, name: str) -> None:
        """Delete the remote, the keyring entry and the settings entry."""
        with self._lock:
            settings = self.settings
            account = settings.account(name)
            if self.engine.has_config(account.name):
                rc = self._rc(account)
                if account.name in _remotes().remote_names(rc):
                    _remotes().delete_remote(rc, account.name)
                self.engine.stop(account.name)
                self.engine.config_path(account.name).unlink(missing_ok=True)
            self.secrets.delete_client_secret(account.name)
            self.save_settings(
                replace(settings, accounts=[a for a in settings.accounts if a.name != name])
            )

    def reauthorize(self, name: str, token: TokenResult) -> None:
        """Replace the account's token in place (after a new consent)."""
        with self._lock:
            account = self.account(name)
            self._require_config(account)
            _remotes().update_token(self._rc(account), account.name, token.rclone_token_json())
            now = datetime.now(UTC)
            self._update_account(
                replace(account, last_sign_in=now, last_token_refresh=now)
            )

    def set_client_secret(self, name: str, secret: str, expires: date | None) -> None:
        """Rotate the client secret: keyring (source of truth) and rclone's encrypted config."""
        with self._lock:
            account = self.account(name)
            self._require_config(account)
            value = clean_secret(secret)[0]
            old = self.secrets.get_client_secret(account.name)
            self.secrets.set_client_secret(account.name, value)
            try:
                _remotes().update_client_secret(self._rc(account), account.name, value)
            except BaseException:
                self.secrets.set_client_secret(account.name, old)
                raise
            self._update_account(replace(account, secret_expires=expires))

    def update_account(self, account: Account) -> None:
        with self._lock:
            self._update_account(account)

    def _update_account(self, account: Account) -> None:
        settings = self.settings
        accounts = [account if a.name == account.name else a for a in settings.accounts]
        self.save_settings(replace(settings, accounts=accounts))

    def mount(self, manager: Any, name: str, mount_point: str | None = None) -> Any:
        """Mount *name* through *manager* (a MountManager over :meth:`rcd_factory`);
        blocking.

        The mount point is checked (and created where the OS needs it) and remembered;
        backend options go into the remote's encrypted config; the limits (request rate,
        parallel transfers and checks, bandwidth) are flags of the account's own rclone.
        """
        from onedrive_gui.core.drives.mountpoints import default_mount_point, prepare_mount_point
        from onedrive_gui.core.drives.pacing import pacing_key

        with self._lock:
            account = self.account(name)
            self._require_config(account)
            wanted = mount_point or account.mount_point or default_mount_point(
                account.name, [a.mount_point for a in self.settings.accounts
                               if a.name != account.name])
            prepared = str(prepare_mount_point(wanted))
            if prepared != account.mount_point:
                account = replace(account, mount_point=prepared)
                self._update_account(account)
            _remotes().update_backend_options(
                self._rc(account), account.name, account.options.backend_opts()
            )
        self._expiry_at_mount[account.name] = self.token_expiry(account.name)
        mount_opt, vfs_opt = account.options.to_rc()
        return manager.mount(
            account.name, f"{account.name}:", prepared, mount_opt, vfs_opt,
            account.options.global_flags(),
            prefill_max_items=account.options.prefill_max_items,
            pacing_key=pacing_key(account.client_id, account.tenant),
        )

    def index_sizes(self) -> Any:
        """How many items each account's drive had when it was last read ahead, for the
        MountManager (core/drives/indexing.py)."""
        from onedrive_gui.core.drives.indexing import IndexSizes

        return IndexSizes(self.paths.data_dir / "index-sizes.json")

    def upload_rates(self) -> Any:
        """The upload rate learned per app registration and tenant, for the MountManager
        (core/drives/pacing.py)."""
        from onedrive_gui.core.drives.pacing import RateMemory

        return RateMemory(self.paths.data_dir / "upload-rates.json")

    def crash_record(self) -> Any:
        """This process's record of its mounts, for the MountManager (see core.recovery)."""
        from onedrive_gui.core.drives.recovery import SessionRecord

        return SessionRecord(self.paths.sessions_dir)

    def recover_after_crash(
        self, manager: Any, only: str | None = None
    ) -> tuple[str, list[str]] | None:
        """Clean up after an app process that died with drives mounted, and mount its
        accounts again (only *only*, if given) so that their pending uploads complete.

        Blocking. None when nothing was left behind; else (text for the user, the names
        mounted again).
        """
        from onedrive_gui.core.drives.recovery import recover_leftovers

        def config_password() -> str | None:
            """Lets a left-over rclone be asked to quit over rc (it unmounts cleanly)."""
            try:
                return self.secrets.get_config_password()
            except AppError as exc:
                log.warning("no config password for stopping a left-over rclone: %s",
                            exc.title)
                return None

        left = recover_leftovers(self.paths.sessions_dir, self.paths.rclone_cache_dir,
                                 config_password=config_password)
        if left is None:
            return None
        names = self.settings.names()
        remounted: list[str] = []
        failed: list[tuple[str, str]] = []  # (name, why)
        for lm in left.mounts:
            if lm.name not in names or (only is not None and lm.name != only):
                continue
            try:
                self.mount(manager, lm.name, lm.mount_point)
                manager.upload_now(lm.name)
                remounted.append(lm.name)
            except AppError as exc:
                log.error("remounting %s after a crash: %s", lm.name, exc)
                failed.append((lm.name, exc.message))
        return left.describe(remounted, failed), remounted

    def note_token_refresh(self, name: str) -> bool:
        """Record a token refresh rclone made since the mount (call at unmount).

        rclone refreshes the token itself and writes it back into the encrypted config; a
        changed expiry means Microsoft renewed the sign-in, which resets the 90-day clock.
        """
        with self._lock:
            if name not in self._expiry_at_mount:
                return False
            before = self._expiry_at_mount.pop(name)
            now_expiry = self.token_expiry(name)
            if now_expiry is None or now_expiry == before:
                return False
            self._update_account(replace(self.account(name), last_token_refresh=datetime.now(UTC)))
            return True

    def keep_alive(self, name: str, *, now: datetime | None = None) -> str:
        """Keep *name*'s sign-in from lapsing: Microsoft ends a sign-in unused for 90 days.

        Reads the token rclone holds (through the account's own rclone, started for this
        when the drive is not mounted, and stopped again): an access token obtained since the
        last recorded use counts as a use. When the last use is older than
        :data:`~onedrive_gui.core.reminders.KEEP_ALIVE_DAYS`, asks rclone for the drive's
        quota (rc ``operations/about``), which makes it renew the expired access token with
        the refresh token and store the new tokens in its encrypted config. Returns
        "fresh" (used recently, nothing asked), "renewed" or "failed" (logged; the
        "unused for 80 days" reminder then comes in due time). Blocking: call from a worker.
        """
        from datetime import timedelta

        from onedrive_gui.core.reminders import ACCESS_TOKEN_MAX_MINUTES, KEEP_ALIVE_DAYS

        now = now or datetime.now(UTC)
        engine = self.engine
        running, handed = engine.is_running(name), engine.handed_out(name)
        try:
            with self._lock:
                account = self.account(name)
                self._require_config(account)
                client = self._rc(account)
            before = self._token(client, name)
            issued = before[1] - timedelta(minutes=ACCESS_TOKEN_MAX_MINUTES) if (
                before[1] is not None) else None
            last = account.last_token_refresh or account.last_sign_in
            if issued is not None and issued <= now and (last is None or issued > last):
                last = issued  # rclone renewed the sign-in by itself (a mounted drive)
                self._note_used(name, issued)
            if last is not None and now - last < timedelta(days=KEEP_ALIVE_DAYS):
                return "fresh"
            try:
                client.call("operations/about", {"fs": f"{name}:"}, timeout=120)
            except AppError as exc:
                log.warning("keeping the sign-in of %s alive failed: %s", name, exc.message)
                return "failed"
            after = self._token(client, name)
            if after == before:
                log.warning("keeping the sign-in of %s alive: rclone did not renew it", name)
                return "failed"
            self._note_used(name, now)
            log.info("%s: sign-in renewed quietly (unused for %s days)", name,
                     (now - last).days if last is not None else "?")
            return "renewed"
        except AppError as exc:
            log.warning("keeping the sign-in of %s alive failed: %s", name, exc.message)
            return "failed"
        finally:
            if not running:  # started for this: stopped unless a mount took it meanwhile
                engine.stop_if_idle(name, handed)

    def _token(self, client: Any, name: str) -> tuple[str, datetime | None]:
        """(a digest of the refresh token, the access token's expiry) as rclone stores them."""
        import hashlib

        raw = _remotes().get_remote(client, name).get("token")
        try:
            data = json.loads(raw) if raw else {}
            expiry = data.get("expiry")
            when = (datetime.fromisoformat(str(expiry).replace("Z", "+00:00"))
                    if expiry else None)
        except (ValueError, AttributeError):
            return "", None
        refresh = str(data.get("refresh_token") or "")
        return hashlib.sha256(refresh.encode()).hexdigest(), when

    def _note_used(self, name: str, when: datetime) -> None:
        with self._lock:
            account = self.account(name)
            if account.last_token_refresh is None or when > account.last_token_refresh:
                self._update_account(replace(account, last_token_refresh=when))

    def token_expiry(self, name: str) -> datetime | None:
        """Expiry of the access token rclone holds now (it changes when rclone refreshes)."""
        data = _remotes().get_remote(self._rc(self.account(name)), name)
        raw = data.get("token")
        if not raw:
            return None
        try:
            expiry = json.loads(raw).get("expiry")
            return datetime.fromisoformat(str(expiry).replace("Z", "+00:00"))
        except (ValueError, AttributeError) as exc:
            raise RcloneError(
                _("Unreadable token"),
                _(
                    "The token of '{name}' in the rclone config cannot be read ({type})."
                ).format(name=name, type=type(exc).__name__),
                _("Re-authorize the account."),
            ) from exc

    def shutdown(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.stop()
