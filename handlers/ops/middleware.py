"""The edge every request passes: its id (from `X-Request-Id` when well-formed, else a new one;
echoed in the response and carried by every log line written while it is handled), its
count and latency by route, the outages it met, and which port may serve /metrics.
"""

from __future__ import annotations

import re
import time

from aiohttp import web
from aiohttp.typedefs import Handler

from handlers.ops.config import OPS_CONFIG, REQUEST_ID
from handlers.ops.metrics import HTTP_LATENCY, HTTP_REQUESTS, PrometheusMetrics
from token_core.metrics import outage_backend
from token_core.request_context import new_request_id, request_id_bound

REQUEST_ID_HEADER = "X-Request-Id"
METRICS_PATH = "/metrics"
OPS_PATHS = {METRICS_PATH, "/healthz", "/readyz"}
_REQUEST_ID = re.compile(r"[\x21-\x7e]{1,64}", re.ASCII)
_METRICS = PrometheusMetrics()
_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def accepted_request_id(given: str | None) -> str:
    """The caller's id when it is 1-64 visible ASCII characters; a new one otherwise."""
    if given is not None and _REQUEST_ID.fullmatch(given):
        return given
    return new_request_id()


def route_of(request: web.Request) -> str:
    """The matched route's pattern ("/api/v1/guias/{numero}"), never the raw path."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "(unmatched)"


def _local_port(request: web.Request) -> int | None:
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    return sockname[1] if isinstance(sockname, tuple) and len(sockname) >= 2 else None


@web.middleware
async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Outermost: the request id, the metrics port guard, the count and latency."""
    request_id = accepted_request_id(request.headers.get(REQUEST_ID_HEADER))
    request[REQUEST_ID] = request_id
    started = time.perf_counter()
    status = 500
    try:
        with request_id_bound(request_id):
            metrics_port = request.app[OPS_CONFIG].metrics_port
            if metrics_port:
                # The metrics port serves the probes and /metrics only; the main one all else.
                on_metrics_port = _local_port(request) == metrics_port
                if (on_metrics_port and request.path not in OPS_PATHS) or (
                    not on_metrics_port and request.path == METRICS_PATH
                ):
                    raise web.HTTPNotFound()
            response = await handler(request)
            status = response.status
            return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        route = route_of(request)
        method = request.method if request.method in _METHODS else "OTHER"  # bounded labels
        HTTP_REQUESTS.labels(method, route, str(status)).inc()
        HTTP_LATENCY.labels(method, route).observe(time.perf_counter() - started)


async def echo_request_id(request: web.Request, response: web.StreamResponse) -> None:
    """`on_response_prepare`: every answer (streams and errors too) names its request."""
    request_id = request.get(REQUEST_ID)
    if request_id:
        response.headers[REQUEST_ID_HEADER] = request_id


@web.middleware
async def count_outages(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Right inside the API's error mapping (which answers outages 503): counts each outage by
    the backend it came from, then lets the mapping answer."""
    try:
        return await handler(request)
    except Exception as exc:
        backend = outage_backend(exc)
        if backend is not None:
            _METRICS.outage(backend)
        raise
