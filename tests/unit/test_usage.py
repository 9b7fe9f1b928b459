"""Usage rows, totals, CSV, chart, live panel, and UsageTracker.watch() — no server needed.

Traffic: ``tests/recordings/usage_create_stream.json`` (real exchanges with the embedded engine, see its
"source"): a create, a stream, and a create that hits max_tokens. The one HTTP 500 below is built by hand in
Ollama's error shape (v0.32.15 middleware/anthropic.go: ``{"type": "error", "error": {...}, "request_id": ...}``,
status kept).
"""

from __future__ import annotations

import asyncio
import base64
import csv
import io
import json
import subprocess
import sys
from types import SimpleNamespace

import anthropic
import httpx2
import pytest
from ollama_anthropic_widgets.core.messages import prompt_tokens
from ollama_anthropic_widgets.core.usage import COLUMNS, row_from_message, rows_to_csv, summarize
from ollama_anthropic_widgets.ui.usage_panel import UsagePanel
from ollama_anthropic_widgets.ui.usage_tracker import UsageTracker

from tests.replay import LOST_CONNECTION, load_recording, replay_client
from tests.unit.test_chat import elements_of

RECORDING = "usage_create_stream"
REQUEST = {"model": "smollm2-135m", "messages": [{"role": "user", "content": "Hi"}]}


@pytest.fixture(scope="module")
def exchanges() -> list[dict]:
    return load_recording(RECORDING)["exchanges"]


def recorded_usage(exchange: dict) -> dict:
    """input/output tokens and stop_reason as the server sent them (JSON body, or the SSE events); input counts the
    whole prompt: input_tokens plus the cache_read/cache_creation tokens the engine reports separately."""
    body = exchange["response"]["body"]
    if exchange["request"]["json"].get("stream"):
        events = [json.loads(line[5:]) for line in body.splitlines() if line.startswith("data:")]
        start = next(e for e in events if e["type"] == "message_start")["message"]
        delta = next(e for e in events if e["type"] == "message_delta")
        usage = {**start["usage"], **{k: v for k, v in delta["usage"].items() if v is not None}}
        return {"input_tokens": prompt_tokens(usage), "output_tokens": delta["usage"]["output_tokens"],
                "stop_reason": delta["delta"]["stop_reason"]}
    message = json.loads(body)
    return {"input_tokens": prompt_tokens(message["usage"]), "output_tokens": message["usage"]["output_tokens"],
            "stop_reason": message["stop_reason"]}


def replayed_messages(exchanges: list[dict]) -> list[anthropic.types.Message]:
    """Real Message objects: the recorded responses parsed by the real SDK."""
    client, _ = replay_client(exchanges)
    first = client.messages.create(max_tokens=48, **REQUEST)
    with client.messages.stream(max_tokens=64, **REQUEST) as stream:
        second = stream.get_final_message()
    third = client.messages.create(max_tokens=8, **REQUEST)
    return [first, second, third]


# --- rows ---------------------------------------------------------------------------------------------------

def test_row_from_real_message(exchanges):
    message = replayed_messages(exchanges)[0]
    expected = recorded_usage(exchanges[0])
    row = row_from_message(message, latency_s=0.5, label="first")
    assert set(row) == set(COLUMNS)
    assert row["input_tokens"] == expected["input_tokens"] > 0
    assert row["output_tokens"] == expected["output_tokens"] > 0
    assert row["stop_reason"] == expected["stop_reason"]
    assert row["model"] == message.model
    assert row["label"] == "first" and row["streamed"] is False and row["ttft_s"] is None
    assert row["output_tokens_per_s"] == pytest.approx(expected["output_tokens"] / 0.5)


def test_row_from_message_with_ttft_counts_generation_time_only():
    row = row_from_message({"usage": {"input_tokens": 5, "output_tokens": 30}}, latency_s=2.0, ttft_s=0.5)
    assert row["output_tokens_per_s"] == pytest.approx(20.0)
    assert row["streamed"] is True


