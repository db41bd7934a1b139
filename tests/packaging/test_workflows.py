"""The GitHub workflows (.github/workflows/): actionlint and zizmor clean, actions pinned by
commit SHA, and the pins shared with the packaging code agree. Fast; offline."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.packaging.conftest import REPO, bs

WORKFLOWS = REPO / ".github" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.yml"))


def _tool(name: str) -> str:
    """The linters come with the test extra (pyproject): next to this Python, or on PATH."""
    here = Path(sys.executable).parent / name
    found = str(here) if here.is_file() else shutil.which(name)
    assert found, f"{name} is not installed: pip install -e '.[test]'"
    return found


def _run(tool: str, *args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([_tool(tool), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, check=False)


def test_there_are_workflows() -> None:
    assert {f.name for f in FILES} >= {"linux.yml", "release.yml", "windows.yml"}


def test_actionlint_finds_nothing() -> None:
    out = _run("actionlint", "-no-color", *[str(f) for f in FILES])
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout == ""


def test_zizmor_finds_nothing() -> None:
    out = _run("zizmor", "--offline", "--no-progress", str(WORKFLOWS))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "No findings to report" in out.stdout + out.stderr


def test_the_linters_do_find_problems(tmp_path: Path) -> None:
    """Both tools are live: a workflow with an unpinned action, credentials left in the
    checkout and an expression injected into a shell fails both."""
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(
        "name: bad\non: [issues]\npermissions: {}\njobs:\n  j:\n    runs-on: ubuntu-24.04\n"
        "    steps:\n      - uses: actions/checkout@v4\n"
        "      - run: echo \"${{ github.event.issue.title }}\"\n"
        "      - run: echo ${{ steps.nope.outputs.x }\n",
        encoding="utf-8")
    lint = _run("actionlint", "-no-color", str(bad), cwd=tmp_path)
    assert lint.returncode != 0 and "bad.yml" in lint.stdout
    ziz = _run("zizmor", "--offline", "--no-progress", str(bad.parent), cwd=tmp_path)
    assert ziz.returncode != 0
    assert "template-injection" in ziz.stdout + ziz.stderr


USES = re.compile(r"^\s*-?\s*uses:\s*(?P<ref>\S+)(?P<rest>.*)$", re.MULTILINE)


@pytest.mark.parametrize("wf", FILES, ids=[f.name for f in FILES])
def test_every_action_is_pinned_by_commit_sha_with_its_version(wf: Path) -> None:
    uses = list(USES.finditer(wf.read_text(encoding="utf-8")))
    assert uses
    for m in uses:
        if m.group("ref").startswith("$/"):  # this repository's own workflow, same commit
            continue
        action, _, ref = m.group("ref").partition("@")
        assert re.fullmatch(r"[0-9a-f]{40}", ref), f"{wf.name}: {m.group(0).strip()}"
        assert re.fullmatch(r"\s*# v\d+\.\d+\.\d+", m.group("rest")), \
            f"{wf.name}: {action} needs a '# vX.Y.Z' comment"


def test_one_sha_per_action_across_workflows() -> None:
    refs: dict[str, set[str]] = {}
    for wf in FILES:
        for m in USES.finditer(wf.read_text(encoding="utf-8")):
            if m.group("ref").startswith("$/"):
                continue
            action, _, ref = m.group("ref").partition("@")
            refs.setdefault(action, set()).add(ref + m.group("rest").strip())
    assert {a: r for a, r in refs.items() if len(r) > 1} == {}


@pytest.mark.parametrize("name", ["windows.yml"])
def test_workflows_pin_the_winfsp_of_bundle_support(name: str) -> None:
    text = (WORKFLOWS / name).read_text(encoding="utf-8")
    assert f"WINFSP_URL: {bs.WINFSP_URL}\n" in text
    assert f"WINFSP_SHA256: {bs.WINFSP_SHA256}\n" in text
    assert "sha256sum -c" in text or "Get-FileHash" in text


def test_windows_ci_runs_on_every_push_on_windows_2022() -> None:
    text = (WORKFLOWS / "windows.yml").read_text(encoding="utf-8")
    assert re.search(r'^on:\n  push:\n    branches: \["\*\*"\].*\n  pull_request:\n'
                     r"  workflow_call:\n", text, re.MULTILINE)
    assert "runs-on: windows-2022" in text
    for step in ("python -m pytest tests/core -ra",
                 "python -m pytest tests/ui tests/e2e -ra",
                 "python packaging/build.py --no-installer",
                 "ONEDRIVE_GUI_E2E_CLI",
                 "--installer --payload payload",
                 "quit --timeout 60"):
        assert step in text, step
    assert re.search(r'\\onedrive-gui-cli\.exe"? --self-test', text)


# --- steps, read without a YAML library: a step is a "- " item under "steps:" --------------


def _jobs(text: str) -> dict[str, str]:
    """Job name -> its text (the jobs are the 2-space keys under "jobs:")."""
    body = text.split("\njobs:\n", 1)[1]
    parts = re.split(r"^  ([\w-]+):\n", body, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def _steps(job: str) -> list[str]:
    m = re.search(r"^(\s+)steps:\n", job, re.MULTILINE)
    if m is None:
        return []
    indent = m.group(1) + "  "
    steps = re.split(rf"^{indent}- ", job[m.end():], flags=re.MULTILINE)
    return [s for s in steps[1:] if s.strip()]


ALL_STEPS = [(wf.name, job, step) for wf in FILES
             for job, text in _jobs(wf.read_text(encoding="utf-8")).items()
             for step in _steps(text)]


def test_the_step_reader_reads_every_step() -> None:
    windows = _jobs((WORKFLOWS / "windows.yml").read_text(encoding="utf-8"))
    assert set(windows) == {"test", "freeze", "installer", "install"}
    assert len(_steps(windows["freeze"])) == 10
    assert sum(1 for wf, _j, _s in ALL_STEPS if wf == "release.yml") == 5


@pytest.mark.parametrize(("wf", "job", "step"), ALL_STEPS,
                         ids=[f"{w}:{j}:{s.splitlines()[0][:50]}" for w, j, s in ALL_STEPS])
def test_every_step_has_a_time_limit(wf: str, job: str, step: str) -> None:
    """A hung step ends at its own limit, not after the job's (or GitHub's six hours)."""
    assert re.search(r"^\s*timeout-minutes: \d+$", step, re.MULTILINE), step


def test_every_job_has_a_time_limit_and_the_windows_tests_fit_in_30_minutes() -> None:
    for wf in FILES:
        for name, job in _jobs(wf.read_text(encoding="utf-8")).items():
            assert "timeout-minutes:" in job or "uses: $/" in job, f"{wf.name}: {name}"
    windows = _jobs((WORKFLOWS / "windows.yml").read_text(encoding="utf-8"))
    pytest_steps = [s for j in ("test", "freeze") for s in _steps(windows[j])
                    if "python -m pytest" in s]
    assert len(pytest_steps) == 3
    for step in pytest_steps:
        limit = int(re.search(r"timeout-minutes: (\d+)", step).group(1))  # type: ignore[union-attr]
        assert limit <= 30, step


PWSH_STRICT = ("$ErrorActionPreference = 'Stop'\n",
               "$PSNativeCommandUseErrorActionPreference = $true\n")


def test_every_powershell_step_stops_at_the_first_failing_command() -> None:
    """GitHub's pwsh wrapper fails a step only on the last command's exit code: a failed
    hash-locked install followed by another install would pass."""
    checked = 0
    for wf in FILES:
        for name, job in _jobs(wf.read_text(encoding="utf-8")).items():
            if "shell: pwsh" not in job:
                continue
            for step in _steps(job):
                run = re.search(r"run: \|\n((?:\s+.*\n?)*)", step)
                if run is None:
                    assert "run:" not in step, step
                    continue
                lines = [ln.strip() + "\n" for ln in run.group(1).splitlines() if ln.strip()]
                assert tuple(lines[:2]) == PWSH_STRICT, f"{wf.name}: {name}: {step[:80]}"
                checked += 1
    assert checked >= 12


def test_bash_steps_stop_at_the_first_failing_command_too() -> None:
    for wf, job, step in ALL_STEPS:
        run = re.search(r"run: \|\n((?:\s+.*\n?)*)", step)
        text = (WORKFLOWS / wf).read_text(encoding="utf-8")
        if run is None or "shell: pwsh" in _jobs(text)[job]:
            continue
        assert run.group(1).strip().startswith("set -e"), f"{wf}: {job}: {step[:80]}"


def test_winfsp_restart_required_counts_as_installed() -> None:
    text = (WORKFLOWS / "windows.yml").read_text(encoding="utf-8")
    installs = re.findall(r"if \(\$p\.ExitCode -notin ([\d, ]+)\) \{ throw \"WinFsp", text)
    assert installs == ["0, 3010", "0, 3010"]


def test_the_release_ships_only_what_the_linux_and_windows_tests_passed() -> None:
    release = _jobs((WORKFLOWS / "release.yml").read_text(encoding="utf-8"))
    assert release["linux"].strip() == "uses: $/.github/workflows/linux.yml"
    assert release["windows"].strip() == "uses: $/.github/workflows/windows.yml"
    assert re.search(r"needs: \[linux, windows\]", release["release"])
    attach = release["release"]
    for what in ("onedrive-gui-*-setup.exe", "SHA256SUMS.txt", "self-test.txt",
                 "onedrive-gui-*-windows-*.zip", "sha256sum -c SHA256SUMS.txt"):
        assert what in attach, what
    for called in ("linux.yml", "windows.yml"):
        assert re.search(r"^  workflow_call:\n",
                         (WORKFLOWS / called).read_text(encoding="utf-8"), re.MULTILINE)
    windows = _jobs((WORKFLOWS / "windows.yml").read_text(encoding="utf-8"))
    # the installer is built from the frozen payload only once the Windows tests passed
    assert re.search(r"needs: \[test, freeze\]", windows["installer"])
    assert "sha256sum onedrive-gui-*-setup.exe > SHA256SUMS.txt" in windows["installer"]
    assert "Tee-Object -FilePath dist\\self-test.txt" in windows["freeze"]
    # the build uses the lock alone: the test tools come after it
    freeze = windows["freeze"]
    assert freeze.index("packaging/build.py --no-installer") < freeze.index('".[test]"')
    assert "pip install --no-deps --no-build-isolation .\n" in freeze


def test_windows_skip_list_names_real_tests() -> None:
    """tests/conftest.py skips these on Windows, with a reason; a renamed test must not leave a
    stale entry (nor skip anything on Linux: the marker is skipif win32)."""
    from tests.conftest import WINDOWS_SKIP_TESTS, WINDOWS_SKIPS

    for node, why in WINDOWS_SKIP_TESTS.items():
        path, _, name = node.partition("::")
        assert (REPO / path).is_file(), node
        if name:
            assert f"def {name}(" in (REPO / path).read_text(encoding="utf-8"), node
        assert why
    fixtures = {"fuse": "tests/core/conftest.py", "frozen_app": "tests/packaging/conftest.py",
                "makensis": "tests/packaging/conftest.py", "wine": "tests/packaging/conftest.py"}
    assert set(WINDOWS_SKIPS) == set(fixtures)
    for name, where in fixtures.items():
        assert f"def {name}(" in (REPO / where).read_text(encoding="utf-8"), name


def test_windows_skip_reasons() -> None:
    from types import SimpleNamespace

    from tests.conftest import _windows_skip_reason

    def item(nodeid: str, *fixtures: str) -> SimpleNamespace:
        return SimpleNamespace(nodeid=nodeid, fixturenames=list(fixtures))

    assert "FUSE" in (_windows_skip_reason(item("tests/core/test_mounts.py::test_x[a]", "fuse"))
                      or "")
    assert "/proc" in (_windows_skip_reason(item("tests/e2e/test_security.py::test_y[1-2]"))
                       or "")
    assert _windows_skip_reason(item(
        "tests/e2e/test_bad_input_cli.py::test_add_mount_points[x]")) is not None
    assert _windows_skip_reason(item("tests/e2e/test_bad_input_cli.py::test_add_names")) is None
    assert _windows_skip_reason(item("tests/core/test_selftest.py::test_z", "tmp_path")) is None
