"""A throwaway JupyterLab server and the few browser steps the browser tests need.

The server runs on loopback with the token disabled (test only), on a temporary copy of the notebooks, with
its own settings, workspaces and runtime folders, so nothing the learner has (open tabs, settings, the
notebooks themselves) is read or written. The selectors and pitfalls are noted where they are used
(e.g. wait for the kernel's name before Run All, disable autosave).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import warnings
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Every cell stays in the DOM (JupyterLab 4 otherwise detaches cells scrolled out of view), nothing is saved
# behind the test's back, and no "Jupyter news?" toast covers the screenshots.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false"},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
}
VISIBLE_NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden)"


def peak_rss_mb(pid: int) -> float | None:
    """Peak resident memory (VmHWM) of a live process, in MB; None once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def child_pids(pid: int) -> list[int]:
    """Direct children of ``pid`` (read from /proc, no extra dependency)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


class LabServer:
    """``with LabServer(root, port, env) as lab:`` serves ``root`` at ``lab.url`` until the block ends.

    ``app="notebook"`` serves Notebook 7 instead of JupyterLab (same server, same front-end components)."""

    def __init__(self, root: Path, port: int, env: dict[str, str], state_dir: Path, app: str = "jupyterlab"):
        self.root, self.port, self.env, self.state, self.app = root, port, env, state_dir, app
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen | None = None
        self.kernel_peaks_mb: dict[int, float] = {}
        self.server_peak_mb: float | None = None

    def __enter__(self) -> LabServer:
        settings_dir = self.state / "user-settings"
        for name, values in LAB_SETTINGS.items():
            path = settings_dir / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        env = dict(self.env)
        # Both apps read their settings and workspaces folders from these variables (jupyterlab_server).
        env.update(JUPYTER_CONFIG_DIR=str(self.state / "config"), JUPYTER_RUNTIME_DIR=str(self.state / "runtime"),
                   JUPYTERLAB_SETTINGS_DIR=str(settings_dir), JUPYTERLAB_WORKSPACES_DIR=str(self.state / "workspaces"))
        command = [
            sys.executable, "-m", self.app, "--no-browser", "--allow-root",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
            "--IdentityProvider.token=", "--ServerApp.password=",
            f"--ServerApp.root_dir={self.root}",
        ]
        self.log_path = self.state / f"{self.app}.log"
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.app} exited at start; log:\n{self.log_tail()}")
            if self._status_ok():
                return self
            time.sleep(0.3)
        self.__exit__(None, None, None)
        raise RuntimeError(f"{self.app} did not answer within 60 s; log:\n{self.log_tail()}")

    def _status_ok(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/api/status", timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def kernel_pids(self) -> list[int]:
        return child_pids(self.process.pid) if self.process else []

    def record_memory(self) -> None:
        """Remember the peak memory of the server and of every kernel it runs (call before shutting down)."""
        if self.process:
            self.server_peak_mb = peak_rss_mb(self.process.pid)
        for pid in self.kernel_pids():
            peak = peak_rss_mb(pid)
            if peak is not None:
                self.kernel_peaks_mb[pid] = peak

    def __exit__(self, *exc) -> None:
        """Shut the server down through its API (it stops its kernels), then make sure nothing is left."""
        if self.process is None or self.process.poll() is not None:
            return
        kernels = self.kernel_pids()
        request = urllib.request.Request(f"{self.url}/api/shutdown", method="POST", data=b"")
        try:
            urllib.request.urlopen(request, timeout=10).close()
        except (urllib.error.URLError, OSError):
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for pid in kernels:  # a kernel the server failed to stop must not outlive the test
            if Path(f"/proc/{pid}").exists():
                os.kill(pid, signal.SIGKILL)
        self.leftover_kernels = [pid for pid in kernels if Path(f"/proc/{pid}").exists()]


# ------------------------------------------------------------------------------------------ browser steps


def skip_without_chromium(what: str) -> None:
    """Skip, with a warning that stays visible in the summary, when Debian's Chromium is not installed."""
    if not CHROMIUM.exists():
        reason = (f"{CHROMIUM} not found: {what} did NOT run. Install Debian's Chromium "
                  "(`apt-get install -y chromium fonts-noto-cjk`; .ci/run does this) to run it.")
        warnings.warn(reason, stacklevel=2)
        pytest.skip(reason)


