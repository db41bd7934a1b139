"""Interactive sign-in: msal confidential client, authorization code + PKCE, loopback redirect.

The user's own app registration is a *Web* platform app with a client secret, so the token
endpoint needs the secret and msal's PublicClientApplication (which has the interactive
helper) cannot be used. The flow is therefore: start our own loopback receiver, let msal build
the authorize URL (state, nonce, PKCE S256, response_mode=form_post), check the authorize
page ourselves (Microsoft shows some errors only as a page and never redirects), open the
browser, wait for the answer, redeem the code.

msal and requests are imported lazily: ``onedrive-gui --version`` must stay light.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from onedrive_gui import APP_NAME, __version__
from onedrive_gui.core.errors import AuthError, CancelledError, NetworkError
from onedrive_gui.core.i18n import N_, _
from onedrive_gui.core.logging_setup import register_secret
from onedrive_gui.core.microsoft.aad_errors import auth_error, error_from_page, with_admin_consent
from onedrive_gui.core.microsoft.clouds import GLOBAL, Cloud
from onedrive_gui.core.microsoft.clouds import cloud as cloud_named
from onedrive_gui.core.microsoft.loopback import DEFAULT_PORT, LoopbackReceiver

log = logging.getLogger(__name__)

SCOPES = ["Files.Read", "Files.ReadWrite", "Files.Read.All", "Files.ReadWrite.All", "User.Read"]
# Optional, work/school only: finding SharePoint sites (search, followed) and the user's Teams.
SITE_SCOPES = ["Sites.Read.All", "Team.ReadBasic.All"]
AUTHORITY_HOST = "https://login.microsoftonline.com"
HTTP_TIMEOUT = 30.0


def rfc3339(dt: datetime) -> str:
    """UTC RFC 3339 with a 'Z' zone, as Go's time.Time (rclone) parses it."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, repr=False)
class TokenResult:
    """Tokens from a sign-in. repr() shows no token."""

    access_token: str
    refresh_token: str
    expiry: datetime  # tz-aware UTC
    token_type: str = "Bearer"  # noqa: S105 (a token kind, not a secret)
    scope: str = ""
    display_name: str | None = None
    username: str | None = None

    def __repr__(self) -> str:
        return (f"TokenResult(username={self.username!r}, expiry={rfc3339(self.expiry)}, "
                "tokens=***)")

    def rclone_token(self) -> dict[str, str]:
        return {
            "access_token": self.access_token,
            "token_type": self.token_type,
            "refresh_token": self.refresh_token,
            "expiry": rfc3339(self.expiry),
        }

    def rclone_token_json(self) -> str:
        return json.dumps(self.rclone_token())


@contextmanager
def _network_errors(what: str = N_("Microsoft's sign-in service (login.microsoftonline.com)"),
                    ) -> Iterator[None]:
    """Turn requests' connection failures into NetworkError (no URL, no secret in the text)."""
    what = _(what)
    import requests

    from onedrive_gui.core.microsoft.tls import use_os_trust_store

    use_os_trust_store()
    try:
        yield
    except requests.exceptions.SSLError as exc:
        log.debug("TLS failure: %s", type(exc).__name__)
        raise NetworkError(
            _("Secure connection failed"),
            _("The app reached {what}, but could not verify its certificate.").format(what=what),
            _("If your network inspects TLS, its CA certificate must be in this computer's "
            "certificate store (ask your IT), or point REQUESTS_CA_BUNDLE at it; otherwise "
            "check your connection/proxy and the computer's date and time."),
        ) from exc
    except requests.exceptions.ProxyError as exc:
        log.debug("proxy failure: %s", type(exc).__name__)
        raise NetworkError(
            _("Cannot reach Microsoft"),
            _("The app cannot reach {what} through the configured proxy.").format(what=what),
            _("Check your connection/proxy: the HTTPS_PROXY setting, and that the proxy is "
            "running."),
        ) from exc
    except requests.exceptions.RequestException as exc:
        log.debug("network failure: %s", type(exc).__name__)
        raise NetworkError(
            _("Cannot reach Microsoft"),
            _("The app cannot reach {what}.").format(what=what),
            _("Check your connection/proxy (internet access, HTTPS_PROXY) and try again."),
        ) from exc


