"""What Glimmer leaves on disk and in its log, with the real binary and a normal umask (022):
- the data directory is 0750, the staging directory 0700, glimmer.db and its -wal/-shm 0600,
  openrc-admin 0600 from its creation; looser ones left by older versions are tightened at start
  (and logged); openrc-admin can be sourced whatever the password holds (a ', a $, ...);
- a generated admin password is shown once on the terminal and never logged."""
import os
import pathlib
import pty
import select
import signal
import stat
import subprocess
import threading
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


# ----------------------------------------------------------------------------- F10
def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_data_directory_files_are_private(tmp_path):
    data, log = tmp_path / "data", tmp_path / "server.log"
    seen = set()  # every mode openrc-admin (or its temporary file) was observed with
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            for name in ("openrc-admin", "openrc-admin.tmp"):
                try:
                    seen.add((name, _mode(data / name)))
                except OSError:
                    pass

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        proc, _ = _start(data, log, env_extra={"GLIMMER_ADMIN_PASSWORD": "Pw-" + "x" * 12})
    finally:
        stop.set()
        watcher.join()
    try:
        assert _mode(data) == 0o750
        assert _mode(data / "staging") == 0o700
        assert _mode(data / "openrc-admin") == 0o600
        assert not (data / "openrc-admin.tmp").exists()
        assert {mode for _, mode in seen} <= {0o600}, seen
        if not lib.distributed():
            for name in ("glimmer.db", "glimmer.db-wal", "glimmer.db-shm"):
                assert _mode(data / name) == 0o600, name
            assert _mode(data / "images") == 0o750  # the file store's (group-readable) layout
    finally:
        _stop(proc)


def test_looser_modes_from_before_are_tightened_and_logged(tmp_path):
    data, log = tmp_path / "data", tmp_path / "server.log"
    data.mkdir()
    os.chmod(data, 0o755)
    (data / "staging").mkdir()
    os.chmod(data / "staging", 0o777)
    if not lib.distributed():
        (data / "glimmer.db").touch()  # an empty file is a new database to SQLite
        os.chmod(data / "glimmer.db", 0o644)
    proc, _ = _start(data, log, env_extra={"GLIMMER_ADMIN_PASSWORD": "Pw-" + "y" * 12})
    _stop(proc)
    assert _mode(data) == 0o750
    assert _mode(data / "staging") == 0o700
    text = log.read_text()
    assert f"tightened the permissions of {data} from 0755 to 0750" in text
    assert f"tightened the permissions of {data / 'staging'} from 0777 to 0700" in text
    if not lib.distributed():
        assert _mode(data / "glimmer.db") == 0o600
        assert f"tightened the permissions of {data / 'glimmer.db'} from 0644 to 0600" in text
    # Nothing more to do at the next start.
    proc, _ = _start(data, log, env_extra={"GLIMMER_ADMIN_PASSWORD": "Pw-" + "y" * 12})
    _stop(proc)
    assert log.read_text().count("tightened the permissions") == text.count(
        "tightened the permissions")


def test_openrc_can_be_sourced_whatever_the_password_holds(tmp_path):
    password = "it's \"quoted\" $HOME `id` \\ ; end'"
    data, log = tmp_path / "data", tmp_path / "server.log"
    proc, port = _start(data, log, env_extra={"GLIMMER_ADMIN_PASSWORD": password})
    try:
        out = subprocess.run(["/bin/bash", "-c", 'source "$1" && printf %s "$OS_PASSWORD"', "-",
                              str(data / "openrc-admin")],
                             capture_output=True, text=True, timeout=30, check=True).stdout
        assert out == password
        env = lib.parse_openrc(data / "openrc-admin")
        assert env["OS_PASSWORD"] == password
        env["OS_AUTH_URL"] = f"http://127.0.0.1:{port}/identity/v3"
        assert lib.issue_token(env).status_code == 201
    finally:
        _stop(proc)
