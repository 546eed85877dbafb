"""Reading /metrics as Prometheus would: parsed by prometheus-client's own parser."""

from __future__ import annotations

from collections.abc import Mapping

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(
    session: aiohttp.ClientSession, base_url: str, headers: Mapping[str, str] | None = None
) -> Samples:
    """Every sample of `base_url`/metrics by (name, labels)."""
    async with session.get(f"{base_url}/metrics", headers=headers) as response:
        assert response.status == 200, await response.text()
        assert response.headers["Cache-Control"] == "no-store"
        text = await response.text()
    return parse(text)


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """A sample's value; 0 when it was never counted."""
    return samples.get((name, frozenset(labels.items())), 0.0)
