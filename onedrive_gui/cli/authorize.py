"""``onedrive-gui authorize``: sign in with your own app registration, print an rclone token.

The replacement of ``rclone authorize "onedrive" ID SECRET``: the secret is read from stdin
(never from the command line), status goes to stderr, and stdout carries only the token JSON,
so ``onedrive-gui authorize --client-id ID < secret.txt > token.json`` works. Nothing is
stored on disk.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TYPE_CHECKING, Any

from onedrive_gui.core.errors import ValidationError
from onedrive_gui.core.i18n import N_, _

if TYPE_CHECKING:
    from onedrive_gui.core.microsoft.oauth import TokenResult

DEFAULT_PORT = 53682  # = core.loopback.DEFAULT_PORT (kept literal: argparse help only)
SECRET_PROMPT = N_("Client secret (the Value, not the Secret ID): ")


def port_arg(text: str) -> int:
    """argparse type of --port: a whole number (its range is checked by the core)."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            _("'{text}' is not a port number: use a number from 1024 to 65535").format(text=text)
        ) from None


def seconds_arg(text: str) -> float:
    """argparse type of --timeout: a number of seconds (checked by the core)."""
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            _("'{text}' is not a number of seconds: use e.g. --timeout 300").format(text=text)
        ) from None


def add_cloud_arg(p: Any) -> None:
    p.add_argument("--cloud", default="global",
                   help=_("Microsoft cloud of the account and app registration: global "
                   "(default), us (US Government GCC High) or cn (China, 21Vianet); "
                   "US Government DoD is not supported by rclone"))


def register(sub: Any) -> None:
    p = sub.add_parser(
        "authorize",
        help=_("sign in in the browser and print an rclone token (like rclone authorize)"),
        description=_("Sign in with your own Azure app registration (Web platform, redirect URI "
        "http://localhost) and print the rclone token JSON on stdout. The client secret is "
        "read from stdin."),
    )
    p.add_argument("--client-id", required=True, help=_("Application (client) ID of your app"))
    p.add_argument("--tenant", default="common",
                   help=_("common (default), consumers, organizations, or a tenant ID"))
    add_cloud_arg(p)
    p.add_argument("--no-browser", action="store_true",
                   help=_("print the sign-in link instead of opening a browser"))
    p.add_argument("--port", type=port_arg, default=DEFAULT_PORT,
                   help=_(
                       "loopback port for the redirect (default {DEFAULT_PORT}; another free "
                       "one is used when it is busy)"
                   ).format(DEFAULT_PORT=DEFAULT_PORT))
    p.add_argument("--timeout", type=seconds_arg, default=300.0,
                   help=_("seconds to wait for the browser (default 300)"))
    p.set_defaults(func=cmd_authorize)


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def read_client_secret() -> str:
    """The client secret from stdin: a no-echo prompt on a terminal, else the first line.

    Surrounding whitespace is removed (and the user told); a GUID-shaped value gets the
    Secret-ID warning, but is still used.
    """
    from onedrive_gui.core.logging_setup import register_secret
    from onedrive_gui.core.validation import (
        SECRET_ID_WARNING,
        SECRET_TRIMMED_NOTE,
        clean_secret,
        secret_looks_like_secret_id,
    )

    stdin = sys.stdin
    if stdin is None:
        raise ValidationError(_("Client secret missing"), _("There is no input to read it from."),
                              _("Pipe the secret's Value into the command, or run it in a "
                              "terminal."))
    raw = getpass.getpass(_(SECRET_PROMPT)) if stdin.isatty() else stdin.readline()
    register_secret(raw.strip())
    if raw.endswith("\n"):  # the line end of a piped line is not the user's doing
        raw = raw[:-1]
        if raw.endswith("\r"):
            raw = raw[:-1]
    secret, trimmed = clean_secret(raw)
    register_secret(secret)
    if trimmed:
        _say(_(SECRET_TRIMMED_NOTE))
    if secret_looks_like_secret_id(secret):
        _say(_("Warning: {SECRET_ID_WARNING}").format(SECRET_ID_WARNING=_(SECRET_ID_WARNING)))
    return secret


def check_cloud_arg(cloud: str, tenant: str) -> str:
    """--cloud checked against --tenant (no personal accounts outside Global); its key."""
    from onedrive_gui.core.microsoft.clouds import cloud as cloud_named
    from onedrive_gui.core.microsoft.clouds import validate_tenant_for_cloud
    from onedrive_gui.core.validation import validate_tenant

    c = cloud_named(cloud)
    validate_tenant_for_cloud(validate_tenant(tenant), c)
    return c.key


def check_sign_in_args(client_id: str, tenant: str, port: int | None,
                       timeout: float) -> tuple[str, str, int, float]:
    """The sign-in arguments checked (before any secret is asked for or browser opened)."""
    from onedrive_gui.core.microsoft.loopback import DEFAULT_PORT as LOOPBACK_PORT
    from onedrive_gui.core.validation import (
        validate_client_id,
        validate_port,
        validate_tenant,
        validate_timeout,
    )

    return (validate_client_id(client_id), validate_tenant(tenant),
            validate_port(LOOPBACK_PORT if port is None else port), validate_timeout(timeout))


def interactive_sign_in(client_id: str, secret: str, *, tenant: str = "common",
                        no_browser: bool = False, port: int | None = None,
                        timeout: float = 300.0, cloud: str = "global",
                        extra_scopes: tuple[str, ...] = ()) -> TokenResult:
    """Sign in with status lines on stderr; the token (nothing printed on stdout)."""
    from onedrive_gui.core.microsoft.browser import open_browser
    from onedrive_gui.core.microsoft.oauth import SignIn
    client_id, tenant, requested, timeout = check_sign_in_args(client_id, tenant, port, timeout)
    cloud = check_cloud_arg(cloud, tenant)
    signin = SignIn(client_id, secret, tenant=tenant, port=requested, timeout=timeout,
                    cloud=cloud, extra_scopes=extra_scopes)
    try:
        _say(_("Contacting Microsoft...") if cloud == "global"
             else _("Contacting Microsoft ({label})...").format(label=_(signin.cloud.label)))
        url = signin.start()
        if signin.port_fell_back:
            _say(_(
                "Port {requested} is in use; using {redirect_uri} instead — your app "
                "registration's http://localhost redirect accepts any port"
            ).format(requested=requested, redirect_uri=signin.redirect_uri))
        if no_browser:
            _say(_("Open this link in a browser on this computer to sign in:"))
            _say(url)
        elif not open_browser(url):
            _say(_("No browser could be opened. Open this link in a browser on this computer:"))
            _say(url)
        _say(_("Waiting for the browser... (Ctrl-C to cancel)"))
        token = signin.wait()
    except KeyboardInterrupt:
        signin.cancel()
        raise
    finally:
        signin.close()
    who = " ".join(p for p in (token.display_name,
                               f"<{token.username}>" if token.username else None) if p)
    _say(_("Signed in as {who}").format(who=who) if who else _("Signed in."))
    return token


def cmd_authorize(args: argparse.Namespace) -> int:
    # every argument is checked before the secret is asked for
    client_id, tenant, port, timeout = check_sign_in_args(args.client_id, args.tenant,
                                                          args.port, args.timeout)
    cloud = check_cloud_arg(args.cloud, tenant)
    secret = read_client_secret()
    token = interactive_sign_in(client_id, secret, tenant=tenant, no_browser=args.no_browser,
                                port=port, timeout=timeout, cloud=cloud)
    sys.stdout.write(token.rclone_token_json() + "\n")
    sys.stdout.flush()
    return 0
