"""login.microsoftonline.com (and the national clouds' sign-in hosts): discovery, authorize
(consent page), consent, token."""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import re
import secrets
import time
import uuid
from datetime import UTC, datetime
from urllib.parse import unquote, urlencode, urlsplit

from .messages import Request, Response, html_response, json_response
from .state import (
    CLOUDS,
    PERSONAL_TENANT,
    AccessToken,
    App,
    AuthCode,
    CloudState,
    RefreshToken,
    User,
)

HOST = "login.microsoftonline.com"
BASE = f"https://{HOST}"
RESERVED_SCOPES = {"openid", "profile", "offline_access", "email"}
_JWT_KEY = b"fakecloud-id-token-key"
_TENANT_RE = re.compile(r"^/([^/]+)/")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _tenant_alias(tenant: str) -> str:
    return tenant.lower()


def openid_configuration(tenant: str, cloud: str = "global") -> dict[str, object]:
    login_host, graph_host, _ = CLOUDS[cloud]
    BASE = f"https://{login_host}"
    t = tenant
    issuer_tenant = t if t not in ("common", "organizations", "consumers") else "{tenantid}"
    if t == "consumers":
        issuer_tenant = PERSONAL_TENANT
    return {
        "token_endpoint": f"{BASE}/{t}/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": [
            "client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": f"{BASE}/{t}/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": f"{BASE}/{issuer_tenant}/v2.0",
        "request_uri_parameter_supported": False,
        "userinfo_endpoint": f"https://{graph_host}/oidc/userinfo",
        "authorization_endpoint": f"{BASE}/{t}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{BASE}/{t}/oauth2/v2.0/devicecode",
        "http_logout_supported": True,
        "frontchannel_logout_supported": True,
        "end_session_endpoint": f"{BASE}/{t}/oauth2/v2.0/logout",
        "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name",
                             "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat",
                             "auth_time", "acr", "nonce", "preferred_username", "name", "tid",
                             "ver", "at_hash", "c_hash", "email"],
        "kerberos_endpoint": f"{BASE}/{t}/kerberos",
        "tenant_region_scope": None,
        "cloud_instance_name": login_host.split(".", 1)[1],
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": graph_host,
        "rbac_url": "https://pas.windows.net",
    }


def _trace() -> tuple[str, str, str]:
    ts = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    return str(uuid.uuid4()), str(uuid.uuid4()), ts


def aad_error(status: int, error: str, code: int, text: str) -> Response:
    trace_id, corr_id, ts = _trace()
    desc = (f"AADSTS{code}: {text}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {corr_id}"
            f"\r\nTimestamp: {ts}")
    return json_response(status, {
        "error": error, "error_description": desc, "error_codes": [code],
        "timestamp": ts, "trace_id": trace_id, "correlation_id": corr_id,
        "error_uri": f"{BASE}/error?code={code}"})


def error_page(code: int, text: str, status: int = 400) -> Response:
    trace_id, corr_id, ts = _trace()
    body = f"""<!DOCTYPE html>
<html><head><title>Sign in to your account</title></head>
<body><div id="error">
<h1>Sign in</h1>
<p>Sorry, but we're having trouble signing you in.</p>
<p id="message">AADSTS{code}: {html.escape(text, quote=False)}</p>
<p>Request Id: {trace_id}<br>Correlation Id: {corr_id}<br>Timestamp: {ts}</p>
</div></body></html>
"""
    return html_response(status, body)


def redirect_uri_matches(registered: tuple[str, ...], uri: str) -> bool:
    try:
        got = urlsplit(uri)
        _ = got.port
    except ValueError:
        return False
    for reg in registered:
        r = urlsplit(reg)
        if (got.scheme == "http" and r.scheme == "http" and got.hostname == "localhost"
                and r.hostname == "localhost"):
            # Entra ignores the port of http://localhost redirect URIs.
            if (got.path or "/") == (r.path or "/") and not got.query and not got.fragment:
                return True
        elif uri == reg or (uri.rstrip("/") == reg.rstrip("/") and r.path in ("", "/")):
            return True
    return False


