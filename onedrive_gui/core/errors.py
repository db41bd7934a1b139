"""Typed errors that carry text for the user.

Every error the app shows has a short *title*, a *message* saying what happened and a
*hint* saying what to do. Messages never contain secrets (client secret, tokens,
passwords); callers build them from non-secret facts only.
"""

from __future__ import annotations


class AppError(Exception):
    """Base of every error the app reports to a user."""

    exit_code = 1

    def __init__(self, title: str, message: str, hint: str = "", *, code: str | None = None):
        super().__init__(f"{title}: {message}")
        self.title = title
        self.message = message
        self.hint = hint
        self.code = code

    def user_text(self) -> str:
        """Title, message and hint as lines, for a terminal or a message box."""
        lines = [self.title, self.message]
        if self.hint:
            lines.append(self.hint)
        return "\n".join(line for line in lines if line)


class ValidationError(AppError):
    """Input the user gave is not acceptable (bad GUID, bad name, ...)."""

    exit_code = 2


class AuthError(AppError):
    """Sign-in failed: an AADSTS/OAuth error, a state mismatch, a missing code."""


class CancelledError(AppError):
    """The user cancelled (Ctrl-C, Cancel button) or the browser never came back."""

    exit_code = 130


class SignInTimeoutError(CancelledError):
    """The browser did not come back to the loopback server in time."""

    exit_code = 1


class NetworkError(AppError):
    """Microsoft's servers (or the proxy) could not be reached."""


class GraphError(AppError):
    """Microsoft Graph answered with an error."""


class KeyringError(AppError):
    """No secure keyring, a locked keyring, or a missing entry."""


class SettingsError(AppError):
    """The settings file cannot be read or written."""


class RcloneError(AppError):
    """rclone is missing, too old, refused a call, or died."""


class MountError(AppError):
    """A mount cannot be made or removed."""
