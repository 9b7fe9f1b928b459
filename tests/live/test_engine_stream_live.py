"""Every streamed reply starts with message_start, as Anthropic's protocol says.

The request is the one recorded in tests/recordings/chat_stream_no_message_start.json: before scripts/engine.py
patched llama.cpp's server, the engine sometimes skipped message_start for it (the reply opens with an emoji),
and the SDK's get_final_message() then failed.
"""

import json

import httpx2

from tests.replay import load_recording


def test_streams_open_with_message_start(live_settings):
    request = load_recording("chat_stream_no_message_start")["exchanges"][-1]["request"]["json"]
    request = {**request, "model": live_settings.model, "max_tokens": 24}
    headers = {"x-api-key": live_settings.api_key, "anthropic-version": "2023-06-01"}
    for _ in range(3):
        with httpx2.stream("POST", f"{live_settings.base_url}/v1/messages", json=request, headers=headers,
                           timeout=120) as response:
            assert response.status_code == 200
            types = [json.loads(line[5:])["type"] for line in response.iter_lines() if line.startswith("data:")]
        assert types[0] == "message_start" and types[-1] == "message_stop", types[:3]
