"""Which certificates the app's own HTTPS calls (sign-in, Microsoft Graph) trust.

Behind a company's TLS inspection the inspecting proxy's CA is installed in the operating
system's certificate store (on Windows by group policy), not in certifi's bundle that
requests uses by default, so the sign-in would fail with "could not verify its certificate".
``truststore`` makes Python's ``ssl`` verify with the OS store (Windows CryptoAPI, macOS
Security framework, OpenSSL's system paths on Linux); requests and msal then use it.

The variables that name a CA bundle keep exactly the meaning they have without truststore:
when ``REQUESTS_CA_BUNDLE``, ``SSL_CERT_FILE`` or ``CURL_CA_BUNDLE`` is set, that bundle alone
is trusted (as today) and truststore is not used. (With truststore a bundle loaded through
``load_verify_locations`` would only be *added* to the OS store — on Windows tried after it —
which is not what someone who set the variable asked for.) rclone (Go) uses the OS store on
its own.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping

log = logging.getLogger(__name__)

BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "CURL_CA_BUNDLE")

_lock = threading.Lock()
_decided: bool | None = None


def use_os_trust_store(environ: Mapping[str, str] | None = None) -> bool:
    """Before the first HTTPS call (idempotent): trust the OS certificate store unless a CA
    bundle is named in the environment. True when the OS store is used."""
    global _decided
    with _lock:
        if _decided is not None:
            return _decided
        env = os.environ if environ is None else environ
        named = [v for v in BUNDLE_VARIABLES if env.get(v)]
        if named:
            log.info("TLS: trusting the CA bundle named by %s", ", ".join(named))
            _decided = False
            return False
        import truststore

        truststore.inject_into_ssl()
        log.info("TLS: trusting the operating system's certificate store")
        _decided = True
        return True
