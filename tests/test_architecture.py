"""The package's import rules and module sizes, read from the source (AST; nothing imported).

The layering (docs/interfaces.md, "Layers"; each core subpackage's ``__init__`` says its own):

* ``core/`` never imports Qt (PySide6, shiboken6) nor the UI, the command line or ``app``;
* the core's **app-wide modules** (errors, i18n, logging_setup, atomic, validation) import
  only each other; every core module may import them;
* the core's **subpackages** import downward only: system < microsoft < rclone < drives
  (a subpackage imports the app-wide modules, itself and the ones below it);
* the **top** of the core (settings, and the facades accounts, diagnostics, reminders,
  selftest) may import everything in the core; no subpackage imports it;
* the UI and the command line reach rclone only through the facade (``core.accounts``, its
  ``engine``); only the entry points (``__main__``, ``cli``) import ``onedrive_gui.app``.

A new module at the core's top level must be placed in one of these lists (a test says so).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "onedrive_gui"
CORE = "onedrive_gui.core"

APP_WIDE = {"errors", "i18n", "logging_setup", "atomic", "validation"}
SUBPACKAGES = ["system", "microsoft", "rclone", "drives"]  # bottom to top
TOP = {"settings", "accounts", "diagnostics", "reminders", "selftest"}
QT = ("PySide6", "shiboken6")
NOT_FROM_CORE = ("onedrive_gui.ui", "onedrive_gui.cli", "onedrive_gui.app",
                 "onedrive_gui.__main__")
ENTRY_POINTS = {"onedrive_gui.__main__", "onedrive_gui.cli"}
MAX_LINES = 700


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the module imported (a name from a package counts as its submodule)
    line: int

    def __str__(self) -> str:
        return f"{self.module}:{self.line} imports {self.target}"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[Import]:
    """Every import in the file, at any depth (the lazy ones inside functions too)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: list[Import] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out += [Import(name, a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            for a in node.names:  # "from onedrive_gui.core import diagnostics" is a module
                sub = f"{base}.{a.name}"
                out.append(Import(name, sub if _is_module(sub) else base, node.lineno))
    return out


def _is_module(dotted: str) -> bool:
    rel = Path(*dotted.split("."))
    return (PACKAGE.parent / rel).with_suffix(".py").is_file() \
        or (PACKAGE.parent / rel / "__init__.py").is_file()


FILES = sorted(PACKAGE.rglob("*.py"))
IMPORTS = [imp for f in FILES for imp in _imports(f)]


def _under(dotted: str, prefix: str) -> bool:
    return dotted == prefix or dotted.startswith(prefix + ".")


def _core_part(dotted: str) -> str | None:
    """``onedrive_gui.core.rclone.rc`` -> ``rclone``; ``onedrive_gui.core`` -> ``""``."""
    if not _under(dotted, CORE):
        return None
    rest = dotted[len(CORE) + 1:]
    return rest.split(".", 1)[0]


def test_the_rules_see_the_imports() -> None:
    """The rules below read real edges (an empty or wrong parse would pass them all)."""
    edges = {(i.module, i.target) for i in IMPORTS}
    assert ("onedrive_gui.core.rclone.engine", "onedrive_gui.core.system.secrets") in edges
    assert ("onedrive_gui.ui.log_window", "onedrive_gui.core.diagnostics") in edges
    assert ("onedrive_gui.cli", "onedrive_gui.app") in edges  # a lazy one, in a function
    assert any(_under(i.module, "onedrive_gui.ui") and i.target.startswith("PySide6.")
               for i in IMPORTS)


def test_every_core_module_has_its_place() -> None:
    """A module at the core's top level is app-wide, a subpackage or the top: say which."""
    core = PACKAGE / "core"
    found = {p.stem for p in core.glob("*.py") if p.name != "__init__.py"}
    found |= {p.name for p in core.iterdir() if (p / "__init__.py").is_file()}
    placed = APP_WIDE | set(SUBPACKAGES) | TOP
    assert found - placed == set(), "place it in tests/test_architecture.py and the docs"
    assert placed - found == set(), "listed here but gone from core/"


def test_core_never_imports_qt_nor_the_ui_cli_or_app() -> None:
    bad = [str(i) for i in IMPORTS if _under(i.module, CORE)
           and (i.target.split(".")[0] in QT or any(_under(i.target, n) for n in NOT_FROM_CORE))]
    assert bad == []


def test_app_wide_modules_import_only_each_other() -> None:
    bad = [str(i) for i in IMPORTS
           if _core_part(i.module) in APP_WIDE and _core_part(i.target) not in (None, *APP_WIDE)]
    assert bad == []


def test_core_subpackages_import_downward_only() -> None:
    bad = []
    for i in IMPORTS:
        src, dst = _core_part(i.module), _core_part(i.target)
        if src not in SUBPACKAGES or dst is None or dst in APP_WIDE:
            continue
        if dst not in SUBPACKAGES or SUBPACKAGES.index(dst) > SUBPACKAGES.index(src):
            bad.append(str(i))  # the top of the core, or a subpackage above
    assert bad == []


@pytest.mark.parametrize("sub", SUBPACKAGES)
def test_each_subpackage_says_what_it_owns_and_may_import(sub: str) -> None:
    """Its ``__init__`` docstring names its job and, in its "May import" sentence, exactly
    the subpackages below it (the app-wide modules go without saying)."""
    init = PACKAGE / "core" / sub / "__init__.py"
    doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
    assert len(doc.split()) >= 15, f"{init}: say what the subpackage owns"
    m = re.search(r"May import(.*?)(?:;|\.\s|\.$)", doc, re.S)
    assert m, f"{init}: no 'May import ...' sentence"
    named = set(re.findall(r"onedrive_gui\.core\.(\w+)", m.group(1)))
    assert named == set(SUBPACKAGES[:SUBPACKAGES.index(sub)])


def test_ui_and_cli_reach_rclone_through_the_facade() -> None:
    """The rclone engine's parts (binary, process, rc, remotes) stay behind
    ``core.accounts`` and its ``engine``."""
    bad = [str(i) for i in IMPORTS
           if (_under(i.module, "onedrive_gui.ui") or _under(i.module, "onedrive_gui.cli"))
           and _under(i.target, f"{CORE}.rclone")]
    assert bad == []


def test_only_the_entry_points_import_the_app() -> None:
    """``onedrive_gui.app`` composes the desktop app; starting it is the entry point's job."""
    bad = [str(i) for i in IMPORTS
           if _under(i.target, "onedrive_gui.app") and i.module not in ENTRY_POINTS]
    assert bad == []


def test_no_module_is_over_700_lines() -> None:
    """A module a reader can hold in mind: split a longer one along its concepts."""
    long = {str(f.relative_to(PACKAGE.parent)): n for f in FILES
            if (n := len(f.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}