class SignIn:
    """One interactive sign-in: start() -> open the URL -> wait(); cancel() from any thread."""

    def __init__(self, client_id: str, client_secret: str, *, tenant: str = "common",
                 port: int = DEFAULT_PORT, timeout: float = 300.0, cloud: str = GLOBAL,
                 extra_scopes: tuple[str, ...] = ()) -> None:
        register_secret(client_secret)
        self.client_id = client_id
        self._secret = client_secret
        self.tenant = tenant
        self.cloud: Cloud = cloud_named(cloud)
        self.scopes = [*SCOPES, *(s for s in extra_scopes if s not in SCOPES)]
        self._requested_port = port
        self.timeout = timeout
        self.auth_url = ""
        self.redirect_uri = ""
        self.port = 0
        self.port_fell_back = False
        self._lock = threading.Lock()
        self._cancelled = False
        self._started = False
        self._receiver: LoopbackReceiver | None = None
        self._app: Any = None
        self._flow: dict[str, Any] | None = None

    # ------------------------------------------------------------------ control
    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            receiver = self._receiver
        if receiver is not None:
            receiver.cancel()

    def close(self) -> None:
        with self._lock:
            receiver = self._receiver
        if receiver is not None:
            receiver.close()

    def __enter__(self) -> SignIn:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_cancelled(self) -> None:
        with self._lock:
            cancelled = self._cancelled
        if cancelled:
            raise CancelledError(_("Sign-in cancelled"), _("The sign-in was cancelled."),
                                 _("Start the sign-in again when you are ready."))

    # ------------------------------------------------------------------ steps
    def start(self) -> str:
        """Listen on loopback, build the authorize URL, check its page; return the URL."""
        with self._lock:
            if self._started:
                raise RuntimeError("SignIn.start() called twice")
            self._started = True
        self._check_cancelled()
        state = secrets.token_urlsafe(32)
        receiver = LoopbackReceiver(state, port=self._requested_port)
        receiver.start()
        with self._lock:
            self._receiver = receiver
            cancelled = self._cancelled
        if cancelled:
            receiver.cancel()
        self.port = receiver.port
        self.port_fell_back = receiver.fell_back
        self.redirect_uri = receiver.redirect_uri
        try:
            self._app = self._build_app()
            self._check_cancelled()
            with _network_errors(self._where()):
                flow = self._app.initiate_auth_code_flow(
                    self.scopes, redirect_uri=self.redirect_uri, state=state,
                    response_mode="form_post")
            self._flow = flow
            self.auth_url = str(flow["auth_uri"])
            self._check_authorize_page(self.auth_url)
            self._check_cancelled()
        except BaseException:
            receiver.close()
            raise
        return self.auth_url

    def _build_app(self) -> Any:
        import msal

        authority = f"{self.cloud.authority_host}/{self.tenant}"
        with _network_errors(self._where()):
            try:
                return msal.ConfidentialClientApplication(
                    self.client_id, client_credential=self._secret, authority=authority,
                    timeout=HTTP_TIMEOUT, app_name=APP_NAME, app_version=__version__)
            except ValueError as exc:
                log.debug("msal refused the authority: %s", exc)
                raise AuthError(
                    _("Unknown tenant"),
                    _(
                        "Microsoft's sign-in service does not know the tenant '{tenant}'."
                    ).format(tenant=self.tenant),
                    _("Use 'common' (any account), 'consumers', 'organizations', or your "
                    "organization's tenant ID from the Azure portal (Microsoft Entra ID → "
                    "Overview)."),
                ) from exc

    def _auth_error(self, error: str, description: str | None) -> AuthError:
        """The sign-in error; a missing admin approval names this tenant's consent link."""
        tenant = self.tenant if self.tenant.lower() not in ("common", "consumers") \
            else "organizations"
        return with_admin_consent(auth_error(error, description),
                                  self.cloud.admin_consent_url(tenant, self.client_id))

    def _where(self) -> str:
        return _(
            "Microsoft's sign-in service ({login_host})"
        ).format(login_host=self.cloud.login_host)

    def _check_authorize_page(self, url: str) -> None:
        import requests

        with _network_errors(self._where()):
            resp = requests.get(url, allow_redirects=False, timeout=HTTP_TIMEOUT,
                                headers={"User-Agent": f"{APP_NAME}/{__version__}"})
        err = error_from_page(resp.text) if resp.text else None
        if err is not None:
            log.info("authorize page shows %s", err.code)
            raise err
        if resp.status_code >= 500:
            raise NetworkError(
                _("Microsoft sign-in unavailable"),
                _(
                    "Microsoft's sign-in page answered with an error (HTTP {status_code})."
                ).format(status_code=resp.status_code),
                _("Try again in a few minutes."),
            )

    def wait(self) -> TokenResult:
        """Wait for the browser, redeem the code; AuthError/NetworkError/timeout/cancel."""
        with self._lock:
            receiver = self._receiver
        if receiver is None or self._flow is None:
            raise RuntimeError("SignIn.wait() before a successful start()")
        try:
            answer = receiver.wait(self.timeout)
        finally:
            receiver.close()
        params = answer.params
        if not params.get("code"):
            raise self._auth_error(params.get("error", ""), params.get("error_description"))
        self._check_cancelled()
        started = datetime.now(UTC)
        with _network_errors(self._where()):
            try:
                result = self._app.acquire_token_by_auth_code_flow(self._flow, params)
            except ValueError as exc:
                log.debug("msal rejected the redirect: %s", type(exc).__name__)
                raise AuthError(
                    _("Sign-in answer rejected"),
                    _("The answer that came back from the browser does not match this sign-in "
                    "(state or nonce check failed)."),
                    _("Start the sign-in again and finish it in the browser tab the app opens."),
                ) from None
        if not isinstance(result, dict):
            raise AuthError(_("Sign-in failed"), _("Microsoft sent no usable answer."),
                            _("Try again."))
        if "error" in result:
            raise self._auth_error(str(result["error"]), result.get("error_description"))
        self._check_cancelled()
        return _token_result(result, started)


