"""Secrets in the operating system's keyring, never anywhere else.

Two kinds of entries, under the service ``onedrive-gui``:

* ``client-secret:<account>`` — the Azure app's client secret (source of truth for rotation);
* ``rclone-config-password`` — the random password encrypting the app's rclone config.

Backends that do not protect the value (keyring's ``fail``/``null`` backends, the
``keyrings.alt`` file backends, anything with priority below 1) are refused: the app then
stops with an error saying how to get a real keyring, and nothing is written in plain text.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

from onedrive_gui.core.errors import KeyringError
from onedrive_gui.core.i18n import N_, _
from onedrive_gui.core.logging_setup import register_secret

CONFIG_PASSWORD_USER = "rclone-config-password"  # noqa: S105 (an entry name, not a secret)
CLIENT_SECRET_PREFIX = "client-secret:"  # noqa: S105 (an entry name, not a secret)
SELF_TEST_USER = "self-test"  # a throwaway entry written and deleted by round_trip()
# Windows Credential Manager holds at most 2560 bytes per credential blob (UTF-16).
WINDOWS_BLOB_LIMIT = 2560
MAX_CLIENT_SECRET_CHARS = 1000

_INSECURE_CLASSES = {
    "keyring.backends.fail.Keyring",
    "keyring.backends.null.Keyring",
    "keyring.backends.chainer.ChainerBackend",  # judged by its children, never used itself
}


def _name(backend: object) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def _no_keyring_hint() -> str:
    forced = os.environ.get("PYTHON_KEYRING_BACKEND")
    if sys.platform == "win32":
        base = (
            _("Windows Credential Manager should be available in a normal Windows session; "
            "run the app as yourself, not as a service or another user.")
        )
    elif sys.platform == "darwin":
        base = _("Run the app in your logged-in macOS session, where the login Keychain is open.")
    else:
        base = (
            _("Install and start a Secret Service keyring — GNOME Keyring (package "
            "gnome-keyring) or KWallet — and run the app in a desktop session you logged "
            "into, which unlocks it.")
        )
    return (_(
        "{advice} PYTHON_KEYRING_BACKEND is set to '{forced}' in your environment: unset it. "
        "Nothing is stored in plain text."
    ) if forced else _("{advice} Nothing is stored in plain text.")).format(
        advice=base, forced=forced)


def _no_secure_keyring(why: str) -> KeyringError:
    return KeyringError(
        _("No secure keyring"),
        _(
            "The app keeps its secrets only in your system keyring, and none is usable: {why}."
        ).format(why=why),
        _no_keyring_hint(),
    )


def _optional_exceptions() -> tuple[type[BaseException], ...]:
    """Errors of the keyring backends' D-Bus/OS layers that mean locked or denied."""
    found: list[type[BaseException]] = []
    for module, name in (
        ("secretstorage.exceptions", "SecretStorageException"),
        ("jeepney.wrappers", "DBusErrorResponse"),
        ("dbus.exceptions", "DBusException"),
        ("win32ctypes.pywin32.pywintypes", "error"),
    ):
        try:
            mod = importlib.import_module(module)
        except ImportError:
            continue  # that backend is not installed, so it cannot raise either
        exc = getattr(mod, name, None)
        if isinstance(exc, type) and issubclass(exc, BaseException):
            found.append(exc)
    return tuple(found)


