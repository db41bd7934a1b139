"""Build the frozen app, its archive and (with --installer) the installer.

    python packaging/build.py               # dist/onedrive-gui/ + archive
    python packaging/build.py --installer   # also the NSIS installer (needs makensis)
    python packaging/build.py --installer --payload DIR --no-freeze --no-archive \
        [--winfsp-msi winfsp-2.1.25156.msi] # installer only, from a Windows payload (the
                                            # release builds it so, on Linux: installer.nsi)
    python packaging/build.py --lock [--upgrade-package NAME ...]
                                            # regenerate requirements-frozen.txt (pip-tools)

PyInstaller does not cross-compile: the folder is for the OS this runs on. Sizes and times
are printed at the end. Before freezing, the environment must match the hash-pinned lock
packaging/requirements-frozen.txt exactly (what is frozen is what was locked and tested).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

if "bundle_support" in sys.modules:
    bs = sys.modules["bundle_support"]
else:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    try:
        import bundle_support as bs
    finally:
        sys.path.pop(0)

SPEC = bs.PACKAGING_DIR / "onedrive_gui.spec"
NSI = bs.PACKAGING_DIR / "windows" / "installer.nsi"
LOCK = bs.PACKAGING_DIR / "requirements-frozen.txt"
LOCK_IN = bs.PACKAGING_DIR / "requirements-frozen.in"
LOCK_PYTHON = (3, 11)  # the release's Python (.github/workflows/release.yml)
LOCK_INSTALL = "python -m pip install --require-hashes -r packaging/requirements-frozen.txt"
# the header pip-compile writes into the lock (after "by the following command:")
LOCK_COMMAND = ("python packaging/build.py --lock [--upgrade-package NAME ...]\n"
                "#    run by a CPython 3.11 with pip-tools 7.6 installed: see the top of\n"
                "#    packaging/requirements-frozen.in. Install with:\n"
                f"#    {LOCK_INSTALL}")


# --- the lock ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    marker: str | None  # PEP 508 environment marker, None = every platform
    hashes: tuple[str, ...]  # "sha256:<hex>"


def _logical_lines(text: str) -> list[str]:
    """Requirement-file lines with the backslash continuations joined, comments dropped."""
    out: list[str] = []
    buf = ""
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        if buf.strip():
            out.append(buf.strip())
        buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out


_PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*(?P<version>[^\s;]+)"
                  r"\s*(?:;(?P<marker>.*))?$")


def parse_lock(text: str) -> list[Pin]:
    """The pins of a pip-compile lock. ValueError for a line that is not ``name==version``."""
    pins: list[Pin] = []
    for line in _logical_lines(text):
        hashes = tuple(re.findall(r"--hash=(\S+)", line))
        req = re.sub(r"--hash=\S+", "", line).strip()
        if req.startswith("-"):
            raise ValueError(f"unexpected option in the lock: {line!r}")
        m = _PIN.match(req)
        if m is None:
            raise ValueError(f"not pinned with ==: {req!r}")
        marker = (m.group("marker") or "").strip() or None
        pins.append(Pin(m.group("name"), m.group("version"), marker, hashes))
    return pins


def _installed_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def lock_mismatches(text: str,
                    installed: Callable[[str], str | None] = _installed_version) -> list[str]:
    """One line per pin of the lock that applies here (its marker) and is not installed at
    exactly the pinned version; empty when the environment matches the lock."""
    try:
        from packaging.markers import Marker
        from packaging.version import InvalidVersion, Version
    except ImportError:  # PyPI's packaging (PyInstaller needs it), not this folder
        return ["packaging: not installed, needed to read the lock's markers"]

    problems: list[str] = []
    for pin in parse_lock(text):
        if pin.marker is not None and not Marker(pin.marker).evaluate():
            continue
        have = installed(pin.name)
        if have is None:
            problems.append(f"{pin.name}: not installed, the lock pins {pin.version}")
            continue
        try:
            same = Version(have) == Version(pin.version)
        except InvalidVersion:
            same = have == pin.version
        if not same:
            problems.append(f"{pin.name}: {have} installed, the lock pins {pin.version}")
    return problems


def verify_lock(text: str | None = None) -> None:
    """SystemExit naming every mismatch if this environment is not the lock's."""
    if text is None:
        text = LOCK.read_text(encoding="utf-8")
    problems = lock_mismatches(text)
    if problems:
        lines = "\n".join(f"  {p}" for p in problems)
        raise SystemExit(
            f"This environment does not match packaging/requirements-frozen.txt, the lock the "
            f"release is frozen from:\n{lines}\nInstall the locked versions with:\n"
            f"  {LOCK_INSTALL}"
        )


