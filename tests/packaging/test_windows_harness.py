"""The test harness as it runs on the Windows runner, checked here where there is no Windows:
the scan for POSIX-only calls in the tests the Windows workflow runs (and that it catches a
planted one), the stand-in programs (an .exe on Windows), and how the test CA is trusted
there (the machine's Root store: Go before 1.27 and truststore ignore SSL_CERT_FILE)."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import ssl
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import WINDOWS_SKIP_TESTS, WINDOWS_SKIPS
from tests.packaging.conftest import REPO
from tests.posix_scan import files_run_on_windows, scan
from tests.stand_ins import printing_program, python_program

WINDOWS_YML = REPO / ".github" / "workflows" / "windows.yml"


def _windows_pytest_roots() -> list[str]:
    """The test folders/files the Windows workflow's pytest steps run."""
    roots: list[str] = []
    for line in re.findall(r"python -m pytest ([^\n]+)", WINDOWS_YML.read_text("utf-8")):
        roots += [w.split("::")[0] for w in line.split() if w.startswith("tests/")]
    return roots


def test_no_posix_only_call_in_the_tests_windows_runs() -> None:
    roots = _windows_pytest_roots()
    assert roots and all((REPO / r).exists() for r in roots), roots
    files = files_run_on_windows(REPO, roots)
    assert REPO / "tests" / "e2e" / "cli_helpers.py" in files
    assert REPO / "tests" / "fakecloud" / "cloud.py" in files
    hits = scan(files, REPO, WINDOWS_SKIP_TESTS, WINDOWS_SKIPS)
    assert hits == [], "\n".join(str(h) for h in hits) + (
        "\nskip these on Windows in tests/conftest.py (with the reason), or make them portable")


PLANTED = '''\
import os, signal, subprocess, sys
import pytest

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux")


def test_planted(tmp_path):
    assert os.getpgid(0) > 0


def test_planted_kill(tmp_path):
    p = subprocess.Popen(["sleep", "5"])
    p.send_signal(signal.SIGINT)


def helper(path):
    path.chmod(0o700)


def test_listed():
    os.kill(999_999_999, signal.SIGKILL)


def test_on_fuse(fuse):
    open("/proc/self/mountinfo").read()


@pytest.fixture
def rig(fuse):
    return "/dev/fuse"


def test_on_rig(rig):
    assert os.getuid() >= 0


@linux
def test_marked():
    open("/proc/self/mountinfo").read()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX")
def test_skipif():
    os.setsid()


def test_branch():
    if sys.platform != "win32":
        os.killpg(0, 0)
    # a comment about /proc/ and SIGKILL is not a call


def test_declared():
    os.getpgid(0)  # posix-only: never reached on Windows (the caller is skipped)
'''


def test_the_scan_catches_a_planted_posix_only_call(tmp_path: Path) -> None:
    planted = tmp_path / "tests" / "core" / "test_planted.py"
    planted.parent.mkdir(parents=True)
    planted.write_text(PLANTED, encoding="utf-8")
    skip_tests = {"tests/core/test_planted.py::test_listed": "listed"}
    hits = scan([planted], tmp_path, skip_tests, ["fuse"])
    assert [(h.scope, h.line) for h in hits] == [
        ("test_planted", 8), ("test_planted_kill", 13), ("helper", 17)]
    assert "process groups" in hits[0].why and "SIGINT" in hits[1].why
    assert "file modes" in hits[2].why
    # listed whole module: nothing
    assert scan([planted], tmp_path, {"tests/core/test_planted.py": "x"}, ["fuse"]) == []


def test_the_scan_reads_the_files_windows_runs(tmp_path: Path) -> None:
    """A planted call in a new file under a folder Windows runs is found among the real
    ones (which are clean): a copy of those files, the planted one added."""
    roots = _windows_pytest_roots()
    for f in files_run_on_windows(REPO, roots):
        copy = tmp_path / f.relative_to(REPO)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f, copy)
    planted = tmp_path / roots[0] / "test_zz_planted.py"
    planted.write_text(PLANTED, encoding="utf-8")
    hits = scan(files_run_on_windows(tmp_path, roots), tmp_path, WINDOWS_SKIP_TESTS,
                WINDOWS_SKIPS)
    assert {h.path for h in hits} == {planted.relative_to(tmp_path).as_posix()}
    assert len(hits) == 4  # (test_listed is not in the real skip table)


