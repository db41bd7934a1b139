"""The check of a file whose folder was renamed or moved in the cloud while its local edit
waited to upload (issue 23, defect 11). Part of :mod:`.cloud_checks`.

What rclone does (1.75: ``backend/onedrive``, ``lib/dircache``, ``vfs``; seen against the
emulated cloud): it uploads a file into its folder *by the folder's item ID*
(``/drives/{d}/items/{folder}:/{name}:/content``, ``newOptsCallWithPath``), the ID its
directory cache took when it first listed or found that folder, and a running rclone never
forgets that ID: its change polling only makes the mount list the parent again (the folder
then shows under its new name; the old one, with a file pending in it, disappears from the
mount), never drops the old path from that cache. So the upload of ``dir/f.txt`` lands in
``dir-moved/f.txt``, over whatever the cloud has there, before and after the poll. A
look-up by path (rc ``operations/stat``, and the source of rc ``operations/copyfile``:
``readMetaDataForPath``) finds nothing at ``dir/f.txt`` on OneDrive Personal (it goes by
path from the remote's root, or from the cached ID of the first folder of a drive mounted
at its root) and on a remote rooted in a folder; only on OneDrive for Business mounted at
its root does it go through the cached ID of the file's folder. A listing of ``dir`` (rc
``operations/list``) always goes through the cached ID: it lists the moved folder. A new
rclone (a restart) has an empty cache: it creates ``dir`` again and uploads there.

What the check does (:meth:`MovedFolders._check_moved`): when the look-up by path finds
nothing for a file that may have had a cloud version (any but one made here and not
renamed since, :meth:`~.upload_bases.BaseStore.is_new`: a new file costs nothing more), it
lists the file's folder as the upload will find it (:meth:`MovedFolders._written_to`). Is
the file there, that item is what the upload replaces. Unchanged since the base (the same
content, when the base is unknown): released, it lands in the moved folder, no copy.
Changed: the cloud's version is copied in the moved folder, server side, addressed by the
folder's ID (the rc ``fs`` ``remote,root_folder_id="ID":``), before the local edit is
released. The moved folder (:meth:`MovedFolders._moved_folder`) is looked for among the
folders of the old folder's parent as rclone lists that parent (a rename, or a rename of a
folder above it: a stat of the file in each, by the folder's ID, the file's item ID
compared), else in the whole drive (a move into another folder: one recursive listing
through the drive's delta, rclone's ``delta`` option; rclone tells no item's parent path
over rc, so the file is found by its item ID there). Found once, it answers for the other
files of the folder for :data:`LOCATED_FOR` seconds. Not found (moved out of a remote
rooted in a folder): the file stays held (:class:`MovedFolderNotFound`, logged) and is
checked again after a back-off, until rclone is restarted (then it goes to the old path,
made again; both edits are kept).

After such an upload the scheduler lists the old folder's parent and the new folder's
parent again (:meth:`~.uploads.UploadScheduler.tick`; the new place is looked for also when
the file needs no copy), so that the mount shows the folder at its new place with the
uploaded file at once, not at rclone's next change poll.
"""

from __future__ import annotations

import logging
import posixpath
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

from onedrive_gui.core.drives.conflicts import (
    Version,
    conflict_name,
    short_conflict_name,
    version_of,
)
from onedrive_gui.core.errors import RcloneError
from onedrive_gui.core.i18n import _
from onedrive_gui.core.rclone.rc import RcCallError

log = logging.getLogger(__name__)

_CALL_TIMEOUT = 120.0
MAX_CANDIDATES = 50  # folders of the parent looked into for a moved folder
LOCATED_FOR = 60.0  # seconds a moved folder found answers for the other files of it
_WALK_TIMEOUT = 600.0  # a recursive listing of a whole drive
_MAX_LEAF = 255  # OneDrive's limit for one name


class MovedFolderNotFound(RcloneError):
    """A file's folder was moved in the cloud, its cloud version changed there, and the
    moved folder was not found (the file stays held)."""

    def __init__(self, name: str) -> None:
        super().__init__(
            _("Upload held"),
            _("'{name}' changed in the cloud in a folder that was moved or renamed there, "
              "and the moved folder was not found.").format(name=name),
            _("Your edit stays on this computer and is checked again later."))


class Again(Exception):
    """The file, or where its upload goes, changed while it was checked (renamed here; its
    folder as rclone knows it another one now): check it again at once."""


def _fs_spec_end(fs: str) -> int:
    """The index of the colon that ends the remote part of an rclone *fs* string
    ("od:", "od:path", "od,opt='a:b':path", ":onedrive,opt=x:path"), or -1."""
    quote = ""
    for i, ch in enumerate(fs):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == ":" and i > 0:
            return i
    return -1


