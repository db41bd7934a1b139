"""Finds POSIX-only calls in the tests that the Windows workflow runs, which no skip covers.

The Windows runner is the only place such a call would fail, and nobody here has Windows: so
the Linux suite reads the test files (tests/packaging/test_windows_harness.py) and names each
use of a POSIX-only facility (process groups, SIGKILL, /proc, file modes, ``#!`` scripts, ...)
that is not

- in a module or test listed in ``tests/conftest.py`` ``WINDOWS_SKIP_TESTS``;
- in a test or fixture that uses (or is) a fixture of ``WINDOWS_SKIPS``;
- under a ``skipif`` naming win32 (the test's decorator or the module's ``pytestmark``);
- inside an ``if``/``else`` branch, conditional expression or function that tests the
  platform (``sys.platform``, ``os.name``, a ``windows`` flag);
- on a line that says why it never runs on Windows: ``# posix-only: <reason>``.

A helper function (not a test, not a fixture) is checked like a test: a POSIX-only call in it
needs one of the guards above, unless it is module-private (``_name``) and every use of it is
in a covered test.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# what fails or means something else on Windows, and why
PATTERNS: dict[str, str] = {
    r"\bos\.getpgid\b|\bos\.killpg\b|\bos\.setsid\b|\bos\.setpgrp\b|\bgetpgid\(":
        "process groups do not exist on Windows",
    r"\bsignal\.SIG(KILL|HUP|USR1|USR2|QUIT|ALRM|CHLD|STOP|CONT)\b|[^.\w]SIGKILL\b":
        "no such signal on Windows",
    r"send_signal\((signal\.)?SIGINT\)|os\.kill\([^)]*SIGINT":
        "SIGINT cannot be sent to another process on Windows (it is TerminateProcess)",
    r"\bos\.(setuid|getuid|geteuid|setgid|getgid|chown|fork|getppid_is_init)\b|\bpwd\b\.":
        "POSIX users and processes",
    r"/proc/": "Windows has no /proc",
    r"\bpgrep\b|\bpkill\b|\bfusermount3?\b|/dev/fuse": "no such program or device on Windows",
    r"#!/bin/sh|#!/usr/bin/env\b": "Windows cannot run a #! script (WinError 193)",
    r"\.chmod\(|\bos\.chmod\b|\bS_IMODE\b|\bst_mode\b\s*&|\bS_IX(USR|GRP|OTH)\b":
        "Unix file modes (Windows has only the read-only flag)",
    r"\bpreexec_fn\b": "POSIX-only Popen argument (ValueError on Windows)",
    r"\bgnome-keyring|\bdbus-|\bDBUS_SESSION_BUS_ADDRESS\b": "Linux's keyring and D-Bus",
}
_COMPILED = [(re.compile(p), why) for p, why in PATTERNS.items()]
_PLATFORM_TEST = re.compile(r"sys\.platform|os\.name|platform\.system|\bwindows\b|WINDOWS|win32",
                            re.IGNORECASE)
_MARKER = "# posix-only:"


@dataclass(frozen=True)
class Hit:
    path: str  # relative to the repository, with /
    line: int
    scope: str  # Class::function or function, "" at module level
    text: str
    why: str

    def __str__(self) -> str:
        where = f"{self.path}::{self.scope}" if self.scope else self.path
        return f"{self.path}:{self.line} ({where}): {self.text.strip()} — {self.why}"


def _guarded_lines(tree: ast.AST) -> set[int]:
    """Lines inside a branch chosen by the platform (either side of the if)."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        test = None
        if isinstance(node, (ast.If, ast.IfExp, ast.While)):
            test = node.test
        elif isinstance(node, ast.Assert):
            continue
        if test is None or not _PLATFORM_TEST.search(ast.unparse(test)):
            continue
        end = getattr(node, "end_lineno", node.lineno) or node.lineno
        lines.update(range(node.lineno, end + 1))
    # `if <platform>: ...; return` at the top of a function: the rest is the other branch
    for func in ast.walk(tree):
        if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for stmt in func.body:
            if (isinstance(stmt, ast.If) and not stmt.orelse
                    and _PLATFORM_TEST.search(ast.unparse(stmt.test))
                    and isinstance(stmt.body[-1], (ast.Return, ast.Raise))):
                lines.update(range(stmt.lineno, (func.end_lineno or stmt.lineno) + 1))
                break
    return lines


def _text_lines(tree: ast.Module, path: str) -> set[int]:
    """Lines that are only text, never run: docstrings, and in tests/conftest.py the skip
    tables' reasons (module-level assignments of nothing but strings)."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            lines.update(range(body[0].lineno, (body[0].end_lineno or body[0].lineno) + 1))
    if path == "tests/conftest.py":
        for stmt in tree.body:
            if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None and all(
                    isinstance(n, (ast.Constant, ast.Dict, ast.Tuple, ast.Name, ast.Load,
                                   ast.BinOp, ast.Add, ast.JoinedStr, ast.FormattedValue))
                    for n in ast.walk(stmt.value)):
                lines.update(range(stmt.lineno, (stmt.end_lineno or stmt.lineno) + 1))
    return lines


def _code_only(source: str) -> list[str]:
    """The source's lines with comments blanked out (a ``# posix-only:`` reason stays)."""
    import io
    import tokenize

    lines = source.splitlines()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT and not tok.string.startswith(_MARKER):
            row, col = tok.start
            lines[row - 1] = lines[row - 1][:col]
    return lines