def test_row_from_stream_result_like_object():
    result = SimpleNamespace(text="hi", input_tokens=12, output_tokens=40, stop_reason="max_tokens", ttft_s=0.2,
                             duration_s=1.2, output_tokens_per_s=40.0, error=None)
    row = row_from_message(result, label="s")
    assert (row["input_tokens"], row["output_tokens"], row["stop_reason"]) == (12, 40, "max_tokens")
    assert (row["latency_s"], row["ttft_s"], row["output_tokens_per_s"]) == (1.2, 0.2, 40.0)
    assert row["streamed"] is True and row["model"] is None
    assert row_from_message(result, latency_s=3.0)["latency_s"] == 3.0  # an explicit argument wins


def test_row_from_unknown_object_says_what_to_pass():
    with pytest.raises(TypeError, match="pass an anthropic Message"):
        row_from_message("hello")


def test_missing_numbers_stay_none():
    row = row_from_message({"usage": {"input_tokens": 3, "output_tokens": 0}})
    assert row["latency_s"] is None and row["output_tokens_per_s"] is None


# --- totals and CSV -----------------------------------------------------------------------------------------

ROWS = [
    {"call": 1, "input_tokens": 10, "output_tokens": 5, "stop_reason": "end_turn", "latency_s": 1.0,
     "ttft_s": None, "output_tokens_per_s": 5.0},
    {"call": 2, "input_tokens": 20, "output_tokens": 40, "stop_reason": "max_tokens", "latency_s": 3.0,
     "ttft_s": 0.5, "output_tokens_per_s": 16.0},
    {"call": 3, "input_tokens": 7, "output_tokens": None, "stop_reason": None, "latency_s": None,
     "ttft_s": 0.3, "output_tokens_per_s": None, "error": "stream broke off"},
]


def test_summarize_totals_and_means():
    summary = summarize(ROWS)
    assert summary["calls"] == 3
    assert (summary["input_tokens"], summary["output_tokens"], summary["total_tokens"]) == (37, 45, 82)
    assert summary["latency_s"] == 4.0 and summary["mean_latency_s"] == 2.0
    assert summary["mean_ttft_s"] == pytest.approx(0.4)
    assert summary["mean_output_tokens_per_s"] == pytest.approx(10.5)
    assert summary["stop_reasons"] == {"end_turn": 1, "max_tokens": 1, "None": 1}
    assert summary["errors"] == 1


def test_summarize_nothing():
    summary = summarize([])
    assert summary["calls"] == 0 and summary["total_tokens"] == 0
    assert summary["mean_latency_s"] is None and summary["mean_output_tokens_per_s"] is None


def test_csv_round_trip_and_file(tmp_path):
    rows = [{**ROWS[0], "label": "a,b \"quoted\""}, {**ROWS[1], "extra": "x"}]
    path = tmp_path / "usage.csv"
    text = rows_to_csv(rows, path)
    assert path.read_text(encoding="utf-8") == text
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert list(parsed[0])[: len(COLUMNS)] == list(COLUMNS) and list(parsed[0])[-1] == "extra"
    assert parsed[0]["label"] == "a,b \"quoted\""
    assert parsed[0]["input_tokens"] == "10" and parsed[1]["latency_s"] == "3.0"
    assert parsed[0]["ttft_s"] == "" and parsed[1]["extra"] == "x"


# --- tracker ------------------------------------------------------------------------------------------------

