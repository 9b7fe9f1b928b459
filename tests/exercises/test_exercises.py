"""The lessons' exercises (exercises/, lessons 01-12), each check three ways, in both languages:

- unanswered, as the lesson ships it: the notebook's own template cell and check cell run, print what to do, raise
  nothing, and the outcome is "unanswered";
- the official solution (the code ``exN.solution()`` shows) passes;
- plausible wrong answers fail, each with the message written for that mistake (tests compare message keys, never
  wording).

No check is passed by doing nothing: trivial answers (None, "", 0, [], {}, a constant pair, True) never pass.
Everything runs on recorded replies (notebooks/data/, see exercises/ollama_anthropic_exercises/replies.py) and needs
no model server.
"""

from __future__ import annotations

import contextlib
import doctest
import importlib
import io
import re
import string
from pathlib import Path

import nbformat
import pytest
from ollama_anthropic_exercises import core, replies
from ollama_anthropic_widgets.core.i18n import LANGUAGES, missing_translations

ROOT = Path(__file__).resolve().parents[2]
LESSONS = [f"{number:02}" for number in range(1, 13)]
MODULES = {lesson: importlib.import_module(f"ollama_anthropic_exercises.lesson{lesson}") for lesson in LESSONS}
EXERCISES = [exercise for module in MODULES.values() for exercise in module.EXERCISES]
CJK = re.compile(r"[\u4e00-\u9fff]")


def exercise_id(exercise: core.Exercise) -> str:
    return f"{exercise.lesson}-ex{exercise.number}-{exercise.name}"


def defined(code: str, name: str):
    namespace: dict = {}
    exec(code, namespace)  # our own code: a solution or a wrong answer written below
    return namespace[name]


# ------------------------------------------------------------------------------------------------ the solution


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("exercise", EXERCISES, ids=exercise_id)
def test_the_official_solution_passes(exercise, lang):
    result = exercise.evaluate(defined(exercise.solution_code, exercise.name), lang=lang)
    assert result.outcome == "correct", result.message


def test_solution_prints_the_code_it_was_tested_with_and_does_not_run_it(capsys):
    exercise = MODULES["01"].ex1
    exercise.solution(lang="en")
    printed = capsys.readouterr().out
    assert exercise.solution_code.strip() in printed
    assert "reply_text" not in globals()


# ------------------------------------------------------------------------------------------------ unanswered


def lesson_cells(edition: str, lesson: str) -> list[str]:
    (path,) = (ROOT / "notebooks" / edition).glob(f"{lesson}_*.ipynb")
    return [cell.source for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]


@pytest.mark.parametrize("edition", ["en", "zh"])
@pytest.mark.parametrize("lesson", LESSONS)
def test_the_lessons_exercise_cells_run_unanswered_without_raising(lesson, edition, monkeypatch):
    """The import cell, then each template cell and its check cell, exactly as the notebook holds them."""
    monkeypatch.setenv("OLLAMA_KIT_LANG", edition)
    cells = lesson_cells(edition, lesson)
    imports = [source for source in cells if f"ollama_anthropic_exercises.lesson{lesson}" in source]
    assert len(imports) == 1, f"lesson {lesson} ({edition}) should import its exercises once"
    namespace: dict = {"__name__": "__main__"}
    exec(imports[0], namespace)
    for exercise in MODULES[lesson].EXERCISES:
        checks = [index for index, source in enumerate(cells) if f"ex{exercise.number}.check()" in source]
        assert len(checks) == 1, f"lesson {lesson} ({edition}): one check cell for ex{exercise.number}"
        template = cells[checks[0] - 1]
        assert re.search(rf"^def {exercise.name}\(", template, re.M), template
        exec(template, namespace)
        output = io.StringIO()
        with contextlib.redirect_stdout(output):
            exec(cells[checks[0]], namespace)  # the check cell reads the answer from this namespace, as in Jupyter
        printed = output.getvalue()
        result = exercise.evaluate(namespace[exercise.name], lang=edition)
        assert result.key == "unanswered.template", result.message
        assert printed.strip() == result.message, printed
        assert exercise.name in printed and f"ex{exercise.number}.hint()" in printed