def compile_lock(pip_compile_args: list[str]) -> int:
    """Regenerate the lock with pip-tools (installed in the Python running this).

    pip-compile resolves for the running OS and drops the ``.in`` lines whose marker is false
    here (the Windows-only and macOS-only packages on Linux). Those lines are resolved anyway
    and written with their markers, so that one lock installs on every OS.
    """
    if sys.version_info[:2] != LOCK_PYTHON:
        raise SystemExit(f"run --lock with Python {'.'.join(map(str, LOCK_PYTHON))}, the "
                         f"release's (this is {sys.version.split()[0]})")
    # this folder (sys.path[0] when run as a script) would shadow PyPI's "build", which
    # pip-tools imports
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != bs.PACKAGING_DIR]
    try:
        from pip._internal.req.req_install import InstallRequirement
        from piptools.scripts.compile import cli
    except ImportError as exc:
        raise SystemExit(
            "pip-tools is not installed in this Python: python3.11 -m venv /tmp/piptools && "
            "/tmp/piptools/bin/pip install pip-tools==7.6.2, then run "
            "/tmp/piptools/bin/python packaging/build.py --lock"
        ) from exc

    match_markers = InstallRequirement.match_markers

    def every_os(self: InstallRequirement, extras_requested: object = None) -> bool:
        if isinstance(self.comes_from, str) and LOCK_IN.name in self.comes_from:
            return True  # a line of requirements-frozen.in
        return match_markers(self, extras_requested)  # type: ignore[arg-type]

    InstallRequirement.match_markers = every_os  # type: ignore[method-assign]
    os.environ["CUSTOM_COMPILE_COMMAND"] = LOCK_COMMAND
    os.chdir(bs.ROOT)
    args = ["--generate-hashes", "--allow-unsafe", "--strip-extras", "--no-emit-index-url",
            "--no-emit-find-links", "--output-file", str(LOCK.relative_to(bs.ROOT)),
            *pip_compile_args, str(LOCK_IN.relative_to(bs.ROOT))]
    try:
        cli.main(args=args, prog_name="pip-compile")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    finally:
        InstallRequirement.match_markers = match_markers  # type: ignore[method-assign]
    return 0


def platform_tag() -> str:
    import platform

    machine = platform.machine().lower().replace("amd64", "x86_64")
    osname = {"win32": "windows", "darwin": "macos"}.get(sys.platform, "linux")
    return f"{osname}-{machine}"


def freeze(dist: Path, work: Path) -> Path:
    cmd = [sys.executable, "-m", "PyInstaller", str(SPEC), "--noconfirm", "--clean",
           "--log-level", "WARN", "--distpath", str(dist), "--workpath", str(work)]
    subprocess.run(cmd, check=True, cwd=bs.ROOT)
    app_dir = dist / bs.APP_NAME
    suffix = ".exe" if sys.platform == "win32" else ""
    for name in (bs.APP_NAME, bs.CLI_NAME):
        exe = app_dir / f"{name}{suffix}"
        if not exe.is_file():
            raise SystemExit(f"PyInstaller finished but {exe} is missing")
    return app_dir


def archive(app_dir: Path, out_dir: Path, version: str) -> Path:
    base = f"{bs.APP_NAME}-{version}-{platform_tag()}"
    if sys.platform == "win32":
        out = out_dir / f"{base}.zip"
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
            for p in sorted(app_dir.rglob("*")):
                z.write(p, Path(bs.APP_NAME) / p.relative_to(app_dir))
    else:
        out = out_dir / f"{base}.tar.gz"
        with tarfile.open(out, "w:gz", compresslevel=6) as t:
            t.add(app_dir, arcname=bs.APP_NAME)  # keeps symlinks and the exec bits
    return out


def find_makensis() -> str | None:
    found = shutil.which("makensis")
    if found:
        return found
    for env in ("ProgramFiles(x86)", "ProgramFiles"):
        base = os.environ.get(env)
        if base and (Path(base) / "NSIS" / "makensis.exe").is_file():
            return str(Path(base) / "NSIS" / "makensis.exe")
    return None


def about_url() -> str | None:
    """The app's web page for Apps & features: the repository the workflow builds."""
    server = os.environ.get("GITHUB_SERVER_URL")
    repo = os.environ.get("GITHUB_REPOSITORY")
    return f"{server}/{repo}" if server and repo else None


def check_winfsp_msi(msi: Path) -> Path:
    """The WinFsp installer to bundle: exactly the pinned release (sha256), else SystemExit."""
    if not msi.is_file():
        raise SystemExit(f"{msi} does not exist (download {bs.WINFSP_URL})")
    got = bs.sha256_file(msi)
    if got != bs.WINFSP_SHA256:
        raise SystemExit(f"{msi} has sha256 {got}, not WinFsp {bs.WINFSP_VERSION}'s "
                         f"{bs.WINFSP_SHA256} (bundle_support.WINFSP_SHA256)")
    return msi