def test_record_real_messages_and_stream_results(exchanges):
    tracker = UsageTracker()
    seen = []
    tracker.observe(lambda change: seen.append(change["new"]), "calls")
    for message, exchange in zip(replayed_messages(exchanges), exchanges, strict=True):
        row = tracker.record(message, latency_s=0.25)
        assert {k: row[k] for k in ("input_tokens", "output_tokens", "stop_reason")} == recorded_usage(exchange)
    tracker.record(SimpleNamespace(input_tokens=1, output_tokens=2, stop_reason="end_turn", ttft_s=0.1,
                                   duration_s=0.3, output_tokens_per_s=10.0, error=None), label="view")
    assert [row["call"] for row in tracker.rows] == [1, 2, 3, 4]
    assert seen == [1, 2, 3, 4] and tracker.calls == 4
    totals = [recorded_usage(e) for e in exchanges]
    assert tracker.summary()["input_tokens"] == sum(t["input_tokens"] for t in totals) + 1
    assert tracker.summary()["output_tokens"] == sum(t["output_tokens"] for t in totals) + 2
    assert tracker.to_csv().count("\n") == 5
    tracker.rows[0]["input_tokens"] = 10**6  # a copy: the tracker is not changed
    assert tracker.rows[0]["input_tokens"] != 10**6
    tracker.clear()
    assert tracker.rows == [] and tracker.calls == 0


def test_chart_has_stacked_bars_cumulative_line_and_speed_panel():
    from matplotlib.figure import Figure

    tracker = UsageTracker()
    for row in ROWS:
        tracker.record({"usage": {"input_tokens": row["input_tokens"], "output_tokens": row["output_tokens"]}},
                       latency_s=row["latency_s"], ttft_s=row["ttft_s"])
    figure = tracker.chart()
    assert isinstance(figure, Figure)
    assert len(figure.axes) == 3
    tokens_axes, speed_axes, cumulative_axes = figure.axes
    inputs, outputs = tokens_axes.containers
    assert [bar.get_height() for bar in inputs] == [10, 20, 7]
    assert [bar.get_height() for bar in outputs] == [5, 40, 0]
    assert [bar.get_y() for bar in outputs] == [10, 20, 7]  # stacked on the input bars
    (line,) = cumulative_axes.get_lines()
    assert list(line.get_ydata()) == [15, 75, 82]
    (speeds,) = speed_axes.containers
    assert len(speeds) == 3
    assert speeds[0].get_height() == pytest.approx(5.0)  # 5 tokens over 1 s
    assert speeds[1].get_height() == pytest.approx(16.0)  # 40 tokens over 3 s - 0.5 s to the first


def test_empty_chart_still_has_three_axes():
    figure = UsageTracker().chart()
    assert len(figure.axes) == 3
    assert any("no calls" in text.get_text() for text in figure.axes[0].texts)


def test_importing_usage_does_not_import_matplotlib_or_anthropic():
    code = ("import sys, ollama_anthropic_widgets.core.usage; "
            "print('matplotlib' in sys.modules, 'anthropic' in sys.modules)")
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.split() == ["False", "False"]


# --- live panel ---------------------------------------------------------------------------------------------

def chart_of(panel: UsagePanel) -> tuple[dict, bytes]:
    """The chart's ``<img>`` attributes and its PNG bytes, read from the panel's HTML."""
    ((tag, attributes),) = elements_of(panel.chart.value)
    assert tag == "img" and set(attributes) == {"class", "alt", "src"}
    return attributes, base64.b64decode(attributes["src"].removeprefix("data:image/png;base64,"))


def test_panel_shows_escaped_summary_and_a_png_chart_with_a_text_alternative():
    tracker = UsageTracker()
    panel = tracker.widget(min_interval_s=0)
    assert isinstance(panel, UsagePanel)
    attributes, png = chart_of(panel)
    assert png.startswith(b"\x89PNG") and attributes["alt"].startswith("Chart of token usage") and "0 calls" in (
        attributes["alt"])
    tracker.record({"model": "<img src=x onerror=alert(1)>", "stop_reason": "<b>x</b>",
                    "usage": {"input_tokens": 1234, "output_tokens": 5}})
    assert "<img" not in panel.summary.value and "<b>" not in panel.summary.value
    assert "&lt;b&gt;x&lt;/b&gt;: 1" in panel.summary.value
    assert "1,234" in panel.summary.value
    assert panel.renders == 2
    assert "1 calls, 1,239 tokens in all" in chart_of(panel)[0]["alt"]
    assert chart_of(UsagePanel(tracker, lang="zh"))[0]["alt"].startswith("token 用量图：")