def with_option(fs: str, key: str, value: str) -> str | None:
    """*fs* with the backend option *key* set to *value* (rclone's connection string:
    ``remote,key=value:path``). None when it cannot be written."""
    end = _fs_spec_end(fs)
    if end < 0:
        return None
    return f"{fs[:end]},{key}={value}{fs[end:]}"


def by_id_fs(fs: str, item_id: str) -> str | None:
    """The rclone fs string of the folder *item_id* (rclone's normalized "drive#item" ID)
    of the remote of *fs*: ``remote,root_folder_id="ID":``. None when it cannot be written."""
    end = _fs_spec_end(fs)
    if end < 0 or not item_id or '"' in item_id or "\n" in item_id:
        return None
    return f'{fs[:end]},root_folder_id="{item_id}":'


def _other(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool | None:
    """Whether two cloud items are different items (their IDs); None when not told."""
    ida, idb = a.get("ID"), b.get("ID")
    if isinstance(ida, str) and isinstance(idb, str):
        return ida != idb
    return None


class MovedFolders:
    """The moved-folder steps of :class:`~.cloud_checks.CloudChecks` (its base class)."""

    # provided by CloudChecks / UploadScheduler
    client: Any
    fs: str
    account: str
    store: Any
    _hash_type: str | None
    # old folder -> (by-ID fs, path now, monotonic time found): see _moved_folder
    _located: dict[str, tuple[str, str, float]]
    _located_lock: threading.Lock

    def _release(self, ident: int, name: str) -> bool:
        raise NotImplementedError

    def _stat(self, remote: str, fs: str | None = None) -> dict[str, Any] | None:
        raise NotImplementedError

    def _same(self, item: Any, cloud: Version) -> bool:
        raise NotImplementedError

    def _report(self, name: str, target: str, *, shown: str | None = None) -> None:
        raise NotImplementedError

    def _refresh_folders(self, folders: set[str], *, why: str,
                         missing_ok: bool = False) -> set[str]:
        raise NotImplementedError

    def _local_hash(self, name: str) -> str | None:
        raise NotImplementedError

    def _release_moved(self, ident: int, name: str, item: dict[str, Any],
                       moved_to: str | None) -> bool:
        """Release *name* into the moved folder, if its upload still goes to *item* (a
        listing of the parent through the mount — the mount's own, the read-ahead's —
        makes rclone's cached ID of the old path that of a folder made there since; the
        file is then checked again)."""
        now = self._written_to(name)
        if now is None or now.get("ID") != item.get("ID"):
            log.warning("%s: '%s': its folder as rclone knows it changed while it was "
                        "checked: checking it again", self.account, name)
            raise Again()
        self._moved_uploaded(name, moved_to)
        return self._release(ident, name)

    def _moved_uploaded(self, name: str, moved_to: str | None = None) -> None:
        """*name* was released into a folder moved in the cloud, now at *moved_to* when
        known (list the old and the new parent again after the upload)."""

    # -- locate by the folder's cached ID --

    def _written_to(self, name: str) -> dict[str, Any] | None:
        """The cloud item the upload of *name* will replace, as rclone finds it: its
        folder listed through rclone's cached folder ID (rc ``operations/list``), the entry
        of that name. None when there is none (or the folder is gone: rclone would
        create it)."""
        folder, leaf = posixpath.split(name)
        opt: dict[str, Any] = {"showHash": True, "filesOnly": True, "noMimeType": True}
        if self._hash_type:
            opt["hashTypes"] = [self._hash_type]
        try:
            listing = self.client.call("operations/list", {
                "fs": self.fs, "remote": folder, "opt": opt},
                timeout=_CALL_TIMEOUT).get("list")
        except RcCallError as exc:
            if exc.status == 404:
                return None
            raise
        files = [e for e in listing or [] if isinstance(e, dict) and not e.get("IsDir")
                 and isinstance(e.get("Name"), str)]
        for entry in files:
            if entry["Name"] == leaf:
                return entry
        for entry in files:  # OneDrive's names are case-insensitive
            if entry["Name"].casefold() == leaf.casefold():
                return entry
        return None

    def _moved_folder(self, name: str, item: dict[str, Any]) -> tuple[str, str]:
        """(the by-ID fs of the folder holding the cloud *item* of *name*, that folder's
        path in the drive now): looked for among the folders of the old folder's parent
        (a rename), else in the whole drive (:meth:`_walk_for`: a move into another
        folder). Remembered for :data:`LOCATED_FOR` seconds for the other files of the
        folder. Raises :class:`MovedFolderNotFound`."""
        folder = posixpath.dirname(name)
        now = time.monotonic()
        with self._located_lock:
            found = self._located.get(folder)
            if found is not None and now - found[2] < LOCATED_FOR:
                return found[0], found[1]
        try:
            fs, moved_to = self._sibling_for(name, item)
        except MovedFolderNotFound:
            fs, moved_to = self._walk_for(name, item)
        with self._located_lock:
            self._located = {f: v for f, v in self._located.items()
                             if now - v[2] < LOCATED_FOR}
            self._located[folder] = (fs, moved_to, now)
        return fs, moved_to

    def _sibling_for(self, name: str, item: dict[str, Any]) -> tuple[str, str]:
        """:meth:`_moved_folder` among the folders of the old folder's parent (by its
        path, through a second instance of the remote, :meth:`_walk_for`'s)."""
        folder, leaf = posixpath.split(name)
        if not folder or not item.get("ID"):
            raise MovedFolderNotFound(name)
        parent, old = posixpath.split(folder)
        side = with_option(self.fs, "delta", "true")
        if side is None:
            raise MovedFolderNotFound(name)
        try:  # not through the mount's fs: its listing would make rclone's cached ID of
            # the old path that of a folder made there since, and the upload go there
            listing = self.client.call("operations/list", {
                "fs": side, "remote": parent, "opt": {"dirsOnly": True, "noMimeType": True}},
                timeout=_CALL_TIMEOUT).get("list")
        except RcCallError as exc:
            if exc.status == 404:
                raise MovedFolderNotFound(name) from None
            raise
        # the folder may keep its name (a folder above it renamed: the parent listed by its
        # cached ID is the renamed one): looked into first
        folders = sorted((e for e in listing or [] if isinstance(e, dict) and e.get("IsDir")
                          and isinstance(e.get("ID"), str)), key=lambda e: e.get("Name") != old)
        for entry in folders[:MAX_CANDIDATES]:
            fs = by_id_fs(self.fs, str(entry["ID"]))
            if fs is None:
                continue
            there = self._stat(leaf, fs)
            if there is not None and there.get("ID") == item["ID"]:
                return fs, str(entry.get("Path") or posixpath.join(parent, entry["Name"]))
        log.info("%s: '%s': the folder it was moved to in the cloud is not among the %d "
                 "folders of '%s': looking through the drive", self.account, name,
                 min(len(folders), MAX_CANDIDATES), parent or "/")
        raise MovedFolderNotFound(name)

    def _walk_for(self, name: str, item: dict[str, Any]) -> tuple[str, str]:
        """:meth:`_moved_folder` in the whole drive: one recursive rc ``operations/list``
        through the drive's delta (``delta=true``: about 200 items a request, as the
        read-ahead reads it; a remote of the app has it already, so only the fs string
        differs), files of the item's size only (a ``_filter``; folders all pass), the
        file found by its item ID, its folder by its path."""
        if not item.get("ID"):
            raise MovedFolderNotFound(name)
        fs = with_option(self.fs, "delta", "true")
        if fs is None:
            raise MovedFolderNotFound(name)
        params: dict[str, Any] = {"fs": fs, "remote": "", "opt": {
            "recurse": True, "noModTime": True, "noMimeType": True}}
        size = item.get("Size")
        if isinstance(size, int) and size >= 0:
            params["_filter"] = {"MinSize": size, "MaxSize": size}
        try:
            listing = self.client.call("operations/list", params,
                                       timeout=_WALK_TIMEOUT).get("list")
        except RcCallError as exc:
            if exc.status == 404:
                raise MovedFolderNotFound(name) from None
            raise
        entries = [e for e in listing or [] if isinstance(e, dict)
                   and isinstance(e.get("Path"), str)]
        path = next((e["Path"] for e in entries if not e.get("IsDir")
                     and e.get("ID") == item["ID"]), None)
        if path is None:
            log.warning("%s: '%s': the folder it was moved to in the cloud is not in the "
                        "drive (%d items looked at)", self.account, name, len(entries))
            raise MovedFolderNotFound(name)
        moved_to = posixpath.dirname(path)
        if not moved_to:  # the file itself is at the root now: not a folder moved
            raise MovedFolderNotFound(name)
        folder_id = next((e.get("ID") for e in entries if e.get("IsDir")
                          and e["Path"] == moved_to), None)
        by_id = by_id_fs(self.fs, folder_id) if isinstance(folder_id, str) else None
        if by_id is None:
            raise MovedFolderNotFound(name)
        log.warning("%s: '%s': its folder was moved in the cloud to '%s'", self.account,
                    name, moved_to)
        return by_id, moved_to

    def _drop_spare_copies(self, name: str) -> None:
        """*name* goes up to its path, made again (its folder, moved in the cloud, is not
        known to this rclone: it restarted). A conflict copy started into the moved folder
        before (rclone or the app killed while the cloud copied) and never reported is
        spare now when its original is still there, unchanged: the upload does not
        replace it. Such a copy is deleted (the cloud's recycle bin keeps it); any other is
        reported as kept."""
        store = self.store
        for version, target, done in store.kept(name):
            folder = posixpath.dirname(target)
            if done or folder == posixpath.dirname(name):
                continue
            copy = self._stat(target)
            if copy is None or not self._same(copy, version):
                store.unkeep(name, target)  # not made (or not ours): nothing to drop
                continue
            original = self._stat(posixpath.join(folder, posixpath.basename(name)))
            if original is None or _other(original, copy) is False \
                    or not self._same(original, version):
                store.keeping(name, version, target, done=True)
                self._report(posixpath.join(folder, posixpath.basename(name)), target)
                continue
            try:
                self.client.call("operations/deletefile", {"fs": self.fs, "remote": target},
                                 timeout=_CALL_TIMEOUT)
            except RcCallError as exc:
                log.warning("%s: removing the spare copy '%s': %s", self.account, target,
                            exc.error_text)
                continue
            log.warning("%s: '%s' goes up to its path, made again; the copy '%s' of the "
                        "cloud's version, started before a restart, is spare (its original "
                        "'%s' is unchanged): removed", self.account, name, target,
                        posixpath.join(folder, posixpath.basename(name)))
            store.unkeep(name, target)
            self._refresh_folders({folder}, why="after removing a spare copy",
                                  missing_ok=True)

    # -- the check --

    def _check_moved(self, ident: int, name: str, item: dict[str, Any]) -> bool:
        """Check *name* against the cloud *item* its upload will replace, in a folder moved
        or renamed in the cloud (found by :meth:`_written_to`); keep the cloud's version
        there if it changed; release. Raises when it was not kept (it stays held)."""
        store = self.store
        cloud = version_of(item, self._hash_type)
        base = store.base(name)
        log.warning("%s: '%s' is not at its path in the cloud, but its folder as rclone "
                    "knows it (by its ID) has it: the folder was moved or renamed in the "
                    "cloud; the upload goes there", self.account, name)
        for version, target, done in store.kept(name):
            if done and version.same_as(cloud):
                return self._release_moved(ident, name, item, posixpath.dirname(target))
        if base is not None:
            same = base.same_as(cloud)
        else:  # the base is unknown: the content
            local = self._local_hash(name)
            same = bool(local and cloud.hash and local.lower() == cloud.hash.lower())
        if same:  # nothing to keep; where the folder is now, for the mount to show it
            try:
                moved_to: str | None = self._moved_folder(name, item)[1]
            except RcloneError as exc:
                log.info("%s: '%s': %s", self.account, name, exc.message)
                moved_to = None
            return self._release_moved(ident, name, item, moved_to)
        log.warning("%s: '%s' changed in the cloud while a local edit waited to upload "
                    "(based on %s, cloud has %s)", self.account, name, base or "an unknown "
                    "version, the content differs", cloud)
        fs, moved_to = self._moved_folder(name, item)
        leaf = posixpath.basename(name)
        for version, target, done in store.kept(name):  # a copy started before (a crash)
            if done or not version.same_as(cloud) or posixpath.dirname(target) != moved_to:
                continue
            there = self._stat(posixpath.basename(target), fs)
            if there is not None and self._same(there, cloud):
                store.keeping(name, cloud, target, done=True)
                return self._release_moved(ident, name, item, moved_to)
            store.unkeep(name, target)

        def taken(candidate: str) -> bool:
            return self._stat(candidate, fs) is not None

        def candidates() -> Iterator[str]:  # each looked up only when the one before failed
            full = conflict_name(leaf, cloud.modified, taken)
            if len(full) <= _MAX_LEAF:
                yield full
            yield short_conflict_name(leaf, cloud.modified, taken)

        last: RcCallError | None = None
        for candidate in candidates():
            target = posixpath.join(moved_to, candidate)
            store.keeping(name, cloud, target, done=False)
            store.save()  # before the copy: a timeout or crash must not make a second one
            try:
                self.client.call("operations/copyfile", {
                    "srcFs": fs, "srcRemote": leaf, "dstFs": fs, "dstRemote": candidate},
                    timeout=_CALL_TIMEOUT)
            except RcCallError as exc:  # refused (name, rights): the next candidate
                store.unkeep(name, target)
                log.warning("%s: keeping the cloud's '%s' as '%s': %s", self.account,
                            posixpath.join(moved_to, leaf), target, exc.error_text)
                last = exc
                continue
            store.keeping(name, cloud, target, done=True)
            self._report(posixpath.join(moved_to, leaf), target, shown=posixpath.join(
                posixpath.dirname(name), candidate))
            return self._release_moved(ident, name, item, moved_to)
        assert last is not None
        raise last
