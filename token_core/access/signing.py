"""Request signatures shared by inbound API calls and outbound event callbacks.

X-Odontoken-Assinatura: sha256=<hex HMAC-SHA256(secret, ts + "\n" + METHOD + "\n" +
                                                 path?query + "\n" + raw body)>
"""

from __future__ import annotations

import hashlib
import hmac

CLIENT_HEADER = "X-Odontoken-Cliente"
TIMESTAMP_HEADER = "X-Odontoken-Timestamp"
SIGNATURE_HEADER = "X-Odontoken-Assinatura"
SIGNATURE_PREFIX = "sha256="


def signature(secret: str, timestamp: str, method: str, target: str, body: bytes) -> str:
    """The header value for a request: `target` is the path with its query string."""
    message = f"{timestamp}\n{method.upper()}\n{target}\n".encode() + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def signature_matches(
    secrets: list[str], given: str, timestamp: str, method: str, target: str, body: bytes
) -> bool:
    """Constant-time check of `given` against every secret still valid for the client."""
    found = False
    for secret in secrets:
        expected = signature(secret, timestamp, method, target, body)
        found |= hmac.compare_digest(expected.encode(), given.encode())
    return found


def signed_headers(
    client_id: str, secret: str, timestamp: str, method: str, target: str, body: bytes
) -> dict[str, str]:
    return {
        CLIENT_HEADER: client_id,
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: signature(secret, timestamp, method, target, body),
    }