def test_a_tracker_has_one_panel_and_close_releases_it():
    tracker = UsageTracker()
    panel = tracker.widget()
    assert tracker.widget(lang="zh") is panel and panel.lang == "zh"  # shown again: the same widgets
    tracker.close()
    assert panel.closed and panel.comm is None and panel.summary.comm is None and panel.chart.comm is None
    again = tracker.widget()
    assert again is not panel and not again.closed


def test_a_chart_that_fails_to_draw_warns_and_the_call_stays_recorded(monkeypatch):
    tracker = UsageTracker()
    panel = tracker.widget(min_interval_s=0)

    def broken(_rows):
        raise RuntimeError("no fonts")

    monkeypatch.setattr("ollama_anthropic_widgets.ui.usage_panel.usage_figure", broken)
    with pytest.warns(UserWarning, match="could not be drawn.*no fonts"):
        row = tracker.record({"usage": {"input_tokens": 3, "output_tokens": 4}})
    assert row["call"] == 1 and tracker.summary()["total_tokens"] == 7 and "7" in panel.summary.value


def test_panel_throttles_chart_renders_and_refresh_draws_at_once():
    tracker = UsageTracker()
    panel = tracker.widget(min_interval_s=60)
    first_png = chart_of(panel)[1]
    for _ in range(5):
        tracker.record({"usage": {"input_tokens": 10, "output_tokens": 10}})
    assert panel.renders == 1  # inside the interval: no new chart
    assert "50" in panel.summary.value  # ...but the table follows every call
    panel.refresh()
    assert panel.renders == 2 and chart_of(panel)[1] != first_png
    panel.close()
    tracker.record({"usage": {"input_tokens": 1, "output_tokens": 1}})
    assert panel.renders == 2  # a closed panel no longer follows the tracker


def test_panel_draws_the_last_change_when_the_interval_ends():
    async def scenario() -> UsagePanel:
        tracker = UsageTracker()
        panel = tracker.widget(min_interval_s=0.2)
        tracker.record({"usage": {"input_tokens": 10, "output_tokens": 10}})
        tracker.record({"usage": {"input_tokens": 10, "output_tokens": 10}})
        assert panel.renders == 1
        for _ in range(100):  # the interval stretches to two render times on a slow machine
            await asyncio.sleep(0.05)
            if panel.renders > 1:
                break
        return panel

    assert asyncio.run(scenario()).renders == 2


# --- watch() ------------------------------------------------------------------------------------------------

def test_watch_records_create_and_stream_calls(exchanges):
    tracker = UsageTracker()
    client, replayer = replay_client(exchanges)
    watched = tracker.watch(client, label="lesson")
    first = watched.messages.create(max_tokens=48, **REQUEST)
    assert isinstance(first, anthropic.types.Message)
    with watched.messages.stream(max_tokens=64, **REQUEST) as stream:
        streamed_text = "".join(stream.text_stream)
        final = stream.get_final_message()
    watched.messages.create(max_tokens=8, **REQUEST)

    assert len(replayer.requests) == 3
    rows = tracker.rows
    assert [row["streamed"] for row in rows] == [False, True, False]
    for row, exchange in zip(rows, exchanges, strict=True):
        assert {k: row[k] for k in ("input_tokens", "output_tokens", "stop_reason")} == recorded_usage(exchange)
        assert row["label"] == "lesson" and row["model"] == "smollm2-135m" and row["error"] is None
        assert row["latency_s"] > 0 and row["output_tokens_per_s"] > 0
    assert rows[1]["ttft_s"] is not None and 0 < rows[1]["ttft_s"] <= rows[1]["latency_s"]
    assert rows[0]["ttft_s"] is None
    # the SDK objects are untouched: the stream still yields all of its text and the final message
    assert streamed_text == final.content[0].text and final.usage.output_tokens == rows[1]["output_tokens"]
    assert client.middleware == ()  # the original client is not changed


