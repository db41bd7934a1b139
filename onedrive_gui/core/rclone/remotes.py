"""The app's rclone config: encrypted by rclone, remotes written by rclone itself over rc.

We never write the config file. A new config is encrypted with ``rclone config encryption
set`` (password on stdin, never argv); remotes are created with rc ``config/create`` on the
rcd started with RCLONE_CONFIG_PASS, so rclone writes them encrypted.

OneDrive pitfalls (DESIGN §6): rclone's OneDrive config wizard may run its own OAuth
(port 53682) or loop over Graph. Every create/update therefore passes drive_id + drive_type,
``config_refresh_token=false`` and ``nonInteractive``, with a timeout.
"""

from __future__ import annotations

import json
import logging
import re
import subprocess
from pathlib import Path
from typing import Any

from onedrive_gui.core.errors import RcloneError, ValidationError
from onedrive_gui.core.i18n import _
from onedrive_gui.core.logging_setup import redact, register_secret
from onedrive_gui.core.rclone.binary import RcloneBinary, child_env, subprocess_flags
from onedrive_gui.core.rclone.process import wrong_password_error
from onedrive_gui.core.rclone.rc import RcClient

log = logging.getLogger(__name__)

ENCRYPTED_MARK = b"RCLONE_ENCRYPT_V0:"
DRIVE_TYPES = ("personal", "business", "documentLibrary")
CONFIG_TIMEOUT = 30.0
_NAME = re.compile(r"^[A-Za-z0-9_]{1,64}$")
# Keys that steer rclone's config wizard; never stored, but keep it off the network.
_NON_INTERACTIVE = {"config_refresh_token": "false"}
_OPT = {"nonInteractive": True}
# rclone options every OneDrive remote of the app has. ``delta``: recursive listings (rc
# ``vfs/refresh`` with recursive) read the drive's delta, ~200 items a request, instead of
# one request per folder (DESIGN §10 "Listing through delta"). Remotes made by earlier
# versions get them at their next mount (update_backend_options).
APP_REMOTE_OPTIONS = {"delta": "true"}


def validate_remote_name(name: str) -> str:
    if not _NAME.match(name or ""):
        raise ValidationError(
            _("Invalid remote name"),
            _("'{name}' cannot be used as an rclone remote name.").format(name=name),
            _("Use letters, digits and '_' only (up to 64 characters)."),
        )
    return name


def is_encrypted(config_path: Path) -> bool:
    try:
        with open(config_path, "rb") as f:
            head = f.read(4096)
    except FileNotFoundError:
        return False
    return ENCRYPTED_MARK in head


def encrypt_config(binary: RcloneBinary, config_path: Path, password: str) -> None:
    """Make *config_path* an rclone-encrypted config with *password*.

    Missing or plain file: ``rclone config encryption set`` encrypts it (an empty config
    when missing). Already encrypted: only checks that *password* opens it (a wrong one
    raises and leaves the file untouched). The password goes to rclone on stdin.
    """
    if not password:
        raise RcloneError(
            _("No config password"),
            _("An empty password cannot encrypt the rclone config."),
            _("This is a bug in the app; please report it."),
        )
    register_secret(password)
    config_path = Path(config_path)
    config_path.parent.mkdir(parents=True, exist_ok=True)
    if is_encrypted(config_path):
        _run(binary, config_path, ["config", "encryption", "check"], password=password)
        return
    # Prompts "Enter NEW configuration password" and "Confirm ...": both read from stdin.
    _run(binary, config_path, ["config", "encryption", "set"], stdin=f"{password}\n" * 2)
    if not is_encrypted(config_path):
        raise RcloneError(
            _("rclone config not encrypted"),
            _(
                "rclone reported success but {config_path} is not encrypted."
            ).format(config_path=config_path),
            _("Check that the rclone in use is v1.68 or newer, then try again."),
        )