def fixtures_that_skip(trees: Iterable[ast.Module], skip_fixtures: Iterable[str]) -> set[str]:
    """The skipping fixtures and every fixture that uses one (each definition of a name must,
    when several files define it)."""
    uses: dict[str, list[set[str]]] = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
                    "fixture" in ast.unparse(d) for d in node.decorator_list):
                params = {a.arg for a in (*node.args.posonlyargs, *node.args.args,
                                          *node.args.kwonlyargs)}
                uses.setdefault(node.name, []).append(params)
    skipping = set(skip_fixtures)
    while True:
        more = {name for name, defs in uses.items()
                if name not in skipping and all(d & skipping for d in defs)}
        if not more:
            return skipping
        skipping |= more


def _platform_skip(text: str) -> bool:
    """A ``skipif`` that tests the platform (Windows or not Linux)."""
    return "skip" in text and bool(re.search(r"win32|sys\.platform|os\.name", text))


def _skip_marks(tree: ast.Module) -> set[str]:
    """Module-level names bound to such a ``skipif`` (``linux = pytest.mark.skipif(...)``)."""
    return {t.id for stmt in tree.body if isinstance(stmt, ast.Assign)
            and _platform_skip(ast.unparse(stmt.value))
            for t in stmt.targets if isinstance(t, ast.Name)}


def _skipped_on_windows(decorators: list[ast.expr], marks: set[str] = frozenset()  # type: ignore[assignment]
                        ) -> bool:
    return any(_platform_skip(text := ast.unparse(d)) or text in marks for d in decorators)


def _module_skipped(tree: ast.Module) -> bool:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets):
            if _platform_skip(ast.unparse(node.value)):
                return True
    return False


class _Scopes(ast.NodeVisitor):
    """For every line: the innermost function (and class) around it, and whether that scope
    is covered (skip listed, skipping fixture, skipif decorator, platform-named function)."""

    def __init__(self, module: str, skip_tests: dict[str, str], skip_fixtures: Iterable[str],
                 marks: set[str]) -> None:
        self.module = module
        self.marks = marks
        self.skip_tests = skip_tests
        self.skip_fixtures = set(skip_fixtures)
        self.scope: dict[int, tuple[str, bool]] = {}
        self._stack: list[tuple[str, bool]] = []

    def _visit_scope(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        outer_name, outer_covered = self._stack[-1] if self._stack else ("", False)
        name = f"{outer_name}::{node.name}" if outer_name else node.name
        covered = outer_covered or _skipped_on_windows(node.decorator_list, self.marks)
        covered = covered or f"{self.module}::{name}" in self.skip_tests
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            params = {a.arg for a in (*node.args.posonlyargs, *node.args.args,
                                      *node.args.kwonlyargs)}
            covered = covered or bool(params & self.skip_fixtures)
            covered = covered or node.name in self.skip_fixtures  # the skipping fixture itself
            covered = covered or bool(_PLATFORM_TEST.search(node.name))  # e.g. _posix_kill
        self._stack.append((name, covered))
        first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        for line in range(first, (node.end_lineno or node.lineno) + 1):
            self.scope[line] = (name, covered)
        self.generic_visit(node)
        self._stack.pop()

    visit_FunctionDef = _visit_scope
    visit_AsyncFunctionDef = _visit_scope
    visit_ClassDef = _visit_scope


def _cover_private_helpers(tree: ast.Module, scopes: _Scopes) -> None:
    """A module-private helper (``_name``, so no other module uses it) called only from
    covered tests is covered too."""
    helpers = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
               and n.name.startswith("_")]
    changed = True
    while changed:
        changed = False
        for node in helpers:
            name, covered = scopes.scope.get(node.lineno, ("", False))
            if covered:
                continue
            uses = [n.lineno for n in ast.walk(tree)
                    if isinstance(n, ast.Name) and n.id == node.name]
            if uses and all(scopes.scope.get(line, ("", False))[1] for line in uses):
                for line in range(node.lineno, (node.end_lineno or node.lineno) + 1):
                    scopes.scope[line] = (scopes.scope.get(line, (name, True))[0], True)
                changed = True


def scan_file(path: Path, repo: Path, skip_tests: dict[str, str],
              skip_fixtures: Iterable[str]) -> list[Hit]:
    module = path.relative_to(repo).as_posix()
    if module in skip_tests:
        return []
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    if _module_skipped(tree):
        return []
    scopes = _Scopes(module, skip_tests, skip_fixtures, _skip_marks(tree))
    scopes.visit(tree)
    _cover_private_helpers(tree, scopes)
    ignored = _guarded_lines(tree) | _text_lines(tree, module)
    hits = []
    for number, text in enumerate(_code_only(source), 1):
        if _MARKER in text or number in ignored:
            continue
        scope, covered = scopes.scope.get(number, ("", False))
        if covered:
            continue
        for pattern, why in _COMPILED:
            if pattern.search(text):
                hits.append(Hit(module, number, scope, text, why))
                break
    return hits


def scan(files: Iterable[Path], repo: Path, skip_tests: dict[str, str],
         skip_fixtures: Iterable[str]) -> list[Hit]:
    files = sorted(files)
    fixtures = fixtures_that_skip(
        (ast.parse(f.read_text(encoding="utf-8")) for f in files), skip_fixtures)
    return [hit for f in files for hit in scan_file(f, repo, skip_tests, fixtures)]


def files_run_on_windows(repo: Path, roots: Iterable[str]) -> list[Path]:
    """The Python files the Windows workflow's pytest runs or imports under *roots*, plus the
    shared helpers (tests/*.py, the emulated cloud)."""
    out: set[Path] = set()
    for root in roots:
        out.update((repo / root).rglob("*.py"))
    # imported by them: the emulated cloud (its own tests run on Linux only), the helpers
    out.update(p for p in (repo / "tests" / "fakecloud").glob("*.py")
               if not p.name.startswith("test_"))
    out.update((repo / "tests").glob("*.py"))
    return sorted(p for p in out if p.name != "posix_scan.py")