def _token_result(result: dict[str, Any], started: datetime) -> TokenResult:
    access = str(result.get("access_token") or "")
    refresh = str(result.get("refresh_token") or "")
    register_secret(access)
    register_secret(refresh)
    register_secret(result.get("id_token"))
    if not access:
        raise AuthError(_("Sign-in failed"), _("Microsoft returned no access token."),
                        _("Check the API permissions of your app registration and try again."))
    if not refresh:
        raise AuthError(
            _("No refresh token"),
            _("Microsoft returned no refresh token, so rclone could not stay signed in."),
            _("Make sure your app registration's API permissions include offline_access "
            "(Microsoft Graph, delegated) and sign in again."),
        )
    try:
        expires_in = int(result.get("expires_in") or 3600)
    except (TypeError, ValueError):
        log.warning("Microsoft sent no usable expires_in; assuming one hour")
        expires_in = 3600
    scope = result.get("scope") or ""
    if isinstance(scope, list):
        scope = " ".join(str(s) for s in scope)
    claims = result.get("id_token_claims") or {}
    name = claims.get("name")
    username = claims.get("preferred_username") or claims.get("email")
    return TokenResult(
        access_token=access,
        refresh_token=refresh,
        expiry=started + timedelta(seconds=expires_in),
        token_type=str(result.get("token_type") or "Bearer"),
        scope=str(scope),
        display_name=str(name) if name else None,
        username=str(username) if username else None,
    )


def refresh(client_id: str, client_secret: str, refresh_token: str, *,
            tenant: str = "common", cloud: str = GLOBAL,
            extra_scopes: tuple[str, ...] = ()) -> TokenResult:
    """New tokens from a stored refresh token (no browser): to add another drive or library
    of an account that is already signed in. AuthError when Microsoft refuses it."""
    import msal

    register_secret(client_secret)
    register_secret(refresh_token)
    c = cloud_named(cloud)
    where = _("Microsoft's sign-in service ({login_host})").format(login_host=c.login_host)
    with _network_errors(where):
        app = msal.ConfidentialClientApplication(
            client_id, client_credential=client_secret,
            authority=f"{c.authority_host}/{tenant}", timeout=HTTP_TIMEOUT,
            app_name=APP_NAME, app_version=__version__)
        started = datetime.now(UTC)
        result = app.acquire_token_by_refresh_token(
            refresh_token, scopes=[*SCOPES, *(x for x in extra_scopes if x not in SCOPES)])
    if not isinstance(result, dict):
        raise AuthError(_("Sign-in failed"), _("Microsoft sent no usable answer."), _("Try again."))
    if "error" in result:
        raise auth_error(str(result["error"]), result.get("error_description"))
    if not result.get("refresh_token"):
        result = {**result, "refresh_token": refresh_token}
    return _token_result(result, started)


def sign_in(client_id: str, client_secret: str, *, tenant: str = "common",
            port: int = DEFAULT_PORT, timeout: float = 300.0,
            open_browser: Callable[[str], bool] | None = None,
            on_started: Callable[[SignIn], None] | None = None, cloud: str = GLOBAL,
            extra_scopes: tuple[str, ...] = ()) -> TokenResult:
    """The whole interactive sign-in in one call (blocking)."""
    signin = SignIn(client_id, client_secret, tenant=tenant, port=port, timeout=timeout,
                    cloud=cloud, extra_scopes=extra_scopes)
    try:
        url = signin.start()
        if on_started is not None:
            on_started(signin)
        if open_browser is not None:
            open_browser(url)
        return signin.wait()
    finally:
        signin.close()