def build_installer(payload: Path, out: Path, version: str, makensis: str | None = None,
                    winfsp_msi: Path | None = None, about: str | None = None,
                    extra_defines: dict[str, str] | None = None) -> Path:
    """Compile installer.nsi against a Windows payload folder (dist/onedrive-gui layout).

    Made with Debian's makensis (its amd64 stubs), on Linux, from the payload built on
    Windows: see the top of installer.nsi. *winfsp_msi* (hash-checked) is bundled and offered
    when WinFsp is missing; *about* is the Apps & features link (default: the repository the
    workflow builds, none outside a workflow).
    """
    makensis = makensis or find_makensis()
    if makensis is None:
        raise SystemExit("makensis not found (Debian/Ubuntu: apt-get install nsis)")
    for name in (bs.APP_NAME, bs.CLI_NAME):
        if not (payload / f"{name}.exe").is_file():
            raise SystemExit(f"{payload} is not a Windows payload: {name}.exe is missing")
    opt = "/" if sys.platform == "win32" else "-"
    vt = ".".join(str(n) for n in bs.version_tuple(version))
    defines = {"VERSION": version, "VERSION_NUM": vt, "PAYLOAD": str(payload.resolve()),
               "OUTFILE": str(out.resolve())}
    icon = bs.app_icon("ico")
    if icon is not None:
        defines["APP_ICON"] = str(icon)
    about = about or about_url()
    if about:
        defines["ABOUT_URL"] = about
    if winfsp_msi is not None:
        defines["WINFSP_MSI"] = str(winfsp_msi.resolve())
    defines.update(extra_defines or {})
    cmd = [makensis, f"{opt}V2", f"{opt}INPUTCHARSET", "UTF8"]
    cmd += [f"{opt}D{k}={v}" for k, v in defines.items()]
    cmd.append(str(NSI))
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(cmd, check=True)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dist", type=Path, default=bs.ROOT / "dist", help="output dir")
    ap.add_argument("--work", type=Path, default=bs.ROOT / "build", help="PyInstaller work dir")
    ap.add_argument("--no-freeze", action="store_true", help="skip PyInstaller")
    ap.add_argument("--no-archive", action="store_true", help="skip the tar.gz / zip")
    ap.add_argument("--installer", action="store_true",
                    help="build the NSIS installer (from a Windows payload: see --payload)")
    ap.add_argument("--no-installer", action="store_true", help="never build the installer")
    ap.add_argument("--payload", type=Path,
                    help="Windows payload folder for the installer (default: the frozen folder)")
    ap.add_argument("--winfsp-msi", type=Path,
                    help=f"bundle this WinFsp installer (must be {bs.WINFSP_URL}, sha256-checked)")
    ap.add_argument("--lock", nargs=argparse.REMAINDER, metavar="PIP_COMPILE_ARG",
                    help="only regenerate packaging/requirements-frozen.txt with pip-tools; "
                         "what follows goes to pip-compile (e.g. --upgrade-package NAME)")
    args = ap.parse_args(argv)
    if args.lock is not None:
        return compile_lock(args.lock)

    version = bs.app_version()
    dist: Path = args.dist.resolve()
    dist.mkdir(parents=True, exist_ok=True)
    report: list[tuple[str, Path, int, float]] = []

    app_dir = dist / bs.APP_NAME
    if not args.no_freeze:
        verify_lock()
        t0 = time.monotonic()
        app_dir = freeze(dist, args.work.resolve())
        report.append(("frozen folder", app_dir, bs.dir_size(app_dir), time.monotonic() - t0))
    if not args.no_archive and app_dir.is_dir():
        t0 = time.monotonic()
        arc = archive(app_dir, dist, version)
        report.append(("archive", arc, arc.stat().st_size, time.monotonic() - t0))
    if args.installer and not args.no_installer:
        payload = args.payload or app_dir
        msi = check_winfsp_msi(args.winfsp_msi) if args.winfsp_msi else None
        t0 = time.monotonic()
        out = build_installer(payload, dist / f"{bs.APP_NAME}-{version}-setup.exe", version,
                              winfsp_msi=msi)
        report.append(("installer", out, out.stat().st_size, time.monotonic() - t0))

    print(f"\nonedrive-gui {version} ({platform_tag()}):")
    for what, path, size, secs in report:
        print(f"  {what:14} {bs.mb(size):>10}  {secs:6.1f} s  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
