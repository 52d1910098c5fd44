"""What Glimmer leaves on disk and in its log, with the real binary and a normal umask (022):
a generated admin password is shown once on the terminal and never logged."""
import os
import pathlib
import pty
import select
import signal
import subprocess
import time

import pytest
import requests

import glimmer_testlib as lib

pytestmark = pytest.mark.glimmer_only


def _start(data_dir, log_path, stderr=None, env_extra=None, port=None):
    """`glimmer serve` with stdout to `log_path`, stderr to `stderr` (default: the log too),
    umask 022, no GLIMMER_ADMIN_PASSWORD; returns (process, port) once it answers."""
    port = port or lib.free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "GLIMMER_"))}
    env.update(lib.backend_env(data_dir))
    env.update(env_extra or {})
    log = open(log_path, "ab")
    proc = subprocess.Popen(
        [lib.glimmer_bin(), "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", str(data_dir)],
        stdout=log, stderr=stderr if stderr is not None else subprocess.STDOUT,
        stdin=subprocess.DEVNULL, env=env, preexec_fn=lambda: os.umask(0o022))
    log.close()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, pathlib.Path(log_path).read_text()
        try:
            if requests.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 300:
                return proc, port
        except requests.RequestException:
            pass
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("glimmer did not start:\n" + pathlib.Path(log_path).read_text())


def _stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# ----------------------------------------------------------------------------- F11
def test_generated_password_is_not_logged_without_a_terminal(tmp_path):
    data, log = tmp_path / "data", tmp_path / "server.log"
    proc, port = _start(data, log)
    try:
        password = lib.parse_openrc(data / "openrc-admin")["OS_PASSWORD"]
        assert len(password) >= 16
        env = lib.parse_openrc(data / "openrc-admin")
        env["OS_AUTH_URL"] = f"http://127.0.0.1:{port}/identity/v3"
        assert lib.issue_token(env).status_code == 201
    finally:
        _stop(proc)
    text = log.read_text()
    assert password not in text
    assert "password was generated" in text and str(data / "openrc-admin") in text


def test_generated_password_is_shown_once_on_a_terminal(tmp_path):
    """stderr on a terminal (stdout, the log, to a file): the password is written there, and
    only there."""
    data, log = tmp_path / "data", tmp_path / "server.log"
    master, slave = pty.openpty()
    try:
        proc, _ = _start(data, log, stderr=slave)
        try:
            password = lib.parse_openrc(data / "openrc-admin")["OS_PASSWORD"]
            shown = b""
            deadline = time.monotonic() + 10
            while password.encode() not in shown and time.monotonic() < deadline:
                if select.select([master], [], [], 0.2)[0]:
                    shown += os.read(master, 4096)
            assert password.encode() in shown, shown
            assert b"shown once" in shown
        finally:
            _stop(proc)
    finally:
        os.close(master)
        os.close(slave)
    text = log.read_text()
    assert password not in text
    assert "shown on the terminal" in text
    # A restart generates nothing and shows nothing.
    proc, _ = _start(data, log)
    _stop(proc)
    assert password not in log.read_text()
    assert log.read_text().count("password was generated") == 1
