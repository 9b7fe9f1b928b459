"""The kit in Chinese: the message table is complete, the setting is read, and every surface a learner reads speaks it.

The table checks (every message in both languages with the same placeholders, every key the code names is in the
table and every entry is used) come first, with proof that they fail on a broken table. Then each surface in
Chinese, without a server: the connection check against the scripted HTTP replies of test_doctor.py; StreamView,
ChatWidget, ``%%ask`` and TerminalView against the recordings of tests/recordings (see test_stream_view.py and
test_chat.py for where each was recorded); images from bytes made here. English stays the default: the other unit
tests check the English text as it always was.
"""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import anthropic
import httpx2
import pytest
from ollama_anthropic_widgets import (
    ChatWidget,
    ImageRejected,
    StreamInterrupted,
    StreamView,
    check_connection,
)
from ollama_anthropic_widgets.core import i18n
from ollama_anthropic_widgets.core.conversation import Conversation, EmptyReply
from ollama_anthropic_widgets.core.errors import describe_error
from ollama_anthropic_widgets.core.i18n import MESSAGES, language, localized, localized_from, missing_translations
from ollama_anthropic_widgets.core.images import image_block, prepare_image
from ollama_anthropic_widgets.core.render import footer_text, render_chat_turn, render_footer, render_usage_summary
from ollama_anthropic_widgets.core.streaming import StreamResult
from ollama_anthropic_widgets.core.usage import summarize
from ollama_anthropic_widgets.extension.magic import WORDS as magic_words
from ollama_anthropic_widgets.extension.magic import AskFailed, AskSession, usage_text
from ollama_anthropic_widgets.extension.terminal_view import WORDS as terminal_words
from ollama_anthropic_widgets.extension.terminal_view import TerminalView
from ollama_anthropic_widgets.lessons import doctor
from ollama_anthropic_widgets.lessons.config import settings
from ollama_anthropic_widgets.ui.image_upload import ImageUpload
from ollama_anthropic_widgets.ui.usage_tracker import UsageTracker

from tests.ipython_shell import printed_lines, terminal_shell
from tests.net import closed_port
from tests.replay import LOST_CONNECTION, replay_client
from tests.unit.test_chat import MODEL, SYSTEM, TURNS, exchanges, history_html, png_bytes
from tests.unit.test_doctor import OLLAMA_ERROR_404_MODEL, ScriptedServer, json_reply, ollama
from tests.unit.test_render import assert_inert
from tests.unit.test_stream_view import ASK, InterruptAfter

WIDGETS = Path(i18n.__file__).resolve().parents[1]  # the kit's source folder, every layer
# Every table of the kit's words, by where it lives (a layer's words stay in its layer), and all of them together.
TABLES = {"core/i18n.py": MESSAGES, "lessons/doctor.py": doctor.WORDS, "extension/magic.py": magic_words,
          "extension/terminal_view.py": terminal_words}
ALL = {key: texts for table in TABLES.values() for key, texts in table.items()}
CJK = re.compile(r"[\u4e00-\u9fff]")
# Messages without a word to translate: a product name, a unit, or placeholders joined by punctuation (which the
# Chinese writes full-width)
NO_WORDS = {"doctor.server_ollama", "footer.rate", "doctor.other_status", "errors.cause", "images.accepted_line",
            "images.rejected", "ask.failed_detail", "chat.list_separator"}


@pytest.fixture(autouse=True)
def no_language_setting(monkeypatch):
    """Each test starts from the default (English) whatever the shell running the suite has set."""
    monkeypatch.delenv("OLLAMA_KIT_LANG", raising=False)


# -- the table ---------------------------------------------------------------------------------------------------


def test_every_message_has_both_languages_and_the_same_placeholders():
    assert missing_translations() == []
    for table in TABLES.values():
        assert missing_translations(table) == []
    assert len(MESSAGES) > 100 and len(ALL) == sum(len(table) for table in TABLES.values())  # no key twice


