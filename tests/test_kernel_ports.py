"""tests/kernel_ports.py: the port range that lets two pytest sessions start Jupyter kernels side by side."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests import kernel_ports
from tests.kernel_ports import RangePortCache, parse_range

ROOT = Path(__file__).resolve().parents[1]
# Below Linux's default ephemeral range (32768-60999) and away from the suite's servers (18435-18636).
SPARE = range(29100, 29140)


def listening_on(port: int) -> socket.socket:
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen()
    return server


def test_a_range_is_read_inclusive_and_bad_ones_are_refused_in_one_line():
    assert parse_range("21000-21004") == range(21000, 21005)
    for bad in ("21000", "21000-", "a-b", "21005-21000", "80-90", "21000-70000"):
        with pytest.raises(ValueError, match="KERNEL_PORTS must be FIRST-LAST"):
            parse_range(bad)


def test_a_range_inside_the_ephemeral_ports_is_refused(monkeypatch, tmp_path):
    fake_proc = tmp_path / "ip_local_port_range"
    fake_proc.write_text("32768\t60999\n")  # Linux's default, as the kernel formats it
    monkeypatch.setattr(kernel_ports, "EPHEMERAL_RANGE_FILE", fake_proc)
    assert parse_range("20000-32767") == range(20000, 32768)
    with pytest.raises(ValueError, match="overlaps the system's ephemeral ports 32768-60999.*below 32768"):
        parse_range("30000-33000")
    monkeypatch.setattr(kernel_ports, "EPHEMERAL_RANGE_FILE", tmp_path / "absent")
    assert parse_range("40000-40001") == range(40000, 40002)  # cannot tell elsewhere: taken as given


def test_ports_come_round_robin_from_the_range_skipping_held_and_busy_ones():
    cache = RangePortCache(ports=SPARE[:4])
    take = lambda: cache.find_available_port("127.0.0.1")  # noqa: E731
    assert (take(), take()) == (SPARE[0], SPARE[1])
    cache.return_port(SPARE[0])
    assert take() == SPARE[2]  # not the port just let go, though it is free and lower
    with listening_on(SPARE[3]):
        assert take() == SPARE[0]  # someone listens on SPARE[3]; SPARE[1] and [2] are held
    assert take() == SPARE[3]
    with pytest.raises(RuntimeError, match=r"no free port left in KERNEL_PORTS=29100-29103 \(4 held"):
        take()


def run_python(script: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``script`` in a fresh interpreter: installing the range changes a process-wide singleton."""
    return subprocess.run([sys.executable, "-c", script], env={**os.environ, "PYTHONPATH": str(ROOT), **env},
                          cwd=ROOT, capture_output=True, text=True, timeout=150)


def test_install_does_nothing_without_the_variable_and_refuses_to_replace_a_cache_in_use():
    assert kernel_ports.install({}) is None
    done = run_python("from tests import kernel_ports\n"
                      "kernel_ports.LocalPortCache.instance()  # as a kernel started earlier leaves it\n"
                      "kernel_ports.install()", KERNEL_PORTS="21000-21004")
    assert "RuntimeError: KERNEL_PORTS: jupyter_client's port cache was created before" in done.stderr


KERNEL_IN_A_RANGE = """
import json, socket
from jupyter_client.manager import start_new_kernel
from tests import kernel_ports

ports = kernel_ports.install()
assert kernel_ports.install() == ports  # a second install (pytest re-configured) keeps the same cache
busy = socket.socket(); busy.bind(("127.0.0.1", ports[0])); busy.listen()
km, kc = start_new_kernel(kernel_name="python3")
try:
    reply = kc.execute_interactive("print(6 * 7)", timeout=60, output_hook=lambda msg: printed.append(msg))
finally:
    info = km.get_connection_info()
    kc.stop_channels(); km.shutdown_kernel(now=True)
print(json.dumps({"ports": [info[k] for k in ("shell_port", "iopub_port", "stdin_port", "hb_port", "control_port")],
                  "status": reply["content"]["status"],
                  "stdout": "".join(m["content"].get("text", "") for m in printed if m["msg_type"] == "stream")}))
"""


@pytest.mark.timeout(180)
def test_a_real_kernel_takes_its_five_ports_from_the_range_and_answers():
    done = run_python("printed = []\n" + KERNEL_IN_A_RANGE, KERNEL_PORTS=f"{SPARE.start}-{SPARE.stop - 1}")
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == "ok" and result["stdout"] == "42\n"
    assert result["ports"] == list(SPARE[1:6])  # SPARE[0] had a listener: skipped; the rest in turn