@pytest.mark.parametrize("exercise", EXERCISES, ids=exercise_id)
def test_an_undefined_answer_or_an_ellipsis_says_what_to_do(exercise, capsys):
    assert exercise.evaluate(core.MISSING, lang="en").key == "unanswered.missing"
    assert exercise.evaluate(..., lang="zh").key == "unanswered.ellipsis"
    exercise.check(lang="en")  # reads the caller's globals: this module defines none of the names
    assert exercise.name in capsys.readouterr().out


TRIVIAL = [lambda *args, **kwargs: "", lambda *args, **kwargs: 0, lambda *args, **kwargs: [],
           lambda *args, **kwargs: {}, lambda *args, **kwargs: ("", ""), lambda *args, **kwargs: True,
           lambda *args, **kwargs: args[0] if args else None]


@pytest.mark.parametrize("exercise", EXERCISES, ids=exercise_id)
def test_doing_nothing_never_passes(exercise):
    def nothing(*args, **kwargs):
        """A docstring and nothing else, like the template."""

    assert exercise.evaluate(nothing, lang="en").outcome == "unanswered"
    for trivial in TRIVIAL:
        result = exercise.evaluate(trivial, lang="en")
        assert result.outcome in ("incorrect", "unanswered"), (trivial, result.message)
    assert exercise.evaluate(42, lang="en").key == "not_callable"


# ------------------------------------------------------------------------------------------------ wrong answers

