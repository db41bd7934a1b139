"""Mount points: real folders and real mounts on POSIX; Windows rules through pure functions."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from onedrive_gui.core.drives.mountpoints import (
    check_mount_point,
    default_mount_point,
    example_mount_point,
    free_drive_letters,
    free_letters_from_mask,
    is_mount_point,
    mount_point_note,
    normalize_drive_letter,
    other_mount_points,
    parse_mountinfo,
    prepare_mount_point,
    rclone_fuse_mounts,
    unmount_hint,
    windows_mount_point,
)
from onedrive_gui.core.errors import MountError
from onedrive_gui.core.rclone.binary import locate_rclone
from onedrive_gui.core.rclone.process import Rcd
from onedrive_gui.core.rclone.rc import RcClient
from onedrive_gui.core.system.paths import AppPaths

posix = pytest.mark.skipif(sys.platform == "win32", reason="POSIX folders")
linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc mountinfo")


@posix
def test_default_is_a_folder_per_account_under_home(app_home: Path) -> None:
    assert default_mount_point("work") == str(app_home / "OneDrive" / "work")
    assert free_drive_letters() == []


@posix
def test_missing_folder_and_parents_are_created(app_home: Path) -> None:
    assert prepare_mount_point("~/OneDrive/work") == str(app_home / "OneDrive" / "work")
    assert (app_home / "OneDrive" / "work").is_dir()
    assert prepare_mount_point("~/OneDrive/work") == str(app_home / "OneDrive" / "work")


@posix
def test_relative_path_becomes_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    got = prepare_mount_point("  drives/My Work  ")
    assert got == str(tmp_path / "drives" / "My Work")
    assert os.path.isabs(got) and Path(got).is_dir()


@posix
def test_a_file_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "notes.txt"
    f.write_text("x")
    with pytest.raises(MountError) as err:
        prepare_mount_point(str(f))
    assert err.value.title == "Not a folder"
    assert str(f) in err.value.message and err.value.hint
    with pytest.raises(MountError) as err:
        prepare_mount_point(str(f / "sub"))  # a file on the way
    assert err.value.title == "Cannot create the folder"
    assert f.read_text() == "x"


@posix
def test_a_folder_with_files_is_refused_and_left_alone(tmp_path: Path) -> None:
    d = tmp_path / "Documents"
    d.mkdir()
    (d / ".hidden").write_text("keep")
    with pytest.raises(MountError) as err:
        prepare_mount_point(str(d))
    assert err.value.title == "Folder not empty"
    assert "hide" in err.value.message
    assert (d / ".hidden").read_text() == "keep"


@linux
@pytest.mark.parametrize("mounted", ["/proc", "/dev", "/proc/"])
def test_an_existing_mount_point_is_refused(mounted: str) -> None:
    assert is_mount_point(mounted)
    with pytest.raises(MountError) as err:
        prepare_mount_point(mounted)
    assert err.value.title == "Already a mount point"
    assert "Unmount it first" in err.value.hint


@posix
def test_plain_folders_are_not_mount_points(tmp_path: Path) -> None:
    assert not is_mount_point(str(tmp_path))
    assert not is_mount_point(str(tmp_path / "missing"))


@posix
@pytest.mark.parametrize("folder", ["config_dir", "data_dir", "cache_dir", "log_dir"])
def test_the_apps_own_folders_are_refused(app_home: Path, folder: str) -> None:
    inside = getattr(AppPaths.default(), folder) / "mnt"
    with pytest.raises(MountError) as err:
        prepare_mount_point(str(inside))
    assert err.value.title == "Folder not allowed"
    assert not inside.exists()


@posix
@pytest.mark.parametrize(("value", "title"), [("", "No mount point"), ("   ", "No mount point"),
                                              ("~no_such_user_x/OneDrive", "Unknown home folder")])
def test_unusable_values(value: str, title: str) -> None:
    with pytest.raises(MountError) as err:
        prepare_mount_point(value)
    assert err.value.title == title


# --- checking without changing anything (wizard, settings dialog, CLI arguments) -----------


@posix
def test_check_creates_nothing_and_says_the_folder_will_be_created(tmp_path: Path) -> None:
    target = tmp_path / "OneDrive" / "wörk 😀"  # any name the file system takes
    assert check_mount_point(f"  {target}  ") == str(target)
    assert not (tmp_path / "OneDrive").exists()
    assert mount_point_note(str(target)) == (
        f"{target} does not exist yet; it is created when the drive is mounted.")
    target.mkdir(parents=True)
    assert check_mount_point(str(target)) == str(target)
    assert mount_point_note(str(target)) == ""


@posix
def test_relative_path_needs_a_base(tmp_path: Path) -> None:
    with pytest.raises(MountError) as err:
        check_mount_point("drives/work")
    assert err.value.title == "Not a full path"
    assert "full path" in err.value.hint
    assert check_mount_point("drives/../work", base=str(tmp_path)) == str(tmp_path / "work")


@posix
def test_path_traversal_is_resolved_before_the_checks(tmp_path: Path) -> None:
    (tmp_path / "Documents").mkdir()
    (tmp_path / "Documents" / "cv.odt").write_text("x")
    with pytest.raises(MountError) as err:
        check_mount_point(str(tmp_path / "OneDrive" / ".." / "Documents"))
    assert err.value.title == "Folder not empty"
    assert str(tmp_path / "Documents") in err.value.message


@posix
@pytest.mark.parametrize(
    ("tail", "title", "says"),
    [("a\nb", "Not a usable folder name", "line break"),
     ("a\tb", "Not a usable folder name", "control character"),
     ("x" * 256, "Folder name too long", "256 bytes"),
     ("ü" * 128, "Folder name too long", "256 bytes"),
     ("/".join(["y" * 200] * 21), "Path too long", "at most 4095")],
)
def test_unusable_names(tmp_path: Path, tail: str, title: str, says: str) -> None:
    with pytest.raises(MountError) as err:
        check_mount_point(f"{tmp_path}/{tail}")
    assert err.value.title == title
    assert says in err.value.message
    assert len(err.value.message) < 300


@posix
def test_a_file_on_the_way_is_refused_without_creating_anything(tmp_path: Path) -> None:
    f = tmp_path / "notes.txt"
    f.write_text("x")
    with pytest.raises(MountError) as err:
        check_mount_point(str(f / "a" / "b"))
    assert err.value.title == "Cannot create the folder"
    assert f"{f} is a file" in err.value.message
    assert f.read_text() == "x"


@posix
def test_another_accounts_mount_point_is_refused(tmp_path: Path) -> None:
    others = {"work": str(tmp_path / "OneDrive" / "work"), "old": None}
    for value, title, says in (
        (tmp_path / "OneDrive" / "work", "Mount point taken", "of the account 'work'"),
        (tmp_path / "OneDrive" / "x" / ".." / "work", "Mount point taken", "'work'"),
        (tmp_path / "OneDrive" / "work" / "sub", "Mount points overlap", "is inside"),
        (tmp_path / "OneDrive", "Mount points overlap", "contains"),
    ):
        with pytest.raises(MountError) as err:
            check_mount_point(str(value), others=others)
        assert err.value.title == title, value
        assert says in err.value.message and err.value.hint
    mine = tmp_path / "OneDrive" / "personal"
    assert check_mount_point(str(mine), others=others) == str(mine)
    assert prepare_mount_point(str(mine), others=others) == str(mine) and mine.is_dir()


@posix
def test_other_mount_points_fill_in_defaults(app_home: Path) -> None:
    from onedrive_gui.core.settings import Account

    accounts = [Account(name=n, client_id="c", drive_id="d", drive_type="personal",
                        mount_point=mp)
                for n, mp in (("work", "/srv/work"), ("home", None), ("Me", None))]
    assert other_mount_points(accounts, exclude="me") == {
        "work": "/srv/work", "home": str(app_home / "OneDrive" / "home")}
    with pytest.raises(MountError) as err:
        check_mount_point(str(app_home / "OneDrive" / "home"),
                          others=other_mount_points(accounts, exclude="me"))
    assert err.value.title == "Mount point taken"


def test_mountinfo_lines_are_decoded() -> None:
    data = (
        b"22 27 0:21 / /proc rw,relatime - proc proc rw\n"
        b"36 35 98:0 / /home/ada/One\\040Drive/w\\134x rw,nosuid shared:7 master:1 - "
        b"fuse.rclone work: rw,user_id=0,group_id=0\n"
        b"garbage\n"
    )
    entries = parse_mountinfo(data)
    assert [(e.mount_point, e.fstype, e.source) for e in entries] == [
        ("/proc", "proc", "proc"), ("/home/ada/One Drive/w\\x", "fuse.rclone", "work:")]


# --- a real rclone mount ------------------------------------------------------------------


@pytest.fixture
def rc(tmp_path: Path) -> Iterator[RcClient]:
    rcd = Rcd(locate_rclone(), config_path=tmp_path / "rclone.conf", config_password=None,
              cache_dir=tmp_path / "cache", log_file=tmp_path / "rclone.log")
    client = rcd.start()
    try:
        yield client
    finally:
        rcd.stop(timeout=10)


@linux
def test_rclone_mounts_are_found_and_refused(rc: RcClient, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    mp = Path(prepare_mount_point(str(tmp_path / "One Drive" / "work")))
    rc.mount(str(src), str(mp), vfs_opt={"CacheMode": "writes"})
    try:
        assert str(mp) in rclone_fuse_mounts()
        assert is_mount_point(str(mp))
        with pytest.raises(MountError) as err:
            prepare_mount_point(str(mp))
        assert "rclone mount" in err.value.message
        assert f"fusermount3 -u '{mp}'" in err.value.hint
        with pytest.raises(MountError) as err:  # a folder inside the mounted drive
            check_mount_point(str(mp / "sub"))
        assert err.value.title == "Inside a mounted drive"
        assert str(mp) in err.value.message and "own disk" in err.value.hint
    finally:
        rc.unmount(str(mp))
    assert str(mp) not in rclone_fuse_mounts()
    assert prepare_mount_point(str(mp)) == str(mp)


# --- Windows rules (pure) -----------------------------------------------------------------


@pytest.mark.parametrize("value", ["z", "Z", "z:", "Z:", "z:\\", "Z:/", " z: "])
def test_drive_letters_are_normalised(value: str) -> None:
    assert normalize_drive_letter(value) == "Z:"


@pytest.mark.parametrize("value", ["", "ZZ", "Z:\\OneDrive", "1:", "/z", "Z::"])
def test_non_letters_are_not_letters(value: str) -> None:
    assert normalize_drive_letter(value) is None


def test_free_letters_come_from_z_down_and_skip_used_ones() -> None:
    used = (1 << 2) | (1 << 25) | (1 << 3)  # C:, Z:, D:
    letters = free_letters_from_mask(used)
    assert letters[:2] == ["Y:", "X:"]
    assert letters[-1] == "E:"
    assert "C:" not in letters and "Z:" not in letters and "A:" not in letters
    assert len(letters) == 21
    assert free_letters_from_mask(0)[0] == "Z:"


FREE = ["Z:", "Y:", "X:"]
EXISTING = {"C:\\", "C:\\Users", "C:\\Users\\ada", "C:\\Users\\ada\\Documents"}


def _win(value: str) -> str:
    return windows_mount_point(value, free_letters=FREE, exists=EXISTING.__contains__)


def test_windows_letters() -> None:
    assert _win("y") == "Y:"
    assert _win("*") == "Z:"
    with pytest.raises(MountError) as err:
        _win("C:\\")
    assert err.value.title == "Drive letter in use"
    assert "Z:, Y:, X:" in err.value.hint
    with pytest.raises(MountError) as err:
        windows_mount_point("*", free_letters=[], exists=EXISTING.__contains__)
    assert err.value.title == "No free drive letter"


def test_windows_folders_must_be_new_inside_an_existing_folder() -> None:
    assert _win("C:/Users/ada/OneDrive") == "C:\\Users\\ada\\OneDrive"
    for value, title in (
        ("C:\\Users\\ada\\Documents", "Folder already exists"),
        ("C:\\Users\\bob\\OneDrive", "Parent folder missing"),
        ("OneDrive", "Not a mount point"),
        ("\\\\server\\share\\OneDrive", "Not a mount point"),
        ("\\OneDrive", "Not a mount point"),
    ):
        with pytest.raises(MountError) as err:
            _win(value)
        assert err.value.title == title, value
        assert err.value.hint


# --- Windows defaults and wording (the platform is a parameter) ----------------------------

# GetLogicalDrives(): A, C, D in use (bit n = letter A+n).
MASK_ACD = 0b1101


def test_windows_default_is_a_free_drive_letter_no_other_account_uses() -> None:
    assert default_mount_point("work", platform="win32", mask=MASK_ACD) == "Z:"
    # 'home' has Z: (not mounted now, so Windows reports it free): the next one down.
    assert default_mount_point("work", ["Z:", None, "y:\\"], platform="win32",
                               mask=MASK_ACD) == "X:"
    letters = free_drive_letters(["Z:", "C:\\Users\\ana\\Cloud"], platform="win32",
                                 mask=MASK_ACD)
    assert letters[0] == "Y:" and "Z:" not in letters
    assert "C:" not in letters and "D:" not in letters
    assert free_drive_letters(["Z:"], platform="linux", mask=0) == []


def test_windows_default_when_every_letter_is_taken() -> None:
    all_used = (1 << 26) - 1
    with pytest.raises(MountError, match="All drive letters"):
        default_mount_point("work", platform="win32", mask=all_used)
    with pytest.raises(MountError):
        default_mount_point("work", [f"{chr(c)}:" for c in range(ord("E"), ord("Z") + 1)],
                            platform="win32", mask=MASK_ACD)


def test_windows_check_refuses_a_letter_another_account_has() -> None:
    with pytest.raises(MountError) as err:
        check_mount_point("z", others={"home": "Z:"}, platform="win32", mask=MASK_ACD)
    assert err.value.title == "Mount point taken"
    assert "~/OneDrive" not in err.value.hint and "Z:" in err.value.hint
    assert check_mount_point("y:", others={"home": "Z:"}, platform="win32",
                             mask=MASK_ACD) == "Y:"


def test_windows_hints_name_no_linux_tools_and_not_microsofts_onedrive_folder() -> None:
    hint = unmount_hint("Z:", platform="win32")
    assert "fusermount" not in hint and "umount" not in hint and "Task Manager" in hint
    assert "fusermount3 -u '/home/a/OneDrive'" in unmount_hint("/home/a/OneDrive",
                                                               platform="linux")
    example = example_mount_point(windows=True)
    assert "Z:" in example and "~" not in example and "\\OneDrive" not in example
    with pytest.raises(MountError) as err:
        windows_mount_point("OneDrive", free_letters=["Z:"], exists=lambda p: False)
    # Microsoft's own client owns C:\Users\you\OneDrive: warned against, not suggested.
    assert "such as C:\\Users\\you\\Cloud-work" in err.value.hint
    assert "not C:\\Users\\you\\OneDrive" in err.value.hint
# --- folders Microsoft's OneDrive app syncs (Windows) ----------------------------------------

_ONEDRIVE_ENV = {"OneDrive": "C:\\Users\\Álvaro\\OneDrive - Contoso",
                 "OneDriveCommercial": "C:\\Users\\Álvaro\\OneDrive - Contoso",
                 "OneDriveConsumer": "C:\\Users\\Álvaro\\OneDrive",
                 "USERPROFILE": "C:\\Users\\Álvaro"}


def test_onedrive_sync_roots_come_from_the_environment_and_the_registry() -> None:
    from onedrive_gui.core.drives.mountpoints import onedrive_sync_roots

    roots = onedrive_sync_roots(platform="win32", environ=_ONEDRIVE_ENV,
                                registry=lambda: ["c:\\users\\álvaro\\onedrive - contoso",
                                                  "D:\\OneDrive - Fabrikam", ""])
    assert roots == ["C:\\Users\\Álvaro\\OneDrive - Contoso", "C:\\Users\\Álvaro\\OneDrive",
                     "D:\\OneDrive - Fabrikam"]
    assert onedrive_sync_roots(platform="win32", environ={}, registry=list) == []
    assert onedrive_sync_roots(platform="linux", environ=_ONEDRIVE_ENV, registry=list) == []


@pytest.mark.parametrize(("path", "synced"), [
    ("C:\\Users\\Álvaro\\OneDrive\\Drives\\work", True),
    ("c:\\users\\ÁLVARO\\onedrive", True),  # the root itself, any case
    # Documents moved into OneDrive by Known Folder Move
    ("C:\\Users\\Álvaro\\OneDrive - Contoso\\Documents\\work", True),
    ("C:\\Users\\Álvaro\\OneDrive2\\work", False),  # a neighbour, not inside
    ("C:\\Users\\Álvaro\\Cloud\\work", False),
    ("E:\\OneDrive\\work", False),  # another drive
    ("Z:", False),  # a drive letter is never synced
])
def test_a_mount_point_in_a_onedrive_synced_folder_is_warned_about(path: str,
                                                                     synced: bool) -> None:
    from onedrive_gui.core.drives.mountpoints import onedrive_sync_note

    note = onedrive_sync_note(path, platform="win32", environ=_ONEDRIVE_ENV, registry=list)
    assert bool(note) == synced
    if synced:
        assert note.startswith(f"Warning: {path} is inside C:\\Users\\Álvaro\\OneDrive")
        assert "Choose a drive letter or a folder outside it" in note
    assert onedrive_sync_note(path, platform="linux", environ=_ONEDRIVE_ENV,
                              registry=list) == ""


@pytest.mark.skipif(sys.platform != "win32", reason="the Windows registry exists on Windows only")
def test_the_onedrive_app_folders_are_read_from_the_registry_as_the_app_writes_them() -> None:
    """Microsoft's OneDrive app keeps each account's folder as UserFolder under
    HKCU\\Software\\Microsoft\\OneDrive\\Accounts\\<account>; read with winreg."""
    import winreg

    from onedrive_gui.core.drives.mountpoints import _registry_sync_roots

    key = r"Software\Microsoft\OneDrive\Accounts\OnedriveGuiTest"
    with winreg.CreateKey(winreg.HKEY_CURRENT_USER, key) as k:
        winreg.SetValueEx(k, "UserFolder", 0, winreg.REG_SZ, "C:\\Users\\ci\\OneDrive - Test")
    try:
        assert "C:\\Users\\ci\\OneDrive - Test" in _registry_sync_roots()
    finally:
        winreg.DeleteKey(winreg.HKEY_CURRENT_USER, key)


@linux
def test_a_mount_whose_rclone_died_a_moment_ago_is_stale_and_detached(tmp_path: Path) -> None:
    """rclone SIGKILLed right after a look at its mount: ``stat`` of the mount point is still
    answered from the kernel's attribute cache (a second), yet the mount is dead — a
    restarted rclone found "something is already mounted there" (seen in the suite:
    test_rcd_killed_in_the_middle_of_an_upload). It is found stale and detached at once."""
    import signal
    import subprocess
    import time

    from onedrive_gui.core.drives.mountpoints import detach_stale_mount, fuse_mount_points

    src, mnt = tmp_path / "src", tmp_path / "mnt"
    src.mkdir()
    mnt.mkdir()
    proc = subprocess.Popen([str(locate_rclone().path), "mount", str(src), str(mnt),
                             "--config", os.devnull, "--attr-timeout", "10s"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while str(mnt) not in fuse_mount_points():
            assert proc.poll() is None and time.monotonic() < deadline, "rclone did not mount"
            time.sleep(0.05)
        os.stat(mnt)  # the kernel caches the root's attributes (10 s here)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        os.stat(mnt)  # still answered from that cache: looks alive
        assert detach_stale_mount(str(mnt))
        assert str(mnt) not in fuse_mount_points()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        subprocess.run(["fusermount3", "-u", "-z", str(mnt)], capture_output=True, check=False)
