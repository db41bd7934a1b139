"""Sign-in and Graph calls trust the operating system's certificate store (a company's TLS
inspection CA lives there), while REQUESTS_CA_BUNDLE / SSL_CERT_FILE keep their meaning.

Each case runs in its own Python process: the choice is made once per process, as in the app.
On Linux the OS store is OpenSSL's system locations (SSL_CERT_DIR here, as c_rehash lays
it out); the emulated cloud's CA is put there, as an IT department puts its CA into Windows'
store. On Windows it is that store itself (the machine's Root store, where the test harness
puts the emulated cloud's CA)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from onedrive_gui.core.microsoft.tls import BUNDLE_VARIABLES

PROBE = """
import sys
from onedrive_gui.core.errors import AuthError, NetworkError
from onedrive_gui.core.microsoft.graph import GraphClient
try:
    GraphClient("not-a-real-token", max_retries=0).me()
except AuthError:
    print("reached Microsoft Graph")  # TLS verified; the token was refused, as it should be
except NetworkError as err:
    print("network error:", err.title)
import ssl
print("ssl.SSLContext from", ssl.SSLContext.__module__)
"""


@pytest.fixture
def os_store(fakecloud, tmp_path: Path) -> Path:
    """An OpenSSL certificate folder holding the emulated cloud's CA (the 'OS store'). On
    Windows the OS store is the machine's Root store, where the emulated cloud's CA already
    is (tests/fakecloud/cloud.py trust_test_ca; truststore ignores SSL_CERT_DIR there): the
    folder stays empty."""
    store = tmp_path / "os-store"
    store.mkdir()
    if sys.platform == "win32":
        return store
    ca = Path(fakecloud.env()["SSL_CERT_FILE"])
    subject_hash = subprocess.run(["openssl", "x509", "-subject_hash", "-noout", "-in", str(ca)],
                                  capture_output=True, text=True, check=True).stdout.strip()
    shutil.copy(ca, store / f"{subject_hash}.0")
    return store


def _run(env: dict[str, str], code: str = PROBE) -> str:
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _env(fakecloud, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in BUNDLE_VARIABLES}
    cloud = fakecloud.env()
    env.update(HTTPS_PROXY=cloud["HTTPS_PROXY"], https_proxy=cloud["HTTPS_PROXY"],
               NO_PROXY=cloud["NO_PROXY"], no_proxy=cloud["no_proxy"])
    env.update(extra)
    return env


def test_a_ca_in_the_os_store_is_trusted_when_no_bundle_is_named(fakecloud, os_store):
    out = _run(_env(fakecloud, SSL_CERT_DIR=str(os_store)))
    assert "reached Microsoft Graph" in out, out
    assert "ssl.SSLContext from truststore" in out


# What the app did before truststore: requests' own bundle (certifi) or the one named by
# REQUESTS_CA_BUNDLE, and nothing else.
BEFORE = PROBE.replace("from onedrive_gui.core.microsoft.graph import GraphClient",
                       "from onedrive_gui.core.microsoft.graph import GraphClient\n"
                       "import onedrive_gui.core.microsoft.tls as t; t._decided = False")


def test_without_truststore_the_same_machine_fails(fakecloud, os_store):
    out = _run(_env(fakecloud, SSL_CERT_DIR=str(os_store)), BEFORE)
    assert "network error: Cannot reach Microsoft" in out, out


def test_requests_ca_bundle_keeps_its_meaning(fakecloud, os_store):
    ca = fakecloud.env()["SSL_CERT_FILE"]
    out = _run(_env(fakecloud, REQUESTS_CA_BUNDLE=ca))
    assert "reached Microsoft Graph" in out, out
    assert "ssl.SSLContext from ssl" in out  # no truststore: exactly as before
    # ... and only that bundle is trusted: the OS store is not consulted.
    import certifi

    other = _run(_env(fakecloud, SSL_CERT_DIR=str(os_store), REQUESTS_CA_BUNDLE=certifi.where()))
    assert "network error" in other, other


def test_ssl_cert_file_keeps_its_meaning(fakecloud, os_store):
    """SSL_CERT_FILE (read by OpenSSL, Go's rclone on Linux) leaves the app's HTTPS calls
    exactly as they were: no truststore, the same outcome as before."""
    env = _env(fakecloud, SSL_CERT_DIR=str(os_store),
               SSL_CERT_FILE=fakecloud.env()["SSL_CERT_FILE"])
    out = _run(env)
    assert "ssl.SSLContext from ssl" in out
    assert out == _run(env, BEFORE)


def test_the_test_suites_environment_reaches_the_emulated_cloud(fakecloud):
    out = _run(_env(fakecloud, REQUESTS_CA_BUNDLE=fakecloud.env()["SSL_CERT_FILE"],
                    SSL_CERT_FILE=fakecloud.env()["SSL_CERT_FILE"]))
    assert "reached Microsoft Graph" in out and "from ssl" in out, out
