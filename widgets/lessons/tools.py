"""The tool-use loop: let the model call your Python functions until it answers.

The Messages API never runs tools itself. When the model wants one, the reply holds ``tool_use`` blocks
(``stop_reason="tool_use"``); *you* run each tool and send back one ``user`` message with a ``tool_result``
block per call, matched by ``tool_use_id``. :func:`run_tool_loop` does that bookkeeping:

- the tool input is the dict the SDK parsed from the server's JSON: it is passed to your function as keyword
  arguments, never evaluated, so ``"__import__('os').system(...)"`` in an argument is just a string;
- a tool that raises, an unknown tool name or an input that is not a JSON object becomes a ``tool_result``
  with ``is_error=True`` and a short error text, so the model can recover (Ollama ignores ``is_error`` but
  still sees the text);
- the loop stops after ``max_iterations`` model calls; any tool call still pending then gets an error
  ``tool_result``, so ``result.messages`` is always a valid conversation to send again;
- a model that answers in plain text (small models often do) simply ends the loop: ``answered_in_text``.

Example:
    >>> def get_weather(city: str) -> dict:
    ...     return {"city": city, "forecast": "sunny", "temperature_c": 24}
    >>> weather_tool = {
    ...     "name": "get_weather",
    ...     "description": "Get today's weather for a city",
    ...     "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    ... }
    >>> result = run_tool_loop(client, model="qwen3", tools=[weather_tool],  # doctest: +SKIP
    ...                        functions={"get_weather": get_weather},
    ...                        messages=[{"role": "user", "content": "北京今天天气怎么样?"}])
    >>> result.text, [call.name for call in result.calls]  # doctest: +SKIP
    ('Beijing is sunny today, 24 °C.', ['get_weather'])
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..core.messages import blocks_of_type, field_of, text_of

ANSWERED = "answered"
MAX_ITERATIONS = "max_iterations"


@dataclass
class ToolCall:
    """One tool call the model asked for and what was sent back as its ``tool_result``.

    ``output`` is the exact ``tool_result`` content (a string); ``is_error`` is True when the tool raised, was
    unknown, got an input that was not a JSON object, or was not run because the loop hit ``max_iterations``.

    Example:
        >>> ToolCall(id="call_1", name="get_weather", input={"city": "北京"}, output='{"forecast": "sunny"}',
        ...          is_error=False).name
        'get_weather'
    """

    id: str
    name: str
    input: Any
    output: str
    is_error: bool


@dataclass
class ToolLoopResult:
    """What :func:`run_tool_loop` did.

    - ``final_message``: the last ``anthropic.types.Message`` the model sent.
    - ``messages``: the whole conversation (your messages, then assistant turns and tool results), as plain
      dicts in Anthropic format; every ``tool_use`` has its ``tool_result``, so it can be sent again.
    - ``calls``: every :class:`ToolCall`, in order.
    - ``iterations``: how many times the model was called.
    - ``stopped_because``: ``"answered"`` or ``"max_iterations"``.
    - ``answered_in_text``: True when the model never called a tool.
    - ``text``: the final message's text blocks joined (empty if it ended on tool calls).

    Example:
        >>> result = run_tool_loop(client, model="qwen3", messages=messages, tools=tools,  # doctest: +SKIP
        ...                        functions=functions)
        >>> result.stopped_because, result.iterations  # doctest: +SKIP
        ('answered', 2)
    """

    final_message: Any
    messages: list[dict[str, Any]]
    calls: list[ToolCall] = field(default_factory=list)
    iterations: int = 0
    stopped_because: str = ANSWERED
    answered_in_text: bool = False
    text: str = ""


def run_tool_loop(client: Any, *, model: str, messages: Sequence[Mapping[str, Any]], tools: Sequence[Mapping[str, Any]],
                  functions: Mapping[str, Callable[..., Any]], max_tokens: int = 1024, max_iterations: int = 5,
                  system: Any = None, **create_kwargs: Any) -> ToolLoopResult:
    """Call the model with ``tools``, run the tools it asks for, send the results, until it answers.

    ``functions`` maps a tool name to a Python callable that takes the tool input as keyword arguments. Its
    return value is sent as the ``tool_result``: strings as they are, anything else as JSON. At most
    ``max_iterations`` model calls are made. ``messages`` is not modified. Extra keyword arguments (for example
    ``tool_choice`` or ``extra_body={"temperature": 0}``) go to every ``client.messages.create`` call.
    Errors from the server (``anthropic.APIStatusError``, ...) are raised as they are.

    Example:
        >>> result = run_tool_loop(client, model="qwen3", max_iterations=3,  # doctest: +SKIP
        ...                        messages=[{"role": "user", "content": "北京今天天气怎么样?"}],
        ...                        tools=[weather_tool], functions={"get_weather": get_weather})
        >>> if result.answered_in_text:  # doctest: +SKIP
        ...     print("The model answered without calling a tool:", result.text)
    """
    if max_iterations < 1:
        raise ValueError(f"max_iterations must be at least 1, got {max_iterations}")
    conversation = [dict(message) for message in messages]
    request = {"model": model, "max_tokens": max_tokens, "tools": list(tools), **create_kwargs}
    if system is not None:
        request["system"] = system
    calls: list[ToolCall] = []
    iterations = 0
    while True:
        message = client.messages.create(messages=conversation, **request)
        iterations += 1
        tool_uses = blocks_of_type(message, "tool_use")
        if not tool_uses:
            return ToolLoopResult(final_message=message, messages=conversation, calls=calls,
                                  iterations=iterations, stopped_because=ANSWERED,
                                  answered_in_text=not calls, text=text_of(message))
        conversation.append({"role": "assistant", "content": [block_to_param(block) for block in message.content]})
        out_of_turns = iterations >= max_iterations
        new_calls = [_not_run(block, max_iterations) if out_of_turns else run_tool(block, functions)
                     for block in tool_uses]
        calls.extend(new_calls)
        conversation.append({"role": "user", "content": [tool_result_block(call) for call in new_calls]})
        if out_of_turns:
            return ToolLoopResult(final_message=message, messages=conversation, calls=calls,
                                  iterations=iterations, stopped_because=MAX_ITERATIONS,
                                  answered_in_text=False, text=text_of(message))


def run_tool(tool_use: Any, functions: Mapping[str, Callable[..., Any]]) -> ToolCall:
    """Run one ``tool_use`` block through ``functions`` and say what to send back; never raises.

    Example:
        >>> block = {"type": "tool_use", "id": "call_1", "name": "add", "input": {"a": 1, "b": 2}}
        >>> run_tool(block, {"add": lambda a, b: a + b}).output
        '3'
    """
    call_id, name, tool_input = field_of(tool_use, "id"), field_of(tool_use, "name"), field_of(tool_use, "input")
    function = functions.get(name)
    if function is None:
        known = ", ".join(sorted(functions)) or "none"
        return ToolCall(call_id, name, tool_input, f"Error: unknown tool {name!r}. Available tools: {known}.", True)
    if not isinstance(tool_input, Mapping):
        return ToolCall(call_id, name, tool_input,
                        f"Error: the input for {name!r} must be a JSON object, got {type(tool_input).__name__}.",
                        True)
    try:
        output = function(**tool_input)
    except Exception as error:  # any failure is reported to the model, which may retry or explain
        return ToolCall(call_id, name, tool_input, f"Error: {type(error).__name__}: {error}", True)
    return ToolCall(call_id, name, tool_input, format_output(output), False)


def format_output(output: Any) -> str:
    """A tool's return value as ``tool_result`` text: strings unchanged, anything else as JSON.

    Example:
        >>> format_output({"city": "北京", "temperature_c": 24})
        '{"city": "北京", "temperature_c": 24}'
    """
    if isinstance(output, str):
        return output
    return json.dumps(output, ensure_ascii=False, default=str)


def tool_result_block(call: ToolCall) -> dict[str, Any]:
    """The ``tool_result`` block answering ``call``; ``is_error`` only when set.

    Example:
        >>> tool_result_block(ToolCall("call_1", "add", {"a": 1}, "Error: TypeError: ...", True))["is_error"]
        True
    """
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": call.id, "content": call.output}
    if call.is_error:
        block["is_error"] = True
    return block


def block_to_param(block: Any) -> dict[str, Any]:
    """A response content block as a request block (a plain dict), to put the assistant turn back in history.

    Example:
        >>> block_to_param({"type": "text", "text": "hi", "citations": None})
        {'type': 'text', 'text': 'hi'}
    """
    if not isinstance(block, Mapping):
        block = block.model_dump(mode="json", exclude_none=True) if hasattr(block, "model_dump") else vars(block)
    kind = block.get("type")
    if kind == "text":
        return {"type": "text", "text": block.get("text", "")}
    if kind == "tool_use":
        return {"type": "tool_use", "id": block.get("id"), "name": block.get("name"), "input": block.get("input")}
    if kind == "thinking":
        # Ollama sends no signature; Anthropic's API needs it back unchanged when there is one.
        param = {"type": "thinking", "thinking": block.get("thinking", "")}
        if block.get("signature"):
            param["signature"] = block["signature"]
        return param
    return {key: value for key, value in block.items() if value is not None}


def _not_run(tool_use: Any, max_iterations: int) -> ToolCall:
    return ToolCall(field_of(tool_use, "id"), field_of(tool_use, "name"), field_of(tool_use, "input"),
                    f"Error: not run: the tool loop stopped after {max_iterations} model calls (max_iterations).",
                    True)