def test_each_layer_keeps_its_own_words():
    """The connection check's words live in lesson support, %%ask's and the terminal's in the extension: the core's
    table holds only the words of the core and the widgets."""
    prefixes = {layer: {key.split(".")[0] for key in table} for layer, table in TABLES.items()}
    assert prefixes["lessons/doctor.py"] == {"doctor"} and prefixes["extension/magic.py"] == {"ask"}
    assert prefixes["extension/terminal_view.py"] == {"terminal"}
    assert not prefixes["core/i18n.py"] & {"doctor", "ask", "terminal"}


@pytest.mark.parametrize("table, problem", [
    ({"k": {"en": "Stopped"}}, "k: no 'zh' text"),
    ({"k": {"en": "Stopped", "zh": ""}}, "k: no 'zh' text"),
    ({"k": {"zh": "已停止"}}, "k: no 'en' text"),
    ({"k": {"en": "after {count} characters", "zh": "已收到 {n} 个字符"}},
     "k: placeholders differ: 'en' has ['count'], 'zh' has ['n']"),
    ({"k": {"en": "a", "zh": "甲", "fr": "a"}}, "k: 'fr' is not one of ('en', 'zh')"),
    ({"k": {"en": "a {", "zh": "甲"}}, "k: the 'en' text does not parse"),
])
def test_the_check_fails_when_a_message_lacks_a_language_or_a_placeholder(table, problem):
    problems = missing_translations(table)
    assert len(problems) == 1 and problems[0].startswith(problem), problems


def test_the_check_fails_on_the_real_table_with_one_chinese_text_removed():
    broken = {key: dict(texts) for key, texts in ALL.items()}
    del broken["doctor.ok"]["zh"]
    assert missing_translations(broken) == ["doctor.ok: no 'zh' text"]


