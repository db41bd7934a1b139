"""Bad arguments given to the real ``onedrive-gui`` command line: each is refused with a
message saying what to do and a non-zero exit, before any secret is read, any browser opened
or any network used.

The proxy points at a closed port and no secret is piped in: a command that got past its
argument checks would fail differently ("Client secret missing", "cannot reach Microsoft").
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from onedrive_gui.core.settings import Account, AppSettings, SettingsStore
from onedrive_gui.core.system.paths import AppPaths
from tests.e2e.cli_helpers import cli_env, run_cli
from tests.stand_ins import printing_program

pytestmark = pytest.mark.e2e

GUID = "3f1c2b7a-9d4e-4c61-8a0b-5e2f7d9c1a44"
YESTERDAY = (date.today() - timedelta(days=1)).isoformat()


@pytest.fixture
def env(app_home: Path) -> dict[str, str]:
    closed = "http://127.0.0.1:9"  # discard port: nothing listens there
    return cli_env({"HTTPS_PROXY": closed, "https_proxy": closed, "NO_PROXY": "",
                    "no_proxy": "", "BROWSER": "false"})


@pytest.fixture
def existing(app_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Accounts 'work' (on ~/OneDrive/work) and 'home' (on its default, ~/OneDrive/home),
    saved as the app saves them; the commands run in the home folder."""
    store = SettingsStore(AppPaths.default().settings_file)
    store.save(AppSettings(accounts=[
        Account(name="work", client_id=GUID, drive_id="d1", drive_type="personal",
                mount_point=str(app_home / "OneDrive" / "work")),
        Account(name="home", client_id=GUID, drive_id="d2", drive_type="personal")]))
    monkeypatch.chdir(app_home)
    return store.path


def refused(env: dict[str, str], args: list[str], *says: str, stdin: str = "",
            exit_code: int = 2) -> str:
    """Run the CLI; check it failed with *exit_code* (2: a bad value; 1: a mount point this
    computer cannot use) and *says* in its error output, printing nothing on stdout."""
    r = run_cli(args, env=env, stdin=stdin, timeout=60)
    assert r.returncode == exit_code, (r.returncode, r.stderr)
    assert r.stdout == ""
    for s in says:
        assert s in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
    assert "Contacting Microsoft" not in r.stderr  # nothing went to the network
    return r.stderr


# --- authorize ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "says"),
    [(["--client-id", ""], ["Error: Client ID missing", "Overview page"]),
     (["--client-id", "my-app"], ["Error: Not a client ID", "xxxxxxxx-xxxx"]),
     (["--client-id", "Xq8~fakeSecretValue.0123"], ["looks like a client secret"]),
     (["--client-id", "ä" * 300], ["Error: Not a client ID"]),
     (["--client-id", "{" + GUID + "}", "--tenant", "foo"], ["Error: Unknown tenant",
                                                              "Leave it at 'common'"]),
     (["--client-id", f" {GUID} ", "--tenant", "personal"], ["Did you mean 'consumers'?"]),
     (["--client-id", GUID, "--tenant", ""], ["Error: Tenant missing"]),
     (["--client-id", GUID, "--tenant", "../etc"], ["Error: Unknown tenant"]),
     (["--client-id", GUID, "--port", "80"], ["Error: Invalid port", "1024 to 65535"]),
     (["--client-id", GUID, "--port", "70000"], ["Error: Invalid port"]),
     (["--client-id", GUID, "--port", "abc"], ["'abc' is not a port number"]),
     (["--client-id", GUID, "--timeout", "0"], ["Error: Invalid timeout"]),
     (["--client-id", GUID, "--timeout", "nan"], ["Error: Invalid timeout"]),
     (["--client-id", GUID, "--timeout", "soon"], ["'soon' is not a number of seconds"])],
)
def test_authorize_arguments(env, args: list[str], says: list[str]) -> None:
    refused(env, ["authorize", *args], *says, stdin="Xq8~s3cr3t.value\n")