def wait_for(condition, timeout_s: float, what: str, poll_s: float = 0.1):
    """Poll ``condition`` until it returns something true (returned), or fail naming ``what``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(poll_s)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


def open_notebook(page, lab: LabServer, relative_path: str, timeout_s: float = 90) -> None:
    """Open a notebook in a fresh workspace and wait until its kernel exists (else Run All is ignored)."""
    page.goto(f"{lab.url}/lab/tree/{relative_path}?reset", wait_until="domcontentloaded")
    page.wait_for_selector(f"{VISIBLE_NOTEBOOK} .jp-Cell", timeout=timeout_s * 1000)
    kernel_name = page.locator(f"{VISIBLE_NOTEBOOK} .jp-Toolbar-kernelName").first
    # On a fresh server the indicator says "idle" while the name still says "No Kernel": wait for both.
    indicator = page.locator(f"{VISIBLE_NOTEBOOK} .jp-Notebook-ExecutionIndicator").first
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        name = kernel_name.inner_text().strip() if kernel_name.count() else ""
        if name and "No Kernel" not in name and indicator.get_attribute("data-status") == "idle":
            return
        time.sleep(0.3)
    raise AssertionError(f"the kernel of {relative_path} did not come up within {timeout_s:.0f} s")


def run_all(page) -> None:
    """Menu Run -> Run All Cells, the way a learner does it."""
    page.locator(".lm-MenuBar-item", has_text="Run").first.click()
    page.locator(".lm-Menu-item[data-command='runmenu:run-all']").click()


def wait_until_executed(page, timeout_s: float) -> list[str]:
    """Wait until no code cell is queued or running; returns every code cell's prompt text."""
    prompts = page.locator(f"{VISIBLE_NOTEBOOK} .jp-CodeCell .jp-InputPrompt")
    deadline = time.monotonic() + timeout_s
    seen_busy = False
    texts: list[str] = []
    while time.monotonic() < deadline:
        texts = [text.strip() for text in prompts.all_inner_texts()]
        busy = any("*" in text for text in texts)
        seen_busy = seen_busy or busy
        if texts and not busy and (seen_busy or all(re.search(r"\d", text) for text in texts)):
            return texts
        time.sleep(0.5)
    raise AssertionError(f"cells still running after {timeout_s:.0f} s: prompts {texts}")


def save_notebook(page, notebook_file: Path, timeout_s: float = 30) -> dict:
    """Save the open notebook (autosave is off) and return the saved JSON, to read outputs exactly."""
    before = notebook_file.stat().st_mtime_ns
    page.locator(f"{VISIBLE_NOTEBOOK} .jp-Notebook").first.click(position={"x": 5, "y": 5})
    page.keyboard.press("Control+s")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if notebook_file.stat().st_mtime_ns != before:
            time.sleep(0.3)  # let the write finish
            return json.loads(notebook_file.read_text(encoding="utf-8"))
        time.sleep(0.2)
    raise AssertionError(f"{notebook_file.name} was not saved within {timeout_s:.0f} s")


def execution_problems(notebook: dict) -> list[str]:
    """Code cells that did not run, and error outputs, in a saved notebook."""
    problems = []
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "code" or not "".join(cell["source"]).strip():
            continue
        if cell.get("execution_count") is None:
            problems.append(f"cell {index} did not run")
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                problems.append(f"cell {index} raised {output.get('ename')}: {output.get('evalue')}")
    return problems