def _string_constants(path: Path) -> tuple[set[str], set[str]]:
    """(keys given to localized(...) as literals, every string literal) of one module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    called, literals = set(), set()
    tables = {id(inner) for node in ast.walk(tree) if isinstance(node, (ast.Assign, ast.AnnAssign))
              and any(getattr(target, "id", None) in ("WORDS", "MESSAGES")
                      for target in (node.targets if isinstance(node, ast.Assign) else [node.target]))
              for inner in ast.walk(node.value)}  # a table's own keys do not count as a use
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in tables:
            literals.add(node.value)
        if (isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("localized", "_say") and node.args
                and isinstance(node.args[0], ast.Constant)):
            called.add(node.args[0].value)
    return called, literals


def test_every_key_the_code_names_is_in_the_table_and_every_entry_is_used():
    called, literals = set(), set()
    for path in sorted(WIDGETS.rglob("*.py")):
        if path.name != "i18n.py":  # its docstring examples name keys without using them
            more_called, more_literals = _string_constants(path)
            called |= more_called
            literals |= more_literals
    assert called - set(ALL) == set()
    # a diagnosis's fix is its problem's key + "_fix" (doctor.check_connection's fail())
    unused = {key for key in ALL if key not in literals and key.removesuffix("_fix") not in literals}
    assert unused == set()


def _sample_values(template: str) -> dict[str, object]:
    values: dict[str, object] = {}
    for _, name, spec, _ in string.Formatter().parse(template):
        if name is not None:
            values[name] = 1234.5 if spec and spec[-1] in "fg" else 1234 if spec == "," else "x"
    return values


@pytest.mark.parametrize("key", sorted(ALL))
def test_every_message_renders_and_the_chinese_is_chinese(key):
    texts = ALL[key]
    for lang in i18n.LANGUAGES:
        assert localized_from(ALL, key, lang, **_sample_values(texts[lang]))
    if key in NO_WORDS:
        words = [set(re.findall(r"[A-Za-z]+", re.sub(r"\{[^}]*\}", "", texts[lang]))) for lang in ("en", "zh")]
        assert words[0] == words[1] and not CJK.search(texts["zh"]), texts
        return
    assert texts["zh"] != texts["en"] and CJK.search(texts["zh"]), texts["zh"]
    # the glossary's typography: full-width punctuation after Chinese, no space between two Chinese characters
    assert not re.search(r"[\u4e00-\u9fff][,:;?!()]|[,:;?!()][\u4e00-\u9fff]", texts["zh"]), texts["zh"]
    assert not re.search(r"[\u4e00-\u9fff] [\u4e00-\u9fff]", texts["zh"]), texts["zh"]


def test_chinese_drops_the_space_only_between_two_chinese_characters():
    rejected = "images.rejected"
    assert localized(rejected, "zh", name="photo.pdf", problem="是空的", fix="重选") == "photo.pdf 是空的：重选"
    assert localized(rejected, "zh", name="这个文件", problem="是空的", fix="重选") == "这个文件是空的：重选"
    # a value's own spaces are its own: only the template's space goes
    assert localized_from(ALL, "doctor.server_looks_like", "zh", server="未知 服务") == "服务识别为未知 服务"


# -- the setting --------------------------------------------------------------------------------------------------


def test_the_setting_is_read_with_the_others_and_english_is_the_default(monkeypatch):
    assert settings().lang == "en" and language() == "en"
    monkeypatch.setenv("OLLAMA_KIT_LANG", "zh")
    assert settings().lang == "zh" and language() == "zh"
    assert language("en") == "en"  # the argument wins over the setting
    for tag in ("zh-CN", "zh_CN.UTF-8", "ZH", " zh-Hans "):
        assert settings({"OLLAMA_KIT_LANG": tag}).lang == "zh"
    assert settings({"OLLAMA_KIT_LANG": ""}).lang == "en"


def test_the_operating_systems_locale_is_not_a_setting(monkeypatch):
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    monkeypatch.setenv("LC_ALL", "zh_CN.UTF-8")
    assert language() == "en"


def test_an_unknown_language_in_the_setting_warns_and_keeps_english():
    with pytest.warns(UserWarning, match=r"OLLAMA_KIT_LANG='fr' is ignored: lang must be one of 'en', 'zh'"):
        assert settings({"OLLAMA_KIT_LANG": "fr"}).lang == "en"


def test_an_unknown_language_as_an_argument_is_refused():
    with pytest.raises(ValueError, match=r"lang must be one of 'en', 'zh' \(or a tag such as 'zh-CN'\), not 'fr'"):
        check_connection("http://localhost:11434", "llama3.2", http=ollama(), lang="fr")
    with pytest.raises(ValueError, match="not 'de'"):
        StreamView(lang="de")


# -- the connection check (scripted HTTP, as test_doctor.py) ---------------------------------------------------


def test_connection_check_healthy_in_chinese():
    diagnosis = check_connection("http://localhost:11434", "llama3.2", http=ollama(), lang="zh")
    assert diagnosis.ok and diagnosis.lang == "zh"
    assert str(diagnosis) == "正常：http://localhost:11434 上的 Ollama 0.15.2 有响应，模型 'llama3.2' 已回复。"
    assert "服务识别为 Ollama 0.15.2" in diagnosis.checks


def test_connection_check_reads_the_setting_and_the_argument_wins(monkeypatch):
    monkeypatch.setenv("OLLAMA_KIT_LANG", "zh")
    assert str(check_connection("http://localhost:11434", "llama3.2", http=ollama())).startswith("正常：")
    assert str(check_connection("http://localhost:11434", "llama3.2", http=ollama(), lang="en")).startswith("OK: ")


@pytest.mark.parametrize("base_url, model, server, problem, fix", [
    ("http://localhost:11434/v1", "llama3.2", ollama(),
     "接口地址以 /v1 结尾（http://localhost:11434/v1）：Anthropic SDK 会自己加上 /v1/messages",
     "改用 base_url='http://localhost:11434'（接口地址只到端口为止；要带 /v1 的是 OpenAI 的 SDK）"),
    ("localhost:11434", "llama3.2", ollama(), "'localhost:11434' 不是 http(s) 地址", "OLLAMA_BASE_URL"),
    ("http://localhost:11434", "qwen3", ollama(), "这个 Ollama 上还没有拉取模型 'qwen3'", "运行 `ollama pull qwen3`"),
    ("http://localhost:11434", "llama3.2", ollama(version="0.13.1"),
     "Ollama 0.13.1 版本过旧：Anthropic 兼容接口（POST /v1/messages）从 0.14.0 才开始提供", "升级 Ollama"),
    ("http://localhost:11434", "llama3.2", ollama(messages_reply=json_reply(404, OLLAMA_ERROR_404_MODEL)),
     "模型服务上没有模型 'llama3.2'（model 'llama3.2' not found）", "拉取这个模型（`ollama pull llama3.2`）"),
    ("http://localhost:8080", "m", ScriptedServer({}, refuse=ConnectionRefusedError),
     "http://localhost:8080 上没有任何服务响应（Connection refused）", "检查 OLLAMA_BASE_URL 里的主机名和端口"),
])
def test_connection_check_diagnoses_in_chinese(base_url, model, server, problem, fix):
    diagnosis = check_connection(base_url, model, http=server, lang="zh")
    assert not diagnosis.ok
    assert diagnosis.problem.startswith(problem), diagnosis.problem
    assert fix in diagnosis.fix, diagnosis.fix
    lines = str(diagnosis).splitlines()
    assert lines[0] == f"问题：{diagnosis.problem}" and lines[1] == f"解决办法：{diagnosis.fix}"


def test_connection_check_lists_the_models_in_chinese():
    text = str(check_connection("http://localhost:11434", "qwen3", http=ollama(), lang="zh"))
    assert text.splitlines()[-1] == "该服务上的模型：llama3.2:latest, llava:latest"


def test_nothing_at_ollamas_port_advises_starting_it_in_chinese(monkeypatch, tmp_path):
    refusing = ScriptedServer({}, refuse=ConnectionRefusedError)
    monkeypatch.setattr(doctor, "repository_root", lambda: tmp_path)
    fix = check_connection("http://localhost:11434", "llama3.2", http=refusing, lang="zh").fix
    assert fix.startswith("启动 Ollama（运行 `ollama serve`，或打开 Ollama 应用）") and f"在 {tmp_path} 里运行" in fix
    monkeypatch.setattr(doctor, "repository_root", lambda: None)
    fix = check_connection("http://localhost:11434", "qwen3", http=refusing, lang="zh").fix
    assert "还没有 Ollama？" in fix and "`ollama pull qwen3`" in fix and "内置的 llama.cpp 引擎" in fix


# -- StreamView (recordings, as test_stream_view.py) ------------------------------------------------------------


class FooterWatcher:
    """An entered stream that notes the view's footer at every delta (what the learner sees while it streams)."""

    def __init__(self, stream, view):
        self.stream, self.view, self.footers = stream, view, set()

    def __iter__(self):
        for event in self.stream:
            self.footers.add(self.view.footer_html.value)
            yield event

    def get_final_message(self):
        return self.stream.get_final_message()