def _run(
    binary: RcloneBinary,
    config_path: Path,
    args: list[str],
    *,
    password: str | None = None,
    stdin: str | None = None,
) -> None:
    env = child_env({"RCLONE_CONFIG_PASS": password} if password is not None else None)
    cmd = [str(binary.path), *args, "--config", str(config_path), "--ask-password=false"]
    try:
        proc = subprocess.run(
            cmd,
            input=stdin if stdin is not None else "",
            capture_output=True,
            encoding="utf-8",  # rclone writes UTF-8; text=True would use the ANSI code page
            errors="replace",
            env=env,
            timeout=CONFIG_TIMEOUT,
            check=False,
            **subprocess_flags(),
        )
    except subprocess.TimeoutExpired as exc:
        raise RcloneError(
            _("rclone does not answer"),
            _("'rclone {args}' did not finish within {timeout:.0f} s.").format(
                args=" ".join(args), timeout=CONFIG_TIMEOUT),
            _("Try again; if it repeats, check the rclone path in Settings."),
        ) from exc
    except OSError as exc:
        raise RcloneError(
            _("rclone cannot be started"),
            _(
                "Running {path} failed: {value}."
            ).format(path=binary.path, value=exc.strerror or exc),
            _("Check the rclone path in Settings, or reinstall the app."),
        ) from exc
    if proc.returncode == 0:
        return
    out = proc.stderr + proc.stdout
    if "decrypt" in out.lower():
        raise wrong_password_error(config_path)
    lines = [ln for ln in out.splitlines() if ln.strip() and "password:" not in ln.lower()]
    tail = redact("\n".join(lines[-6:]))
    raise RcloneError(
        _("rclone config command failed"),
        _(
            "'rclone {join}' exited with code {returncode}."
        ).format(join=' '.join(args), returncode=proc.returncode)
        + (_("\nrclone says:\n{tail}").format(tail=tail) if tail else ""),
        _("See the message above; the config file is unchanged unless rclone says otherwise."),
    )


def _check_drive_type(drive_type: str) -> str:
    if drive_type not in DRIVE_TYPES:
        raise ValidationError(
            _("Unknown drive type"),
            _(
                "'{drive_type}' is not a OneDrive drive type rclone knows."
            ).format(drive_type=drive_type),
            _("Use one of {join}.").format(join=', '.join(DRIVE_TYPES)),
        )
    return drive_type


def _check_token(token_json: str) -> None:
    try:
        data = json.loads(token_json)
    except ValueError as exc:
        raise ValidationError(
            _("Invalid token"),
            _("The token for rclone is not valid JSON."),
            _("Sign in again."),
        ) from exc
    if not isinstance(data, dict) or not data.get("access_token") or not data.get("expiry"):
        raise ValidationError(
            _("Invalid token"),
            _("The token for rclone lacks an access token or its expiry."),
            _("Sign in again."),
        )
    for key in ("access_token", "refresh_token"):
        register_secret(str(data.get(key) or ""))


def _check_reply(reply: dict[str, Any], what: str, name: str) -> None:
    err = reply.get("Error")
    if err:
        raise RcloneError(
            _("rclone could not create the remote") if what == "create"
            else _("rclone could not update the remote"),
            _(
                "rclone's config for '{name}' stopped with: {redact}"
            ).format(name=name, redact=redact(str(err))),
            _("See the rclone log for details."),
        )


def create_onedrive_remote(
    rc: RcClient,
    name: str,
    *,
    client_id: str,
    client_secret: str,
    token_json: str,
    drive_id: str,
    drive_type: str,
    tenant: str,
    region: str = "global",
) -> None:
    """Create remote *name* of type onedrive; rclone writes it into the encrypted config.

    *region* is rclone's name of the Microsoft cloud (global, us, cn: core.clouds)."""
    validate_remote_name(name)
    _check_drive_type(drive_type)
    _check_token(token_json)
    if not drive_id:
        raise ValidationError(
            _("No drive"), _("No OneDrive drive was chosen."), _("Pick a drive, then try again.")
        )
    register_secret(client_secret)
    register_secret(token_json)
    if name in remote_names(rc):
        raise RcloneError(
            _("Remote already exists"),
            _("The app's rclone config already has a remote named '{name}'.").format(name=name),
            _("Pick another name, or remove the old account first."),
        )
    params: dict[str, Any] = {
        "client_id": client_id,
        "client_secret": client_secret,
        "token": token_json,
        "drive_id": drive_id,
        "drive_type": drive_type,
        "disable_site_permission": "true",
        **APP_REMOTE_OPTIONS,
        **_NON_INTERACTIVE,
    }
    if tenant and tenant.lower() != "common":
        params["tenant"] = tenant
    if region and region != "global":
        params["region"] = region
    reply = rc.config_create(name, "onedrive", params, _OPT, timeout=CONFIG_TIMEOUT)
    _check_reply(reply, "create", name)
    stored = rc.config_get(name)
    if stored.get("type") != "onedrive" or stored.get("drive_id") != drive_id:
        raise RcloneError(
            _("rclone did not save the remote"),
            _(
                "After creating '{name}', rclone's config does not hold it as expected."
            ).format(name=name),
            _("See the rclone log for details, then try again."),
        )
    log.info("rclone remote %s created (drive type %s)", name, drive_type)


