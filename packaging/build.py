"""Build the frozen app, its archive and (on Windows, or with --installer) the installer.

    python packaging/build.py               # dist/onedrive-gui/ + archive (+ installer on Windows)
    python packaging/build.py --installer   # also the NSIS installer (needs makensis)
    python packaging/build.py --installer --payload DIR --no-freeze
                                            # installer only, from an existing Windows payload

PyInstaller does not cross-compile: the folder is for the OS this runs on. Sizes and times
are printed at the end.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
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
    exe = app_dir / (f"{bs.APP_NAME}.exe" if sys.platform == "win32" else bs.APP_NAME)
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


def build_installer(payload: Path, out: Path, version: str, makensis: str | None = None) -> Path:
    """Compile installer.nsi against a Windows payload folder (dist/onedrive-gui layout)."""
    makensis = makensis or find_makensis()
    if makensis is None:
        raise SystemExit("makensis not found (Debian: apt-get install nsis; Windows: choco "
                         "install nsis)")
    if not (payload / f"{bs.APP_NAME}.exe").is_file():
        raise SystemExit(f"{payload} is not a Windows payload: {bs.APP_NAME}.exe is missing")
    opt = "/" if sys.platform == "win32" else "-"
    vt = ".".join(str(n) for n in bs.version_tuple(version))
    defines = {"VERSION": version, "VERSION_NUM": vt, "PAYLOAD": str(payload.resolve()),
               "OUTFILE": str(out.resolve())}
    icon = bs.app_icon("ico")
    if icon is not None:
        defines["APP_ICON"] = str(icon)
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
                    help="build the NSIS installer (default on Windows)")
    ap.add_argument("--no-installer", action="store_true", help="never build the installer")
    ap.add_argument("--payload", type=Path,
                    help="Windows payload folder for the installer (default: the frozen folder)")
    args = ap.parse_args(argv)

    version = bs.app_version()
    dist: Path = args.dist.resolve()
    dist.mkdir(parents=True, exist_ok=True)
    report: list[tuple[str, Path, int, float]] = []

    app_dir = dist / bs.APP_NAME
    if not args.no_freeze:
        t0 = time.monotonic()
        app_dir = freeze(dist, args.work.resolve())
        report.append(("frozen folder", app_dir, bs.dir_size(app_dir), time.monotonic() - t0))
    if not args.no_archive and app_dir.is_dir():
        t0 = time.monotonic()
        arc = archive(app_dir, dist, version)
        report.append(("archive", arc, arc.stat().st_size, time.monotonic() - t0))
    if (args.installer or sys.platform == "win32") and not args.no_installer:
        payload = args.payload or app_dir
        t0 = time.monotonic()
        out = build_installer(payload, dist / f"{bs.APP_NAME}-{version}-setup.exe", version)
        report.append(("installer", out, out.stat().st_size, time.monotonic() - t0))

    print(f"\nonedrive-gui {version} ({platform_tag()}):")
    for what, path, size, secs in report:
        print(f"  {what:14} {bs.mb(size):>10}  {secs:6.1f} s  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
