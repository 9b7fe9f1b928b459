"""The compatibility probe against the live server (the embedded engine unless OLLAMA_BASE_URL is set).

Run with ``-s`` to see the table: it is what the lessons say about this server.
"""

from __future__ import annotations

import time

import httpx2
from ollama_anthropic_widgets.lessons.probe import FEATURES, OUTCOMES, probe

# Generous: ~20 small requests take seconds on an idle machine, but the shared 2-core CI box can be 50x slower.
TIME_LIMIT_S = 600
MAX_REQUESTS = 30


def test_probe_reports_every_feature_of_the_live_server(live_client, live_model, live_settings):
    sent = []
    counting = live_client.with_options(http_client=httpx2.Client(
        timeout=120, event_hooks={"request": [lambda request: sent.append(request.url.path)]}))

    started = time.perf_counter()
    report = probe(counting, live_model, vision_model=live_settings.vision_model)
    elapsed = time.perf_counter() - started

    print(f"\n{report}\n")
    print("seconds per row:", {name: round(seconds, 2) for name, seconds in report.seconds.items()})
    print(f"{len(sent)} requests in {elapsed:.1f} s")
    assert [row["feature"] for row in report.rows] == list(FEATURES)
    for row in report.rows:
        assert row["outcome"] in OUTCOMES, row
        assert row["detail"] and "\n" not in row["detail"], row
    assert report["basic create"]["outcome"] == "works"
    assert report["streaming"]["outcome"] == "works"
    assert report["temperature= keyword"]["outcome"] == "error"  # SDK >= 1.0: no request is even sent
    assert 0 < len(sent) <= MAX_REQUESTS
    assert elapsed < TIME_LIMIT_S
    assert "<td" in report._repr_html_()