WRONG: dict[tuple[str, int], list[tuple[str, str]]] = {
    ("01", 1): [
        ("def reply_text(message):\n    return message.content[0].text", "by_position"),
        ("def reply_text(message):\n    return ''.join(getattr(b, 'text', '') or getattr(b, 'thinking', '')"
         " for b in message.content)", "select.other_kind_included"),
        ("def reply_text(message):\n    return ''.join(b.text for b in message.content if b.type == 'text') or None",
         "select.not_str"),
    ],
    ("01", 2): [
        ("def thinking_text(message):\n    return message.content[0].thinking", "by_position"),
        ("def thinking_text(message):\n    return ''.join(getattr(b, 'thinking', '') or getattr(b, 'text', '')"
         " for b in message.content)", "select.other_kind_included"),
    ],
    ("01", 3): [
        ("import anthropic\ndef what_went_wrong(error):\n    if isinstance(error, TypeError):\n"
         "        return 'max_tokens'\n    if isinstance(error, anthropic.APIConnectionError):\n"
         "        return 'server'\n    if isinstance(error, anthropic.NotFoundError):\n        return 'model'\n"
         "    return 'other'", "ex3.wrong_label"),
        ("def what_went_wrong(error):\n    return type(error).__name__", "ex3.not_label"),
    ],
    ("02", 1): [
        ("import time\ndef seconds_to_first_text(stream):\n    started = time.perf_counter()\n"
         "    with stream as events:\n        for event in events:\n"
         "            if event.type == 'content_block_delta':\n"
         "                return time.perf_counter() - started", "ex1.too_early"),
        ("import time\ndef seconds_to_first_text(stream):\n    started = time.perf_counter()\n"
         "    with stream as events:\n        events.until_done()\n    return time.perf_counter() - started",
         "ex1.too_late"),
    ],
    ("02", 2): [
        ("def text_and_stop_reason(stream):\n    with stream as events:\n"
         "        return events.get_final_text(), events.get_final_message().stop_reason", "ex2.get_final_text"),
        ("def text_and_stop_reason(stream):\n    text = ''\n    with stream as events:\n        for event in events:\n"
         "            if event.type == 'content_block_delta':\n"
         "                text += getattr(event.delta, 'text', '') or getattr(event.delta, 'thinking', '')\n"
         "        return text, events.get_final_message().stop_reason", "ex2.thinking_included"),
    ],
    ("03", 1): [
        ("import base64\ndef image_message(question, png_bytes):\n    return {'role': 'user', 'content': [\n"
         "        {'type': 'text', 'text': question},\n        {'type': 'image', 'source': {'type': 'base64', "
         "'media_type': 'image/png', 'data': base64.b64encode(png_bytes)}}]}", "ex1.data_not_str"),
        ("import base64\ndef image_message(question, png_bytes):\n    url = 'data:image/png;base64,' + "
         "base64.b64encode(png_bytes).decode()\n    return {'role': 'user', 'content': [{'type': 'text', 'text': "
         "question}, {'type': 'image_url', 'image_url': {'url': url}}]}", "ex1.openai_part"),
    ],
    ("03", 2): [
        ("def to_openai_messages(system, messages):\n    return ([{'role': 'system', 'content': system}] if system "
         "else []) + [dict(m) for m in messages]", "ex2.message"),
        ("def to_openai_messages(system, messages):\n    out = [{'role': 'system', 'content': system}] if system "
         "else []\n    for m in messages:\n        c = m['content']\n        if isinstance(c, str):\n"
         "            out.append(m)\n        elif c[0]['type'] == 'tool_use':\n"
         "            out.append({'role': 'assistant', 'content': None, 'tool_calls': [{'id': b['id'], 'type': "
         "'function', 'function': {'name': b['name'], 'arguments': b['input']}} for b in c]})\n"
         "        elif c[0]['type'] == 'tool_result':\n            out += [{'role': 'tool', 'tool_call_id': "
         "b['tool_use_id'], 'content': b['content']} for b in c]\n        else:\n"
         "            out.append({'role': m['role'], 'content': ''.join(b['text'] for b in c)})\n    return out",
         "ex2.arguments"),
    ],
    ("04", 1): [
        ("def from_openai_messages(openai_messages):\n    return {'messages': openai_messages}",
         "ex1.system_role_left"),
        ("def from_openai_messages(openai_messages):\n    system = None\n    if openai_messages[0]['role'] == "
         "'system':\n        system = openai_messages.pop(0)['content']\n    request = {'messages': openai_messages}\n"
         "    if system:\n        request['system'] = system\n    return request", "ex1.mutated"),
    ],
    ("04", 2): [
        ("def system_as_ollama_sees_it(system):\n    if isinstance(system, str):\n        return system\n"
         "    return '\\n'.join(block['text'] for block in system)", "ex2.separator"),
    ],
    ("05", 1): [
        ("def sampled_reply(client, model, prompt, temperature, top_k):\n    return client.messages.create(model=model,"
         " max_tokens=64, messages=[{'role': 'user', 'content': prompt}], temperature=temperature, top_k=top_k)",
         "ex1.keyword"),
        ("def sampled_reply(client, model, prompt, temperature, top_k):\n    return client.messages.create(model=model,"
         " max_tokens=64, messages=[{'role': 'user', 'content': prompt}], extra_body={'options': "
         "{'temperature': temperature, 'top_k': top_k}})", "ex1.not_top_level"),
    ],
    ("05", 2): [
        ("def how_it_ended(message):\n    return message.stop_reason", "ex2.llama_cpp_hit"),
    ],
    ("06", 1): [
        ("def tool_calls_of(message):\n    return [(block.name, block.input) for block in message.content]",
         "by_position"),
    ],
    ("06", 2): [
        ("import json\ndef answer_call(call, functions):\n    output = functions[call.name](**call.input)\n"
         "    return {'type': 'tool_result', 'tool_use_id': call.id, 'content': json.dumps(output)}", "ex2.escaped"),
        ("def answer_call(call, functions):\n    try:\n        output = functions[call.name](**call.input)\n"
         "    except Exception as error:\n        return {'type': 'tool_result', 'tool_use_id': call.id, "
         "'content': str(error), 'is_error': True}\n    return {'type': 'tool_result', 'tool_use_id': call.id, "
         "'content': str(output)}", "ex2.content_not_output"),
        ("import json\ndef answer_call(call, functions):\n    try:\n"
         "        output = functions[call.name](**call.input)\n"
         "    except Exception as error:\n        return {'type': 'tool_result', 'tool_use_id': call.id, "
         "'content': str(error)}\n    return {'type': 'tool_result', 'tool_use_id': call.id, "
         "'content': json.dumps(output)}", "ex2.no_is_error"),
    ],
    ("06", 3): [
        ("def tool_loop(client, model, messages, tools, functions, max_rounds):\n    while True:\n"
         "        reply = client.messages.create(model=model, max_tokens=1024, tools=tools, messages=messages)\n"
         "        calls = [b for b in reply.content if b.type == 'tool_use']\n        if not calls:\n"
         "            return reply\n        messages = messages + [{'role': 'assistant', 'content': reply.content},"
         " {'role': 'user', 'content': [{'type': 'tool_result', 'tool_use_id': c.id, 'content': 'ok'} "
         "for c in calls]}]", "ex3.no_bound"),
        ("def tool_loop(client, model, messages, tools, functions, max_rounds):\n    for _ in range(max_rounds):\n"
         "        reply = client.messages.create(model=model, max_tokens=1024, tools=tools, messages=messages)\n"
         "        calls = [b for b in reply.content if b.type == 'tool_use']\n        if not calls:\n"
         "            return reply\n        messages = messages + [{'role': 'user', 'content': [{'type': "
         "'tool_result', 'tool_use_id': c.id, 'content': 'ok'} for c in calls]}]\n    return reply",
         "ex3.assistant_turn"),
        ("def tool_loop(client, model, messages, tools, functions, max_rounds):\n"
         "    return client.messages.create(model=model, max_tokens=1024, tools=tools, messages=messages)",
         "ex3.too_few"),
    ],
    ("07", 1): [
        ("def image_media_type(data):\n    return 'image/png' if data else None", "ex1.wrong"),
        ("def image_media_type(data):\n    return 'image/png' if data.startswith(b'\\x89PNG') else None",
         "ex1.wrong"),
    ],
    ("07", 2): [
        ("import anthropic\ndef ask_once(client, model, messages):\n    try:\n"
         "        reply = client.messages.create(model=model, max_tokens=64, messages=messages)\n"
         "    except anthropic.APIStatusError as error:\n        return f'HTTP {error.status_code}: {error.message}'\n"
         "    return ''.join(b.text for b in reply.content if b.type == 'text')", "ex2.retried"),
        ("def ask_once(client, model, messages):\n    reply = client.with_options(max_retries=0).messages.create("
         "model=model, max_tokens=64, messages=messages)\n"
         "    return ''.join(b.text for b in reply.content if b.type == 'text')", "ex2.escaped"),
    ],
    ("08", 1): [
        ("def token_totals(replies):\n    return (sum(r.usage.input_tokens for r in replies), "
         "sum(r.usage.output_tokens for r in replies))", "ex1.cache_left_out"),
        ("def token_totals(replies):\n    return (sum(r.usage.input_tokens + r.usage.cache_read_input_tokens "
         "for r in replies), sum(r.usage.output_tokens for r in replies))", "ex1.none_cache"),
    ],
    ("08", 2): [
        ("def has_model(listing, name):\n    return name in [m['name'] for m in listing.get('models', [])] + "
         "[m['id'] for m in listing.get('data', [])]", "ex2.latest"),
        ("def has_model(listing, name):\n    names = [m['name'] for m in listing.get('models', [])] + "
         "[m['id'] for m in listing.get('data', [])]\n    return any(n.startswith(name) for n in names)",
         "ex2.prefix"),
        ("def has_model(listing, name):\n    names = [m['name'] for m in listing['models']]\n"
         "    return name in names or name + ':latest' in names", "ex2.format"),
    ],
    ("09", 1): [
        ("def count_or_none(client, model, messages):\n"
         "    return client.messages.count_tokens(model=model, messages=messages).input_tokens", "ex1.escaped"),
        ("import anthropic\ndef count_or_none(client, model, messages):\n    try:\n"
         "        reply = client.messages.create(model=model, max_tokens=1, messages=messages)\n"
         "    except anthropic.APIError:\n        return None\n    return reply.usage.input_tokens", "ex1.wrong_route"),
    ],
    ("09", 2): [
        ("def answer_text(client, model, prompt):\n    reply = client.messages.create(model=model, max_tokens=256, "
         "thinking={'type': 'disabled'}, messages=[{'role': 'user', 'content': prompt}])\n"
         "    return ''.join(b.text for b in reply.content if b.type == 'text')", "ex2.no_retry"),
        ("def answer_text(client, model, prompt):\n    reply = client.messages.create(model=model, max_tokens=256, "
         "messages=[{'role': 'user', 'content': prompt}])\n"
         "    return ''.join(b.text for b in reply.content if b.type == 'text')", "ex2.no_switch"),
        ("def answer_text(client, model, prompt):\n    for budget in (256, 1024):\n"
         "        reply = client.messages.create(model=model, max_tokens=budget, thinking={'type': 'disabled'}, "
         "messages=[{'role': 'user', 'content': prompt}])\n"
         "    return ''.join(b.text for b in reply.content if b.type == 'text')", "ex2.too_many"),
    ],
    ("10", 1): [
        ("def safe_chat(messages, user_input, client, model):\n"
         "    messages.append({'role': 'user', 'content': user_input})\n"
         "    reply = client.messages.create(model=model, max_tokens=100, messages=messages)\n"
         "    text = ''.join(b.text for b in reply.content if b.type == 'text')\n"
         "    messages.append({'role': 'assistant', 'content': text})\n    return text", "history.failed_call"),
        ("def safe_chat(messages, user_input, client, model):\n"
         "    messages.append({'role': 'user', 'content': user_input})\n    try:\n"
         "        reply = client.messages.create(model=model, max_tokens=100, messages=messages)\n"
         "    except Exception:\n        messages.pop()\n        raise\n"
         "    text = ''.join(b.text for b in reply.content if b.type == 'text')\n"
         "    messages.append({'role': 'assistant', 'content': text})\n    return text", "history.empty_reply"),
        ("def safe_chat(messages, user_input, client, model):\n"
         "    reply = client.messages.create(model=model, max_tokens=100, messages=[{'role': 'user', "
         "'content': user_input}])\n    text = ''.join(b.text for b in reply.content if b.type == 'text')\n"
         "    messages += [{'role': 'user', 'content': user_input}, {'role': 'assistant', 'content': text}]\n"
         "    return text", "history.whole"),
    ],
    ("10", 2): [
        ("def last_exchanges(messages, n):\n    return messages[-n:]", "ex2.wrong"),
        ("def last_exchanges(messages, n):\n    return messages[-2 * n:]", "ex2.minus_zero"),
        ("def last_exchanges(messages, n):\n    del messages[:max(0, len(messages) - 2 * n)]\n    return messages",
         "ex2.mutated"),
    ],
    ("11", 1): [
        ("def safe_stream_chat(messages, user_input, client, model):\n"
         "    messages.append({'role': 'user', 'content': user_input})\n    text = ''\n"
         "    with client.messages.stream(model=model, max_tokens=100, messages=messages) as stream:\n"
         "        for piece in stream.text_stream:\n            text += piece\n"
         "    messages.append({'role': 'assistant', 'content': text})\n    return text", "history.failed_call"),
        ("def safe_stream_chat(messages, user_input, client, model):\n"
         "    messages.append({'role': 'user', 'content': user_input})\n    try:\n"
         "        reply = client.messages.create(model=model, max_tokens=100, messages=messages)\n"
         "    except Exception:\n        messages.pop()\n        raise\n"
         "    text = ''.join(b.text for b in reply.content if b.type == 'text')\n    if text:\n"
         "        messages.append({'role': 'assistant', 'content': text})\n    else:\n        messages.pop()\n"
         "    return text", "history.raised"),
    ],
    ("11", 2): [
        ("def thinking_and_text(stream):\n    with stream as events:\n        return '', ''.join(events.text_stream)",
         "ex2.no_thinking"),
    ],
    ("12", 1): [
        ("def openai_fields(message):\n    return {'content': ''.join(b.text for b in message.content "
         "if b.type == 'text'), 'finish_reason': message.stop_reason, 'prompt_tokens': "
         "message.usage.input_tokens, 'completion_tokens': message.usage.output_tokens}", "ex1.finish_reason"),
        ("FINISH = {'end_turn': 'stop', 'stop_sequence': 'stop', 'max_tokens': 'length', 'tool_use': 'tool_calls'}\n"
         "def openai_fields(message):\n    return {'content': ''.join(b.text for b in message.content "
         "if b.type == 'text'), 'finish_reason': FINISH[message.stop_reason], 'prompt_tokens': "
         "message.usage.input_tokens, 'completion_tokens': message.usage.output_tokens}", "ex1.prompt_cache"),
    ],
    ("12", 2): [
        ("def base_urls(server):\n    return server, server", "ex2.openai"),
        ("def base_urls(server):\n    root = server.rstrip('/')\n    return root, root + '/v1'", "ex2.anthropic"),
    ],
}


