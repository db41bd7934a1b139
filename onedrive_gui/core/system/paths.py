"""Where the app keeps its files, from platformdirs, built explicitly (no import-time work)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from onedrive_gui import APP_NAME


@dataclass(frozen=True)
class AppPaths:
    """The app's directories. Build with :meth:`default` or pass explicit paths (tests)."""

    config_dir: Path
    data_dir: Path
    cache_dir: Path
    log_dir: Path

    @classmethod
    def default(cls) -> AppPaths:
        import platformdirs

        dirs = platformdirs.PlatformDirs(APP_NAME, appauthor=False)
        return cls(
            config_dir=Path(dirs.user_config_dir),
            data_dir=Path(dirs.user_data_dir),
            cache_dir=Path(dirs.user_cache_dir),
            log_dir=Path(dirs.user_log_dir),
        )

    @property
    def settings_file(self) -> Path:
        return self.config_dir / "settings.json"

    @property
    def rclone_config(self) -> Path:
        """The rclone config of earlier app versions: every account's remote in one
        file (migrated into :meth:`account_rclone_config` files, then removed)."""
        return self.data_dir / "rclone.conf"

    @property
    def rclone_configs_dir(self) -> Path:
        return self.data_dir / "rclone"

    def account_rclone_config(self, name: str) -> Path:
        """One account's rclone config (its one remote), encrypted with rclone's config
        encryption. One file per account: rclone rewrites the whole file when it saves a
        refreshed token, and each account has its own rclone process."""
        return self.rclone_configs_dir / f"{name}.conf"

    def account_rclone_log(self, name: str) -> Path:
        """The log of one account's rclone."""
        return self.log_dir / f"rclone-{name}.log"

    @property
    def rclone_cache_dir(self) -> Path:
        """rclone's VFS cache; kept across restarts so pending uploads survive."""
        return self.cache_dir / "rclone"

    @property
    def sessions_dir(self) -> Path:
        """Records of running app processes' mounts (to clean up after a crash)."""
        return self.data_dir / "sessions"

    @property
    def rclone_log(self) -> Path:
        return self.log_dir / "rclone.log"

    @property
    def app_log(self) -> Path:
        return self.log_dir / "onedrive-gui.log"

    def ensure(self) -> None:
        """Create the directories, readable by the user only."""
        for d in (self.config_dir, self.data_dir, self.cache_dir, self.log_dir):
            d.mkdir(parents=True, exist_ok=True)
            if os.name == "posix":
                d.chmod(0o700)
