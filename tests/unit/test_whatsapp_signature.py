"""The webhook signature as Meta documents it: `X-Hub-Signature-256: sha256=` followed by the
lowercase hex HMAC-SHA256 of the raw request body, keyed with the app secret.
"""

from __future__ import annotations

import hashlib
import hmac

from hypothesis import given
from hypothesis import strategies as st

from integrations.whatsapp.webhook import signature_ok

APP_SECRET = "6d0c1f2a3b4c5d6e7f8091a2b3c4d5e6"
# A body as Meta posts it, byte for byte (the signature covers these bytes, not the JSON).
BODY = (
    b'{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":'
    b'[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":'
    b'"15550783881","phone_number_id":"106540352242922"},"statuses":[{"id":"wamid.HBgL",'
    b'"status":"read","timestamp":"1750263773","recipient_id":"16505551234"}]},'
    b'"field":"messages"}]}]}'
)


def expected_header(body: bytes, secret: str) -> str:
    """Meta's algorithm, computed here on its own: HMAC-SHA256, hex, "sha256=" in front."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_the_documented_signature_of_a_fixed_body_is_accepted() -> None:
    header = expected_header(BODY, APP_SECRET)
    assert len(header) == len("sha256=") + 64
    assert signature_ok(header, BODY, APP_SECRET)


def test_the_known_answer_for_a_fixed_body_and_secret() -> None:
    # A published test vector of the same "sha256=<hex HMAC-SHA256>" header scheme (GitHub's
    # webhook docs): an answer not computed by this code base.
    body, secret = b"Hello, World!", "It's a Secret to Everybody"
    known = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert expected_header(body, secret) == known
    assert signature_ok(known, body, secret)


def test_a_changed_byte_another_secret_or_a_bad_header_are_refused() -> None:
    header = expected_header(BODY, APP_SECRET)
    assert not signature_ok(header, BODY.replace(b"read", b"sent"), APP_SECRET)
    assert not signature_ok(header, BODY + b" ", APP_SECRET)  # same JSON, other bytes
    assert not signature_ok(expected_header(BODY, "another-secret"), BODY, APP_SECRET)
    assert not signature_ok(header[len("sha256=") :], BODY, APP_SECRET)  # no prefix
    assert not signature_ok("sha1=" + header[len("sha256=") :], BODY, APP_SECRET)
    assert not signature_ok(None, BODY, APP_SECRET)
    assert not signature_ok("", BODY, APP_SECRET)
    assert not signature_ok(header[:-1], BODY, APP_SECRET)  # one hex digit short
    assert not signature_ok(header[:-1] + "é", BODY, APP_SECRET)  # not ASCII
    assert not signature_ok(header[:-1] + "\udcff", BODY, APP_SECRET)  # raw non-UTF-8 byte
    assert not signature_ok(header, BODY, "")  # no secret configured: nothing is accepted


@given(st.binary(max_size=512), st.text(min_size=1, max_size=40))
def test_any_body_signed_with_the_secret_is_accepted_and_no_other(body: bytes, secret: str) -> None:
    header = expected_header(body, secret)
    assert signature_ok(header, body, secret)
    assert not signature_ok(header, body + b"x", secret)