# --- stand-in programs ------------------------------------------------------------------


def test_a_stand_in_runs_by_path_without_a_shell(tmp_path: Path) -> None:
    program = python_program(tmp_path / "echo-args",
                             "import sys\nprint('|'.join(sys.argv[1:]))\nsys.exit(7)\n")
    done = subprocess.run([str(program), "a b", "--x=1"], capture_output=True, text=True,
                          timeout=60, check=False)
    assert (done.returncode, done.stdout) == (7, "a b|--x=1\n")
    fake = printing_program(tmp_path / "rclone", "rclone v1.80.1", "- os/type: linux", code=3)
    done = subprocess.run([str(fake), "version"], capture_output=True, text=True, timeout=60,
                          check=False)
    assert (done.returncode, done.stdout) == (3, "rclone v1.80.1\n- os/type: linux\n")


def test_the_windows_stand_in_is_a_console_exe_running_this_python(tmp_path: Path) -> None:
    """What Windows gets: pip's console launcher (a PE), the #! line naming this Python, and
    the code as the zip's __main__.py. The launcher runs `<python> <the exe> args`; that part
    (Python running the exe as a zip) is run here."""
    exe = python_program(tmp_path / "browser", "import sys\nprint('opened', sys.argv[1])\n",
                         windows=True)
    assert exe.name == "browser.exe"
    data = exe.read_bytes()
    assert data[:2] == b"MZ" and b"PE\0\0" in data[:1024]
    shebang = f'#!"{sys.executable}"\r\n'.encode()
    assert shebang in data
    with zipfile.ZipFile(exe) as zf:
        assert zf.namelist() == ["__main__.py"]
    assert data.index(shebang) + len(shebang) == data.index(b"PK\x03\x04")
    done = subprocess.run([sys.executable, str(exe), "https://login.example/x"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, done.stdout) == (0, "opened https://login.example/x\n")


# --- the test CA on Windows -------------------------------------------------------------


def test_windows_trusts_the_test_ca_in_the_machine_root_store_and_removes_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.fakecloud import cloud

    ca = tmp_path / "fakecloud-ca.pem"
    ca.write_bytes(cloud._certs()[0])
    thumbprint = hashlib.sha1(ssl.PEM_cert_to_DER_cert(ca.read_text())).hexdigest()
    log = tmp_path / "certutil.log"
    bindir = tmp_path / "bin"
    bindir.mkdir()
    python_program(bindir / "certutil", "import sys\n"
                   f"open({str(log)!r}, 'a').write(' '.join(sys.argv[1:]) + '\\n')\n")
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(cloud, "_trusted", set())

    assert not cloud.trust_test_ca(ca, windows=False)  # Linux: the CA-bundle variables
    assert not log.exists()
    at_exit: list[tuple[object, ...]] = []
    assert cloud.trust_test_ca(ca, windows=True, at_exit=lambda *a, **k: at_exit.append(a))
    assert log.read_text() == f"-f -addstore Root {ca}\n"
    assert not cloud.trust_test_ca(ca, windows=True, at_exit=lambda *a, **k: at_exit.append(a))
    [(run, remove)] = at_exit  # once per process, removed when it exits
    run(remove, check=True)  # type: ignore[operator]
    assert log.read_text().splitlines()[1] == f"-delstore Root {thumbprint}"


def test_without_administrator_rights_the_tests_say_so(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.fakecloud import cloud

    ca = tmp_path / "ca.pem"
    ca.write_bytes(cloud._certs()[0])
    bindir = tmp_path / "bin"
    bindir.mkdir()
    printing_program(bindir / "certutil", "CertUtil: -addstore command FAILED: 0x80070005",
                     code=5)
    monkeypatch.setenv("PATH", str(bindir))
    monkeypatch.setattr(cloud, "_trusted", set())
    with pytest.raises(RuntimeError, match="run the tests as administrator"):
        cloud.trust_test_ca(ca, windows=True, at_exit=lambda *a, **k: None)
