"""packaging/onedrive_gui.spec keeps a working Windows Credential Manager backend (fast, no build).

keyring's WinVaultKeyring goes through pywin32-ctypes, whose ``win32ctypes/core/__init__.py``
uses its cffi backend whenever ``import cffi`` succeeds. Freezing without ``_cffi_backend``
but with ``cffi`` makes ``cffi.FFI()`` fail at run time: keyring falls back to fail.Keyring and
the first account cannot be added. So: whatever the spec excludes on Windows, ``cffi`` goes
with ``_cffi_backend``, and then the ctypes backend must be bundled — which PyInstaller's
``hook-win32ctypes.core.py`` does unconditionally in the locked PyInstaller.
"""

from __future__ import annotations

import ast
import re
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.packaging.conftest import PACKAGING, REPO, bs, build

SPEC = PACKAGING / "onedrive_gui.spec"
LOCK = {canonicalize_name(p.name): p for p in build.parse_lock(
    (PACKAGING / "requirements-frozen.txt").read_text(encoding="utf-8"))}
WINDOWS = {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt",
           "python_version": "3.11", "python_full_version": "3.11.9",
           "platform_machine": "AMD64", "implementation_name": "cpython",
           "platform_python_implementation": "CPython", "extra": ""}


def _on_windows(name: str) -> bool:
    pin = LOCK.get(canonicalize_name(name))
    return pin is not None and (pin.marker is None or Marker(pin.marker).evaluate(WINDOWS))


def _spec_string_literals() -> set[str]:
    return {n.value for n in ast.walk(ast.parse(SPEC.read_text(encoding="utf-8")))
            if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def test_spec_takes_its_platform_excludes_from_bundle_support() -> None:
    text = SPEC.read_text(encoding="utf-8")
    assert "excludes = bs.excludes(sys.platform) + [" in text
    assert "excludes=excludes," in text
    # no second, hand-written list that could drop cffi's backend alone
    assert not {"_cffi_backend", "cffi", "cryptography"} & _spec_string_literals()


def test_windows_excludes_take_cffi_with_its_backend() -> None:
    win = bs.excludes("win32")
    assert "cryptography" in win and "secretstorage" in win  # the slimming stays
    if "_cffi_backend" in win:
        assert "cffi" in win, ("excluding _cffi_backend without cffi makes pywin32-ctypes pick "
                               "its cffi backend, which then fails: no Credential Manager")
    # cffi is in the lock for Windows (cryptography needs it), so it is importable at build
    # time: without the exclusion the hook would bundle the cffi backend
    assert _on_windows("cffi") and _on_windows("pywin32-ctypes") and _on_windows("keyring")
    # Linux keeps its Secret Service stack
    linux = bs.excludes("linux")
    assert not {"cffi", "_cffi_backend", "cryptography", "secretstorage", "jeepney"} & set(linux)


def test_locked_pyinstaller_always_bundles_the_ctypes_backend() -> None:
    """With cffi excluded, win32ctypes runs on its ctypes backend: the hook must bundle it
    whether or not cffi is importable at build time (the installed PyInstaller is the lock's,
    test_requirements_lock checks that)."""
    assert Version(LOCK["pyinstaller"].version) >= Version("6")
    assert Version(metadata.version("pyinstaller")) == Version(LOCK["pyinstaller"].version)
    import PyInstaller

    hook = Path(PyInstaller.__file__).parent / "hooks" / "hook-win32ctypes.core.py"
    tree = ast.parse(hook.read_text(encoding="utf-8"))
    unconditional = [n for n in tree.body if isinstance(n, ast.Assign)
                     and any(isinstance(t, ast.Name) and t.id == "hiddenimports"
                             for t in n.targets)]
    assert unconditional, "hook-win32ctypes.core.py no longer sets hiddenimports at top level"
    calls = [c for n in unconditional for c in ast.walk(n) if isinstance(c, ast.Call)]
    assert any(isinstance(a, ast.Constant) and a.value == "win32ctypes.core.ctypes"
               for c in calls for a in c.args)


def test_release_and_windows_ci_self_test_the_console_exe() -> None:
    """The Credential Manager round-trip is checked on the frozen Windows app (the release
    runs the Windows workflow, which does it, and attaches its output)."""
    workflows = REPO / ".github" / "workflows"
    text = (workflows / "windows.yml").read_text(encoding="utf-8")
    assert re.search(r'\\onedrive-gui-cli\.exe"? --self-test[ \n]', text)
    release = (workflows / "release.yml").read_text(encoding="utf-8")
    assert "uses: $/.github/workflows/windows.yml" in release and "self-test.txt" in release
