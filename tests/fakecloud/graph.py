"""graph.microsoft.com (v1.0 subset for OneDrive, SharePoint sites and Teams' libraries) plus the
download / upload-session hosts; one instance per Microsoft cloud (national clouds have their
own Graph host)."""

from __future__ import annotations

import json
import mimetypes
import re
import secrets
import time
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote

from .messages import Request, Response, json_response
from .state import (
    CLOUDS,
    AccessToken,
    CloudState,
    Drive,
    Item,
    UploadSession,
    User,
    norm_time,
    now_iso,
)

HOST = "graph.microsoft.com"
DOWNLOAD_HOST = "public.dm.files.1drv.com"
UPLOAD_HOST = "api.onedrive.com"
GRAPH = f"https://{HOST}/v1.0"
_RANGE_RE = re.compile(r"bytes=(\d*)-(\d*)$")
_CRANGE_RE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)$")
# The OData key form rclone uses in the China cloud: .../children('@a1')/route?@a1='a/b'
# or .../children('name')/route (backend/onedrive/onedrive.go, newOptsCallWithIDPath).
_CHILDREN_KEY_RE = re.compile(r"^(/root|/items/[^/:]+)/children\('((?:[^']|'')*)'\)(/[^?]*)?$")


def gerr(status: int, code: str, message: str, headers: list[tuple[str, str]] | None = None,
         ) -> Response:
    return json_response(status, {"error": {
        "code": code, "message": message,
        "innerError": {"date": now_iso(ms=False), "request-id": secrets.token_hex(16),
                       "client-request-id": secrets.token_hex(16)}}}, headers)


def not_found() -> Response:
    return gerr(404, "itemNotFound", "Item does not exist")


