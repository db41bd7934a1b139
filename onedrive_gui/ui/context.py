"""What the desktop layer is handed by the composition root (onedrive_gui.app)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from onedrive_gui.core.system.paths import AppPaths
    from onedrive_gui.ui.mount_controller import MountController


class AutostartLike(Protocol):
    def enable(self) -> Any: ...
    def disable(self) -> Any: ...
    def is_enabled(self) -> bool: ...


def _default_open_browser(url: str) -> bool:
    try:
        from onedrive_gui.core.microsoft.browser import open_browser
    except ModuleNotFoundError as exc:
        if exc.name != "onedrive_gui.core.microsoft.browser":
            raise
        import webbrowser  # honours BROWSER, like core.browser

        return bool(webbrowser.open(url))
    return bool(open_browser(url))


@dataclass
class AppContext:
    """Services the windows use. ``accounts`` is the core AccountService (or a stand-in)."""

    paths: AppPaths
    accounts: Any
    mounts: MountController | None = None
    autostart: AutostartLike | None = None
    open_browser: Callable[[str], bool] = field(default=_default_open_browser)