def _update(rc: RcClient, name: str, params: dict[str, str], what: str) -> None:
    validate_remote_name(name)
    if name not in remote_names(rc):
        raise RcloneError(
            _("Remote not found"),
            _("The app's rclone config has no remote named '{name}'.").format(name=name),
            _("Remove the account and add it again."),
        )
    reply = rc.config_update(name, {**params, **_NON_INTERACTIVE}, _OPT, timeout=CONFIG_TIMEOUT)
    _check_reply(reply, "update", name)
    log.info("rclone remote %s: %s updated", name, what)


def update_backend_options(rc: RcClient, name: str, options: dict[str, str]) -> None:
    """Set OneDrive backend options (e.g. chunk_size) on the remote, where they differ,
    with :data:`APP_REMOTE_OPTIONS` (a remote of an earlier version gets them here).

    They live in the (encrypted) config, never in a connection string: an override would
    rename the remote and orphan its VFS cache (DESIGN §6).
    """
    current = get_remote(rc, name)
    wanted = {**APP_REMOTE_OPTIONS, **options}
    changed = {k: v for k, v in wanted.items() if current.get(k) != v}
    if changed:
        _update(rc, name, changed, ", ".join(sorted(changed)))


def update_token(rc: RcClient, name: str, token_json: str) -> None:
    _check_token(token_json)
    register_secret(token_json)
    _update(rc, name, {"token": token_json}, "token")


def update_client_secret(rc: RcClient, name: str, client_secret: str) -> None:
    if not client_secret:
        raise ValidationError(
            _("Empty client secret"), _("The client secret is empty."),
            _("Paste the secret's Value."),
        )
    register_secret(client_secret)
    _update(rc, name, {"client_secret": client_secret}, "client secret")


def delete_remote(rc: RcClient, name: str) -> None:
    validate_remote_name(name)
    rc.config_delete(name)
    log.info("rclone remote %s deleted", name)


def remote_names(rc: RcClient) -> list[str]:
    return rc.config_listremotes()


def get_remote(rc: RcClient, name: str) -> dict[str, Any]:
    """The remote's stored keys (secrets included: never log them)."""
    validate_remote_name(name)
    data = rc.config_get(name)
    if not data:
        raise RcloneError(
            _("Remote not found"),
            _("The app's rclone config has no remote named '{name}'.").format(name=name),
            _("Remove the account and add it again."),
        )
    register_secret(str(data.get("client_secret") or ""))
    token = data.get("token")
    if token:
        register_secret(str(token))
        try:
            parsed = json.loads(str(token))
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            for key in ("access_token", "refresh_token"):
                register_secret(str(parsed.get(key) or ""))
    return data


# Keys rclone keeps in a OneDrive remote that must arrive unchanged in a copy.
_IDENTITY_KEYS = ("type", "client_id", "drive_id", "drive_type")


def copy_remote(src: RcClient, dst: RcClient, name: str) -> None:
    """Copy remote *name* from *src*'s config into *dst*'s, by rclone on both sides (rc
    ``config/get`` then ``config/create``): both files stay encrypted and are only ever
    written by rclone. Verified by reading it back from *dst*; a remote already in *dst*
    (an interrupted earlier copy, or one whose token rclone has refreshed since) is kept
    when it is the same drive of the same app registration.
    """
    data = get_remote(src, name)
    kind = str(data.get("type") or "")
    if not kind:
        raise RcloneError(
            _("Remote not readable"),
            _("rclone's config has no type for the remote '{name}'.").format(name=name),
            _("Remove the account and add it again."),
        )
    if name not in remote_names(dst):
        params = {k: v for k, v in data.items() if k != "type"}
        if kind == "onedrive":
            params.update(_NON_INTERACTIVE)
        # The values are as rclone stores them: never obscure them again.
        reply = dst.config_create(name, kind, params, {**_OPT, "noObscure": True},
                                  timeout=CONFIG_TIMEOUT)
        _check_reply(reply, "copy", name)
        expected = data
    else:
        expected = {k: data.get(k) for k in _IDENTITY_KEYS}
    copied = get_remote(dst, name)
    differs = sorted(k for k, v in expected.items() if str(copied.get(k)) != str(v))
    if differs:
        raise RcloneError(
            _("rclone config not copied"),
            _(
                "The copy of the remote '{name}' differs from the original in {join}."
            ).format(name=name, join=', '.join(differs)),
            _("The original config was kept; see the rclone log, then restart the app."),
        )
    log.info("rclone remote %s copied into its own config", name)
