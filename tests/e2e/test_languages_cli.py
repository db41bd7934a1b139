"""The command line in the user's language: Simplified Chinese from the environment, with the
same exit codes; English when the environment asks for nothing the app has."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.cli_helpers import cli_env, files_under, run_cli

pytestmark = pytest.mark.e2e


def _env(**lang: str) -> dict[str, str]:
    env = cli_env()
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        env.pop(var, None)
    env.update(lang)
    return env


@pytest.mark.parametrize("lang", [{"LANGUAGE": "zh_CN"}, {"LANG": "zh_CN.UTF-8"},
                                  {"LC_ALL": "zh_CN.UTF-8"}], ids=["LANGUAGE", "LANG", "LC_ALL"])
def test_bad_client_id_explained_in_chinese(app_home: Path, lang: dict[str, str]) -> None:
    r = run_cli(["add", "work", "--client-id", "3f1c2b7a-9d4e-4c61-8a0b"], env=_env(**lang))
    assert r.returncode == 2
    assert "错误：不是客户端 ID" in r.stderr, r.stderr
    assert "“3f1c2b7a-9d4e-4c61-8a0b”不是“应用程序(客户端) ID”" in r.stderr
    assert "解决办法：请从 Azure 门户中应用的“概述”页复制“应用程序(客户端) ID”。" in r.stderr
    assert "Traceback" not in r.stderr
    assert files_under(app_home) == []


def test_help_in_chinese(app_home: Path) -> None:
    r = run_cli(["add", "--help"], env=_env(LANG="zh_CN.UTF-8"))
    assert r.returncode == 0
    assert "你的应用的“应用程序(客户端) ID”" in r.stdout


@pytest.mark.parametrize("lang", [{"LANG": "de_DE.UTF-8"}, {"LANG": "C.UTF-8"},
                                  {"LANGUAGE": "en_GB:zh_CN", "LANG": "zh_CN.UTF-8"}],
                         ids=["no-catalogue", "C", "english-first"])
def test_english_otherwise(app_home: Path, lang: dict[str, str]) -> None:
    r = run_cli(["add", "work", "--client-id", "nope"], env=_env(**lang))
    assert r.returncode == 2
    assert "Error: Not a client ID" in r.stderr, r.stderr


def test_list_in_chinese_keeps_its_columns_aligned(app_home: Path) -> None:
    """Chinese headers take two terminal columns a character: the table still lines up."""
    import unicodedata
    from datetime import date

    from onedrive_gui.core.settings import Account, AppSettings, SettingsStore
    from onedrive_gui.core.system.paths import AppPaths

    def cells(text: str) -> int:
        return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)

    SettingsStore(AppPaths.default().settings_file).save(AppSettings(accounts=[Account(
        name="work", client_id="3f1c2b7a-9d4e-4c61-8a0b-5e2f7d9c1a44",
        username="alice@outlook.com", drive_id="b!abc", drive_type="business",
        drive_name="OneDrive", mount_point=str(app_home / "OneDrive" / "work"),
        secret_expires=date(2027, 1, 31))]))
    r = run_cli(["list"], env=_env(LANGUAGE="zh_CN"))
    assert r.returncode == 0, r.stderr
    header, row = r.stdout.splitlines()[:2]
    assert header.startswith("名称") and "未挂载" in row
    for title, value in (("帐户", "alice@outlook.com"), ("驱动器", "OneDrive (business)"),
                         ("状态", "未挂载"), ("密码到期", "2027-01-31")):
        assert cells(header[:header.index(title)]) == cells(row[:row.index(value)]), title
