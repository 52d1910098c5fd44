"""Configuration of the real binary (Glimmer only): Glance option names in an INI file given with
--config, GLIMMER_<SECTION>__<OPTION> environment overrides, and start-up validation."""
import subprocess

import pytest

import glimmer_testlib as lib
from conftest import make_principal

pytestmark = pytest.mark.glimmer_only

CAP = 1 << 20


@pytest.fixture(scope="module", params=["config-file", "env"])
def capped(request, glimmer_factory, tmp_path_factory):
    if request.param == "config-file":
        conf = tmp_path_factory.mktemp("conf") / "glimmer.conf"
        conf.write_text(f"[DEFAULT]\nimage_size_cap = {CAP}\n")
        srv = glimmer_factory("capped-file", extra_args=["--config", str(conf)])
    else:
        srv = glimmer_factory("capped-env", extra_env={"GLIMMER_DEFAULT__IMAGE_SIZE_CAP": str(CAP)})
    return make_principal(srv.admin_env())


def _queued_without_data(api, iid):
    img = api.image(iid)
    assert img["status"] == "queued" and img["size"] is None and img["checksum"] is None, img


@pytest.mark.parametrize("mode", ["content-length", "chunked", "chunked+hint", "hint-only"])
def test_image_size_cap_is_413_and_image_stays_queued(capped, mode):
    api = capped.api
    iid = api.create_image(name=f"cap-{mode}", disk_format="raw", container_format="bare")["id"]
    big = b"z" * (CAP + 1)
    if mode == "content-length":
        api.upload(iid, big, expect=413)
    elif mode == "chunked":
        api.upload(iid, iter([big[:4096], big[4096:]]), expect=413)
    elif mode == "chunked+hint":
        api.upload(iid, iter([big]), expect=413, headers={"x-openstack-image-size": str(CAP + 1)})
    else:  # the hint alone already exceeds the cap: refused before any data is stored
        api.upload(iid, b"small", expect=413, headers={"x-openstack-image-size": str(CAP + 1)})
    _queued_without_data(api, iid)
    exact = b"e" * CAP  # the cap itself is allowed
    api.upload(iid, exact)
    img = api.image(iid)
    assert img["status"] == "active" and img["size"] == CAP


def test_unknown_option_is_reported_at_start_up(tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text("[DEFAULT]\nno_such_option_xyz = 1\n")
    p = subprocess.run([lib.glimmer_bin(), "serve", "--listen", f"127.0.0.1:{lib.free_port()}",
                        "--data-dir", str(tmp_path / "d"), "--config", str(conf)],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode != 0
    assert "no_such_option_xyz" in p.stdout + p.stderr


def test_bad_value_is_reported_at_start_up(tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text("[DEFAULT]\nimage_size_cap = lots\n")
    p = subprocess.run([lib.glimmer_bin(), "serve", "--listen", f"127.0.0.1:{lib.free_port()}",
                        "--data-dir", str(tmp_path / "d"), "--config", str(conf)],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode != 0
    assert "image_size_cap" in p.stdout + p.stderr


@pytest.mark.parametrize("argv", [["--help"], ["serve", "--help"]])
def test_help(argv):
    p = subprocess.run([lib.glimmer_bin(), *argv], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0
    assert "--listen" in p.stdout or argv == ["--help"]
    assert "serve" in p.stdout


def test_sqlite_database_elsewhere(glimmer_factory, tmp_path):
    """[database] connection = sqlite:////abs/path: the metadata lives there, not in the data
    directory, and survives a restart."""
    db = tmp_path / "meta" / "glance.sqlite"
    db.parent.mkdir()
    srv = glimmer_factory("sqlite-elsewhere",
                          extra_env={"GLIMMER_DATABASE__CONNECTION": f"sqlite:///{db}"})
    api = make_principal(srv.admin_env()).api
    iid = api.create_image(name="elsewhere")["id"]
    assert db.exists() and not (srv.data_dir / "glimmer.db").exists()
    srv.stop()
    srv.start()
    assert make_principal(srv.admin_env()).api.image(iid)["name"] == "elsewhere"
