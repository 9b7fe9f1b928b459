"""Records run_tool_loop against a running engine as tests/recordings/tools_engine_get_weather.json.

Usage: python tests/recordings/record_tools_engine.py [BASE_URL]   (start it with scripts/engine.py start)
"""
import sys

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[2]))  # the repo root
from ollama_anthropic_widgets.lessons.tools import run_tool_loop

from tests.replay import recording_client, save_recording

WEATHER = {"name": "get_weather", "description": "获取指定城市的天气",
           "input_schema": {"type": "object", "properties": {"city": {"type": "string", "description": "城市名称"}},
                            "required": ["city"]}}
client, recorder = recording_client(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:18434")
result = run_tool_loop(client, model="smollm2-135m", max_tokens=64,
                       messages=[{"role": "user", "content": "北京今天天气怎么样?"}], tools=[WEATHER],
                       functions={"get_weather": lambda city: {"city": city, "forecast": "晴", "temperature_c": 24}})
print(result.stopped_because, result.answered_in_text, result.final_message.stop_reason, repr(result.text))
source = ("recorded 2026-11-26 from the embedded engine (scripts/engine.py: llama.cpp llama-server at commit 0c1e57098 "
          "vendored in llama-cpp-python 0.3.36, --jinja --seed 42 -c 4096, model SmolLM2-135M-Instruct Q4_1 as "
          "smollm2-135m) through tests/replay.py recording_client; run_tool_loop with get_weather, max_tokens=64")
print(save_recording("tools_engine_get_weather", source, recorder.exchanges))