def test_stream_view_status_and_footer_in_chinese():
    client, _ = replay_client("stream_poem")
    view = StreamView(lang="zh")
    with client.messages.stream(**ASK) as stream:
        watcher = FooterWatcher(stream, view)
        message = view.consume(watcher)
    assert '<div class="oaw-footer">流式输出中…</div>' in watcher.footers
    footer = view.footer_html.value
    assert f"停止原因：max_tokens · token：输入 {view.input_tokens}" in footer
    assert f"/ 输出 {message.usage.output_tokens} · " in footer
    assert "首 token 延迟" in footer and " 秒 · " in footer and "tok/s" in footer and "stop_reason" not in footer


def test_stream_view_reads_the_setting(monkeypatch):
    monkeypatch.setenv("OLLAMA_KIT_LANG", "zh")
    assert StreamView().lang == "zh" and StreamView(lang="en").lang == "en"


def test_stream_view_thinking_title_and_tool_call_in_chinese():
    client, _ = replay_client("ollama_stream_tool_use")
    view = StreamView(lang="zh")
    view.consume(client.messages.stream(**ASK))
    assert view.thinking_view.titles == (f"思考（{len(view.thinking)} 个字符）",)
    assert "🔧 工具调用 <b><code>get_weather</code></b>" in view.tools_html.value


def test_stream_view_interrupted_line_in_chinese():
    client, _ = replay_client("stream_poem", cut_after=1500)
    view = StreamView(lang="zh")
    with pytest.raises(StreamInterrupted) as caught:
        view.consume(client.messages.stream(**ASK))
    count, cause = len(caught.value.partial_text), caught.value.__cause__
    assert isinstance(cause, LOST_CONNECTION)
    assert view.error == str(caught.value)
    assert view.error.startswith(f"流在收到 {count} 个字符后被中断（{type(cause).__name__}: ")
    assert view.error.endswith("；这部分文本会保留——重新运行即可得到完整回复。")
    assert "⚠ 流在收到" in view.footer_html.value