def test_watch_records_create_with_stream_true(exchanges):
    tracker = UsageTracker()
    client, _ = replay_client([exchanges[1]])
    events = list(tracker.watch(client).messages.create(max_tokens=64, stream=True, **REQUEST))
    assert events[-1].type == "message_stop"
    (row,) = tracker.rows
    assert row["streamed"] and row["output_tokens"] == recorded_usage(exchanges[1])["output_tokens"]


def test_watch_async_client(exchanges):
    async def scenario(tracker: UsageTracker) -> str:
        client, _ = replay_client(exchanges[:2], asynchronous=True)
        watched = tracker.watch(client)
        await watched.messages.create(max_tokens=48, **REQUEST)
        async with watched.messages.stream(max_tokens=64, **REQUEST) as stream:
            return "".join([text async for text in stream.text_stream])

    tracker = UsageTracker()
    text = asyncio.run(scenario(tracker))
    assert text
    assert [(row["streamed"], row["output_tokens"]) for row in tracker.rows] == [
        (False, recorded_usage(exchanges[0])["output_tokens"]), (True, recorded_usage(exchanges[1])["output_tokens"])]


class _Trickle(httpx2.SyncByteStream):
    """A body that arrives a few bytes at a time, as over a real socket, with CRLF line ends."""

    def __init__(self, body: bytes, size: int):
        self.body, self.size, self.closed = body, size, False

    def __iter__(self):
        for start in range(0, len(self.body), self.size):
            yield self.body[start: start + self.size]

    def close(self) -> None:
        self.closed = True


def _trickle_client(body: str, size: int = 7):
    data = body.replace("\n", "\r\n").encode()
    transport = httpx2.MockTransport(lambda request: httpx2.Response(
        200, headers={"content-type": "text/event-stream"}, stream=_Trickle(data, size)))
    return anthropic.Anthropic(base_url="http://replay.invalid", api_key="ollama", max_retries=0,
                               http_client=httpx2.Client(transport=transport))


def test_watch_parses_a_stream_split_anywhere(exchanges):
    tracker = UsageTracker()
    watched = tracker.watch(_trickle_client(exchanges[1]["response"]["body"]))
    with watched.messages.stream(max_tokens=64, **REQUEST) as stream:
        final = stream.get_final_message()
    (row,) = tracker.rows
    assert row["output_tokens"] == final.usage.output_tokens == recorded_usage(exchanges[1])["output_tokens"]
    assert row["input_tokens"] == prompt_tokens(final.usage) and row["error"] is None


def test_watch_stream_abandoned_early_is_recorded_as_such(exchanges):
    tracker = UsageTracker()
    watched = tracker.watch(_trickle_client(exchanges[1]["response"]["body"], size=64))
    with watched.messages.stream(max_tokens=64, **REQUEST) as stream:
        next(iter(stream.text_stream))
    (row,) = tracker.rows
    assert row["error"] == "stream closed before message_stop"
    assert row["stop_reason"] is None and row["input_tokens"] == recorded_usage(exchanges[1])["input_tokens"]


def test_watch_stream_cut_midway_records_partial_row_and_still_raises(exchanges):
    tracker = UsageTracker()
    client, _ = replay_client([exchanges[1]], cut_after=800)
    watched = tracker.watch(client)
    with pytest.raises(LOST_CONNECTION):  # what the SDK raises mid-stream, watched or not
        with watched.messages.stream(max_tokens=64, **REQUEST) as stream:
            for _ in stream.text_stream:
                pass
    (row,) = tracker.rows
    # The tracker meters the HTTP body below the SDK, so it names the transport's error, whichever form the SDK raises
    assert row["error"].startswith("stream broke off: ") and "peer closed connection" in row["error"]
    assert row["stop_reason"] is None and row["ttft_s"] is not None