class GraphService:
    def __init__(self, state: CloudState, cloud: str = "global") -> None:
        self.state = state
        self.cloud = cloud
        self.host = CLOUDS[cloud][1]
        self.graph = f"https://{self.host}/v1.0"
        self.download_host = DOWNLOAD_HOST if cloud == "global" else CLOUDS[cloud][2]
        self.upload_host = UPLOAD_HOST if cloud == "global" else CLOUDS[cloud][2]
        self.downloads: dict[str, tuple[str, str]] = {}  # token -> (drive id, item id)
        # delta listings in progress: $skiptoken -> (entries, token at the start, next offset)
        self.delta_listings: dict[str, tuple[list[tuple[str, str, str | None, str]], int,
                                             int]] = {}

    # ------------------------------------------------------------------ JSON shapes
    def drive_json(self, drive: Drive) -> dict[str, Any]:
        owner = self.state.user(drive.owner_upn) if drive.owner_upn else None
        used = self.state.used(drive)
        owner_json: dict[str, Any] = (
            {"user": {"displayName": owner.display_name, "id": owner.id}} if owner else
            {"group": {"displayName": drive.owner_name, "id": drive.id[-12:]}})
        return {
            "id": drive.id, "driveType": drive.drive_type, "name": drive.name,
            "createdDateTime": drive.items[drive.root_id].created,
            "lastModifiedDateTime": drive.items[drive.root_id].modified,
            "webUrl": f"https://onedrive.live.com/?cid={drive.id}",
            "owner": owner_json,
            "quota": {"total": drive.quota_total, "used": used,
                      "remaining": max(drive.quota_total - used, 0), "deleted": 0,
                      "state": "normal" if used < drive.quota_total * 0.9 else "nearing"},
        }

    def item_json(self, drive: Drive, item: Item) -> dict[str, Any]:
        j: dict[str, Any] = {
            "createdDateTime": item.created,
            "cTag": f'"c:{{{item.guid}}},{item.version}"',
            "eTag": f'"{{{item.guid}}},{item.version}"',
            "id": item.id,
            "lastModifiedDateTime": item.modified,
            "name": item.name,
            "size": (sum(len(c.data) for c in self.walk(drive, item) if not c.is_folder)
                     if item.is_folder else len(item.data)),
            "webUrl": f"https://onedrive.live.com/?cid={drive.id}&id={quote(item.id)}",
            "createdBy": {"user": {"displayName": self._owner_name(drive)}},
            "lastModifiedBy": {"user": {"displayName": self._owner_name(drive)}},
            "fileSystemInfo": {"createdDateTime": item.fs_created,
                               "lastModifiedDateTime": item.fs_modified},
        }
        if item.parent_id is None:
            j["root"] = {}
            j["parentReference"] = {"driveId": drive.id, "driveType": drive.drive_type}
        else:
            parent = drive.items[item.parent_id]
            ppath = self.state.path_of(drive, parent)
            j["parentReference"] = {
                "driveId": drive.id, "driveType": drive.drive_type, "id": parent.id,
                "name": parent.name,
                "path": "/drive/root:" + ("" if ppath == "/" else ppath)}
        if item.is_folder:
            j["folder"] = {"childCount": len(item.children),
                           "view": {"viewType": "thumbnails", "sortBy": "name",
                                    "sortOrder": "ascending"}}
        else:
            mime = mimetypes.guess_type(item.name)[0] or "application/octet-stream"
            j["file"] = {"mimeType": mime, "hashes": {"quickXorHash": item.qxh}}
            j["@microsoft.graph.downloadUrl"] = self.download_url(drive, item)
        return j

    def _owner_name(self, drive: Drive) -> str:
        owner = self.state.user(drive.owner_upn) if drive.owner_upn else None
        return owner.display_name if owner else drive.owner_name

    def walk(self, drive: Drive, item: Item) -> list[Item]:
        out, stack = [], [item]
        while stack:
            cur = stack.pop()
            out.append(cur)
            stack.extend(drive.items[c] for c in cur.children.values())
        return out

    def download_url(self, drive: Drive, item: Item) -> str:
        token = "y4m" + secrets.token_urlsafe(60)
        self.downloads[token] = (drive.id, item.id)
        return f"https://{self.download_host}/{token}/{quote(item.name)}?download&psid=1"

    # ------------------------------------------------------------------ auth
    def authenticate(self, req: Request) -> AccessToken | Response:
        auth = req.headers.get("authorization", "")
        if not auth:
            return gerr(401, "InvalidAuthenticationToken", "Access token is empty.")
        if not auth.lower().startswith("bearer "):
            return gerr(401, "InvalidAuthenticationToken",
                        "Access token validation failure. Invalid audience.")
        tok = self.state.access_tokens.get(auth[7:].strip())
        if tok is not None and tok.cloud != self.cloud:
            return gerr(401, "InvalidAuthenticationToken",
                        "Access token validation failure. Invalid audience.")
        if tok is None:
            return gerr(401, "InvalidAuthenticationToken",
                        "IDX14100: JWT is not well formed, there are no dots (.).")
        if tok.expires < time.time():
            return gerr(401, "InvalidAuthenticationToken",
                        "Lifetime validation failed, the token is expired.")
        return tok

    # ------------------------------------------------------------------ dispatch
    def handle(self, req: Request) -> Response:
        path = unquote(req.raw_path)
        if not path.startswith("/v1.0/"):
            return gerr(400, "BadRequest", f"Invalid version: {path}")
        with self.state.lock:
            tok = self.authenticate(req)
            if isinstance(tok, Response):
                return tok
            user = self.state.user(tok.upn)
            if user is None:
                return gerr(401, "InvalidAuthenticationToken", "User not found.")
            rest = path[len("/v1.0"):]
            if rest.rstrip("/") == "/me":
                return json_response(200, {
                    "@odata.context": f"{self.graph}/$metadata#users/$entity",
                    "businessPhones": [], "displayName": user.display_name,
                    "givenName": user.display_name.split(" ")[0],
                    "surname": user.display_name.split(" ")[-1],
                    "jobTitle": None, "mail": user.mail, "mobilePhone": None,
                    "officeLocation": None, "preferredLanguage": None,
                    "userPrincipalName": user.upn, "id": user.id})
            if rest.rstrip("/") == "/me/drives":
                return json_response(200, {
                    "@odata.context": f"{self.graph}/$metadata#drives",
                    "value": [self.drive_json(self.state.drives[d]) for d in user.drives]})
            if rest.startswith("/applications"):
                return self.applications(req, user, tok, rest)
            sp = self.sharepoint(req, user, tok, rest)
            if sp is not None:
                return sp
            if rest.startswith("/me/drive") and (len(rest) == 9 or rest[9] in "/:"):
                if user.default_drive is None:
                    return gerr(404, "itemNotFound", "The user does not have a drive.")
                drive = self.state.drives[user.default_drive]
                rest = rest[9:]
            elif rest.startswith("/drives/"):
                did, _, tail = rest[8:].partition("/")
                found = self.state.drive(did)
                if found is None:
                    return gerr(404, "itemNotFound", "Item does not exist")
                drive = found
                rest = "/" + tail if tail else ""
            else:
                return self.not_implemented(req)
            if not self.can_use(user, drive):
                return gerr(403, "accessDenied", "Access denied")
            return self.drive_request(req, drive, rest)

    @staticmethod
    def can_use(user: User, drive: Drive) -> bool:
        return drive.cloud == user.cloud and (
            drive.owner_upn.casefold() == user.upn.casefold()
            or user.upn.casefold() in drive.readers)

    def sharepoint(self, req: Request, user: User, tok: AccessToken, rest: str,
                   ) -> Response | None:
        """Sites search, followed sites, joined Teams, group and site drives; None when
        *rest* is none of them."""
        path = rest.rstrip("/")
        me = user.upn.casefold()
        if req.method != "GET":
            return None

        def site_json(site: Any) -> dict[str, Any]:
            return {"id": site.id, "name": site.web_url.rsplit("/", 1)[-1],
                    "displayName": site.name, "webUrl": site.web_url,
                    "createdDateTime": now_iso()}

        def needs(scope: str) -> Response | None:
            if user.personal:
                return gerr(400, "invalidRequest",
                            "Unable to retrieve tenant service info.")
            if scope not in tok.scopes:
                if scope.startswith("Team"):
                    return gerr(403, "Forbidden", "Missing scope permissions on the "
                                "request. API requires one of 'Team.ReadBasic.All, "
                                "TeamSettings.Read.All, TeamSettings.ReadWrite.All, "
                                "User.Read.All, Directory.Read.All, User.ReadWrite.All, "
                                "Directory.ReadWrite.All'.")
                return gerr(403, "accessDenied", "Access denied")
            return None

        def visible(site: Any) -> bool:
            return me in site.members and site.tenant_id in ("", user.tenant_id) and \
                self.state.drives[site.drives[0]].cloud == self.cloud if site.drives else False

        if path == "/sites" and "search" in req.query:
            refused = needs("Sites.Read.All")
            if refused:
                return refused
            q = req.query.get("search", "").strip("\"").casefold()
            found = [site_json(s) for s in self.state.sites.values()
                     if visible(s) and (q in s.name.casefold() or q == "*")]
            return json_response(200, {"@odata.context": f"{self.graph}/$metadata#sites",
                                       "value": found})
        if path == "/me/followedSites":
            refused = needs("Sites.Read.All")
            if refused:
                return refused
            found = [site_json(s) for s in self.state.sites.values()
                     if visible(s) and me in s.followers]
            return json_response(200, {"value": found})
        if path == "/me/joinedTeams":
            refused = needs("Team.ReadBasic.All")
            if refused:
                return refused
            teams = [{"id": g.id, "displayName": g.name, "description": None,
                      "isArchived": False, "tenantId": user.tenant_id}
                     for g in self.state.groups.values() if me in g.members
                     and self.state.drives[g.drive_id].cloud == self.cloud]
            return json_response(200, {"@odata.count": len(teams), "value": teams})
        m = re.fullmatch(r"/sites/([^/]+)/drives", path)
        if m:
            site = self.state.sites.get(m.group(1))
            if site is None or not visible(site):
                return gerr(404, "itemNotFound", "Requested site could not be found")
            return json_response(200, {"value": [self.drive_json(self.state.drives[d])
                                                 for d in site.drives]})
        m = re.fullmatch(r"/groups/([^/]+)/drive", path)
        if m:
            group = self.state.groups.get(m.group(1))
            if group is None or me not in group.members:
                return gerr(404, "Request_ResourceNotFound",
                            f"Resource '{m.group(1)}' does not exist or one of its queried "
                            "reference-property objects are not present.")
            return json_response(200, self.drive_json(self.state.drives[group.drive_id]))
        return None

    # ------------------------------------------------------------------ app registrations
    def applications(self, req: Request, user: User, tok: AccessToken, rest: str) -> Response:
        """POST /applications and POST /applications/{id}/addPassword, checking bodies as
        Graph does (what `az rest` sends from the Cloud Shell command)."""
        if user.personal or not ({"Application.ReadWrite.All", "Directory.AccessAsUser.All"}
                                 & set(tok.scopes)):
            return gerr(403, "Authorization_RequestDenied",
                        "Insufficient privileges to complete the operation.")
        path = rest.rstrip("/")
        if path == "/applications" and req.method == "POST":
            return self.create_application(req, user)
        m = re.fullmatch(r"/applications/([^/]+)/addPassword", path)
        if m and req.method == "POST":
            return self.add_password(req, m.group(1))
        return self.not_implemented(req)

    def create_application(self, req: Request, user: User) -> Response:
        from .state import AUDIENCES, App

        def bad(message: str) -> Response:
            return gerr(400, "Request_BadRequest", message)

        try:
            body = json.loads(req.body or b"{}")
        except ValueError:
            return bad("Unable to read JSON request payload. Please ensure Content-Type "
                       "header is set and payload is of valid JSON format.")
        if not isinstance(body, dict):
            return bad("Unable to read JSON request payload.")
        known = {"displayName", "signInAudience", "api", "web", "requiredResourceAccess",
                 "description", "notes", "tags"}
        for key in body:
            if key not in known:
                return bad(f"Invalid property '{key}'.")
        name = body.get("displayName")
        if not isinstance(name, str) or not name.strip():
            return bad("Property 'displayName' is required.")
        audience = body.get("signInAudience", "AzureADMyOrg")
        personal = audience in ("AzureADandPersonalMicrosoftAccount",
                                "PersonalMicrosoftAccount")
        if audience not in AUDIENCES or (personal and self.cloud != "global"):
            return bad("Invalid value specified for property 'signInAudience' of resource "
                       "'Application'.")
        api = body.get("api") or {}
        version = api.get("requestedAccessTokenVersion") if isinstance(api, dict) else None
        if personal and version != 2:
            return bad("Property api.requestedAccessTokenVersion is invalid.")
        web = body.get("web") or {}
        uris = web.get("redirectUris", []) if isinstance(web, dict) else None
        if not isinstance(uris, list) or not all(isinstance(u, str) for u in uris):
            return bad("Invalid value specified for property 'web.redirectUris' of resource "
                       "'Application'.")
        for uri in uris:
            if not (uri.startswith("https://") or uri.startswith("http://localhost")):
                return bad("Invalid value specified for property 'web.redirectUris' of "
                           "resource 'Application'.")
        rra = body.get("requiredResourceAccess", [])
        guid = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
        if not isinstance(rra, list):
            return bad("Invalid value specified for property 'requiredResourceAccess'.")
        for res in rra:
            ok = isinstance(res, dict) and guid.match(str(res.get("resourceAppId", ""))) \
                and isinstance(res.get("resourceAccess"), list)
            if ok:
                for ra in res["resourceAccess"]:
                    ok = ok and isinstance(ra, dict) and bool(guid.match(str(ra.get("id", "")))) \
                        and ra.get("type") in ("Scope", "Role")
            if not ok:
                return bad("Invalid value specified for property 'requiredResourceAccess' of "
                           "resource 'Application'.")
        object_id, app_id = str(uuid.uuid4()), str(uuid.uuid4())
        app = App(app_id, "", redirect_platform="web", redirect_uris=tuple(uris),
                  audience=str(audience), home_tenant=user.tenant_id, display_name=name,
                  cloud=self.cloud)
        self.state.add_app(app)
        created = {"id": object_id, "appId": app_id, "displayName": name,
                   "signInAudience": audience, "api": {"requestedAccessTokenVersion": version},
                   "web": {"redirectUris": uris}, "requiredResourceAccess": rra,
                   "passwordCredentials": [], "createdDateTime": now_iso(ms=False),
                   "publisherDomain": user.upn.split("@")[-1]}
        self.state.applications[object_id] = created
        return json_response(201, {"@odata.context": f"{self.graph}/$metadata#applications/"
                                   "$entity", **created})

    def add_password(self, req: Request, object_id: str) -> Response:
        created = self.state.applications.get(object_id)
        if created is None:
            return gerr(404, "Request_ResourceNotFound",
                        f"Resource '{object_id}' does not exist or one of its queried "
                        "reference-property objects are not present.")
        try:
            body = json.loads(req.body or b"{}")
        except ValueError:
            return gerr(400, "Request_BadRequest", "Unable to read JSON request payload.")
        cred = body.get("passwordCredential") if isinstance(body, dict) else None
        cred = cred if isinstance(cred, dict) else {}
        now = time.time()
        end_text = cred.get("endDateTime")
        if end_text:
            try:
                end = datetime.fromisoformat(str(end_text).replace("Z", "+00:00")).timestamp()
            except ValueError:
                return gerr(400, "Request_BadRequest",
                            "Invalid value specified for property 'endDateTime'.")
        else:
            end = now + 2 * 365 * 86400
        limit = self.state.secret_max_days
        if limit is not None and end - now > limit * 86400 + 60:
            return gerr(400, "Request_BadRequest", "Credential lifetime exceeds the max value "
                        "allowed as per assigned policy.")
        secret = secrets.token_urlsafe(30).replace("-", "~")[:40]
        app = self.state.app(str(created["appId"]))
        assert app is not None
        app.secret = secret
        key_id = str(uuid.uuid4())
        cred_out = {"customKeyIdentifier": None, "displayName": cred.get("displayName"),
                    "endDateTime": datetime.fromtimestamp(end, UTC).strftime(
                        "%Y-%m-%dT%H:%M:%SZ"),
                    "hint": secret[:3], "keyId": key_id, "secretText": secret,
                    "startDateTime": now_iso(now, ms=False)}
        return json_response(200, {"@odata.context": f"{self.graph}/$metadata#microsoft.graph."
                                   "passwordCredential", **cred_out})

    def not_implemented(self, req: Request) -> Response:
        return gerr(501, "notSupported",
                    f"fakecloud does not implement {req.method} {req.raw_path}")

    def drive_request(self, req: Request, drive: Drive, rest: str) -> Response:
        m = _CHILDREN_KEY_RE.match(rest)
        if m:  # .../children('@a1')/route?@a1='path' -> .../:/path:/route
            key = m.group(2)
            if key == "@a1":
                key = req.query.get("@a1", "")
                if len(key) < 2 or not (key.startswith("'") and key.endswith("'")):
                    return gerr(400, "invalidRequest", "Invalid parameter alias @a1")
                key = key[1:-1]
            key = key.replace("''", "'")
            rest = f"{m.group(1)}:/{key}:" + (m.group(3) or "")
        if rest in ("", "/"):
            if req.method == "GET":
                return json_response(200, self.drive_json(drive))
            return self.not_implemented(req)
        # Item addressing: /root, /root:/path:, /items/{id}, /items/{id}:/path:
        if rest.startswith("/root"):
            base = drive.items[drive.root_id]
            after = rest[5:]
        elif rest.startswith("/items/"):
            m = re.match(r"/items/([^/:]+)", rest)
            if not m:
                return self.not_implemented(req)
            item_id = m.group(1)
            found = drive.items.get(item_id) or (drive.items[drive.root_id]
                                                 if item_id == "root" else None)
            if found is None:
                for k, v in drive.items.items():
                    if k.lower() == item_id.lower():
                        found = v
                        break
            if found is None:
                return not_found()
            base = found
            after = rest[m.end():]
        else:
            return self.not_implemented(req)
        rel: str | None = None
        suffix = after
        if after.startswith(":"):
            body = after[1:]
            if body.endswith(":"):
                rel, suffix = body[:-1], ""
            elif ":/" in body:
                idx = body.rfind(":/")
                rel, suffix = body[:idx], body[idx + 1:]
            else:
                rel, suffix = body, ""
        suffix = suffix.rstrip("/") if suffix != "/" else ""
        target: Item | None = base
        parent_for_new: Item | None = None
        leaf = ""
        if rel is not None and rel.strip("/"):
            parts = [p for p in rel.split("/") if p]
            parent_for_new = self.state.resolve(drive, base, "/".join(parts[:-1]))
            leaf = parts[-1]
            target = self.state.resolve(drive, base, rel)
        return self.item_request(req, drive, target, parent_for_new, leaf, suffix)

    def item_request(self, req: Request, drive: Drive, item: Item | None,
                     parent: Item | None, leaf: str, suffix: str) -> Response:
        m = req.method
        if suffix == "" and m == "GET":
            return json_response(200, self.item_json(drive, item)) if item else not_found()
        if suffix == "/children" and m == "GET":
            return self.children(req, drive, item)
        if suffix == "/children" and m == "POST":
            return self.mkdir(req, drive, item)
        if suffix == "/content" and m == "GET":
            if item is None or item.is_folder:
                return not_found()
            return Response(302, b"", [("Location", self.download_url(drive, item))])
        if suffix == "/content" and m == "PUT":
            return self.simple_upload(req, drive, item, parent, leaf)
        if suffix == "/createUploadSession" and m == "POST":
            return self.create_session(req, drive, item, parent, leaf)
        if suffix == "" and m == "DELETE":
            if item is None:
                return not_found()
            if item.parent_id is None:
                return gerr(403, "accessDenied", "Cannot delete the root.")
            self.state.delete_item(drive, item)
            return Response(204)
        if suffix == "" and m == "PATCH":
            return self.patch(req, drive, item)
        if suffix == "/copy" and m == "POST":
            return self.copy(req, drive, item)
        if suffix == "/delta" and m == "GET":
            return self.delta(req, drive, item)
        return self.not_implemented(req)

    # ------------------------------------------------------------------ operations
    def children(self, req: Request, drive: Drive, folder: Item | None) -> Response:
        if folder is None:
            return not_found()
        if not folder.is_folder:
            return json_response(200, {"value": []})
        q = req.query
        top = max(1, min(int(q.get("$top", "200") or 200), 1000))
        skip = int(q.get("$skiptoken", "0") or 0)
        kids = sorted((drive.items[c] for c in folder.children.values()),
                      key=lambda i: i.name.casefold())
        page = kids[skip:skip + top]
        body: dict[str, Any] = {
            "@odata.context": f"{self.graph}/$metadata#drives('{drive.id}')/items('{folder.id}')"
                              "/children",
            "value": [self.item_json(drive, i) for i in page]}
        if skip + top < len(kids):
            params = dict(q)
            params["$top"] = str(top)
            params["$skiptoken"] = str(skip + top)
            qs = "&".join(f"{quote(k, safe='$')}={quote(v, safe='')}" for k, v in params.items())
            body["@odata.nextLink"] = (f"https://{self.host}{req.raw_path}?{qs}")
        return json_response(200, body)

    def _conflict(self, name: str) -> Response:
        return gerr(409, "nameAlreadyExists",
                    f"The specified item name already exists. Name: {name}")

    def mkdir(self, req: Request, drive: Drive, parent: Item | None) -> Response:
        if parent is None:
            return not_found()
        body = req.json()
        name = str(body.get("name", ""))
        if not name or ("folder" not in body and "file" not in body):
            return gerr(400, "invalidRequest", "Invalid request")
        behavior = str(body.get("@microsoft.graph.conflictBehavior", "fail"))
        existing = self.state.child(drive, parent, name)
        if existing is not None:
            if behavior == "rename":
                base, n = name, 1
                while self.state.child(drive, parent, name):
                    n += 1
                    name = f"{base} {n}"
            elif behavior == "replace":
                self.state.delete_item(drive, existing)
            else:
                return self._conflict(name)
        item = self.state.create_item(drive, parent, name, folder="folder" in body)
        return json_response(201, self.item_json(drive, item))

    def _quota_ok(self, drive: Drive, extra: int) -> bool:
        return self.state.used(drive) + extra <= drive.quota_total

    def simple_upload(self, req: Request, drive: Drive, item: Item | None,
                      parent: Item | None, leaf: str) -> Response:
        data = req.body
        if len(data) > 250 * 2**20:
            return gerr(413, "requestTooLarge", "Request entity too large")
        if item is not None:
            if item.is_folder:
                return gerr(409, "nameAlreadyExists", "A folder of that name exists.")
            if not self._quota_ok(drive, len(data) - len(item.data)):
                return gerr(507, "quotaLimitReached", "Insufficient Space Available")
            self.state.replace_content(drive, item, data)
            return json_response(200, self.item_json(drive, item))
        if parent is None or not parent.is_folder or not leaf:
            return not_found()
        if not self._quota_ok(drive, len(data)):
            return gerr(507, "quotaLimitReached", "Insufficient Space Available")
        new = self.state.create_item(drive, parent, leaf, folder=False, data=data)
        return json_response(201, self.item_json(drive, new))

    def create_session(self, req: Request, drive: Drive, item: Item | None,
                       parent: Item | None, leaf: str) -> Response:
        body = req.json()
        spec = body.get("item") if isinstance(body.get("item"), dict) else {}
        assert isinstance(spec, dict)
        fsi = spec.get("fileSystemInfo") if isinstance(spec.get("fileSystemInfo"), dict) else {}
        assert isinstance(fsi, dict)
        behavior = str(spec.get("@microsoft.graph.conflictBehavior", "replace"))
        if item is not None:
            if item.is_folder:
                return gerr(409, "nameAlreadyExists", "A folder of that name exists.")
            if behavior == "fail":
                return self._conflict(item.name)
            parent = drive.items[item.parent_id] if item.parent_id else None
            leaf = item.name
        if parent is None or not parent.is_folder or not leaf:
            return not_found()
        sid = secrets.token_urlsafe(48)
        expires = time.time() + 3600 * 24 * 7
        mod = fsi.get("lastModifiedDateTime")
        created = fsi.get("createdDateTime")
        self.state.uploads[sid] = UploadSession(
            sid, drive.id, parent.id, leaf, behavior,
            norm_time(str(created)) if created else None,
            norm_time(str(mod)) if mod else None, expires)
        return json_response(200, {
            "@odata.context": f"{self.graph}/$metadata#microsoft.graph.uploadSession",
            "expirationDateTime": now_iso(expires),
            "nextExpectedRanges": ["0-"],
            "uploadUrl": f"https://{self.upload_host}/rup/{sid}"})

    def patch(self, req: Request, drive: Drive, item: Item | None) -> Response:
        if item is None:
            return not_found()
        body = req.json()
        new_parent = drive.items[item.parent_id] if item.parent_id else None
        pref = body.get("parentReference")
        if isinstance(pref, dict) and new_parent is not None:
            if pref.get("id"):
                cand = drive.items.get(str(pref["id"]))
                if cand is None and str(pref["id"]).lower() == "root":
                    cand = drive.items[drive.root_id]
                if cand is None:
                    return gerr(404, "itemNotFound", "Parent item does not exist")
                new_parent = cand
            elif pref.get("path"):
                p = str(pref["path"])
                p = p.split("root:", 1)[1] if "root:" in p else p
                cand = self.state.resolve(drive, drive.items[drive.root_id], p)
                if cand is None:
                    return gerr(404, "itemNotFound", "Parent item does not exist")
                new_parent = cand
        name = str(body.get("name") or item.name)
        if new_parent is not None and (new_parent.id != item.parent_id or name != item.name):
            c = new_parent
            while c is not None:
                if c.id == item.id:
                    return gerr(400, "invalidRequest", "Cannot move an item into itself")
                c = drive.items.get(c.parent_id) if c.parent_id else None
            existing = self.state.child(drive, new_parent, name)
            if existing is not None and existing.id != item.id:
                if body.get("@microsoft.graph.conflictBehavior") == "replace":
                    self.state.delete_item(drive, existing)
                else:
                    return self._conflict(name)
            self.state.move_item(drive, item, new_parent, name)
        fsi = body.get("fileSystemInfo")
        if isinstance(fsi, dict):
            if fsi.get("lastModifiedDateTime"):
                item.fs_modified = norm_time(str(fsi["lastModifiedDateTime"]))
            if fsi.get("createdDateTime"):
                item.fs_created = norm_time(str(fsi["createdDateTime"]))
            item.version += 1
            item.modified = now_iso()
            self.state.bump(drive, item)
        return json_response(200, self.item_json(drive, item))

    def copy(self, req: Request, drive: Drive, item: Item | None) -> Response:
        if item is None:
            return not_found()
        body = req.json()
        pref = body.get("parentReference")
        dest = drive.items[item.parent_id] if item.parent_id else None
        if isinstance(pref, dict) and pref.get("id"):
            dest = drive.items.get(str(pref["id"]))
        if dest is None:
            return gerr(404, "itemNotFound", "Parent item does not exist")
        name = str(body.get("name") or item.name)
        if self.state.child(drive, dest, name) is not None:
            return self._conflict(name)

        def clone(src: Item, parent: Item, nm: str) -> Item:
            new = self.state.create_item(drive, parent, nm, folder=src.is_folder,
                                         data=src.data, fs_created=src.fs_created,
                                         fs_modified=src.fs_modified)
            for cid in list(src.children.values()):
                clone(drive.items[cid], new, drive.items[cid].name)
            return new

        mid = secrets.token_urlsafe(24)
        if self.state.hold_copies:  # accepted; made later (FakeCloud.finish_copies)
            self.state.held_copies[mid] = lambda: clone(item, dest, name).id
            self.state.monitors[mid] = {"operation": "itemCopy", "percentageComplete": 0,
                                        "status": "inProgress"}
        else:
            new = clone(item, dest, name)
            self.state.monitors[mid] = {"operation": "itemCopy", "percentageComplete": 100,
                                        "resourceId": new.id, "status": "completed"}
        return Response(202, b"", [("Location", f"https://{self.upload_host}/monitor/{mid}")])

    DELTA_PAGE = 200  # Graph pages delta at about 200 items whatever $top asks

    def delta(self, req: Request, drive: Drive, folder: Item | None) -> Response:
        """GET /root/delta, paged the way Graph pages it (DESIGN §10 "Listing through delta").

        - No token (or an empty one): every live item, oldest first; ``token``: what changed
          since that token, in the order of the changes (changed items with their ancestors,
          then deleted ones); parents always before their children; ``token=latest``:
          nothing, only a deltaLink from now.
        - At most :data:`DELTA_PAGE` items a page, whatever ``$top`` says (less if asked);
          ``@odata.nextLink`` (with a ``$skiptoken``) on every page but the last, and
          ``@odata.deltaLink`` only on the last one. Changes are paged the same way.
        - A listing's items are fixed at its first page; each page shows them as they are
          then (an item deleted meanwhile is left out: its deletion comes in the next round),
          and the deltaLink's token is the drive's change count at the first page.
        Costs (tests/fakecloud/throttling.py): 2 RU without a token, 1 RU with one and for
        every later page.
        """
        if folder is None or folder.parent_id is not None:
            return gerr(400, "invalidRequest", "fakecloud: delta only on the root")
        q = req.query
        link = f"{self.graph}/drives/{drive.id}/root/delta"
        try:
            top = min(max(1, int(q.get("$top") or self.DELTA_PAGE)), self.DELTA_PAGE)
        except ValueError:
            return gerr(400, "invalidRequest", "Invalid $top")
        skip = q.get("$skiptoken", "")
        if skip:
            listing = self.delta_listings.get(skip)
            if listing is None:
                return gerr(410, "resyncRequired", "The skip token is no longer valid.")
            entries, upto, offset = listing
        else:
            token = q.get("token", "")
            if token == "latest":
                return json_response(200, {"value": [],
                                           "@odata.deltaLink": f"{link}?token={drive.seq}"})
            if token and not token.isdigit():
                return gerr(400, "invalidRequest", "Invalid delta token")
            since = int(token) if token else 0
            # from scratch: oldest first; changes: as they happened (a modified item moves
            # to the end, as in Graph); parents always before their children
            changed, placed = [], set()

            def place(item: Item) -> None:
                parent = drive.items.get(item.parent_id) if item.parent_id else None
                if parent is not None and parent.seq > since and parent.id not in placed:
                    place(parent)
                placed.add(item.id)
                changed.append(item)

            for item in sorted((i for i in drive.items.values() if i.seq > since),
                               key=lambda i: i.order if not since else (i.seq, i.order)):
                if item.id not in placed:
                    place(item)
            entries = [("item", i.id, None, "") for i in changed]
            if since:  # a listing from scratch has no deleted items
                entries += [("deleted", iid, pid, name)
                            for seq, iid, pid, name in drive.tombstones if seq > since]
            upto, offset = drive.seq, 0
        value: list[dict[str, Any]] = []
        pos = offset
        while pos < len(entries) and len(value) < top:
            kind, iid, pid, name = entries[pos]
            pos += 1
            if kind == "deleted":
                value.append({"id": iid, "name": name, "deleted": {"state": "deleted"},
                              "parentReference": {"driveId": drive.id,
                                                  "driveType": drive.drive_type, "id": pid}})
            elif iid in drive.items:
                value.append(self.item_json(drive, drive.items[iid]))
        body: dict[str, Any] = {
            "@odata.context": f"{self.graph}/$metadata#Collection(driveItem)", "value": value}
        if pos < len(entries):
            nxt = secrets.token_urlsafe(16)
            self.delta_listings[nxt] = (entries, upto, pos)
            body["@odata.nextLink"] = f"{link}?$skiptoken={nxt}"
        else:
            body["@odata.deltaLink"] = f"{link}?token={upto}"
            while len(self.delta_listings) > 1000:  # a client may ask for a page again
                self.delta_listings.pop(next(iter(self.delta_listings)))
        return json_response(200, body)

    # ------------------------------------------------------------------ other hosts
    def handle_download(self, req: Request) -> Response:
        token = unquote(req.raw_path).lstrip("/").split("/", 1)[0]
        with self.state.lock:
            ref = self.downloads.get(token)
            drive = self.state.drives.get(ref[0]) if ref else None
            item = drive.items.get(ref[1]) if drive and ref else None
            if item is None:
                return gerr(404, "itemNotFound", "Item does not exist")
            data = item.data
            etag = f'"{{{item.guid}}},{item.version}"'
        if req.method not in ("GET", "HEAD"):
            return gerr(405, "invalidRequest", "Method not allowed")
        headers = [("Content-Type", "application/octet-stream"), ("Accept-Ranges", "bytes"),
                   ("ETag", etag)]
        rng = req.headers.get("range")
        if rng:
            m = _RANGE_RE.match(rng.strip())
            if m and (m.group(1) or m.group(2)):
                size = len(data)
                if m.group(1):
                    start = int(m.group(1))
                    end = int(m.group(2)) if m.group(2) else size - 1
                else:
                    start = max(size - int(m.group(2)), 0)
                    end = size - 1
                end = min(end, size - 1)
                if start >= size or start > end:
                    return Response(416, b"", [*headers, ("Content-Range", f"bytes */{size}")])
                return Response(206, data[start:end + 1],
                                [*headers, ("Content-Range", f"bytes {start}-{end}/{size}")])
        return Response(200, data, headers)

    def handle_upload_host(self, req: Request) -> Response:
        path = unquote(req.raw_path)
        with self.state.lock:
            if path.startswith("/monitor/"):
                mon = self.state.monitors.get(path[9:])
                if mon is None:
                    return gerr(404, "itemNotFound", "Item does not exist")
                return json_response(200, mon)
            if not path.startswith("/rup/"):
                return gerr(404, "itemNotFound", "Item does not exist")
            sess = self.state.uploads.get(path[5:])
            if sess is None or sess.expires < time.time():
                return gerr(404, "itemNotFound", "The upload session was not found")
            if req.method == "DELETE":
                del self.state.uploads[sess.id]
                return Response(204)
            if req.method == "GET":
                return json_response(200, {"expirationDateTime": now_iso(sess.expires),
                                           "nextExpectedRanges": [f"{len(sess.received)}-"]})
            if req.method != "PUT":
                return gerr(405, "invalidRequest", "Method not allowed")
            m = _CRANGE_RE.match(req.headers.get("content-range", "").strip())
            if not m:
                return gerr(400, "invalidRange", "Invalid Content-Range header")
            start, end = int(m.group(1)), int(m.group(2))
            total = None if m.group(3) == "*" else int(m.group(3))
            if end - start + 1 != len(req.body):
                return gerr(400, "invalidRange",
                            "The Content-Range header length does not match the provided "
                            "number of bytes.")
            if start != len(sess.received):
                return gerr(416, "invalidRange", "The uploaded fragment overlaps with data "
                                                 "that has already been received.")
            if total is not None:
                sess.total = total
            drive = self.state.drives[sess.drive_id]
            if sess.total is not None and not self._quota_ok(drive, sess.total):
                return gerr(507, "quotaLimitReached", "Insufficient Space Available")
            sess.received += req.body
            if sess.total is None or len(sess.received) < sess.total:
                return json_response(202, {"expirationDateTime": now_iso(sess.expires),
                                           "nextExpectedRanges": [f"{len(sess.received)}-"]})
            del self.state.uploads[sess.id]
            parent = drive.items.get(sess.parent_id)
            if parent is None:
                return gerr(404, "itemNotFound", "The parent folder no longer exists")
            data = bytes(sess.received)
            existing = self.state.child(drive, parent, sess.name)
            if existing is not None and not existing.is_folder:
                self.state.replace_content(drive, existing, data, sess.fs_modified,
                                           sess.fs_created)
                return json_response(200, self.item_json(drive, existing))
            if existing is not None:
                return self._conflict(sess.name)
            item = self.state.create_item(drive, parent, sess.name, folder=False, data=data,
                                          fs_created=sess.fs_created,
                                          fs_modified=sess.fs_modified)
            return json_response(201, self.item_json(drive, item))