def test_every_exercise_has_a_wrong_answer():
    assert {(exercise.lesson, exercise.number) for exercise in EXERCISES} == set(WRONG)


@pytest.mark.parametrize(("lesson", "number", "code", "key"), [
    (lesson, number, code, key) for (lesson, number), answers in WRONG.items() for code, key in answers],
    ids=lambda value: value if isinstance(value, str) and len(value) < 40 else None)
def test_a_plausible_wrong_answer_fails_with_its_message(lesson, number, code, key):
    exercise = MODULES[lesson].EXERCISES[number - 1]
    answer = defined(code, exercise.name)
    for lang in LANGUAGES:
        result = exercise.evaluate(answer, lang=lang)
        assert result.outcome == "incorrect", result.message
        assert result.key == key, result.message
        assert f"ex{number}.hint()" in result.message
    assert CJK.search(exercise.evaluate(answer, lang="zh").message)


def test_a_fault_of_the_check_is_reported_as_such_and_not_raised():
    def broken_check(answer, context):
        raise RuntimeError("a bug in the exercise")

    exercise = core.Exercise("00", 1, "f", broken_check, table={}, hint={}, solution_code="")
    result = exercise.evaluate(lambda: 1, lang="en")
    assert result.outcome == "error" and result.key == "check_failed" and "a bug in the exercise" in result.message


