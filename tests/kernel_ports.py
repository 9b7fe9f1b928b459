"""Kernel ports from a range of this session's own, so two pytest sessions can start Jupyter kernels side by side.

jupyter_client (``connect.LocalPortCache.find_available_port``, 8.x) picks each of a kernel's five ports by binding
port 0, reading the number the system chose and closing the socket; the kernel binds that number a moment later.
The system chooses from its ephemeral range (Linux: ``/proc/sys/net/ipv4/ip_local_port_range``, 32768-60999 by
default), which it also hands to every outgoing connection and to every other process doing the same. Two sessions
side by side (``make test``) lost that race: ``ZMQError: Address already in use`` and "Kernel died before replying
to kernel_info" in two of six fresh-clone runs.

With ``KERNEL_PORTS=FIRST-LAST`` in the environment, :func:`install` makes jupyter_client take ports from that range
instead, round-robin, each one checked free by binding it. Ranges below the ephemeral one are never handed out by
the system, so sessions given disjoint ranges cannot collide with each other or with outgoing connections. Kernels
started by other processes (JupyterLab's, a fresh venv's nbclient) keep jupyter_client's own choice in the
ephemeral range, which a range here never overlaps.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from jupyter_client.connect import LocalPortCache

from tests.replay import load_engine

ENV = "KERNEL_PORTS"
EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def parse_range(text: str) -> range:
    """``"20000-25999"`` → ``range(20000, 26000)``; anything else is one clear ValueError."""
    first, sep, last = text.partition("-")
    try:
        low, high = int(first), int(last)
    except ValueError:
        low = high = 0
    if not sep or not 1024 <= low <= high <= 65535:
        raise ValueError(f"{ENV} must be FIRST-LAST, two port numbers 1024-65535 with FIRST <= LAST; got {text!r}")
    ports = range(low, high + 1)
    ephemeral = ephemeral_range()
    if ephemeral is not None and ports.start < ephemeral.stop and ephemeral.start < ports.stop:
        raise ValueError(f"{ENV}={text} overlaps the system's ephemeral ports {ephemeral.start}-{ephemeral.stop - 1} "
                         f"({EPHEMERAL_RANGE_FILE}), which other processes get without asking: choose ports below "
                         f"{ephemeral.start}")
    return ports


def ephemeral_range() -> range | None:
    """The ports the system hands out for port 0 and outgoing connections (Linux); None where it cannot be read."""
    try:
        low, high = map(int, EPHEMERAL_RANGE_FILE.read_text().split())
    except (OSError, ValueError):
        return None
    return range(low, high + 1)


port_is_free = load_engine().port_is_free  # one home for "can this port be bound now"


class RangePortCache(LocalPortCache):
    """jupyter_client's port cache, choosing from ``ports`` round-robin instead of the system's ephemeral range.

    Round-robin rather than lowest-free, so a port a kernel has just let go is the last to be handed out again.

    >>> cache = RangePortCache(ports=range(21000, 21003))
    >>> [cache.find_available_port("127.0.0.1") for _ in range(2)]
    [21000, 21001]
    """

    def __init__(self, ports: range, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.ports = ports
        self._next = 0

    def find_available_port(self, ip: str) -> int:
        for _ in range(len(self.ports)):
            port = self.ports[self._next]
            self._next = (self._next + 1) % len(self.ports)
            if port not in self.currently_used_ports and port_is_free(port, ip):
                self.currently_used_ports.add(port)
                return port
        raise RuntimeError(f"no free port left in {ENV}={self.ports.start}-{self.ports.stop - 1} "
                           f"({len(self.currently_used_ports)} held by this session's kernels)")


def install(environ: Mapping[str, str] = os.environ) -> range | None:
    """Make every kernel this process starts take its ports from ``$KERNEL_PORTS``; None when it is unset."""
    text = environ.get(ENV)
    if not text:
        return None
    ports = parse_range(text)
    if LocalPortCache.initialized():
        current = LocalPortCache.instance()
        if isinstance(current, RangePortCache) and current.ports == ports:
            return ports
        # Kernels may hold ports from the cache already there; replacing it would forget them.
        raise RuntimeError(f"{ENV}: jupyter_client's port cache was created before this session could set it up")
    RangePortCache.instance(ports=ports)  # SingletonConfigurable: LocalPortCache.instance() now returns it
    return ports