def test_stream_view_stopped_line_in_chinese():
    client, _ = replay_client("stream_poem")
    view = StreamView(lang="zh")
    with client.messages.stream(**ASK) as stream, pytest.raises(KeyboardInterrupt):
        view.consume(InterruptAfter(stream, 30))
    assert view.error == f"已停止（KeyboardInterrupt），此前已收到 {len(view.text)} 个字符；这部分文本会保留"


def test_stream_view_server_errors_in_chinese():
    client, _ = replay_client("error_500_image")
    view = StreamView(lang="zh")
    with pytest.raises(anthropic.InternalServerError):
        view.consume(client.messages.stream(**ASK))
    assert view.error.startswith("模型服务返回 HTTP 500：") and "image input is not supported" in view.error
    assert view.error.endswith("——模型服务出错：模型可能不支持这种输入（例如给纯文本模型发图片）。")

    port = closed_port()
    client = anthropic.Anthropic(base_url=f"http://127.0.0.1:{port}", api_key="ollama", max_retries=0, timeout=5)
    view = StreamView(lang="zh")
    with pytest.raises(anthropic.APIConnectionError):
        view.consume(client.messages.stream(**ASK))
    assert view.error.startswith(f"连不上 http://127.0.0.1:{port} 上的模型服务（ConnectError: ")
    assert view.error.endswith("。模型服务在运行吗（`ollama serve`）？OLLAMA_BASE_URL 对吗（不带 /v1）？")


def test_chinese_lines_are_escaped_like_everything_else():
    hostile = "<img src=x onerror=alert(1)>"
    assert_inert(render_footer(StreamResult(stop_reason=hostile), status="error", error=hostile, lang="zh"))
    html = render_chat_turn({"role": "assistant", "content": [{"type": "text", "text": hostile}]}, stopped=True,
                            thinking=hostile, lang="zh")
    assert_inert(html)
    assert "助手" in html and "已停止" in html and "思考（28 个字符）" in html


# -- ChatWidget (recordings, as test_chat.py) -------------------------------------------------------------------


def test_chat_captions_and_labels_in_chinese():
    client, _ = replay_client("chat_create_two_turns")
    chat = ChatWidget(client, MODEL, system=SYSTEM, max_tokens=64, stream=False, images=True,
                      tracker=UsageTracker(), lang="zh")
    assert (chat.send_button.description, chat.stop_button.description) == ("发送", "停止")
    assert chat.text_box.placeholder == "输入消息：Enter 发送，Shift+Enter 换行"
    assert chat.system_section.get_title(0) == "System 提示" and chat.system_box.placeholder == "没有系统提示"
    assert "还没有消息。" in chat.history_box.children[0].value
    assert chat.upload.clear_button.description == "清除" and chat.upload.picker.description == "添加图片"
    assert "<td>调用次数</td>" in chat.usage_panel.summary.value
    chat.send_message(TURNS[0])
    html = history_html(chat)
    assert '<div class="oaw-chat-label oaw-lang-zh">你</div>' in html and ">助手</div>" in html
    assert chat.status_view.value.startswith('<div class="oaw-chat-status">停止原因：')
    markdown = chat.to_markdown()
    assert markdown.startswith(f"# 与 {MODEL} 的对话\n\n**系统提示：** {SYSTEM}") and "## 你" in markdown


def test_chat_relabels_when_its_language_changes():
    client, _ = replay_client("chat_create_two_turns")
    chat = ChatWidget(client, MODEL, stream=False)
    chat.send_message(TURNS[0])
    assert chat.send_button.description == "Send" and ">You</div>" in history_html(chat)
    chat.lang = "zh"
    assert chat.send_button.description == "发送" and ">你</div>" in history_html(chat)
    chat.lang = "en"
    assert chat.text_box.placeholder.startswith("Type a message") and ">You</div>" in history_html(chat)


