"""Record the Ollama transcripts (``ollama_*.json``, and lesson 06's ``tools_no_tool_support.json``) from a real
Ollama: real traffic, no editing.

    python tests/recordings/record_real_ollama.py [--port 11444]

Starts the Ollama that ``scripts/ollama.py`` builds (``make ollama``) unless one of ours already runs there. Its model
is SmolLM2-135M: asked afresh it never thinks to an end or calls a tool, so the thinking and tool-call exchanges
carry a few earlier turns that show the pattern (in the request, as a learner could send them); the model copies it,
and Ollama's own parsers turn its words into thinking and tool_use blocks.

- ``ollama_stream_thinking_text``: ``qwen3``, streamed; a thinking block, then a text block.
- ``ollama_stream_tool_use``: ``qwen3`` with a ``get_weather`` tool, streamed; a thinking block, then a tool_use.
- ``ollama_error_404_unknown_model``: a streamed request for a model that is not there: HTTP 404 before any event.
- ``chat_thinking_only_stream``: ``qwen3`` asked afresh with ``max_tokens=24``, streamed: it thinks the whole budget
  away, so a thinking block and no text block, ``stop_reason`` max_tokens (what ChatWidget and ``%%ask`` must handle).
- ``notebooks/data/tools_no_tool_support.json`` (lesson 06): tools sent to ``smollm2``, a model without tools: 400.
- ``notebooks/data/tools_tool_raises.json`` (lesson 06): the kit's tool loop with lesson 06's ``get_weather``, as
  ``llama3.2``; three earlier turns show get_weather calls, the model calls it for 亚特兰蒂斯, the function raises,
  the error goes back as the tool result, and the model answers in text.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import anthropic  # noqa: E402
from ollama_anthropic_widgets.lessons import replay  # noqa: E402
from ollama_anthropic_widgets.lessons.tools import run_tool_loop  # noqa: E402

from tests.replay import LESSON_DATA, real_ollama_for_recording, recording_client, save_recording  # noqa: E402

WEATHER = {"name": "get_weather", "description": "Get the current weather for a city",
           "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
WEATHER_ZH = {"name": "get_weather", "description": "获取指定城市的天气",
              "input_schema": {"type": "object", "properties": {"city": {"type": "string", "description": "城市名称"}},
                               "required": ["city"]}}


def thought(question: str, thinking: str, answer: str) -> list[dict]:
    return [{"role": "user", "content": question},
            {"role": "assistant", "content": [{"type": "thinking", "thinking": thinking, "signature": ""},
                                              {"type": "text", "text": answer}]}]


def called(city: str, call_id: str) -> list[dict]:
    return [{"role": "user", "content": f"What is the weather in {city}?"},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": f"The user asks for the weather in {city}. I call get_weather.",
                 "signature": ""},
                {"type": "tool_use", "id": call_id, "name": "get_weather", "input": {"city": city}}]}]


def thinking_then_text(base_url: str, model: str) -> list[dict]:
    client, recorder = recording_client(base_url)
    history = (thought("Tell me about France.",
                       "The user wants to know about France. France is a country in Western Europe. Its capital is "
                       "Paris, it is known for food, wine and art, and it has about 68 million people. I will give a "
                       "short list.",
                       "**France**\n\n- Capital: Paris\n- Population: about 68 million\n- Known for: food, wine and "
                       "art\n")
               + thought("Tell me about Italy.",
                         "The user wants to know about Italy. Italy is a country in Southern Europe. Its capital is "
                         "Rome, it is known for history, pasta and design, and it has about 59 million people. I "
                         "will give a short list.",
                         "**Italy**\n\n- Capital: Rome\n- Population: about 59 million\n- Known for: history, pasta "
                         "and design\n"))
    answers = []
    for country in ("Spain", "Japan", "Egypt", "Peru", "Kenya"):  # the first that gets thinking, then Markdown
        with client.messages.stream(model=model, max_tokens=300,
                                    messages=[*history, {"role": "user", "content": f"Tell me about {country}."}]) as s:
            message = s.get_final_message()
        kinds = [block.type for block in message.content]
        if kinds == ["thinking", "text"] and "**" in message.content[1].text:
            return recorder.exchanges[-1:]
        answers.append(f"{country}: {kinds}")
    raise SystemExit(f"no reply was thinking then Markdown text ({'; '.join(answers)}): nothing to record")


def thinking_then_tool_use(base_url: str, model: str) -> list[dict]:
    client, recorder = recording_client(base_url)
    history = called("Rome", "call_r0m3a1b2") + called("Oslo", "call_0s10c3d4") + called("Lima", "call_l1m4e5f6")
    with client.messages.stream(model=model, max_tokens=200, tools=[WEATHER],
                                messages=[*history, {"role": "user", "content": "What is the weather in Paris?"}]) as s:
        message = s.get_final_message()
    kinds = [block.type for block in message.content]
    if kinds != ["thinking", "tool_use"] or message.stop_reason != "tool_use":
        raise SystemExit(f"the model answered {kinds} ({message.stop_reason}), not a tool call: nothing to record")
    return recorder.exchanges


def thinking_only(base_url: str, model: str) -> list[dict]:
    client, recorder = recording_client(base_url)
    with client.messages.stream(model=model, max_tokens=24, messages=[
            {"role": "user", "content": "Prove that there are infinitely many primes."}]) as s:
        message = s.get_final_message()
    kinds = [block.type for block in message.content]
    if kinds != ["thinking"] or message.stop_reason != "max_tokens":
        raise SystemExit(f"the model answered {kinds} ({message.stop_reason}), not thinking alone: nothing to record")
    return recorder.exchanges


def unknown_model(base_url: str) -> list[dict]:
    client, recorder = recording_client(base_url)
    try:
        with client.messages.stream(model="no-such-model", max_tokens=64,
                                    messages=[{"role": "user", "content": "你好"}]) as s:
            s.get_final_message()
    except anthropic.NotFoundError:
        return recorder.exchanges
    raise SystemExit("no 404 for an unknown model: nothing to record")


def no_tool_support(base_url: str, model: str) -> list[dict]:
    client, recorder = recording_client(base_url)
    try:
        client.messages.create(model=model, max_tokens=1024, tools=[WEATHER_ZH],
                               messages=[{"role": "user", "content": "北京今天天气怎么样?"}])
    except anthropic.BadRequestError:
        return recorder.exchanges
    raise SystemExit(f"{model} accepted tools: nothing to record")


# Lesson 06's demo data and function (its cell "Canned demo data, NOT a weather service"), for the loop to run.
DEMO_WEATHER = {"北京": {"condition": "晴 (sunny)", "temperature_c": 24, "humidity_percent": 30},
                "上海": {"condition": "多云 (cloudy)", "temperature_c": 27, "humidity_percent": 65},
                "广州": {"condition": "小雨 (light rain)", "temperature_c": 29, "humidity_percent": 85}}


def lesson_get_weather(city: str) -> dict:
    name = str(city).split(",")[0].strip().removesuffix("市")
    if name not in DEMO_WEATHER:
        raise KeyError(f"no demo weather for {city!r}; known cities: {', '.join(DEMO_WEATHER)}")
    return {"city": name, **DEMO_WEATHER[name], "source": "demo data, not a real forecast"}


def a_tool_that_raises(base_url: str, model: str) -> list[dict]:
    client, recorder = recording_client(base_url)
    history = []
    for number, city in enumerate(("北京", "上海", "广州")):
        history += [{"role": "user", "content": f"{city}今天天气怎么样?"},
                    {"role": "assistant", "content": [{"type": "tool_use", "id": f"call_shown{number}",
                                                       "name": "get_weather", "input": {"city": city}}]}]
    result = run_tool_loop(client, model=model, max_tokens=200, max_iterations=3, tools=[WEATHER_ZH],
                           functions={"get_weather": lesson_get_weather},
                           messages=[*history, {"role": "user", "content": "亚特兰蒂斯今天天气怎么样?"}])
    if not (result.calls and result.calls[0].is_error and result.stopped_because == "answered"):
        raise SystemExit(f"the loop went otherwise ({result.stopped_because}, {result.calls}): nothing to record")
    return recorder.exchanges


def main() -> None:
    with real_ollama_for_recording("tests/recordings/record_real_ollama.py", __doc__.splitlines()[0]) as (
            ollama, base_url, source):
        thinking, plain = ollama.THINKING_MODEL, ollama.PLAIN_MODEL
        for name, what, exchanges in (
            ("ollama_stream_thinking_text", f"model {thinking}, streamed; two earlier turns in the request show "
             f"thinking then a Markdown answer, and the model does the same (the first of a few countries asked "
             f"for that did): a thinking block, then a text block",
             thinking_then_text(base_url, thinking)),
            ("ollama_stream_tool_use", f"model {thinking} with a get_weather tool, streamed; three earlier turns in "
             f"the request show thinking then a get_weather call, and the model does the same: a thinking block, "
             f"then a tool_use (Ollama's tool parser read it from the model's <tool_call>); stop_reason tool_use",
             thinking_then_tool_use(base_url, thinking)),
            ("ollama_error_404_unknown_model", "a streamed request for a model that is not there: HTTP 404 and "
             "Ollama's Anthropic error JSON, before any event", unknown_model(base_url)),
            ("chat_thinking_only_stream", f"model {thinking}, streamed, max_tokens=24, asked afresh: the model spends "
             "the whole budget thinking (it never closes its thinking): a thinking block, no text block, stop_reason "
             "max_tokens", thinking_only(base_url, thinking)),
        ):
            print("wrote", save_recording(name, f"{source}: {what}", exchanges))
        path = replay.save_recording(
            LESSON_DATA / "tools_no_tool_support.json",
            f"{source}: lesson 06's question with tools, sent to {plain} (the weights under their own name, with the "
            f"template Ollama detects: no tools capability): HTTP 400", no_tool_support(base_url, plain))
        print("wrote", path)
        text = ollama.TEXT_MODEL
        path = replay.save_recording(
            LESSON_DATA / "tools_tool_raises.json",
            f"{source}: lesson 06's tool loop (ollama_anthropic_widgets.run_tool_loop) as model {text} with lesson "
            f"06's get_weather tool and function; three earlier turns in the request show get_weather calls, the model "
            f"called it for 亚特兰蒂斯, the function raised KeyError, the loop sent the error back as the tool result "
            f"(is_error), and the model answered in text", a_tool_that_raises(base_url, text))
        print("wrote", path)


if __name__ == "__main__":
    main()
