"""The emulated cloud's data: app registrations, users, drives and their items, grants, tokens.

All access goes through ``CloudState.lock`` (an RLock): the HTTP layer runs one thread per
connection.
"""

from __future__ import annotations

import secrets
import string
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .quickxor import quickxor_b64

PERSONAL_TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"
AUDIENCES = ("AzureADMyOrg", "AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount",
             "PersonalMicrosoftAccount")
PLATFORMS = ("web", "spa", "mobile")
# The Microsoft clouds the emulator serves: (sign-in host, Graph host, file host). National
# clouds have no personal accounts; their file downloads/uploads go to a SharePoint host.
CLOUDS: dict[str, tuple[str, str, str]] = {
    "global": ("login.microsoftonline.com", "graph.microsoft.com", "public.dm.files.1drv.com"),
    "us": ("login.microsoftonline.us", "graph.microsoft.us", "fakecloud-my.sharepoint.us"),
    "cn": ("login.chinacloudapi.cn", "microsoftgraph.chinacloudapi.cn",
           "fakecloud-my.sharepoint.cn"),
}


def now_iso(ts: float | None = None, *, ms: bool = True) -> str:
    dt = datetime.fromtimestamp(time.time() if ts is None else ts, UTC)
    if ms:
        return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def norm_time(value: str) -> str:
    """Normalise a client-sent RFC 3339 time to Graph's UTC form (second precision, like
    OneDrive's fileSystemInfo)."""
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class App:
    client_id: str
    secret: str
    secret_expired: bool = False
    redirect_platform: str = "web"
    redirect_uris: tuple[str, ...] = ("http://localhost",)
    audience: str = "AzureADandPersonalMicrosoftAccount"
    home_tenant: str | None = None
    display_name: str = "onedrive-app"
    cloud: str = "global"
    admin_consent_only: bool = False  # the tenant lets only admins consent (AADSTS90094)


@dataclass
class User:
    upn: str
    display_name: str
    personal: bool
    tenant_id: str
    mail: str | None
    id: str  # Graph /me id (a 16-hex CID for personal accounts, a GUID otherwise)
    oid: str  # object id in tokens
    drives: list[str] = field(default_factory=list)
    default_drive: str | None = None
    tokens_valid_from: float = 0.0
    cloud: str = "global"


@dataclass
class Item:
    id: str
    name: str
    parent_id: str | None
    is_folder: bool
    data: bytes = b""
    created: str = ""
    modified: str = ""
    fs_created: str = ""
    fs_modified: str = ""
    guid: str = ""
    version: int = 1
    seq: int = 0
    order: int = 0  # creation order in its drive (delta lists oldest first)
    qxh: str = ""
    children: dict[str, str] = field(default_factory=dict)  # casefolded name -> id

    def touch_content(self, data: bytes) -> None:
        self.data = data
        self.qxh = quickxor_b64(data)


@dataclass
class Drive:
    id: str
    drive_type: str
    name: str
    owner_upn: str
    quota_total: int
    root_id: str = ""
    owner_name: str = ""  # a library's site or group
    readers: set[str] = field(default_factory=set)  # casefolded UPNs besides the owner
    cloud: str = "global"
    items: dict[str, Item] = field(default_factory=dict)
    seq: int = 1
    counter: int = 100
    tombstones: list[tuple[int, str, str | None, str]] = field(default_factory=list)


@dataclass
class AuthCode:
    code: str
    client_id: str
    redirect_uri: str
    code_challenge: str | None
    code_challenge_method: str | None
    scopes: list[str]
    nonce: str | None
    upn: str
    tenant: str
    expires: float
    used: bool = False


@dataclass
class AccessToken:
    token: str
    upn: str
    client_id: str
    scopes: list[str]
    expires: float
    cloud: str = "global"


@dataclass
class RefreshToken:
    token: str
    upn: str
    client_id: str
    scopes: list[str]
    issued: float
    cloud: str = "global"


