"""The upload scheduler's look at the cloud before it releases a file: the cloud's version
against the file's base, the content hash when no base is known, conflict copies (next to the
file, a short name, or ``Conflicts`` at the drive's root) and their notification.
See :mod:`.uploads` for when this runs. A file's cloud version comes from a listing of its
folder shared by the checks of the folder's waiting files, or one stat
(:meth:`CloudChecks._cloud_item`, :mod:`.cloud_listings`)."""

from __future__ import annotations

import logging
import os
import posixpath
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from onedrive_gui.core.drives.cloud_listings import FolderListings
from onedrive_gui.core.drives.cloud_moves import MovedFolders, _other
from onedrive_gui.core.drives.conflicts import (
    Conflict,
    ConflictLog,
    Version,
    conflict_name,
    short_conflict_name,
    version_of,
)
from onedrive_gui.core.drives.rclone_cache import os_path
from onedrive_gui.core.drives.upload_bases import BaseStore
from onedrive_gui.core.errors import RcloneError
from onedrive_gui.core.rclone.rc import RcCallError, RcClient

log = logging.getLogger(__name__)

_CALL_TIMEOUT = 120.0  # a stat, listing or copy through rclone's pacer (retries included)
_MAX_LEAF = 255  # OneDrive's limit for one name
_MAX_PATH = 400  # OneDrive for Business' limit for a whole path (decoded)
CONFLICTS_FOLDER = "Conflicts"


