"""records a probe run against the embedded engine as tests/recordings/probe_engine.json."""
import json
import sys
import time

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[2]))  # the repo root
import httpx2  # noqa: E402
from anthropic import Anthropic  # noqa: E402
from ollama_anthropic_widgets.lessons.probe import probe  # noqa: E402

from tests.replay import KEPT_HEADERS, RECORDINGS  # noqa: E402


class LazyRecorder(httpx2.BaseTransport):
    """Keeps each exchange with the bytes the client actually read (a stream the probe stops reading early ends
    there), so the engine never has to finish generating a long answer nobody reads."""

    def __init__(self):
        self.inner = httpx2.HTTPTransport()
        self.exchanges = []

    def handle_request(self, request):
        response = self.inner.handle_request(request)
        exchange = {"request": {"method": request.method, "path": request.url.path,
                                "json": json.loads(request.content) if request.content else None},
                    "response": {"status": response.status_code,
                                 "headers": {k: v for k, v in response.headers.items() if k.lower() in KEPT_HEADERS},
                                 "body": ""}}
        self.exchanges.append(exchange)
        chunks = []
        recorder = self

        class Body(httpx2.SyncByteStream):
            def __iter__(self):
                for chunk in response.stream:
                    chunks.append(chunk)
                    yield chunk

            def close(self):
                exchange["response"]["body"] = b"".join(chunks).decode("utf-8", errors="strict")
                response.close()

        del recorder
        return httpx2.Response(response.status_code, headers=response.headers, stream=Body())


port = sys.argv[1] if len(sys.argv) > 1 else "18434"  # the engine port (scripts/engine.py start)
recorder = LazyRecorder()
client = Anthropic(base_url=f"http://127.0.0.1:{port}", api_key="ollama", max_retries=0,
                   http_client=httpx2.Client(transport=recorder))
started = time.perf_counter()
report = probe(client, "smollm2-135m", timeout=600)
print(report)
print({k: round(v, 2) for k, v in report.seconds.items()})
source = ("recorded 2026-11-26 from the embedded engine (scripts/engine.py: llama.cpp llama-server at commit 0c1e57098 "
          "vendored in llama-cpp-python 0.3.36, --jinja --seed 42 -c 4096, model SmolLM2-135M-Instruct Q4_1 as "
          "smollm2-135m) by running ollama_anthropic_widgets.lessons.probe.probe(client, 'smollm2-135m'); bodies hold the bytes the probe read "
          "(the two tool-row streams end where the probe stopped reading); observed_rows is the table it printed")
path = RECORDINGS / "probe_engine.json"
path.write_text(json.dumps({"source": source, "exchanges": recorder.exchanges, "observed_rows": report.rows},
                           ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
print(path, f"{time.perf_counter() - started:.1f} s")