def app_not_found_text(client_id: str, tenant: str) -> str:
    directory = "Microsoft Accounts" if tenant in ("common", "consumers") else tenant
    return (f"Application with identifier '{client_id}' was not found in the directory "
            f"'{directory}'. This can happen if the application has not been installed by the "
            "administrator of the tenant or consented to by any user in the tenant. You may "
            "have sent your authentication request to the wrong tenant.")


NOT_FOR_CONSUMERS = ("The client does not exist or is not enabled for consumers. If you are "
                     "the application developer, configure a new application through the App "
                     "Registrations in the Azure Portal at "
                     "https://go.microsoft.com/fwlink/?linkid=2083908.")


class LoginService:
    def __init__(self, state: CloudState, cloud: str = "global") -> None:
        self.state = state
        self.cloud = cloud
        self.host = CLOUDS[cloud][0]
        self.base = f"https://{self.host}"

    # ------------------------------------------------------------------ dispatch
    def handle(self, req: Request) -> Response:
        path = unquote(req.raw_path)
        if path.rstrip("/") == "/common/discovery/instance":
            return self.instance_discovery(req)
        m = _TENANT_RE.match(path)
        if not m:
            return html_response(404, "<html><body>Not found</body></html>")
        tenant = _tenant_alias(m.group(1))
        rest = path[len(m.group(0)) - 1:]
        if rest == "/v2.0/.well-known/openid-configuration" and req.method == "GET":
            return json_response(200, openid_configuration(tenant, self.cloud))
        if rest == "/discovery/instance" and req.method == "GET":
            return self.instance_discovery(req)
        if rest == "/oauth2/v2.0/authorize" and req.method == "GET":
            return self.authorize(tenant, req.query)
        if rest == "/oauth2/v2.0/consent" and req.method == "POST":
            return self.consent(tenant, req.form())
        if rest == "/oauth2/v2.0/token" and req.method == "POST":
            with self.state.lock:
                return self.token(tenant, req)
        return json_response(501, {"error": "not_implemented",
                                   "error_description": f"fakecloud: {req.method} {path}"})

    def instance_discovery(self, req: Request) -> Response:
        BASE, HOST = self.base, self.host
        auth = req.query.get("authorization_endpoint", f"{BASE}/common/oauth2/v2.0/authorize")
        tenant = urlsplit(auth).path.split("/")[1] if urlsplit(auth).path else "common"
        return json_response(200, {
            "tenant_discovery_endpoint":
                f"{BASE}/{tenant}/v2.0/.well-known/openid-configuration",
            "api-version": "1.1",
            "metadata": [{"preferred_network": HOST, "preferred_cache": "login.windows.net",
                          "aliases": [HOST, "login.windows.net", "login.microsoft.com",
                                      "sts.windows.net"]}]})

    # ------------------------------------------------------------------ authorize
    def check_authorize(self, tenant: str, q: dict[str, str]) -> Response | App:
        client_id = q.get("client_id", "")
        if not client_id:
            return error_page(900144, "The request body must contain the following "
                                      "parameter: 'client_id'.")
        app = self.state.app(client_id)
        if app is not None and app.cloud != self.cloud:
            app = None  # registered in another cloud: unknown here
        if app is None or (app.audience == "AzureADMyOrg" and app.home_tenant
                           and tenant not in ("common", "consumers", "organizations")
                           and tenant != app.home_tenant.lower()):
            return error_page(700016, app_not_found_text(client_id, tenant))
        redirect_uri = q.get("redirect_uri", "")
        if not redirect_uri or not redirect_uri_matches(app.redirect_uris, redirect_uri):
            return error_page(50011, (
                f"The redirect URI '{redirect_uri}' specified in the request does not match "
                f"the redirect URIs configured for the application '{client_id}'. Make sure "
                "the redirect URI sent in the request matches one added to your application "
                "in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to "
                "learn more about how to fix this."))
        if app.audience == "AzureADMyOrg" and tenant in ("common", "consumers"):
            return error_page(50194, (
                f"Application '{client_id}'({app.display_name}) is not configured as a "
                "multi-tenant application. Usage of the /common endpoint is not supported for "
                "such applications created after '10/15/2018'. Use a tenant-specific endpoint "
                "or configure the application to be multi-tenant."))
        if app.audience == "PersonalMicrosoftAccount" and tenant != "consumers" \
                and tenant != PERSONAL_TENANT:
            return error_page(9002331, (
                f"Application '{client_id}'({app.display_name}) is configured for use by "
                "Microsoft Account users only. Please use the /consumers endpoint to serve "
                "this request."))
        if q.get("response_type") != "code":
            return error_page(900144, "The request body must contain the following "
                                      "parameter: 'response_type'.")
        return app

    def authorize(self, tenant: str, q: dict[str, str]) -> Response:
        with self.state.lock:
            checked = self.check_authorize(tenant, q)
            if isinstance(checked, Response):
                return checked
            app = checked
            first = self.state.user_order[0] if self.state.user_order else ""
            first_upn = self.state.users[first].upn if first else ""
        hidden = "\n".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in q.items())
        scopes = html.escape(q.get("scope", ""))
        page = f"""<!DOCTYPE html>
<html><head><title>Permissions requested</title></head>
<body>
<h1>Let this app access your info?</h1>
<p><b>{html.escape(app.display_name)}</b> ({html.escape(app.client_id)}) wants to:
{scopes}</p>
<form id="consent" method="POST" action="{self.base}/{html.escape(tenant)}/oauth2/v2.0/consent">
{hidden}
<label>Account <input type="text" name="login" value="{html.escape(first_upn)}"></label>
<button type="submit" name="action" value="approve">Accept</button>
<button type="submit" name="action" value="deny">Cancel</button>
</form>
</body></html>
"""
        return html_response(200, page)

    # ------------------------------------------------------------------ consent
    def deliver(self, q: dict[str, str], params: dict[str, str]) -> Response:
        redirect_uri = q["redirect_uri"]
        if q.get("state") is not None and "state" in q:
            params["state"] = q["state"]
        if q.get("response_mode") == "form_post":
            inputs = "\n".join(
                f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                for k, v in params.items())
            page = f"""<!DOCTYPE html>
<html><head><title>Working...</title></head>
<body onload="document.forms[0].submit()">
<form method="POST" name="hiddenform" action="{html.escape(redirect_uri)}">
{inputs}
<noscript><p>Script is disabled. Click Submit to continue.</p>
<input type="submit" value="Submit"></noscript>
</form></body></html>
"""
            return html_response(200, page)
        sep = "&" if "?" in redirect_uri else "?"
        return Response(302, b"", [("Location", redirect_uri + sep + urlencode(params))])

    def consent(self, tenant: str, form: dict[str, str]) -> Response:
        login = form.pop("login", "")
        action = form.pop("action", "approve")
        q = form
        with self.state.lock:
            checked = self.check_authorize(tenant, q)
            if isinstance(checked, Response):
                return checked
            app = checked
            user = self.state.user(login)
            if user is not None and user.cloud != self.cloud:
                user = None  # an account of another cloud does not exist here
            if user is None:
                return error_page(50034, (
                    f"The user account {login} does not exist in the directory. To sign into "
                    "this application, the account must be added to the directory."))
            if user.personal and app.audience in ("AzureADMyOrg", "AzureADMultipleOrgs"):
                return self.deliver(q, {"error": "unauthorized_client",
                                        "error_description": NOT_FOR_CONSUMERS})
            wrong_tenant = (
                (tenant == "organizations" and user.personal)
                or (tenant == "consumers" and not user.personal)
                or (tenant not in ("common", "organizations", "consumers")
                    and tenant != user.tenant_id.lower())
                or (app.audience == "AzureADMyOrg" and app.home_tenant is not None
                    and user.tenant_id.lower() != app.home_tenant.lower()))
            if wrong_tenant:
                idp = "live.com" if user.personal else "https://sts.windows.net/" \
                    + user.tenant_id + "/"
                return error_page(50020, (
                    f"User account '{user.upn}' from identity provider '{idp}' does not exist "
                    f"in tenant '{tenant}' and cannot access the application "
                    f"'{app.client_id}'({app.display_name}) in that tenant. The account needs "
                    "to be added as an external user in the tenant first. Sign out and sign in "
                    "again with a different Azure Active Directory user account."))
            if app.admin_consent_only and not user.personal:
                return self.deliver(q, {"error": "consent_required", "error_description": (
                    "AADSTS90094: The grant requires admin permission.")})
            if action != "approve":
                return self.deliver(q, {"error": "access_denied", "error_description":
                                        "AADSTS65004: User declined to consent to access the "
                                        "app."})
            code = "M.C5" + secrets.token_urlsafe(40) if user.personal else \
                "1.A" + secrets.token_urlsafe(200)
            self.state.codes[code] = AuthCode(
                code, app.client_id, q["redirect_uri"], q.get("code_challenge"),
                q.get("code_challenge_method"), q.get("scope", "").split(), q.get("nonce"),
                user.upn, tenant, time.time() + self.state.code_lifetime)
        return self.deliver(q, {"code": code, "session_state": str(uuid.uuid4())})

    # ------------------------------------------------------------------ token
    def token(self, tenant: str, req: Request) -> Response:
        form = req.form()
        client_id = form.get("client_id")
        secret = form.get("client_secret")
        auth = req.headers.get("authorization", "")
        if auth.lower().startswith("basic "):
            try:
                raw = base64.b64decode(auth[6:].strip()).decode()
                basic_id, _, basic_secret = raw.partition(":")
                client_id = client_id or unquote(basic_id.replace("+", " "))
                secret = secret or unquote(basic_secret.replace("+", " "))
            except ValueError:
                return aad_error(400, "invalid_request", 50012,
                                 "Authentication failed: malformed Basic header.")
        if not client_id:
            return aad_error(400, "invalid_request", 900144, "The request body must contain "
                             "the following parameter: 'client_id'.")
        app = self.state.app(client_id)
        if app is not None and app.cloud != self.cloud:
            app = None
        if app is None:
            return aad_error(400, "invalid_client", 700016,
                             app_not_found_text(client_id, tenant))
        if app.redirect_platform != "web":
            if secret:
                return aad_error(400, "invalid_client", 700025, "Client is public so neither "
                                 "'client_assertion' nor 'client_secret' should be presented.")
        else:
            if not secret:
                return aad_error(401, "invalid_client", 7000218, "The request body must "
                                 "contain the following parameter: 'client_assertion' or "
                                 "'client_secret'.")
            if not hmac.compare_digest(secret.encode(), app.secret.encode()):
                return aad_error(401, "invalid_client", 7000215, (
                    "Invalid client secret provided. Ensure the secret being sent in the "
                    "request is the client secret value, not the client secret ID, for a "
                    f"secret added to app '{app.client_id}'."))
            if app.secret_expired:
                return aad_error(401, "invalid_client", 7000222, (
                    f"The provided client secret keys for app '{app.client_id}' are expired. "
                    "Visit the Azure portal to create new keys for your app: "
                    "https://aka.ms/NewClientSecret, or consider using certificate "
                    "credentials for added security: https://aka.ms/certCreds."))
        grant = form.get("grant_type", "")
        if grant == "authorization_code":
            return self.grant_code(tenant, app, form)
        if grant == "refresh_token":
            return self.grant_refresh(tenant, app, form)
        return aad_error(400, "unsupported_grant_type", 70003,
                         f"The app requested an unsupported grant type '{grant}'.")

    def grant_code(self, tenant: str, app: App, form: dict[str, str]) -> Response:
        code = self.state.codes.get(form.get("code", ""))
        if code is None or code.expires < time.time():
            return aad_error(400, "invalid_grant", 70008, (
                "The provided authorization code or refresh token has expired due to "
                "inactivity. Send a new interactive authorization request for this user and "
                "resource."))
        if code.used:
            return aad_error(400, "invalid_grant", 54005, (
                "OAuth2 Authorization code was already redeemed, please retry with a new "
                "valid code or use an existing refresh token."))
        if code.client_id.lower() != app.client_id.lower():
            return aad_error(400, "invalid_grant", 70000,
                             "The provided value for the 'code' parameter is not valid.")
        if form.get("redirect_uri", "") != code.redirect_uri:
            return aad_error(400, "invalid_grant", 500112, (
                f"The reply address '{form.get('redirect_uri', '')}' does not match the reply "
                f"address '{code.redirect_uri}' provided when requesting Authorization code."))
        if code.code_challenge:
            verifier = form.get("code_verifier", "")
            if code.code_challenge_method == "S256":
                computed = _b64url(hashlib.sha256(verifier.encode()).digest())
            else:
                computed = verifier
            if not verifier or computed != code.code_challenge:
                return aad_error(400, "invalid_grant", 501481, (
                    "The Code_Verifier does not match the code_challenge supplied in the "
                    "authorization request."))
        code.used = True
        user = self.state.user(code.upn)
        assert user is not None
        return self.issue(app, user, code.scopes, nonce=code.nonce, tenant=tenant)

    def grant_refresh(self, tenant: str, app: App, form: dict[str, str]) -> Response:
        rt = self.state.refresh_tokens.get(form.get("refresh_token", ""))
        if rt is not None and rt.cloud != self.cloud:
            rt = None
        if rt is None:
            return aad_error(400, "invalid_grant", 9002313,
                             "Invalid request. Request is malformed or invalid.")
        if rt.client_id.lower() != app.client_id.lower():
            return aad_error(400, "invalid_grant", 70000, "Provided grant is invalid or "
                             "malformed.")
        user = self.state.user(rt.upn)
        if user is None or rt.issued < user.tokens_valid_from:
            issued = datetime.fromtimestamp(rt.issued, UTC).strftime("%m/%d/%Y %H:%M:%S")
            valid_from = datetime.fromtimestamp(
                user.tokens_valid_from if user else time.time(), UTC).strftime(
                "%m/%d/%Y %H:%M:%S")
            return aad_error(400, "invalid_grant", 50173, (
                "The provided grant has expired due to it being revoked, a fresh auth token "
                "is needed. The user might have changed or reset their password. The grant "
                f"was issued on '{issued}' and the TokensValidFrom date (before which tokens "
                f"are not valid) for this user is '{valid_from}'."))
        scopes = form.get("scope", "").split() or rt.scopes
        if self.state.single_use_refresh_tokens:
            del self.state.refresh_tokens[rt.token]
        return self.issue(app, user, scopes, nonce=None, tenant=tenant)

    def issue(self, app: App, user: User, scopes: list[str], *, nonce: str | None,
              tenant: str) -> Response:
        now = time.time()
        lifetime = int(self.state.access_token_lifetime)
        resource = [s.removeprefix(f"https://{CLOUDS[self.cloud][1]}/") for s in scopes
                    if s not in RESERVED_SCOPES]
        if not resource:
            resource = ["User.Read"]
        access = "EwB" + secrets.token_urlsafe(1200)
        self.state.access_tokens[access] = AccessToken(access, user.upn, app.client_id,
                                                       resource, now + lifetime, self.cloud)
        body: dict[str, object] = {
            "token_type": "Bearer",
            "scope": " ".join(resource + [s for s in ("openid", "profile", "email")
                                          if s in scopes]),
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": access,
        }
        if "offline_access" in scopes:
            refresh = "M.C5" + secrets.token_urlsafe(300)
            self.state.refresh_tokens[refresh] = RefreshToken(refresh, user.upn, app.client_id,
                                                              list(scopes), now, self.cloud)
            body["refresh_token"] = refresh
        if "openid" in scopes:
            claims: dict[str, object] = {
                "ver": "2.0",
                "iss": f"{self.base}/{user.tenant_id}/v2.0",
                "sub": _b64url(hashlib.sha256(f"{user.oid}{app.client_id}".encode()).digest()),
                "aud": app.client_id,
                "exp": int(now) + lifetime,
                "iat": int(now),
                "nbf": int(now),
                "name": user.display_name,
                "preferred_username": user.upn,
                "oid": user.oid,
                "tid": user.tenant_id,
                "aio": secrets.token_urlsafe(24),
            }
            if user.mail or user.personal:
                claims["email"] = user.mail or user.upn
            if nonce:
                claims["nonce"] = nonce
            header = _b64url(json.dumps({"typ": "JWT", "alg": "HS256"}).encode())
            payload = _b64url(json.dumps(claims).encode())
            sig = _b64url(hmac.new(_JWT_KEY, f"{header}.{payload}".encode(),
                                   hashlib.sha256).digest())
            body["id_token"] = f"{header}.{payload}.{sig}"
            body["client_info"] = _b64url(json.dumps(
                {"uid": user.oid, "utid": user.tenant_id}).encode())
        return json_response(200, body, [("Cache-Control", "no-store"), ("Pragma", "no-cache")])
