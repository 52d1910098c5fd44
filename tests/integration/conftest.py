"""Integration-test fixtures: the real Glimmer binary (or an external Glance+Keystone),
principals in several projects provisioned through the real `openstack` CLI, and raw
HTTP helpers.

Targets:
  default      start $GLIMMER_BIN (default build/glimmer) on a free loopback port with a
               temporary data dir; stop it with SIGTERM (then SIGKILL) at the end.
  external     GLIMMER_TEST_TARGET_OPENRC=/tmp/glance-reference/openrc-admin runs the
               HTTP/CLI tests against that cloud instead (e.g. the real Glance from
               /work/shared/glance-reference); tests marked glimmer_only are skipped.
"""
import dataclasses
import json
import os
import uuid

import pytest

import glimmer_testlib as lib
from glimmer_testlib import Api, GlimmerServer, run_cli  # noqa: F401  (re-exported)

EXTERNAL_OPENRC = os.environ.get("GLIMMER_TEST_TARGET_OPENRC")
EXTERNAL = bool(EXTERNAL_OPENRC)
_STARTED_SERVERS = []


def pytest_configure(config):
    config.addinivalue_line("markers", "glimmer_only: needs a Glimmer process of its own "
                            "(skipped with GLIMMER_TEST_TARGET_OPENRC)")


def pytest_collection_modifyitems(config, items):
    if not EXTERNAL:
        return
    skip = pytest.mark.skip(reason="Glimmer-only test (external target)")
    for item in items:
        if "glimmer_only" in item.keywords:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not terminalreporter.stats.get("failed") and not terminalreporter.stats.get("error"):
        return
    for srv in _STARTED_SERVERS:
        terminalreporter.write_sep("=", f"glimmer log {srv.log_path} (last 80 lines)")
        terminalreporter.write_line(srv.log_tail(80))


# ----------------------------------------------------------------------------- servers
@pytest.fixture(scope="session")
def glimmer_factory(tmp_path_factory):
    """make(name, extra_args=(), extra_env=None, start=True) -> GlimmerServer; all are stopped
    (SIGTERM, then SIGKILL) at session end. Data dir and log live in separate folders so that
    the data dir only holds what the server writes."""
    made = []

    def make(name, extra_args=(), extra_env=None, start=True):
        root = tmp_path_factory.mktemp(name)
        srv = GlimmerServer(root / "data", root / "server.log", extra_args=extra_args,
                            extra_env=extra_env)
        made.append(srv)
        _STARTED_SERVERS.append(srv)
        if start:
            srv.start()
        return srv

    yield make
    for srv in made:
        srv.stop()


@pytest.fixture(scope="session")
def server(glimmer_factory):
    """The shared Glimmer process (None when targeting an external endpoint)."""
    if EXTERNAL:
        return None
    return glimmer_factory("main")


@pytest.fixture(scope="session")
def admin_env(server):
    if EXTERNAL:
        return lib.parse_openrc(EXTERNAL_OPENRC)
    env = server.openrc()
    return env


# ----------------------------------------------------------------------------- principals
@dataclasses.dataclass
class Principal:
    name: str
    env: dict
    project_id: str
    user_id: str
    roles: list
    token: str
    base_url: str
    api: Api

    def new_api(self, token=True):
        return Api(self.base_url, self.token if token else None)


def make_principal(env):
    token, body = lib.token_and_body(env)
    base = lib.image_endpoint(body, env)
    return Principal(name=env["OS_USERNAME"], env=env, project_id=body["project"]["id"],
                     user_id=body["user"]["id"], roles=[r["name"] for r in body["roles"]],
                     token=token, base_url=base, api=Api(base, token))


@pytest.fixture(scope="session")
def admin(admin_env):
    return make_principal(admin_env)


def _json(out):
    return json.loads(out)


@pytest.fixture(scope="session")
def accounts(admin_env, admin):
    """Two extra projects, each with a `member` user, and a `reader` user in the first one,
    created as admin through the real `openstack` CLI (8 CLI calls)."""
    sfx = uuid.uuid4().hex[:6]
    pw = "Pw-" + uuid.uuid4().hex[:10]
    spec = {"member1": (f"gt-p1-{sfx}", f"gt-m1-{sfx}", "member"),
            "member2": (f"gt-p2-{sfx}", f"gt-m2-{sfx}", "member"),
            "reader1": (f"gt-p1-{sfx}", f"gt-r1-{sfx}", "reader")}
    projects = {}
    for proj, _, _ in spec.values():
        if proj not in projects:
            out = run_cli(admin_env, "openstack", "project", "create", "-f", "json",
                          "--description", "glimmer integration tests", proj)
            projects[proj] = _json(out)["id"]
    users = {}
    for key, (proj, user, role) in spec.items():
        out = run_cli(admin_env, "openstack", "user", "create", "-f", "json", "--password", pw, user)
        users[user] = _json(out)["id"]
        run_cli(admin_env, "openstack", "role", "add", "--project", proj, "--user", user, role)
    result = {}
    for key, (proj, user, role) in spec.items():
        env = {k: v for k, v in admin_env.items() if k != "OS_PROJECT_ID"}
        env.update(OS_USERNAME=user, OS_PASSWORD=pw, OS_PROJECT_NAME=proj,
                   OS_USER_DOMAIN_NAME="Default", OS_PROJECT_DOMAIN_NAME="Default")
        p = make_principal(env)
        assert p.project_id == projects[proj]
        assert p.user_id == users[user]
        result[key] = p
    yield result
    if EXTERNAL:
        # Leave the external cloud as we found it: images of our projects, users, projects.
        for p in (result["member1"], result["member2"]):
            r = admin.api.get("/v2/images", params={"owner": p.project_id, "limit": 1000})
            r2 = admin.api.get("/v2/images", params={"owner": p.project_id, "limit": 1000,
                                                     "os_hidden": "true"})
            for img in r.json().get("images", []) + r2.json().get("images", []):
                if img.get("protected"):
                    admin.api.patch_image(img["id"], [{"op": "replace", "path": "/protected",
                                                       "value": False}])
                admin.api.delete(f"/v2/images/{img['id']}")
        run_cli(admin_env, "openstack", "user", "delete", *users.keys())
        run_cli(admin_env, "openstack", "project", "delete", *projects.keys())


@pytest.fixture(scope="session")
def member1(accounts):
    return accounts["member1"]


@pytest.fixture(scope="session")
def member2(accounts):
    return accounts["member2"]


@pytest.fixture(scope="session")
def reader1(accounts):
    return accounts["reader1"]


@pytest.fixture
def uname(request):
    """A unique, readable name for objects a test creates."""
    counter = iter(range(1000))
    base = request.node.name.replace("[", "-").replace("]", "")[:40]

    def make(tag=""):
        return f"{base}-{tag}{next(counter)}-{uuid.uuid4().hex[:6]}"
    return make
