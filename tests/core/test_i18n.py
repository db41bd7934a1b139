"""Translations: the catalogue is complete and current, and the language is chosen as a user
expects (Settings, then the environment, then — on Windows — the display language)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from onedrive_gui.core import i18n

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("i18n_script", REPO / "scripts" / "i18n.py")
assert _spec is not None and _spec.loader is not None
script = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(script)

ZH_PO = i18n.LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "onedrive_gui.po"


@pytest.fixture
def english():
    """Leave the process in English whatever a test installed."""
    yield
    i18n.install(["en"])


def _ids(catalog) -> set:
    return {m.id if isinstance(m.id, str) else tuple(m.id) for m in catalog if m.id}


def test_every_string_in_the_source_has_a_chinese_translation_with_its_placeholders():
    source = script.extract_catalog()
    zh = script._read_po(ZH_PO, locale="zh_CN")
    assert len(source) > 900  # the whole app goes through the catalogue
    problems = []
    for m in source:
        if not m.id:
            continue
        t = zh.get(m.id)
        if t is None or not t.string or t.fuzzy:
            problems.append(f"untranslated: {m.id!r}")
            continue
        if isinstance(m.id, (list, tuple)):
            strings = t.string if isinstance(t.string, (list, tuple)) else [t.string]
            if len(strings) != zh.num_plurals or not all(strings):
                problems.append(f"plural forms missing: {m.id!r}")
            # each form keeps the placeholders of the plural msgid ({n} and the rest)
            want = script.placeholders(m.id[1])
            problems += [f"placeholders differ: {m.id!r} -> {s!r}" for s in strings
                         if script.placeholders(s) != want]
        elif script.placeholders(m.id) != script.placeholders(t.string):
            problems.append(f"placeholders differ: {m.id!r} -> {t.string!r}")
    assert not problems, "\n".join(problems[:30])


def test_the_template_and_the_compiled_catalogue_are_current():
    """The committed .pot lists what the source marks, and the .mo is the compiled .po
    (run `python scripts/i18n.py all` after changing strings)."""
    assert _ids(script._read_po(script.POT)) == _ids(script.extract_catalog())
    for po in script.po_files():
        assert po.with_suffix(".mo").read_bytes() == script.mo_bytes(po), (
            f"{po.with_suffix('.mo')} is stale: python scripts/i18n.py compile")


def test_placeholders_are_named():
    """Translators can reorder: no positional {} or %s in any message."""
    argparse_own = "onedrive_gui/cli/argparse_text.py"  # argparse's message ids, as they are
    bad = [m.id for m in script.extract_catalog() if m.id
           and not any(f == argparse_own for f, _line in m.locations)
           for text in ([m.id] if isinstance(m.id, str) else m.id)
           if "{}" in text or "%s" in text or "%d" in text]
    assert not bad


def test_argparse_speaks_the_catalogue_language(monkeypatch, capsys, english):
    """argparse's own words (usage:, options, its errors) come from the catalogue too."""
    from onedrive_gui.cli import run

    monkeypatch.setenv("LANGUAGE", "zh_CN")
    with pytest.raises(SystemExit) as exit_:
        run(["add"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("用法：onedrive-gui add")
    assert "错误：缺少以下必需参数：" in err
    with pytest.raises(SystemExit):
        run(["--help"])
    out = capsys.readouterr().out
    assert "选项" in out and "显示此帮助信息并退出" in out


def test_chinese_from_the_environment(monkeypatch, english):
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert i18n.install() == "zh_CN"
    assert i18n._("Not a client ID") == "不是客户端 ID"
    assert i18n.ngettext("{n} file", "{n} files", 3).format(n=3) == "3 个文件"
    monkeypatch.setenv("LANGUAGE", "zh_CN")
    monkeypatch.setenv("LANG", "C.UTF-8")
    assert i18n.install() == "zh_CN"


@pytest.mark.parametrize("env", [{"LANG": "C.UTF-8"}, {"LANG": "de_DE.UTF-8"},
                                 {"LANGUAGE": "en_GB:zh_CN", "LANG": "zh_CN.UTF-8"}, {}],
                         ids=["C", "no-catalogue", "english-first", "unset"])
def test_english_when_no_catalogue_matches_or_english_comes_first(monkeypatch, english, env):
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert i18n.install() == "en"
    assert i18n._("Not a client ID") == "Not a client ID"


def test_settings_choice_wins_over_the_system(monkeypatch, english):
    monkeypatch.setenv("LANGUAGE", "zh_CN")
    assert i18n.install(i18n.languages_for("en")) == "en"
    monkeypatch.setenv("LANGUAGE", "en")
    assert i18n.install(i18n.languages_for("zh_CN")) == "zh_CN"
    assert i18n.languages_for("") is None  # "System default" on Linux: the environment


@pytest.mark.parametrize(("tag", "expected"), [
    ("zh-Hans-CN", "zh_CN"), ("zh-CN", "zh_CN"), ("zh-Hans", "zh_CN"), ("zh", "zh_CN"),
    ("zh-Hant-TW", "zh_TW"), ("zh-Hant", "zh_TW"), ("en-US", "en_US"), ("de", "de"),
    ("pt-BR", "pt_BR")])
def test_windows_and_qt_language_tags(tag, expected):
    assert i18n.gettext_language(tag) == expected


def test_windows_follows_the_display_language_unless_the_environment_says(english):
    ui = lambda: ["zh-Hans-CN", "en-US"]  # noqa: E731 - QLocale.system().uiLanguages()
    langs = i18n.system_languages(platform="win32", environ={}, ui_languages=ui)
    assert langs == ["zh_CN", "en_US"]
    assert i18n.install(langs) == "zh_CN"
    assert i18n.system_languages(platform="win32", environ={"LANG": "en_US"},
                                 ui_languages=ui) is None
    assert i18n.system_languages(platform="linux", environ={}, ui_languages=ui) is None
    assert i18n.install(i18n.system_languages(
        platform="win32", environ={}, ui_languages=lambda: ["en-US", "zh-CN"])) == "en"


def test_nothing_is_translated_at_import_time(tmp_path):
    """Module constants are marked with N_ and translated where shown: importing every
    module with a catalogue installed leaves them in English."""
    localedir = tmp_path / "locale"
    script.pseudo(localedir)
    code = f"""
import importlib, pkgutil, sys
from pathlib import Path
import onedrive_gui
from onedrive_gui.core import i18n
assert i18n.install(["zz"], localedir=Path({str(localedir)!r})) == "zz"
bad = []
for mod in pkgutil.walk_packages(onedrive_gui.__path__, "onedrive_gui."):
    if mod.name.endswith("__main__"):
        continue
    try:
        m = importlib.import_module(mod.name)
    except ImportError:
        continue  # a platform's module (winreg, ...)
    def walk(value, where):
        if isinstance(value, str):
            if "{script.PSEUDO_OPEN}" in value:
                bad.append(where)
        elif isinstance(value, (list, tuple, set, frozenset)):
            for v in value:
                walk(v, where)
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(k, where)
                walk(v, where)
    for name, value in vars(m).items():
        walk(value, mod.name + "." + name)
print("\\n".join(bad))
sys.exit(1 if bad else 0)
"""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, env=env, cwd=REPO, check=False)
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_cli_explains_errors_through_the_catalogue(tmp_path, monkeypatch, capsys, english):
    """A sample of command-line errors with a pseudo catalogue (every string ⟦…⟧): every line
    the user reads came from the catalogue."""
    from onedrive_gui.cli import run

    localedir = tmp_path / "locale"
    script.pseudo(localedir)
    monkeypatch.setattr(i18n, "LOCALE_DIR", localedir)
    monkeypatch.setenv("LANGUAGE", "zz")
    monkeypatch.setenv("ONEDRIVE_GUI_CONFIG_DIR", str(tmp_path / "cfg"))
    cases = [
        (["add", "work", "--client-id", "nope"], 2),
        (["add", "work!", "--client-id", "3f1c2b7a-9d4e-4c61-8a0b-5e2f7d9c1a44"], 2),
        (["authorize", "--client-id", "3f1c2b7a-9d4e-4c61-8a0b-5e2f7d9c1a44", "--tenant",
          "not a tenant"], 2),
        (["add", "work", "--client-id", "3f1c2b7a-9d4e-4c61-8a0b-5e2f7d9c1a44", "--cloud",
          "mars"], 2),
        (["rclone"], 2),
    ]
    for argv, code in cases:
        assert run(argv) == code, argv
        err = capsys.readouterr().err
        lines = [line for line in err.splitlines() if line.strip()]
        assert lines, argv
        outside = [line for line in lines if script.PSEUDO_OPEN not in line]
        assert not outside, (argv, outside)


def test_a_paragraph_and_a_list_of_names_read_as_chinese(english):
    """What the app tells after a crash: in Chinese no space between sentences and the names
    listed with 、 (the translator's choice), in English as before."""
    from onedrive_gui.core.drives.recovery import LeftMount, Leftovers

    left = Leftovers([LeftMount("work", "/m/work", 0)], [4242], ["/m/work", "/m/home"])
    assert left.describe(["work"], []).endswith(
        "upload. The rclone it left running was stopped. Broken mounts were removed from "
        "/m/work, /m/home.")
    i18n.install(["zh_CN"])
    text = left.describe(["work"], [])
    assert "。它遗留的 rclone" in text and "/m/work、/m/home" in text and ". " not in text
