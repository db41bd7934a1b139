"""The app's rclone: one encrypted config file and one ``rclone rcd`` per account.

Why one rclone per account: rclone's request limiter (``--tpslimit``) and bandwidth token
bucket (``--bwlimit``) are process-wide, built once at process start (DESIGN §9), so an
account's limits can only apply to its traffic when its rclone runs for it alone, started
with them as flags. One rclone dying no longer drops the other accounts' drives either.

Why one config per account: rclone rewrites its whole config file when it saves a refreshed
token; rclone processes sharing one file would lose each other's refreshed tokens.

All configs are encrypted by rclone with the same password, kept in the keyring; rclone
receives it through the child's environment. The config files are never written by us,
only by rclone. The VFS cache folder stays shared (rclone keeps each remote's files in its
own subfolder), so uploads pending from earlier versions are found where they were.

Configs of earlier versions (every remote in one ``rclone.conf``) are migrated on first use:
rclone reads each remote from the old file and writes it into the account's new file over
rc; the old file is removed only once every copy reads back right.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from onedrive_gui.core.errors import KeyringError, RcloneError
from onedrive_gui.core.i18n import _
from onedrive_gui.core.rclone.binary import RcloneBinary, child_env, locate_rclone
from onedrive_gui.core.rclone.process import Rcd
from onedrive_gui.core.rclone.rc import RcClient
from onedrive_gui.core.rclone.remotes import (
    copy_remote,
    encrypt_config,
    validate_remote_name,
)
from onedrive_gui.core.system.paths import AppPaths
from onedrive_gui.core.system.secrets import SecretStore

log = logging.getLogger(__name__)


class RcloneEngine:
    """Owns the binary, the encrypted configs and one rcd per account (started lazily)."""

    def __init__(
        self,
        paths: AppPaths,
        secrets: SecretStore,
        *,
        rclone_path: str | None = None,
        log_level: str = "INFO",
    ) -> None:
        self.paths = paths
        self.secrets = secrets
        self.rclone_path = rclone_path
        self.log_level = log_level
        self._binary: RcloneBinary | None = None
        self._rcds: dict[str, Rcd] = {}
        self._handed: dict[str, int] = {}  # rcd() calls per account (the MountManager's)
        self._migrated = False
        self._lock = threading.RLock()

    @property
    def binary(self) -> RcloneBinary:
        with self._lock:
            if self._binary is None:
                self._binary = locate_rclone(self.rclone_path)
            return self._binary

    def command_env(self, name: str | None) -> dict[str, str]:
        """The environment for running this rclone by hand (``onedrive-gui rclone``) on
        account *name*'s config (None: on no account's config): its password in the
        environment, never on the command line; the user's own RCLONE_* variables (another
        config, another password) left out."""
        if name is None:
            return child_env(None)
        return child_env({"RCLONE_CONFIG_PASS": self.config_password(name, create=False)})

    def config_path(self, name: str) -> Path:
        """The rclone config file of account *name*."""
        return self.paths.account_rclone_config(validate_remote_name(name))

    def has_config(self, name: str) -> bool:
        """Whether account *name*'s config exists (after migrating an old one)."""
        self.migrate()
        return self.config_path(name).exists()

    def _configs_dir(self) -> None:
        """The folder of the accounts' configs, readable by the user only."""
        folder = self.paths.rclone_configs_dir
        folder.mkdir(parents=True, exist_ok=True)
        if os.name == "posix":
            folder.chmod(0o700)

    def _missing_password(self, path: Path) -> KeyringError:
        return KeyringError(
            _("rclone config password missing"),
            _(
                "The app's rclone config ({path}) is encrypted, but its password is not in "
                "your keyring any more. The file was left untouched."
            ).format(path=path),
            _("If you restored the keyring from a backup, unlock it and retry. Otherwise "
            "remove the accounts and add them again (the old file is kept; delete it "
            "yourself once you no longer need it)."),
        )

    def config_password(self, name: str, *, create: bool) -> str:
        """The config password from the keyring; with *create*, create it and *name*'s
        config on first use. An existing config without its password in the keyring is
        never replaced."""
        self.migrate()
        path = self.config_path(name)
        if path.exists():
            password = self.secrets.get_config_password()
            if password is None:
                raise self._missing_password(path)
            return password
        if not create:
            raise KeyringError(
                _("Account not set up in rclone"),
                _("The app has no rclone configuration for '{name}' yet ({path}).").format(
                    name=name, path=path),
                _("Add the account first (or remove it and add it again)."),
            )
        password = self.secrets.ensure_config_password()
        self.paths.ensure()
        self._configs_dir()
        encrypt_config(self.binary, path, password)
        return password

    def _new_rcd(self, config: Path, password: str, log_file: Path,
                 limits: Mapping[str, Any] | None) -> Rcd:
        from onedrive_gui.core.microsoft.graph import USER_AGENT

        return Rcd(
            self.binary,
            config_path=config,
            config_password=password,
            cache_dir=self.paths.rclone_cache_dir,
            log_file=log_file,
            log_level=self.log_level,
            # Microsoft asks apps to identify their traffic (throttling is applied per app).
            extra_args=["--user-agent", USER_AGENT],
            limits=limits,
        )

    def new_rcd(self, name: str, limits: Mapping[str, Any] | None = None) -> Rcd:
        """A fresh (not yet started) rcd for account *name* with its *limits* (rclone's
        names: TPSLimit, TPSLimitBurst, Transfers, Checkers, BwLimit); it becomes the
        account's one."""
        password = self.config_password(name, create=True)
        rcd = self._new_rcd(self.config_path(name), password,
                            self.paths.account_rclone_log(name), limits)
        with self._lock:
            self._rcds[name] = rcd
        return rcd

    def rcd(self, name: str, limits: Mapping[str, Any] | None = None) -> Rcd:
        """Account *name*'s rcd: the running (or not yet started) one, else a new one.

        This is the MountManager's ``rcd_factory``: the account's config changes and its
        mount go through one rclone process, which alone writes its config file. With
        *limits* different from those the running one was started with, that one (which
        then has no mount: the MountManager asks only for a new rcd) is stopped first.
        """
        with self._lock:
            self._handed[name] = self._handed.get(name, 0) + 1  # see stop_if_idle
            rcd = self._rcds.get(name)
            if rcd is not None and (rcd.alive() or rcd.pid is None):
                if limits is None or dict(limits) == rcd.limits:
                    return rcd
                if rcd.alive():
                    log.info("restarting the rclone of %s with new limits", name)
                    rcd.stop()
            return self.new_rcd(name, limits)

    def client(self, name: str, limits: Mapping[str, Any] | None = None) -> RcClient:
        """The rc client of account *name*'s rcd, started (or restarted) as needed; a
        running one is used whatever its limits (config changes go through it)."""
        with self._lock:
            rcd = self._rcds.get(name)
            if rcd is not None and rcd.alive():
                return rcd.client
            return self.rcd(name, limits).start()

    def is_running(self, name: str) -> bool:
        """Whether account *name*'s rclone runs now."""
        with self._lock:
            rcd = self._rcds.get(name)
            return rcd is not None and rcd.alive()

    def handed_out(self, name: str) -> int:
        """How often account *name*'s rcd was handed out by :meth:`rcd` (to mount)."""
        with self._lock:
            return self._handed.get(name, 0)

    def stop_if_idle(self, name: str, handed: int | None = None) -> None:
        """Stop account *name*'s rclone (started for a moment, e.g. to keep its sign-in
        alive) unless something is mounted through it or, with *handed* (an earlier
        :meth:`handed_out`), it was handed out to mount since."""
        with self._lock:
            rcd = self._rcds.get(name)
            if rcd is None or not rcd.alive():
                return
            if handed is not None and self._handed.get(name, 0) != handed:
                return
            try:
                if rcd.client.list_mounts():
                    return
            except RcloneError as exc:
                log.info("asking the rclone of %s for its mounts: %s", name, exc.message)
                return
            self._rcds.pop(name, None)
        rcd.stop()

    def adopt(self, name: str, rcd: Rcd) -> None:
        """Make *rcd* (started by someone else) account *name*'s rcd."""
        with self._lock:
            self._rcds[name] = rcd

    def stop(self, name: str | None = None) -> None:
        """Stop account *name*'s rclone (every account's when None)."""
        with self._lock:
            if name is None:
                stopping = list(self._rcds.values())
                self._rcds.clear()
            else:
                one = self._rcds.pop(name, None)
                stopping = [one] if one is not None else []
        for rcd in stopping:
            if rcd.alive():
                rcd.stop()

    # ---- migration from one shared config ---------------------------------------------

    def migrate(self) -> list[str]:
        """Move every remote of an old shared ``rclone.conf`` into its own config (see the
        module docstring); the names moved. Idempotent; a no-op without an old file."""
        with self._lock:
            if self._migrated:
                return []
            old = self.paths.rclone_config
            if not old.exists():
                self._migrated = True
                return []
            password = self.secrets.get_config_password()
            if password is None:
                raise self._missing_password(old)
            log.warning("moving the accounts of %s into one config each", old)
            source = self._new_rcd(old, password, self.paths.rclone_log, None)
            moved: list[str] = []
            try:
                src = source.start()
                names = src.config_listremotes()
                for name in names:
                    validate_remote_name(name)
                    target = self.config_path(name)
                    self._configs_dir()
                    encrypt_config(self.binary, target, password)
                    dest = self._new_rcd(target, password, self.paths.account_rclone_log(name),
                                         None)
                    try:
                        copy_remote(src, dest.start(), name)
                    finally:
                        dest.stop()
                    moved.append(name)
            finally:
                source.stop()
            # Every remote is in its own file and read back right: the old file can go.
            old.unlink()
            self._migrated = True
            log.warning("moved %s into their own rclone configs; removed %s",
                        ", ".join(moved) or "nothing", old)
            return moved
