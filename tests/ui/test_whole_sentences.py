"""No user-facing text is built by joining translated pieces: a translator sees whole
sentences with placeholders ("{name}: {message}"), never fragments glued together in code
(English word order, spaces and ", " between Chinese sentences). Checked on the source of
onedrive_gui/ui and onedrive_gui/cli: `+`, `+=`, f-strings and `sep.join(...)` that take a
translated text (`_()`, `ngettext()`, an error's title/message/hint, a variable holding one,
or a helper that returns one) are refused; line breaks and HTML block tags between whole
sentences are layout, not text, and are allowed."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TRANSLATE = {"_", "ngettext"}
ERROR_TEXTS = {"title", "message", "hint"}  # AppError's fields: translated in the core
# ui/ helpers that return translated text
HELPERS = {"files", "uploads", "status_line", "short_state", "duration", "state_text",
           "summary", "error_text", "limits_text", "drive_type_label"}
# between whole sentences: a line break or an HTML block (a space or ", " is text: Chinese
# puts none between sentences); or the gap between a table's columns
LAYOUT = re.compile(r"\s*((\n|<br>|</?(p|ol|ul|li|table|tr|td|th)( [^<>]*)?>)\s*)+| {2,}")


def _is_layout(node: ast.AST) -> bool:
    return (isinstance(node, ast.Constant) and isinstance(node.value, str)
            and LAYOUT.fullmatch(node.value) is not None)


class _Scope(ast.NodeVisitor):
    def __init__(self, found: list[tuple[int, str]]) -> None:
        self.found = found
        self.names: set[str] = set()  # variables that hold a translated text

    def translated(self, node: ast.AST) -> bool:
        for n in ast.walk(node):
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and (
                    n.func.id in TRANSLATE or n.func.id in HELPERS):
                return True
            if isinstance(n, ast.Attribute) and n.attr in ERROR_TEXTS:
                return True
            if isinstance(n, ast.Name) and n.id in self.names:
                return True
        return False

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        inner = _Scope(self.found)
        for stmt in node.body:
            inner.visit(stmt)

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_Assign(self, node: ast.Assign) -> None:
        if self.translated(node.value):
            self.names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        if isinstance(node.op, ast.Add) and not _is_layout(node.value) and (
                self.translated(node.value) or self.translated(node.target)):
            self.found.append((node.lineno, "+="))
        self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        if (isinstance(node.op, ast.Add) and not (_is_layout(node.left) or _is_layout(node.right))
                and (self.translated(node.left) or self.translated(node.right))):
            self.found.append((node.lineno, "+"))
        self.generic_visit(node)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        values = [v for v in node.values if isinstance(v, ast.FormattedValue)]
        texts = [v for v in node.values if not isinstance(v, ast.FormattedValue)]
        indented = len(values) == 1 and all(  # one text, indented: nothing joined
            isinstance(t, ast.Constant) and not str(t.value).strip() for t in texts)
        if (any(self.translated(v.value) for v in values) and not indented
                and not all(_is_layout(t) for t in texts)):
            self.found.append((node.lineno, "f-string"))
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        f = node.func
        if (isinstance(f, ast.Attribute) and f.attr == "join" and not _is_layout(f.value)
                and any(self.translated(a) for a in node.args)):
            self.found.append((node.lineno, "join"))
        self.generic_visit(node)


def joined_texts(source: str) -> list[tuple[int, str]]:
    """(line, how) of every text built by joining translated pieces in *source*."""
    found: list[tuple[int, str]] = []
    _Scope(found).visit(ast.parse(source))
    return sorted(found)


def _sources() -> list[Path]:
    return sorted([*(ROOT / "onedrive_gui" / "ui").rglob("*.py"),
                   *(ROOT / "onedrive_gui" / "cli").rglob("*.py")])


PLANTED = [
    'label.setText(_("Signed in as {who}").format(who=who) + f" ({mail}).")',
    'text = ngettext("{n} file", "{n} files", n).format(n=n)\ntext += ", " + speed',
    'note.setText(f"{err.message} {err.hint}")',
    'tip = ", ".join(_(w) for w in words)',
    'text = _("a") if x else _("b")\ntext += " " + _("c")',
    'def f(status):\n    return status_line("a", status) + " — " + extra',
]
WHOLE = [
    'label.setText(_("Signed in as {who} ({mail}).").format(who=who, mail=mail))',
    'note.setText(_("{message} {hint}").format(message=err.message, hint=err.hint))',
    'box.setText("\\n".join(lines))',
    'parts = [_("<b>{title}</b>").format(title=t)]\nhtml = "<br>".join(parts)',
    'path = f"{base}/{name}"',
    'print(f"  {err.message}")',
    'print("  ".join(cells(row)))',
]


@pytest.mark.parametrize("source", PLANTED)
def test_the_check_catches_a_joined_text(source: str) -> None:
    assert joined_texts(source)


@pytest.mark.parametrize("source", WHOLE)
def test_the_check_allows_whole_sentences_and_layout(source: str) -> None:
    assert joined_texts(source) == []


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_text_is_joined_from_translated_pieces(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    found = [f"{path.relative_to(ROOT)}:{n}: {how}: {lines[n - 1].strip()}"
             for n, how in joined_texts(path.read_text(encoding="utf-8"))]
    assert not found, "\n".join(found)
