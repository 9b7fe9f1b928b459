"""Count what widgets send to the browser, at the comm, the way a kernel would send it.

Outside a kernel ipywidgets talks to ``comm``'s dummy comm, which drops every message. ``comm.create_comm`` is
the documented replacement point ("intended to be replaced"): :func:`counting_comms` puts in a comm that
serializes each message's ``data`` as jupyter_client does (JSON, ``ensure_ascii=False``) and counts its bytes,
binary buffers included. Opening a widget (its whole state), every state update and every close count.

Example::

    with counting_comms() as traffic:
        view = StreamView()
        view.consume(stream)
    print(traffic.bytes, traffic.messages)
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import comm
from comm.base_comm import BaseComm


class Traffic:
    """Bytes and messages sent so far, by message type (``comm_open``, ``comm_msg``, ``comm_close``).

    ``log`` keeps ``(time, msg_type, bytes, data)`` per message (time from ``clock``), ``values`` every HTML
    ``value`` that was sent (at a widget's opening or in an update).
    """

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self.clock = clock
        self.bytes = 0
        self.messages = 0
        self.by_type: dict[str, int] = {}
        self.log: list[tuple[float, str, int, Any]] = []
        self.values: list[str] = []

    def add(self, msg_type: str, data: Any, buffers: Any) -> None:
        size = len(json.dumps(data, ensure_ascii=False, default=str).encode("utf-8"))
        size += sum(len(memoryview(buffer).cast("B")) for buffer in buffers or ())
        self.bytes += size
        self.messages += 1
        self.by_type[msg_type] = self.by_type.get(msg_type, 0) + size
        self.log.append((self.clock(), msg_type, size, data))
        state = (data or {}).get("state") or {}
        if isinstance(state.get("value"), str):
            self.values.append(state["value"])


def shown_values(widget: Any) -> list[str]:
    """The HTML ``value`` of every widget below ``widget`` (children, an Accordion's sections), in page order."""
    values = [widget.value] if isinstance(getattr(widget, "value", None), str) else []
    for child in getattr(widget, "children", ()):
        values += shown_values(child)
    return values


@contextmanager
def counting_comms(clock: Callable[[], float] = time.perf_counter) -> Iterator[Traffic]:
    """Within the block, every new widget's comm counts what it sends into the yielded :class:`Traffic`."""
    traffic = Traffic(clock)

    class CountingComm(BaseComm):
        def publish_msg(self, msg_type: str, data: Any = None, metadata: Any = None, buffers: Any = None,
                        **keys: Any) -> None:
            traffic.add(msg_type, data, buffers)

    original = comm.create_comm
    comm.create_comm = CountingComm
    try:
        yield traffic
    finally:
        comm.create_comm = original
