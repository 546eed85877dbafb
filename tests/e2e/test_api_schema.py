"""Schemathesis against /api/openapi.json: generated requests, signed like any client's, never
get a 5xx nor a response that breaks the published schema.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.core.result import Err
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

from tests.conftest import World
from tests.support.server import RunningServer
from token_core.access.signing import signed_headers

EXAMPLES_PER_OPERATION = 40

OperationCase = schemathesis.Case[schemathesis.APIOperation[Any, Any, Any, Any]]


class SigningAuth(requests.auth.AuthBase):
    """Signs each prepared request exactly as sent (method, path?query, raw body)."""

    def __init__(self, client_id: str, secret: str) -> None:
        self.client_id = client_id
        self.secret = secret
        self.counter = 0

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        body = r.body or b""
        if isinstance(body, str):
            body = body.encode()
        if not isinstance(body, bytes):
            raise TypeError("a streamed request body cannot be signed")
        target = r.path_url
        # A distinct second per request keeps identical generated requests from being replays.
        self.counter += 1
        timestamp = str(int(time.time()) + self.counter % 200)
        r.headers.update(
            signed_headers(self.client_id, self.secret, timestamp, r.method or "GET", target, body)
        )
        return r


def with_known_ids(
    strategy: st.SearchStrategy[OperationCase], known: dict[str, list[str]]
) -> st.SearchStrategy[OperationCase]:
    """Half the cases aim at guides and beneficiaries that exist, so 2xx answers get checked."""

    def aim(case: OperationCase, pick: int) -> OperationCase:
        for name, values in known.items():
            if case.path_parameters and name in case.path_parameters and pick < len(values):
                case.path_parameters[name] = values[pick]
        return case

    return st.builds(aim, strategy, st.integers(0, 2 * len(next(iter(known.values())))))


def run_operations(
    base_url: str, spec: dict[str, Any], auth: SigningAuth, known: dict[str, list[str]]
) -> list[str]:
    # The signing session authenticates every request, so the copy given to Schemathesis leaves
    # out the security requirement (else its negative cases "without the headers" go signed).
    schema = schemathesis.openapi.from_dict({k: v for k, v in spec.items() if k != "security"})
    failures: list[str] = []
    with requests.Session() as session:
        session.auth = auth
        for result in schema.get_all_operations():
            if isinstance(result, Err):
                raise result.err()
            operation = result.ok()
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                strategy = with_known_ids(operation.as_strategy(generation_mode=mode), known)

                @given(case=strategy)
                @settings(
                    max_examples=EXAMPLES_PER_OPERATION,
                    deadline=None,
                    database=None,
                    suppress_health_check=list(HealthCheck),
                )
                def check(case: OperationCase) -> None:
                    response = case.call(base_url=base_url, session=session, timeout=10)
                    if response.status_code >= 500:
                        raise AssertionError(f"{case.method} {case.path}: {response.status_code}")
                    # Every check runs on every answer but two. "Schema-valid data must be
                    # accepted": a well-formed guide for an unknown carteirinha is refused (422)
                    # by a business rule no schema can express. "Invalid auth must be refused":
                    # our session signs every request it sends, so its unsigned re-sends arrive
                    # signed; test_api_auth.py covers every refusal instead.
                    case.validate_response(
                        response, excluded_checks=[positive_data_acceptance, ignored_auth]
                    )

                try:
                    check()
                except Exception as exc:  # collect every operation's failure, then report
                    failures.append(f"{operation.label} [{mode.value}]: {exc}")
    return failures


async def test_generated_requests_get_no_5xx_and_answers_match_the_schema(
    server: RunningServer, world: World
) -> None:
    guides = [await world.guide() for _ in range(3)]
    known = {
        "numero": [g.numero for g in guides],
        "carteirinha": [(await g.beneficiary).carteirinha for g in guides],
    }
    spec = (await server.call("GET", "/api/openapi.json", signed=False)).body
    auth = SigningAuth(server.client_id, server.secret)
    failures = await asyncio.to_thread(run_operations, server.base_url, spec, auth, known)
    assert not failures, "\n\n".join(failures)