def test_missing_recordings_are_reported_and_not_raised(monkeypatch, tmp_path):
    monkeypatch.setattr(replies, "DATA", tmp_path)
    replies._recording.cache_clear()
    try:
        result = MODULES["01"].ex1.evaluate(lambda message: "", lang="en")
    finally:
        replies._recording.cache_clear()
    assert result.outcome == "error" and result.key == "data_missing"


# ------------------------------------------------------------------------------------------------ the messages


TABLES = {"core": core.CORE, **{f"lesson{lesson}": module.TABLE for lesson, module in MODULES.items()}}


@pytest.mark.parametrize("name", sorted(TABLES))
def test_every_message_has_both_languages_and_the_same_placeholders(name):
    assert missing_translations(TABLES[name]) == []


@pytest.mark.parametrize("name", sorted(TABLES))
def test_the_chinese_follows_the_glossarys_typography(name):
    for key, texts in TABLES[name].items():
        zh = texts["zh"]
        assert CJK.search(zh) or key == "list_separator", (key, zh)
        # no ASCII , : ; ? ! ( ) next to a Chinese character, and a space between Chinese and a placeholder
        assert not re.search(r"[\u4e00-\u9fff][,:;?!()]|[,:;?!()][\u4e00-\u9fff]", zh), (key, zh)
        assert not re.search(r"[\u4e00-\u9fff]\{(?!\{)|(?<!\})\}[\u4e00-\u9fff]", zh), (key, zh)