class CloudChecks(MovedFolders):
    """The checks of :class:`~.uploads.UploadScheduler` (its base class): what it reads of
    the scheduler, and :meth:`_release`, which the scheduler provides. A file whose folder
    was moved in the cloud: :class:`~.cloud_moves.MovedFolders`."""

    client: RcClient
    fs: str
    account: str
    mount_point: str | None
    platform: str
    conflicts: ConflictLog
    store: BaseStore | None
    _on_conflict: Callable[[Conflict], None] | None
    _hash_type: str | None
    _data_root: Path | None
    _listings: FolderListings

    def _release(self, ident: int, name: str) -> bool:
        raise NotImplementedError

    def _refresh_folders(self, folders: set[str], *, why: str,
                         missing_ok: bool = False) -> set[str]:
        """rc ``vfs/refresh`` of *folders* (paths in the drive, "" the root): the root in a
        call without ``dir`` (rclone takes ``dir: ""`` for a missing name and lists
        nothing), the others in one call. Returns those not listed (*missing_ok*: their
        answers are logged as information, not as warnings)."""
        calls: list[dict[str, Any]] = [{"fs": self.fs}] if "" in folders else []
        rest = sorted(folders - {""})
        if rest:
            calls.append({"fs": self.fs, **{("dir" if i == 0 else f"dir{i + 1}"): folder
                                            for i, folder in enumerate(rest)}})
        failed: set[str] = set()
        for params in calls:
            try:
                out = self.client.call("vfs/refresh", params, timeout=_CALL_TIMEOUT)
            except RcloneError as exc:
                log.warning("%s: listing %s again %s: %s", self.account,
                            ", ".join(f"'{f or '/'}'" for f in sorted(folders)), why,
                            exc.message)
                failed |= {str(v) for k, v in params.items() if k.startswith("dir")} or {""}
                continue
            result = out.get("result")
            for folder, answer in (result.items() if isinstance(result, dict) else ()):
                if answer != "OK":
                    (log.info if missing_ok else log.warning)(
                        "%s: listing '%s' again %s: %s", self.account, folder, why, answer)
                    failed.add(str(folder))
        return failed

    def _show_folders(self, folders: set[str], *, why: str) -> None:
        """List *folders* again in the mount, and first the parent of one its parent's
        listing in the mount lacks (made again by an upload, after a rename in the cloud)."""
        missing = self._refresh_folders(folders, why=why, missing_ok=True) - {""}
        if missing:
            self._show_folders({posixpath.dirname(f) for f in missing}, why=why)
            self._refresh_folders(missing, why=why)

    def _check(self, ident: int, name: str) -> bool:
        """Check one held upload; keep the cloud version if it changed; release. True when
        released (False: it stays held and is checked again later)."""
        store = self.store
        assert store is not None
        stat, listed = self._cloud_item(name)
        if stat is None and not listed and not store.is_new(name):
            # it may have had a cloud version and is not at its path: deleted there, or its
            # folder was moved there (rclone uploads into the moved folder, by its ID); a
            # folder listing already went through that ID (_cloud_item) and said the same
            moved = self._written_to(name)
            if moved is not None:
                return self._check_moved(ident, name, moved)
        if stat is None:
            log.info("%s: '%s' is not in the cloud: uploading", self.account, name)
            self._drop_spare_copies(name)
            return self._release(ident, name)
        cloud = version_of(stat, self._hash_type)
        for version, target, done in store.kept(name):
            if version.same_as(cloud):
                if done:
                    return self._release(ident, name)
                there = self._stat(target)
                if there is None:  # the copy started before did not happen: make it there
                    return self._keep(ident, name, cloud, target)
                if self._same(there, cloud):  # it finished after all (timeout, crash)
                    store.keeping(name, cloud, target, done=True)
                    return self._release(ident, name)
                store.unkeep(name, target)  # the name is taken by something else
                break
        base = store.base(name)
        if base is not None:
            if base.same_as(cloud):
                return self._release(ident, name)
            log.warning("%s: '%s' changed in the cloud while a local edit waited to upload "
                        "(based on %s, cloud has %s)", self.account, name, base, cloud)
        else:
            local = self._local_hash(name)
            if local is not None and cloud.hash and local.lower() == cloud.hash.lower():
                log.info("%s: '%s': no base known; same content as the cloud's: uploading",
                         self.account, name)
                return self._release(ident, name)
            log.warning("%s: '%s': no base known and the cloud's content differs: keeping "
                        "the cloud's version", self.account, name)
        # A conflict: is the item at the path (what a copy by the path copies) the one the
        # upload replaces (in the folder rclone knows by its ID)? Not when the folder was
        # moved in the cloud and, maybe, a new one made at its path (its file left as it is)
        if listed:  # the listing went through rclone's cached folder ID, as the upload will
            at_path = self._stat(name)
            if at_path is None or _other(at_path, stat):
                return self._check_moved(ident, name, dict(stat))
        else:
            written = self._written_to(name)
            if written is None:  # the upload makes a new file there: nothing replaced
                log.warning("%s: '%s' is not in its folder as rclone knows it (by its ID): "
                            "the folder was moved in the cloud and another made at its path; "
                            "the upload goes into the moved folder", self.account, name)
                return self._release(ident, name)
            if _other(written, stat):
                return self._check_moved(ident, name, written)
        return self._keep(ident, name, cloud, None)

    def _keep(self, ident: int, name: str, cloud: Version, target: str | None) -> bool:
        """Copy the cloud's version of *name* to a conflict name (server-side), record it,
        release the local edit. Raises when no copy could be made (it stays held)."""
        store = self.store
        assert store is not None
        folder, leaf = posixpath.dirname(name), posixpath.basename(name)
        candidates = iter([target]) if target is not None else self._targets(folder, leaf, cloud)
        last: RcCallError | None = None
        for candidate in candidates:
            store.keeping(name, cloud, candidate, done=False)
            store.save()  # before the copy: a timeout or crash must not make a second one
            self._listings.changed({candidate}, time.monotonic())
            try:
                self.client.call("operations/copyfile", {
                    "srcFs": self.fs, "srcRemote": name, "dstFs": self.fs,
                    "dstRemote": candidate}, timeout=_CALL_TIMEOUT)
            except RcCallError as exc:  # refused (name, rights): the next candidate
                store.unkeep(name, candidate)
                log.warning("%s: keeping the cloud's '%s' as '%s': %s", self.account, name,
                            candidate, exc.error_text)
                last = exc
                continue
            store.keeping(name, cloud, candidate, done=True)
            self._report(name, candidate)
            return self._release(ident, name)
        assert last is not None
        raise last

    def _targets(self, folder: str, leaf: str, cloud: Version) -> Iterator[str]:
        """Where to keep the cloud's version, best first (each looked up only when the one
        before was refused)."""
        def taken_in(where: str) -> Callable[[str], bool]:
            return lambda c: self._stat(posixpath.join(where, c)) is not None

        full = conflict_name(leaf, cloud.modified, taken_in(folder))
        if len(full) <= _MAX_LEAF and len(posixpath.join(folder, full)) <= _MAX_PATH:
            yield posixpath.join(folder, full)
        short = short_conflict_name(leaf, cloud.modified, taken_in(folder))
        if len(posixpath.join(folder, short)) <= _MAX_PATH:
            yield posixpath.join(folder, short)
        root_short = short_conflict_name(leaf, cloud.modified, taken_in(CONFLICTS_FOLDER))
        yield posixpath.join(CONFLICTS_FOLDER, root_short)

    def _same(self, item: Mapping[str, Any], cloud: Version) -> bool:
        """A stat *item* holds the cloud version *cloud* (a conflict copy of it)."""
        there = version_of(item, self._hash_type)
        if there.size != cloud.size:
            return False
        return not (there.hash and cloud.hash) or there.hash.lower() == cloud.hash.lower()

    def _report(self, name: str, target: str, *, shown: str | None = None) -> None:
        """Tell of the conflict copy *target* of *name*; *shown*: the copy's path in the
        mount now, when that is not *target* (a folder moved in the cloud)."""
        folder = posixpath.dirname(target)
        # show the copy in the mounted folder now, not at the next change poll
        self._refresh_folders({posixpath.dirname(shown or target)},
                              why="to show a conflict copy")
        local = None
        if self.mount_point:
            local = os.path.join(self.mount_point, *([p for p in folder.split("/") if p]))
        conflict = Conflict(self.account, name, target, local, time.time())
        self.conflicts.add(conflict)
        if self._on_conflict is not None:
            self._on_conflict(conflict)

    def _local_hash(self, name: str) -> str | None:
        """The cloud's hash type of the local cache file of *name* (rclone computes it
        locally), None when it cannot be told."""
        root = self._data_root
        if root is None or not self._hash_type:
            return None
        try:
            out = self.client.call("operations/hashsum", {
                "fs": str(os_path(root, name, self.platform)), "hashType": self._hash_type},
                timeout=_CALL_TIMEOUT)
        except RcloneError as exc:
            log.info("%s: hashing the local '%s': %s", self.account, name, exc.message)
            return None
        lines = out.get("hashsum")
        if isinstance(lines, list) and len(lines) == 1 and isinstance(lines[0], str):
            return lines[0].split(" ", 1)[0] or None
        return None

    def _cloud_item(self, name: str) -> tuple[Mapping[str, Any] | None, bool]:
        """(the cloud's item of the held file *name* as rc ``operations/stat`` gives it, None
        when it is not in the cloud; whether a folder listing answered). The batched lookup:
        a listing of its folder asked for at most LISTING_REUSE seconds ago answers (unless
        this app changed the file since); else, when enough of the folder's files wait, one
        rc ``operations/list`` of the folder, kept for the checks of the others; else one
        stat. Raises when the cloud could not be asked (the file stays held). A listing
        goes through rclone's cached folder ID, as the upload does; a stat by the path
        (:mod:`.cloud_moves`)."""
        found, item = self._listings.find(name, time.monotonic())
        if found:
            return item, True
        folder = posixpath.dirname(name)
        if self._listings.worth_listing(folder):
            at = time.monotonic()
            self._listings.put(folder, at, self._list(folder))
            found, item = self._listings.find(name, at)
            if found:
                return item, True
        return self._stat(name), False

    def _opt(self) -> dict[str, Any]:
        opt: dict[str, Any] = {"showHash": True, "noMimeType": True}
        if self._hash_type:
            opt["hashTypes"] = [self._hash_type]
        return opt

    def _learn_hash_type(self, item: Mapping[str, Any]) -> None:
        hashes = item.get("Hashes")
        if self._hash_type is None and isinstance(hashes, dict) and len(hashes) == 1:
            self._hash_type = str(next(iter(hashes)))

    def _list(self, folder: str) -> list[Mapping[str, Any]]:
        """rc ``operations/list`` of *folder* (files and folders; empty when the folder
        does not exist)."""
        try:
            items = self.client.call("operations/list", {"fs": self.fs, "remote": folder,
                                                         "opt": self._opt()},
                                     timeout=_CALL_TIMEOUT).get("list")
        except RcCallError as exc:
            if exc.status == 404:  # the folder does not exist (any more)
                return []
            raise
        out: list[Mapping[str, Any]] = [i for i in items or [] if isinstance(i, dict)]
        for item in out:
            if not item.get("IsDir"):
                self._learn_hash_type(item)
                break
        return out

    def _stat(self, remote: str, fs: str | None = None) -> dict[str, Any] | None:
        """rc ``operations/stat`` of the file *remote* in *fs* (the mount's by default);
        None when there is no such file."""
        opt = {**self._opt(), "filesOnly": True}
        try:
            item = self.client.call("operations/stat", {"fs": fs or self.fs,
                                                        "remote": remote, "opt": opt},
                                    timeout=_CALL_TIMEOUT).get("item")
        except RcCallError as exc:
            if exc.status == 404:  # its folder does not exist (any more)
                return None
            raise
        if not isinstance(item, dict) or item.get("IsDir"):
            return None
        self._learn_hash_type(item)
        return item