def test_watch_http_error_adds_no_row_and_the_sdk_raises():
    error = {"request": {"method": "POST", "path": "/v1/messages", "json": None},
             "response": {"status": 500, "headers": {"content-type": "application/json"},
                          "body": json.dumps({"type": "error", "error": {"type": "api_error",
                                              "message": "model runner crashed"}, "request_id": "req_1"})}}
    tracker = UsageTracker()
    client, _ = replay_client([error])
    with pytest.raises(anthropic.InternalServerError, match="model runner crashed"):
        tracker.watch(client).messages.create(max_tokens=8, **REQUEST)
    assert tracker.rows == []


def test_watch_rejects_something_that_is_not_a_client():
    with pytest.raises(TypeError, match="anthropic 2.x client"):
        UsageTracker().watch(object())


def test_chart_shows_as_an_image_in_a_fresh_ipython_without_pyplot():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        tracker = UsageTracker()
        tracker.record({"content": [], "stop_reason": "end_turn", "usage": {"input_tokens": 5, "output_tokens": 2}})
        data, _ = shell.display_formatter.format(tracker.chart())
        png = data["image/png"]
        assert (png if isinstance(png, bytes) else __import__("base64").b64decode(png)).startswith(b"\x89PNG")
    finally:
        InteractiveShell.clear_instance()


def test_calls_whose_prompt_size_is_unknown_are_counted_not_shown_as_zero():
    # A stream without message_start (recorded from the engine) carries no input token count.
    rows = [{"input_tokens": None, "output_tokens": 150, "stop_reason": "max_tokens"},
            {"input_tokens": 20, "output_tokens": 5, "stop_reason": "end_turn"}]
    summary = summarize(rows)
    assert (summary["input_tokens"], summary["calls_without_input_count"]) == (20, 1)
    tracker = UsageTracker()
    for row in rows:
        tracker.record({"usage": {k: row[k] for k in ("input_tokens", "output_tokens")}})
    assert "unknown for 1 calls" in tracker.widget().summary.value


class _AsyncTrickle(httpx2.AsyncByteStream):
    def __init__(self, body: bytes, size: int):
        self.body, self.size = body, size

    async def __aiter__(self):
        for start in range(0, len(self.body), self.size):
            yield self.body[start: start + self.size]


def test_watch_async_stream_read_as_it_arrives(exchanges):
    body = exchanges[1]["response"]["body"].encode()
    sent_headers = []

    def respond(request: httpx2.Request) -> httpx2.Response:
        sent_headers.append(request.headers)
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, stream=_AsyncTrickle(body, 5))

    async def scenario(tracker: UsageTracker):
        client = anthropic.AsyncAnthropic(base_url="http://replay.invalid", api_key="ollama", max_retries=0,
                                          http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(respond)))
        async with tracker.watch(client).messages.stream(max_tokens=64, **REQUEST) as stream:
            return await stream.get_final_message()

    tracker = UsageTracker()
    final = asyncio.run(scenario(tracker))
    (row,) = tracker.rows
    assert row["output_tokens"] == final.usage.output_tokens and row["error"] is None and row["streamed"]
    assert sent_headers[0]["accept-encoding"] == "identity"  # so the bytes the meter reads are the events


def test_watch_hands_back_the_sdks_own_objects(exchanges):
    tracker = UsageTracker()
    client, _ = replay_client([exchanges[0], exchanges[1]])
    watched = tracker.watch(client)
    raw = watched.messages.with_raw_response.create(max_tokens=48, **REQUEST)
    assert type(raw) is anthropic.APIResponse and raw.parse() is raw.parse()
    events = watched.messages.create(max_tokens=64, stream=True, **REQUEST)
    assert type(events) is anthropic.Stream and list(events)[-1].type == "message_stop"
    assert [row["streamed"] for row in tracker.rows] == [False, True]


def test_the_middleware_meters_with_the_kits_one_stream_parser():
    import inspect

    from ollama_anthropic_widgets.core import usage_middleware

    source = inspect.getsource(usage_middleware)
    assert "StreamAccumulator" in source and "json.loads" not in source and "APIResponse(" not in source