@pytest.mark.parametrize("exercise", EXERCISES, ids=exercise_id)
def test_every_hint_is_plain_text_in_both_languages_with_the_glossarys_typography(exercise, capsys):
    assert set(exercise.hint_text) == set(LANGUAGES)
    zh = exercise.hint_text["zh"]
    assert CJK.search(zh) and not re.search(r"[\u4e00-\u9fff][,:;?!()]|[,:;?!()][\u4e00-\u9fff]", zh), zh
    for lang in LANGUAGES:
        exercise.hint(lang=lang)
        assert exercise.hint_text[lang] in capsys.readouterr().out


@pytest.mark.parametrize("name", sorted(TABLES))
def test_every_message_renders(name):
    for texts in TABLES[name].values():
        values = {field: "x" for _, field, _, _ in string.Formatter().parse(texts["en"]) if field}
        for lang in LANGUAGES:
            numeric = {field: 1.5 for _, field, spec, _ in string.Formatter().parse(texts[lang]) if spec}
            assert texts[lang].format(**{**values, **numeric})


@pytest.mark.parametrize("module", [core, replies], ids=lambda module: module.__name__)
def test_the_docstring_examples_run(module):
    failures, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert failures == 0


def test_the_language_follows_the_kits_setting(monkeypatch):
    exercise = MODULES["10"].ex2
    monkeypatch.setenv("OLLAMA_KIT_LANG", "zh")
    assert exercise.evaluate(...).message.startswith("练习 2")
    monkeypatch.setenv("OLLAMA_KIT_LANG", "en")
    assert exercise.evaluate(...).message.startswith("Exercise 2")