@pytest.mark.parametrize(
    ("stdin", "says"),
    [("", "Error: Client secret missing"), ("   \n", "Error: Client secret missing"),
     ("Xq8*******************************\n", "Error: Secret value hidden"),
     ("Xq8~s3cr3t.value\t9f1c2b7a-9d4e-4c61-8a0b-5e2f7d9c1a44\n", "the whole table row"),
     ("x" * 3000 + "\n", "3000 characters long")],
)
def test_authorize_secrets_on_stdin(env, stdin: str, says: str) -> None:
    err = refused(env, ["authorize", "--client-id", GUID], says, stdin=stdin)
    assert "s3cr3t" not in err and "x" * 20 not in err  # the secret is never repeated


def test_secret_with_a_byte_order_mark_and_spaces_is_trimmed_and_said(env) -> None:
    r = run_cli(["authorize", "--client-id", GUID, "--timeout", "5"], env=env,
                stdin="\ufeff  Xq8~s3cr3t.value \r\n", timeout=60)
    assert "Note: removed spaces/line breaks around the client secret" in r.stderr
    assert "Contacting Microsoft" in r.stderr  # the trimmed secret was used, not refused
    assert r.returncode == 1 and "Traceback" not in r.stderr  # the network is closed here


# --- add --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "says"),
    [("", "Error: Account name missing"),
     ("my drive", "contains a space"),
     ("wörk", "contains 'ö'"),
     ("日本", "contains '日'"),
     ("drive😀", "contains '😀'"),
     ("../x", "contains '.'"),
     ("a/b", "names are not paths"),
     ("a:b", "contains ':'"),
     ("-x", "contains '-'"),
     ("x" * 200, "has 200 characters; at most 32"),
     ("CON", "reserved by Windows"),
     ("Work", "An account named 'Work' already exists")],
)
def test_add_names(env, existing, name: str, says: str) -> None:
    before = existing.read_bytes()
    err = refused(env, ["add", "--client-id", GUID, "--", name], says)
    assert "letters A-Z" in err or "Pick another name" in err
    assert existing.read_bytes() == before


@pytest.mark.parametrize(
    ("args", "says"),
    [(["--client-id", "my-app"], ["Error: Not a client ID"]),
     (["--client-id", GUID, "--tenant", "foo"], ["Error: Unknown tenant"]),
     (["--client-id", GUID, "--secret-expires", YESTERDAY],
      ["Error: Secret already expired", f"{YESTERDAY} is in the past"]),
     (["--client-id", GUID, "--secret-expires", "2027-13-01"],
      ["'2027-13-01' is not a date: use YYYY-MM-DD"]),
     (["--client-id", GUID, "--secret-expires", "31.12.2027"], ["is not a date"]),
     (["--client-id", GUID, "--drive-id", " "], ["Error: Drive ID missing"]),
     (["--client-id", GUID, "--port", "1023"], ["Error: Invalid port"]),
     (["--client-id", GUID, "--timeout", "-1"], ["Error: Invalid timeout"])],
)
def test_add_other_arguments(env, args: list[str], says: list[str]) -> None:
    refused(env, ["add", "personal", *args], *says)


def _bad_mount_points(home: Path) -> list[tuple[str, str]]:
    (home / "file.txt").write_text("x")
    (home / "Documents").mkdir()
    (home / "Documents" / "cv.odt").write_text("x")
    return [
        ("", "Error: No mount point"),
        (str(home / "file.txt"), "is a file, not a folder"),
        (str(home / "file.txt" / "sub"), "is a file, not a folder"),
        (str(home / "Documents"), "already contains files"),
        ("Documents", "already contains files"),  # relative: from the current folder
        (str(home / "x" / ".." / "Documents"), "already contains files"),
        ("/proc", "Something is already mounted on /proc"),
        (str(home / "OneDrive" / "work"), "already the mount point of the account 'work'"),
        (str(home / "OneDrive" / "work" / "sub"), "is inside"),
        (str(home / "OneDrive"), "contains"),
        (str(home / "a\nb"), "line break"),
        (str(home / ("y" * 300)), "at most 255"),
    ]


