"""One app per user: a QLockFile in the app's config dir and a QLocalServer named per user.

A second launch finds the lock taken, sends "show" to the first one and exits with 0.
"""

from __future__ import annotations

import getpass
import hashlib
import logging
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

SHOW = b"show\n"


def server_name(lock_dir: Path) -> str:
    """Per user (and per config dir, so isolated test homes do not meet)."""
    digest = hashlib.sha256(f"{getpass.getuser()}|{lock_dir}".encode()).hexdigest()[:16]
    return f"onedrive-gui-{digest}"


class SingleInstance(QObject):
    show_requested = Signal()

    def __init__(self, lock_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.lock_dir = Path(lock_dir)
        self.name = server_name(self.lock_dir)
        self.lock_dir.mkdir(parents=True, exist_ok=True)
        self._lock = QLockFile(str(self.lock_dir / "instance.lock"))
        self._lock.setStaleLockTime(0)  # stale only when its process is gone
        self._server: QLocalServer | None = None
        self._clients: dict[QLocalSocket, bytes] = {}

    def acquire(self) -> bool:
        """True: we are the first instance. False: another one runs and was asked to show."""
        if self._lock.tryLock(200):
            QLocalServer.removeServer(self.name)  # a socket left behind by a crash
            server = QLocalServer(self)
            server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
            if not server.listen(self.name):
                log.warning("single-instance server did not start: %s", server.errorString())
            server.newConnection.connect(self._connection)
            self._server = server
            return True
        self._send_show()
        return False

    def _send_show(self) -> None:
        for _attempt in range(10):
            sock = QLocalSocket()
            sock.connectToServer(self.name)
            if sock.waitForConnected(500):
                sock.write(SHOW)
                sock.waitForBytesWritten(1000)
                sock.disconnectFromServer()
                return
        log.warning("another instance holds %s but does not answer", self.lock_dir)

    def _connection(self) -> None:
        assert self._server is not None
        while self._server.hasPendingConnections():
            sock = self._server.nextPendingConnection()
            self._clients[sock] = b""
            sock.readyRead.connect(self._read)
            sock.disconnected.connect(self._closed)

    def _read(self) -> None:
        sock = self.sender()
        if not isinstance(sock, QLocalSocket) or sock not in self._clients:
            return
        self._clients[sock] += bytes(sock.readAll().data())
        if self._clients[sock].strip() == SHOW.strip():
            self._clients[sock] = b""
            self.show_requested.emit()

    def _closed(self) -> None:
        sock = self.sender()
        if isinstance(sock, QLocalSocket) and self._clients.pop(sock, None) is not None:
            sock.deleteLater()

    def release(self) -> None:
        for sock in list(self._clients):
            sock.readyRead.disconnect(self._read)
            sock.disconnected.disconnect(self._closed)
            sock.abort()
            sock.deleteLater()
        self._clients.clear()
        if self._server is not None:
            self._server.close()
            self._server = None
        self._lock.unlock()
