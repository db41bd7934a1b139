"""The app's rclone: its encrypted config file and the one ``rclone rcd`` of this process.

The config password lives in the keyring; rclone receives it through the child's
environment. The config file is never written by us, only by rclone.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from onedrive_gui.core.errors import KeyringError
from onedrive_gui.core.i18n import _
from onedrive_gui.core.paths import AppPaths
from onedrive_gui.core.rclone.binary import RcloneBinary, locate_rclone
from onedrive_gui.core.rclone.process import Rcd
from onedrive_gui.core.rclone.rc import RcClient
from onedrive_gui.core.rclone.remotes import encrypt_config
from onedrive_gui.core.secrets import SecretStore

log = logging.getLogger(__name__)


class RcloneEngine:
    """Owns the binary, the encrypted config and the shared rcd (started lazily)."""

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
        self._rcd: Rcd | None = None
        self._lock = threading.RLock()

    @property
    def binary(self) -> RcloneBinary:
        with self._lock:
            if self._binary is None:
                self._binary = locate_rclone(self.rclone_path)
            return self._binary

    @property
    def config_path(self) -> Path:
        return self.paths.rclone_config

    def config_password(self, *, create: bool) -> str:
        """The config password from the keyring; on first use create it and the config.

        An existing config without its password in the keyring is never replaced.
        """
        path = self.config_path
        if path.exists():
            password = self.secrets.get_config_password()
            if password is None:
                raise KeyringError(
                    _("rclone config password missing"),
                    _(
                        "The app's rclone config ({path}) is encrypted, but its password is "
                        "not in your keyring any more. The file was left untouched."
                    ).format(path=path),
                    _("If you restored the keyring from a backup, unlock it and retry. Otherwise "
                    "remove the accounts and add them again (the old file is kept; delete it "
                    "yourself once you no longer need it)."),
                )
            return password
        if not create:
            password = self.secrets.get_config_password()
            if password is None:
                raise KeyringError(
                    _("No accounts yet"),
                    _("The app has no rclone configuration yet."),
                    _("Add an account first."),
                )
            return password
        password = self.secrets.ensure_config_password()
        self.paths.ensure()
        encrypt_config(self.binary, path, password)
        return password

    def new_rcd(self) -> Rcd:
        """A fresh (not yet started) rcd over the app's config; it becomes the shared one."""
        from onedrive_gui.core.graph import USER_AGENT

        password = self.config_password(create=True)
        rcd = Rcd(
            self.binary,
            config_path=self.config_path,
            config_password=password,
            cache_dir=self.paths.rclone_cache_dir,
            log_file=self.paths.rclone_log,
            log_level=self.log_level,
            # Microsoft asks apps to identify their traffic (throttling is applied per app).
            extra_args=["--user-agent", USER_AGENT],
        )
        with self._lock:
            self._rcd = rcd
        return rcd

    def rcd(self) -> Rcd:
        """The shared rcd: the running (or not yet started) one, else a new one.

        This is the MountManager's ``rcd_factory``: config changes and mounts go through
        one rclone process, which alone writes the config file.
        """
        with self._lock:
            rcd = self._rcd
            if rcd is not None and (rcd.alive() or rcd.pid is None):
                return rcd
            return self.new_rcd()

    def client(self) -> RcClient:
        """The rc client of the shared rcd, started (or restarted) as needed."""
        with self._lock:
            return self.rcd().start()

    def adopt(self, rcd: Rcd) -> None:
        """Make *rcd* (started by someone else, e.g. the MountManager) the shared one."""
        with self._lock:
            self._rcd = rcd

    def stop(self) -> None:
        with self._lock:
            rcd, self._rcd = self._rcd, None
        if rcd is not None and rcd.alive():
            rcd.stop()