def test_add_mount_points(env, existing, app_home) -> None:
    bad = [*_bad_mount_points(app_home),
           (str(app_home / "OneDrive" / "home"), "the mount point of the account 'home'")]
    for value, says in bad:
        err = refused(env, ["add", "personal", "--client-id", GUID, "--mount-point", value],
                      says, exit_code=1)
        assert "What to do:" in err, value
    assert not (app_home / "OneDrive").exists()  # nothing was created on the way


def test_add_with_an_unusable_default_mount_point(env, app_home) -> None:
    (app_home / "OneDrive" / "home").mkdir(parents=True)
    (app_home / "OneDrive" / "home" / "notes.txt").write_text("x")
    refused(env, ["add", "home", "--client-id", GUID],
            "The default mount point cannot be used", "already contains files",
            "What to do: Choose a folder with --mount-point PATH.", exit_code=1)


def test_add_checks_the_arguments_before_the_secret(env, existing, app_home) -> None:
    # all arguments fine: the next step is reading the secret (none piped in here)
    refused(env, ["add", " personal ", "--client-id", "{" + GUID.upper() + "}", "--tenant",
                  "Consumers ", "--mount-point", "drives/personal"],
            "Error: Client secret missing")


# --- set-secret, mount, remove, reauth -----------------------------------------------------


@pytest.mark.parametrize(
    ("args", "says"),
    [(["set-secret", "nosuch"], ["Error: Unknown account", "accounts: work"]),
     (["set-secret", "work", "--expires", YESTERDAY], ["Error: Secret already expired"]),
     (["set-secret", "work", "--expires", "tomorrow"], ["'tomorrow' is not a date"]),
     (["mount", "../work"], ["Error: Unknown account"]),
     (["mount", ""], ["Error: Unknown account"]),
     (["remove", "WORK"], ["Error: Unknown account", "accounts: work"]),
     (["reauth", "nosuch"], ["Error: Unknown account"]),
     (["reauth", "work", "--port", "80"], ["Error: Invalid port"]),
     (["reauth", "work", "--timeout", "inf"], ["Error: Invalid timeout"])],
)
def test_other_commands(env, existing, args: list[str], says: list[str]) -> None:
    before = existing.read_bytes()
    refused(env, args, *says)
    assert existing.read_bytes() == before


def test_mount_points_given_to_mount(env, existing, app_home) -> None:
    bad = [(value, says) for value, says in _bad_mount_points(app_home)
           if "/OneDrive" not in value]  # work's own mount point is fine for work
    bad += [(str(app_home / "OneDrive" / "home"), "the mount point of the account 'home'"),
            (str(app_home / "OneDrive" / "home" / "sub"), "is inside"),
            (str(app_home / "OneDrive"), "contains")]
    for value, says in bad:
        refused(env, ["mount", "work", "--mount-point", value], says, exit_code=1)


# --- an rclone chosen by the user that is too old -----------------------------------------------


def test_an_rclone_older_than_1_75_is_refused_with_the_reason(
    env: dict[str, str], existing: Path, tmp_path: Path
) -> None:
    """mount/mount ignored a mount's own options before rclone 1.75.0: a user-chosen older
    rclone (Settings → rclone program) is refused by the command line too, saying why."""
    from onedrive_gui.core.rclone.binary import locate_rclone
    from onedrive_gui.core.rclone.remotes import encrypt_config
    from onedrive_gui.core.system.secrets import SecretStore

    old = printing_program(tmp_path / "rclone-1.74", "rclone v1.74.3")
    store = SettingsStore(existing)
    store.save(replace(store.load(), rclone_path=str(old)))
    had_password = SecretStore().get_config_password() is not None
    try:  # the app's encrypted config, as 'add' left it (written by the bundled rclone)
        encrypt_config(locate_rclone(), AppPaths.default().rclone_config,
                       SecretStore().ensure_config_password())
        before = AppPaths.default().rclone_config.read_bytes()
        refused(env, ["mount", "work"], "rclone is too old", f"{old} is v1.74.3",
                "v1.75.0 or newer", "ignore each drive's own rclone options", exit_code=1)
    finally:
        if not had_password:  # leave the keyring as it was
            SecretStore().delete_config_password()
    assert AppPaths.default().rclone_config.read_bytes() == before  # untouched