class SecretStore:
    """The app's entries in the system keyring (refusing insecure backends)."""

    def __init__(self, service: str = "onedrive-gui") -> None:
        self.service = service

    # backend selection --------------------------------------------------------------
    def _backend(self) -> Any:
        import keyring

        errors: tuple[type[BaseException], ...] = (*self._errors(), ImportError)
        try:
            chosen = keyring.get_keyring()
        except errors as exc:
            raise _no_secure_keyring(f"{type(exc).__name__}: {exc}") from exc
        if _name(chosen) == "keyring.backends.chainer.ChainerBackend":
            children = list(getattr(chosen, "backends", []))
            secure = [b for b in children if self._insecurity(b) is None]
            if not secure:
                names = ", ".join(_name(b) for b in children) or "none"
                raise _no_secure_keyring(_(
                    "no secure backend among those found ({names})"
                ).format(names=names))
            return secure[0]
        why = self._insecurity(chosen)
        if why is not None:
            raise _no_secure_keyring(why)
        return chosen

    def _insecurity(self, backend: object) -> str | None:
        """Why *backend* must not hold secrets, or None when it is acceptable."""
        name = _name(backend)
        if name in _INSECURE_CLASSES:
            return _(
                "the only backend available is {name}, which stores nothing safely"
            ).format(name=name)
        if type(backend).__module__.split(".")[0] == "keyrings":
            return _("{name} keeps secrets in a file, not in a system keyring").format(name=name)
        errors: tuple[type[BaseException], ...] = (*self._errors(), RuntimeError)
        try:
            priority = float(getattr(backend, "priority", 0))
        except errors as exc:
            return _("{name} is not available ({exc})").format(name=name, exc=exc)
        if priority < 1:
            return _("{name} has priority {priority:g}, which marks it as not secure").format(
                name=name, priority=priority)
        return None

    def check(self) -> None:
        """Raise KeyringError unless a secure keyring backend is available."""
        self._backend()

    def backend_name(self) -> str:
        """Class name of the keyring in use (for diagnostics)."""
        return _name(self._backend())

    # raw access ---------------------------------------------------------------------
    def _failure(self, exc: BaseException, doing: str) -> KeyringError:
        from keyring.errors import NoKeyringError

        if isinstance(exc, NoKeyringError):
            return _no_secure_keyring(str(exc) or _("no backend"))
        cls_name = type(exc).__name__
        if cls_name == "SecretServiceNotAvailableException":
            return _no_secure_keyring(_(
                "the Secret Service cannot be reached ({exc})"
            ).format(exc=exc))
        detail = str(exc).strip()[:200] or cls_name
        return KeyringError(
            _("Keyring locked"),
            _(
                "Your keyring refused to {doing} ({cls_name}: {detail}). It may be locked, or "
                "access to it was denied."
            ).format(doing=doing, cls_name=cls_name, detail=detail),
            _("Unlock your keyring (for example by logging into your desktop session or in "
            "your keyring manager), allow the app access when asked, and retry."),
        )

    def _errors(self) -> tuple[type[BaseException], ...]:
        from keyring.errors import KeyringError as _KeyringError

        return (_KeyringError, *_optional_exceptions(), ConnectionError)

    def _get(self, user: str, what: str) -> str | None:
        backend = self._backend()
        try:
            value = backend.get_password(self.service, user)
        except self._errors() as exc:
            raise self._failure(exc, _("read the {what}").format(what=_(what))) from exc
        if value is None:
            return None
        value = str(value)
        register_secret(value)
        return value

    def _set(self, user: str, value: str, what: str) -> None:
        register_secret(value)
        size = len(value.encode("utf-16-le"))
        if size > WINDOWS_BLOB_LIMIT:
            raise KeyringError(
                _("Value too long for the keyring"),
                _(
                    "The {what} is {n_value} characters long; keyrings such as Windows "
                    "Credential Manager hold at most {value}."
                ).format(what=_(what), n_value=len(value), value=WINDOWS_BLOB_LIMIT // 2),
                _("Check that you pasted the right value."),
            )
        backend = self._backend()
        try:
            backend.set_password(self.service, user, value)
        except self._errors() as exc:
            raise self._failure(exc, _("store the {what}").format(what=_(what))) from exc

    def _delete(self, user: str, what: str) -> None:
        if self._get(user, what) is None:
            return  # nothing stored: already in the wanted state
        backend = self._backend()
        try:
            backend.delete_password(self.service, user)
        except self._errors() as exc:
            raise self._failure(exc, _("delete the {what}").format(what=_(what))) from exc

    def round_trip(self) -> str:
        """Write, read back and delete a throwaway entry; the name of the backend used.

        What the first account will need of the keyring (``--self-test``). KeyringError when
        there is no secure keyring, when it refuses, or when it does not give back what was
        written or keeps what was deleted.
        """
        import secrets as _random

        backend = _name(self._backend())
        value = _random.token_urlsafe(24)
        what = "self-test entry"
        self._set(SELF_TEST_USER, value, what)
        try:
            read = self._get(SELF_TEST_USER, what)
        finally:
            self._delete(SELF_TEST_USER, what)
        if read != value:
            raise KeyringError(
                _("Keyring does not keep secrets"),
                _(
                    "{backend} accepted an entry but gave back {value} when it was read."
                ).format(
                    backend=backend,
                    value='nothing' if read is None else 'another value',
                ),
                _("Check your keyring (unlock it, or reset it in your keyring manager) and retry."),
            )
        if self._get(SELF_TEST_USER, what) is not None:
            raise KeyringError(
                _("Keyring does not delete secrets"),
                _("{backend} still holds an entry the app deleted.").format(backend=backend),
                _("Check your keyring in your keyring manager and retry."),
            )
        return backend

    # client secrets -----------------------------------------------------------------
    def get_client_secret(self, account: str) -> str:
        value = self._get(CLIENT_SECRET_PREFIX + account, N_("client secret"))
        if value is None:
            raise KeyringError(
                _("Client secret missing"),
                _(
                    "The client secret of '{account}' is not in your keyring."
                ).format(account=account),
                _(
                    "Enter the secret again (account settings, or `onedrive-gui set-secret "
                    "{account}`); if it is lost, create a new one under Certificates & secrets "
                    "in the Azure portal."
                ).format(account=account),
            )
        return value

    def set_client_secret(self, account: str, secret: str) -> None:
        if not secret:
            raise KeyringError(
                _("Client secret missing"),
                _("An empty client secret cannot be stored."),
                _("Paste the Value of a client secret from Certificates & secrets."),
            )
        if len(secret) > MAX_CLIENT_SECRET_CHARS:
            raise KeyringError(
                _("Client secret too long"),
                _(
                    "The text given is {n_secret} characters long; a client secret is about 40."
                ).format(n_secret=len(secret)),
                _("Paste only the Value of the client secret from Certificates & secrets."),
            )
        self._set(CLIENT_SECRET_PREFIX + account, secret, N_("client secret"))

    def delete_client_secret(self, account: str) -> None:
        self._delete(CLIENT_SECRET_PREFIX + account, N_("client secret"))

    # rclone config password ---------------------------------------------------------
    def get_config_password(self) -> str | None:
        return self._get(CONFIG_PASSWORD_USER, N_("rclone config password"))

    def ensure_config_password(self) -> str:
        """The config password, created (random, 256 bits) and stored on first use."""
        existing = self.get_config_password()
        if existing is not None:
            return existing
        import secrets as _random  # (hmac/OpenSSL: only when a password is made)

        password = _random.token_urlsafe(32)
        self._set(CONFIG_PASSWORD_USER, password, N_("rclone config password"))
        return password

    def delete_config_password(self) -> None:
        self._delete(CONFIG_PASSWORD_USER, N_("rclone config password"))