@dataclass
class Site:
    id: str
    name: str
    web_url: str
    tenant_id: str
    members: set[str]  # casefolded UPNs that can see it
    drives: list[str] = field(default_factory=list)
    followers: set[str] = field(default_factory=set)


@dataclass
class Group:
    """A Microsoft 365 group with a Team; its library is the group's drive."""

    id: str
    name: str
    members: set[str]
    drive_id: str


@dataclass
class UploadSession:
    id: str
    drive_id: str
    parent_id: str
    name: str
    conflict: str
    fs_created: str | None
    fs_modified: str | None
    expires: float
    received: bytearray = field(default_factory=bytearray)
    total: int | None = None


@dataclass
class ThrottleRule:
    count: int
    status: int
    retry_after: int
    host: str
    path_prefix: str


@dataclass
class RequestRecord:
    method: str
    host: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    status: int = 0
    time: float = 0.0


def _hex(n: int) -> str:
    return secrets.token_hex(n)


class CloudState:
    """Everything the emulated service knows. Test code changes it through FakeCloud."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.apps: dict[str, App] = {}
        self.users: dict[str, User] = {}  # key: upn casefolded
        self.user_order: list[str] = []
        self.drives: dict[str, Drive] = {}
        self.codes: dict[str, AuthCode] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.uploads: dict[str, UploadSession] = {}
        self.sites: dict[str, Site] = {}
        self.groups: dict[str, Group] = {}
        self.applications: dict[str, dict[str, object]] = {}  # object id -> created app
        self.secret_max_days: int | None = None  # tenant policy on client secret lifetimes
        self.monitors: dict[str, dict[str, object]] = {}
        # server-side copies accepted but not made yet (FakeCloud.hold_copies): monitor id
        # -> the copy, made by FakeCloud.finish_copies
        self.hold_copies = False
        self.held_copies: dict[str, Callable[[], str]] = {}
        self.throttles: list[ThrottleRule] = []
        self.requests: list[RequestRecord] = []
        self.access_token_lifetime = 3600
        # Refresh tokens redeemable once (the identity platform rotates them; a client that
        # loses the new one is signed out): makes a lost token refresh visible.
        self.single_use_refresh_tokens = False
        self.code_lifetime = 600
        self.down = False

    # ----- directory -----
    def add_app(self, app: App) -> None:
        if app.redirect_platform not in PLATFORMS:
            raise ValueError(f"redirect_platform must be one of {PLATFORMS}")
        if app.audience not in AUDIENCES:
            raise ValueError(f"audience must be one of {AUDIENCES}")
        with self.lock:
            self.apps[app.client_id.lower()] = app

    def app(self, client_id: str | None) -> App | None:
        return self.apps.get((client_id or "").lower())

    def add_user(self, upn: str, display_name: str, *, personal: bool = True,
                 tenant_id: str | None = None, mail: str | None = None,
                 cloud: str = "global") -> User:
        if personal and cloud != "global":
            raise ValueError("national clouds have no personal Microsoft accounts")
        if personal:
            cid = _hex(8)
            user = User(upn, display_name, True, PERSONAL_TENANT, None, cid,
                        f"00000000-0000-0000-{cid[:4]}-{cid[4:]}")
        else:
            oid = str(uuid.uuid4())
            user = User(upn, display_name, False, tenant_id or str(uuid.uuid4()), mail, oid, oid)
        user.cloud = cloud
        with self.lock:
            self.users[upn.casefold()] = user
            self.user_order.append(upn.casefold())
        return user

    def user(self, upn: str | None) -> User | None:
        return self.users.get((upn or "").casefold())

    # ----- drives and items -----
    def _new_item_id(self, drive: Drive) -> str:
        drive.counter += 1
        if drive.drive_type == "personal":
            return f"{drive.id.upper()}!{drive.counter}"
        alphabet = string.ascii_uppercase + "234567"
        return "01" + "".join(secrets.choice(alphabet) for _ in range(32))

    def add_drive(self, upn: str, *, drive_type: str = "personal", name: str = "OneDrive",
                  quota_total: int = 5 * 2**30, default: bool = True) -> Drive:
        with self.lock:
            user = self.user(upn)
            if user is None:
                raise KeyError(f"no such user: {upn}")
            if drive_type == "personal":
                drive_id = user.id if user.id not in self.drives else _hex(8)
            else:
                drive_id = "b!" + secrets.token_urlsafe(48)[:64]
            drive = Drive(drive_id, drive_type, name, user.upn, quota_total, cloud=user.cloud)
            self._add_root(drive)
            user.drives.append(drive_id)
            if default or user.default_drive is None:
                user.default_drive = drive_id
            return drive

    def _add_root(self, drive: Drive) -> None:
        t = now_iso()
        root = Item(self._new_item_id(drive), "root", None, True, created=t, modified=t,
                    fs_created=now_iso(ms=False), fs_modified=now_iso(ms=False),
                    guid=str(uuid.uuid4()).upper(), seq=drive.seq, order=drive.counter)
        drive.root_id = root.id
        drive.items[root.id] = root
        self.drives[drive.id] = drive

    def add_library(self, name: str, owner_name: str, members: list[str], *,
                    cloud: str = "global", quota_total: int = 25 * 2**40) -> Drive:
        """A SharePoint document library (driveType documentLibrary) *members* can use."""
        with self.lock:
            drive = Drive("b!" + secrets.token_urlsafe(48)[:64], "documentLibrary", name, "",
                          quota_total, owner_name=owner_name,
                          readers={m.casefold() for m in members}, cloud=cloud)
            self._add_root(drive)
            return drive

    def add_site(self, name: str, members: list[str], *, libraries: tuple[str, ...] = (
                 "Documents",), tenant_id: str = "", cloud: str = "global",
                 followers: tuple[str, ...] = ()) -> Site:
        with self.lock:
            host = CLOUDS[cloud][2].replace("-my.", ".")
            slug = name.replace(" ", "")
            site_id = f"{host},{uuid.uuid4()},{uuid.uuid4()}"
            site = Site(site_id, name, f"https://{host}/sites/{slug}", tenant_id,
                        {m.casefold() for m in members},
                        followers={f.casefold() for f in followers})
            for lib in libraries:
                site.drives.append(self.add_library(lib, name, members, cloud=cloud).id)
            self.sites[site_id] = site
            return site

    def add_team(self, name: str, members: list[str], *, cloud: str = "global") -> Group:
        with self.lock:
            drive = self.add_library("Documents", name, members, cloud=cloud)
            group = Group(str(uuid.uuid4()), name, {m.casefold() for m in members}, drive.id)
            self.groups[group.id] = group
            return group

    def drive(self, drive_id: str) -> Drive | None:
        d = self.drives.get(drive_id)
        if d is None:
            for k, v in self.drives.items():
                if k.lower() == drive_id.lower():
                    return v
        return d

    def bump(self, drive: Drive, item: Item) -> None:
        """Record a change of item (and its ancestors) for delta and eTags."""
        drive.seq += 1
        cur: Item | None = item
        while cur is not None:
            cur.seq = drive.seq
            cur = drive.items.get(cur.parent_id) if cur.parent_id else None

    def child(self, drive: Drive, folder: Item, name: str) -> Item | None:
        cid = folder.children.get(name.casefold())
        return drive.items.get(cid) if cid else None

    def resolve(self, drive: Drive, base: Item, path: str) -> Item | None:
        cur: Item | None = base
        for part in [p for p in path.split("/") if p]:
            if cur is None or not cur.is_folder:
                return None
            cur = self.child(drive, cur, part)
        return cur

    def create_item(self, drive: Drive, parent: Item, name: str, *, folder: bool,
                    data: bytes = b"", fs_created: str | None = None,
                    fs_modified: str | None = None) -> Item:
        t = now_iso()
        item = Item(self._new_item_id(drive), name, parent.id, folder, created=t, modified=t,
                    fs_created=fs_created or now_iso(ms=False),
                    fs_modified=fs_modified or fs_created or now_iso(ms=False),
                    guid=str(uuid.uuid4()).upper(), order=drive.counter)
        if not folder:
            item.touch_content(data)
        drive.items[item.id] = item
        parent.children[name.casefold()] = item.id
        parent.modified = t
        self.bump(drive, item)
        return item

    def replace_content(self, drive: Drive, item: Item, data: bytes,
                        fs_modified: str | None = None, fs_created: str | None = None) -> None:
        item.touch_content(data)
        item.version += 1
        item.modified = now_iso()
        item.fs_modified = fs_modified or now_iso(ms=False)
        if fs_created:
            item.fs_created = fs_created
        self.bump(drive, item)

    def delete_item(self, drive: Drive, item: Item) -> None:
        parent = drive.items.get(item.parent_id) if item.parent_id else None
        stack = [item]
        while stack:
            cur = stack.pop()
            stack.extend(drive.items[c] for c in cur.children.values())
            drive.items.pop(cur.id, None)
            if parent is not None:
                self.bump(drive, parent)
            drive.tombstones.append((drive.seq, cur.id, cur.parent_id, cur.name))
        if parent is not None:
            parent.children.pop(item.name.casefold(), None)

    def move_item(self, drive: Drive, item: Item, new_parent: Item, new_name: str) -> None:
        old_parent = drive.items[item.parent_id] if item.parent_id else None
        if old_parent is not None:
            old_parent.children.pop(item.name.casefold(), None)
            self.bump(drive, old_parent)
        item.name = new_name
        item.parent_id = new_parent.id
        new_parent.children[new_name.casefold()] = item.id
        item.version += 1
        self.bump(drive, item)

    def path_of(self, drive: Drive, item: Item) -> str:
        parts: list[str] = []
        cur = item
        while cur.parent_id is not None:
            parts.append(cur.name)
            cur = drive.items[cur.parent_id]
        return "/" + "/".join(reversed(parts))

    def used(self, drive: Drive) -> int:
        return sum(len(i.data) for i in drive.items.values() if not i.is_folder)

    # ----- convenience for tests -----
    def put_file(self, drive_id: str, path: str, data: bytes) -> Item:
        with self.lock:
            drive = self.drives[drive_id]
            parts = [p for p in path.split("/") if p]
            if not parts:
                raise ValueError("path names no file")
            cur = drive.items[drive.root_id]
            for part in parts[:-1]:
                nxt = self.child(drive, cur, part)
                if nxt is None:
                    nxt = self.create_item(drive, cur, part, folder=True)
                elif not nxt.is_folder:
                    raise ValueError(f"{part} is a file")
                cur = nxt
            existing = self.child(drive, cur, parts[-1])
            if existing is not None:
                if existing.is_folder:
                    raise ValueError(f"{path} is a folder")
                self.replace_content(drive, existing, bytes(data))
                return existing
            return self.create_item(drive, cur, parts[-1], folder=False, data=bytes(data))

    def make_folder(self, drive_id: str, path: str) -> Item:
        with self.lock:
            drive = self.drives[drive_id]
            cur = drive.items[drive.root_id]
            for part in [p for p in path.split("/") if p]:
                nxt = self.child(drive, cur, part)
                if nxt is None:
                    nxt = self.create_item(drive, cur, part, folder=True)
                cur = nxt
            return cur

    def get_file(self, drive_id: str, path: str) -> bytes | None:
        with self.lock:
            drive = self.drives[drive_id]
            item = self.resolve(drive, drive.items[drive.root_id], path)
            if item is None or item.is_folder:
                return None
            return bytes(item.data)

    def list_paths(self, drive_id: str) -> list[str]:
        """Every item's path ('/Documents', '/Documents/hello.txt'...); folders end with '/'."""
        with self.lock:
            drive = self.drives[drive_id]
            out = []
            for item in drive.items.values():
                if item.parent_id is None:
                    continue
                p = self.path_of(drive, item)
                out.append(p + "/" if item.is_folder else p)
            return sorted(out)