def test_chat_error_line_in_chinese():
    client, _ = replay_client(exchanges("ollama_error_404_unknown_model"))
    chat = ChatWidget(client, MODEL, lang="zh")
    with pytest.raises(anthropic.NotFoundError):
        chat.send_message("你好")
    assert chat.error.startswith("模型服务返回 HTTP 404：") and "no-such-model" in chat.error
    assert chat.error.endswith("——检查模型名称（`ollama list`），并确认接口地址不带 /v1。")
    assert "⚠ 模型服务返回 HTTP 404" in chat.error_view.value and chat.text_box.value == "你好"


def test_chat_nothing_to_send_and_empty_reply_in_chinese():
    client, replayer = replay_client("chat_thinking_only_stream")
    chat = ChatWidget(client, "qwen3", max_tokens=24, lang="zh")
    chat.send_button.click()
    assert chat.error == "没有可发送的内容：请先输入消息（或添加图片）。" and replayer.requests == []
    with pytest.raises(EmptyReply):
        chat.send_message("Prove that there are infinitely many primes.")
    assert chat.error == ("模型没有返回文本（停止原因 max_tokens，1 个 thinking 块）："
                          "max_tokens 全用在了思考上——调高 max_tokens 再发送一次。")


def test_chat_stopped_line_in_chinese():
    # A kernel interrupt of a blocking send counts as Stop (test_chat.py: the same recorded stream, cut by an
    # interrupt after 40 of its frames).
    from tests.stream_samples import sse_frames
    from tests.unit.test_chat import LONG_REPLY

    body = LONG_REPLY[0]["response"]["body"]

    class InterruptedBody(httpx2.SyncByteStream):
        def __iter__(self):
            for frame in sse_frames(body)[:40]:
                yield frame.encode()
            raise KeyboardInterrupt

    client = anthropic.Anthropic(base_url="http://replay.invalid", api_key="ollama", max_retries=0,
                                 http_client=httpx2.Client(transport=httpx2.MockTransport(
                                     lambda request: httpx2.Response(200, stream=InterruptedBody()))))
    chat = ChatWidget(client, MODEL, max_tokens=2000, lang="zh")
    with pytest.raises(KeyboardInterrupt):
        chat.send_message("写一首诗")
    kept = len(chat.messages[1]["content"][0]["text"])
    assert chat.status_view.value == (f'<div class="oaw-chat-status">已在收到 {kept:,} 个字符后停止：'
                                      "这部分回复留在对话历史里，会随下一条消息一起发送。</div>")
    assert "⏹ 已停止" in history_html(chat)
    assert "## 助手（已停止）" in chat.to_markdown()


def test_chat_reads_the_setting(monkeypatch):
    monkeypatch.setenv("OLLAMA_KIT_LANG", "zh")
    client, _ = replay_client([])
    chat = ChatWidget(client, MODEL)
    assert chat.lang == "zh" and chat.send_button.description == "发送"


# -- images ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("source, message", [
    (b"%PDF-1.7 ...", "这个文件不是图片（开头的字节看起来是 PDF 文档）：请上传 PNG、JPEG、GIF 或 WebP 图片"),
    (b"", "这个文件是空的（0 字节）：请重新选择文件，或确认它已保存"),
    (b"BM\x00\x00", "这个文件是 BMP 图片，Messages API 不接受这种格式：请先转换成 PNG 或 JPEG"),
    (b"just some notes", "这个文件不是图片（开头的字节看起来是纯文本）：请上传 PNG、JPEG、GIF 或 WebP 图片"),
    ("https://example.org/cat.png", "https://example.org/cat.png 是一个网址：Ollama 只接受 base64 图片"),
    ({"type": "text", "text": "hi"}, "这个块是 'text' 块，不是图片块"),
])
def test_image_rejected_in_chinese(source, message):
    with pytest.raises(ImageRejected) as caught:
        image_block(source, lang="zh")
    assert str(caught.value).startswith(message), str(caught.value)


@pytest.mark.parametrize("head, words", [
    (b"\x00\x00\x00\x18ftypavif", "is an AVIF image"), (b"\x00\x00\x01\x00", "is an ICO icon"),
    (b"<svg xmlns='x'>", "is an SVG (vector) image"), (b"\x00\x00\x00\x18ftypheic", "is a HEIC/HEIF photo"),
])
def test_english_refusals_keep_their_words(head, words):  # the table's English is the kit's English as it was
    with pytest.raises(ImageRejected, match=re.escape(f"This file {words}, which the Messages API does not accept")):
        image_block(head)


def test_a_damaged_or_too_large_image_in_chinese():
    with pytest.raises(ImageRejected, match=r"^photo\.png 是损坏或不完整的 PNG 文件（"):
        prepare_image(png_bytes()[:50], name="photo.png", lang="zh")
    with pytest.raises(ImageRejected, match=r"^photo\.png 处理后仍有 \d+ 字节（8×8 PNG），超过了 10 字节的上限"):
        prepare_image(png_bytes(), max_bytes=10, name="photo.png", lang="zh")


def test_upload_status_and_a_chat_turn_with_a_bad_image_in_chinese():
    upload = ImageUpload(lang="zh")
    accepted, rejected = upload._add_files([("a.png", png_bytes()), ("notes.txt", b"hello")])
    upload._show(accepted, rejected)
    assert accepted == [f"a.png：8×8 PNG，{len(png_bytes())} 字节"]
    assert "1 张图片已就绪" in upload.status.value and "notes.txt 不是图片" in upload.error

    with pytest.raises(ImageRejected):
        Conversation(lang="zh").start_turn("看看这个", [b"%PDF-1.7"])


# -- %%ask, TerminalView, the usage summary --------------------------------------------------------------------


def test_ask_session_and_usage_text_in_chinese(monkeypatch):
    session = AskSession(lang="zh")
    assert session.describe().startswith("%%ask：新对话 · 模型 ")
    assert session.describe().endswith(" · max_tokens 4096 · 思考：由服务决定 · 没有系统提示")
    monkeypatch.setenv("OLLAMA_KIT_LANG", "zh")
    assert AskSession().current_lang == "zh"  # None follows the setting at each use
    summary = summarize([{"input_tokens": 3, "output_tokens": 4, "stop_reason": "end_turn"}])
    assert usage_text(summary).startswith("1 次调用 · 输入 3 / 输出 4 token（共 7）")
    assert "<td>输入 token</td><td>3</td>" in render_usage_summary(summary)


def test_ask_failure_line_in_chinese(monkeypatch, capsys):
    port = closed_port()
    monkeypatch.setenv("OLLAMA_BASE_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("OLLAMA_KIT_LANG", "zh")
    shell = terminal_shell()
    result = shell.run_cell("%%ask --max-tokens 16\n你好")
    assert isinstance(result.error_in_exec, AskFailed)
    lines = printed_lines(capsys)
    assert len(lines) == 1 and lines[0].startswith(f"%%ask 失败：连不上 http://127.0.0.1:{port} 上的模型服务"), lines
    assert lines[0].endswith("（对话没有变化：仍是 0 轮）")
    shell.run_cell("%%ask\n  \n")
    assert "%%ask：单元格是空的——请在 %%ask 这一行下面写下问题" in capsys.readouterr().err


def test_terminal_view_marks_and_footer_in_chinese():
    import io

    client, _ = replay_client("ollama_stream_tool_use")
    out = io.StringIO()
    TerminalView(out, lang="zh").consume(client.messages.stream(**ASK))
    text = out.getvalue()
    assert text.startswith("[思考] ") and " 个字符]" in text and "[工具调用] get_weather {" in text
    assert text.splitlines()[-1].startswith("[停止原因：tool_use · token：输入 ")


def test_describe_error_and_footer_text_take_the_language():
    error = anthropic.APIConnectionError(request=httpx2.Request("POST", "http://127.0.0.1:9/v1/messages"))
    assert describe_error(error, lang="zh").startswith("连不上 http://127.0.0.1:9 上的模型服务。")
    assert describe_error(error).startswith("cannot reach the model server at http://127.0.0.1:9.")
    assert footer_text(StreamResult(stop_reason="end_turn", input_tokens=5, output_tokens=2, cached_input_tokens=3),
                       "zh") == "停止原因：end_turn · token：输入 5（其中 3 个来自缓存） / 输出 2"
