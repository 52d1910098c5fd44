"""Metadata definitions (/v2/metadefs, issue 13 item 3) against the real server over HTTP, the
real `glance` CLI, and `glimmer metadefs load` of the namespace files Debian's glance-common
ships (fetched by scripts/fetch-glance-metadefs.sh, never installed)."""
import json
import os
import pathlib
import subprocess
import uuid

import pytest

import glimmer_testlib as lib
from glimmer_testlib import run_cli

pytestmark = pytest.mark.glimmer_only

REPO = pathlib.Path(__file__).resolve().parents[2]
NS = "/v2/metadefs/namespaces"


@pytest.fixture(scope="module")
def debian_dir():
    out = subprocess.run([str(REPO / "scripts" / "fetch-glance-metadefs.sh")], check=True,
                         capture_output=True, text=True, timeout=300).stdout
    path = pathlib.Path(out.strip().splitlines()[-1])
    assert len(list(path.glob("*.json"))) == 33
    return path


def run_load(server, path, ok=True):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "GLIMMER_"))}
    env.update(lib.backend_env(server.data_dir))
    argv = [lib.glimmer_bin(), "metadefs", "load", "--data-dir", str(server.data_dir), str(path)]
    p = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300,
                       stdin=subprocess.DEVNULL)
    if ok:
        assert p.returncode == 0, f"{argv}: {p.returncode}\n{p.stdout}\n{p.stderr}"
    else:
        assert p.returncode != 0, p.stdout
    return p


@pytest.fixture(scope="module")
def loaded(server, debian_dir):
    p = run_load(server, debian_dir)
    return {json.loads(f.read_text())["namespace"]: json.loads(f.read_text())
            for f in debian_dir.glob("*.json")}, p.stdout


def names(api, **params):
    params.setdefault("limit", 1000)
    r = api.get(NS, params=params)
    assert r.status_code == 200, r.text
    return [n["namespace"] for n in r.json()["namespaces"]]


def new_ns(admin, uname, expect=201, **fields):
    body = {"namespace": uname("ns"), **fields}
    r = admin.api.post(NS, json=body)
    assert r.status_code == expect, r.text
    return r.json() if r.status_code == 201 else r


# ------------------------------------------------------------------ the Debian set
def test_debian_set_loads_and_lists(loaded, admin, member1):
    files, out = loaded
    assert len(files) == 33
    seen = set(names(admin.api))
    assert set(files) <= seen
    public = {n for n, f in files.items() if f.get("visibility") == "public"}
    assert len(public) == 31
    assert set(names(member1.api)) & set(files) == public
    assert {n: n in seen for n in files} == {n: True for n in files}


def test_debian_reload_skips(server, loaded, debian_dir, admin):
    p = run_load(server, debian_dir)
    assert "0 namespaces loaded, 33 skipped" in p.stdout
    assert len(set(names(admin.api)) & set(loaded[0])) == 33


def test_debian_namespace_content_and_resource_types(loaded, admin, member1):
    files, _ = loaded
    r = member1.api.get(f"{NS}/OS::Compute::CPUPinning")
    assert r.status_code == 200, r.text
    body = r.json()
    want = files["OS::Compute::CPUPinning"]
    assert set(body["properties"]) == set(want["properties"])
    assert {a["name"] for a in body["resource_type_associations"]} == \
        {a["name"] for a in want["resource_type_associations"]}
    assert body["self"] == f"{NS}/OS::Compute::CPUPinning"
    assert body["schema"] == "/v2/schemas/metadefs/namespace"
    # Hidden (no visibility in the file): admin only.
    assert member1.api.get(f"{NS}/OS::OperatingSystem").status_code == 404
    assert admin.api.get(f"{NS}/OS::OperatingSystem").status_code == 200
    rts = {t["name"] for t in member1.api.get("/v2/metadefs/resource_types").json()[
        "resource_types"]}
    assert {"OS::Glance::Image", "OS::Nova::Flavor", "OS::Cinder::Volume"} <= rts


def test_horizon_resource_types_filter(loaded, member1):
    files, _ = loaded
    want = {n for n, f in files.items() if f.get("visibility") == "public" and any(
        a["name"] == "OS::Glance::Image" for a in f.get("resource_type_associations", []))}
    r = member1.api.get(NS, params={"resource_types": "OS::Glance::Image", "limit": 1000})
    assert r.status_code == 200
    got = {n["namespace"] for n in r.json()["namespaces"]}
    assert got & set(files) == want
    for n in r.json()["namespaces"]:
        assert any(a["name"] == "OS::Glance::Image" for a in n["resource_type_associations"])


def test_resource_type_prefix(loaded, member1):
    # OS::Compute::Hypervisor's properties carry the "hw_" prefix... find one that has a prefix.
    files, _ = loaded
    ns, prefix = next((n, a["prefix"]) for n, f in sorted(files.items())
                      if f.get("visibility") == "public"
                      for a in f.get("resource_type_associations", [])
                      if a["name"] == "OS::Glance::Image" and a.get("prefix")
                      and f.get("properties"))
    prop = sorted(files[ns]["properties"])[0]
    r = member1.api.get(f"{NS}/{ns}", params={"resource_type": "OS::Glance::Image"})
    assert prefix + prop in r.json()["properties"]
    r = member1.api.get(f"{NS}/{ns}/properties/{prefix}{prop}",
                        params={"resource_type": "OS::Glance::Image"})
    assert r.status_code == 200, r.text
    assert r.json()["name"] == prop
    r = member1.api.get(f"{NS}/{ns}/properties/{prop}",
                        params={"resource_type": "OS::Glance::Image"})
    assert r.status_code == 404


def test_load_bad_file_fails_naming_it(server, tmp_path, admin):
    name = "Bad::" + uuid.uuid4().hex[:6]
    (tmp_path / "bad.json").write_text(json.dumps(
        {"namespace": name, "properties": {"x": {"title": "X"}}}))
    p = run_load(server, tmp_path, ok=False)
    assert "bad.json" in p.stderr and "'type' is a required property" in p.stderr
    assert admin.api.get(f"{NS}/{name}").status_code == 404


# ------------------------------------------------------------------ namespaces
def test_namespace_crud_and_conflict(admin, uname):
    ns = new_ns(admin, uname, description="d", visibility="public", protected=False,
                properties={"p": {"title": "P", "type": "string"}},
                objects=[{"name": "o", "properties": {"q": {"title": "Q", "type": "integer"}}}],
                tags=[{"name": "t"}], resource_type_associations=[{"name": "OS::Glance::Image",
                                                                   "prefix": "x_"}])
    name = ns["namespace"]
    assert ns["owner"] == admin.project_id and ns["visibility"] == "public"
    assert ns["self"] == f"{NS}/{name}"
    r = admin.api.post(NS, json={"namespace": name})
    assert r.status_code == 409
    assert f"namespace={name} already exists" in r.text
    got = admin.api.get(f"{NS}/{name}").json()
    assert got["properties"]["p"]["type"] == "string"
    assert got["objects"][0]["name"] == "o" and got["tags"] == [{"name": "t"}]
    r = admin.api.put(f"{NS}/{name}", json={"namespace": name + "-2", "description": "e"})
    assert r.status_code == 200, r.text
    assert r.json()["visibility"] == "private" and r.json()["description"] == "e"
    assert admin.api.get(f"{NS}/{name}").status_code == 404
    assert admin.api.delete(f"{NS}/{name}-2").status_code == 204
    assert admin.api.get(f"{NS}/{name}-2").status_code == 404
    assert admin.api.delete(f"{NS}/{name}-2").status_code == 404


def test_namespace_validation(admin, uname):
    for body, code in [({"namespace": "x" * 81}, 400), ({}, 400), ({"namespace": 5}, 400),
                       ({"namespace": uname(), "visibility": "shared"}, 400),
                       ({"namespace": uname(), "bogus": 1}, 400),
                       ({"namespace": uname(), "self": "/x"}, 403),
                       ({"namespace": uname(), "created_at": "x"}, 403),
                       ({"namespace": uname(), "properties": {"p": {"title": "t"}}}, 400)]:
        r = admin.api.post(NS, json=body)
        assert r.status_code == code, (body, r.text)
    assert admin.api.post(NS, data=b"{bad", headers={"Content-Type": "application/json"}
                          ).status_code == 400
    assert admin.api.post(NS, data=b"[" * 10000 + b"]" * 10000,
                          headers={"Content-Type": "application/json"}).status_code == 400
    assert admin.api.post(NS, data=b'{"namespace": "\xff\xfe"}',
                          headers={"Content-Type": "application/json"}).status_code == 400
    r = admin.api.post(NS, json={"namespace": "n" * 81}, headers={"Accept": "application/json"})
    assert "is too long" in r.json()["message"]


def test_protected_namespace(admin, uname):
    name = new_ns(admin, uname, protected=True, tags=[{"name": "t"}],
                  properties={"p": {"title": "P", "type": "string"}})["namespace"]
    r = admin.api.delete(f"{NS}/{name}", headers={"Accept": "application/json"})
    assert r.status_code == 403
    assert "is protected and cannot be deleted" in r.json()["message"]
    for sub in ("properties/p", "tags/t", "properties", "tags", "objects"):
        assert admin.api.delete(f"{NS}/{name}/{sub}").status_code == 403, sub
    assert admin.api.put(f"{NS}/{name}", json={"namespace": name}).status_code == 200
    assert admin.api.delete(f"{NS}/{name}/tags/t").status_code == 204
    assert admin.api.delete(f"{NS}/{name}").status_code == 204


def test_visibility_and_admin_only_writes(admin, member1, member2, reader1, uname):
    priv = new_ns(admin, uname, visibility="private", owner=member1.project_id)["namespace"]
    pub = new_ns(admin, uname, visibility="public")["namespace"]
    for who in (member1, reader1):
        assert who.api.get(f"{NS}/{priv}").status_code == 200
        assert priv in names(who.api)
    assert member2.api.get(f"{NS}/{priv}").status_code == 404
    assert priv not in names(member2.api)
    assert pub in names(member2.api)
    assert priv not in names(member1.api, visibility="public")
    for who in (member1, reader1):
        assert who.api.post(NS, json={"namespace": uname()}).status_code == 403
        assert who.api.put(f"{NS}/{priv}", json={"namespace": priv}).status_code == 403
        assert who.api.delete(f"{NS}/{priv}").status_code == 403
        assert who.api.post(f"{NS}/{pub}/tags/x").status_code == 403
        assert who.api.post(f"{NS}/{pub}/properties",
                            json={"name": "a", "title": "A", "type": "string"}).status_code == 403
        assert who.api.post(f"{NS}/{pub}/objects", json={"name": "a"}).status_code == 403
        assert who.api.post(f"{NS}/{pub}/resource_types",
                            json={"name": "OS::Nova::Flavor"}).status_code == 403
    # Invisible namespace: 404 for writes too.
    assert member2.api.delete(f"{NS}/{priv}").status_code == 404
    assert member2.api.get(f"{NS}/{priv}/properties").status_code == 404


def test_list_paging_and_params(admin, uname):
    tag = uuid.uuid4().hex[:6]
    created = [admin.api.post(NS, json={"namespace": f"page-{tag}-{i}", "visibility": "public"})
               for i in range(5)]
    assert all(r.status_code == 201 for r in created)
    ours = [f"page-{tag}-{i}" for i in range(5)]
    seen, url, pages = [], f"{NS}?limit=2&sort_key=namespace&sort_dir=asc", 0
    while url:
        body = admin.api.get(url).json()
        assert body["schema"] == "/v2/schemas/metadefs/namespaces"
        assert "marker" not in body["first"]
        seen += [n["namespace"] for n in body["namespaces"]]
        url = body.get("next")
        pages += 1
        assert pages < 1000
    assert [n for n in seen if n in ours] == ours
    assert seen == sorted(seen)
    for params in ({"limit": "x"}, {"limit": "-1"}, {"sort_dir": "up"},
                   {"visibility": "shared"}):
        assert admin.api.get(NS, params=params).status_code == 400, params
    assert admin.api.get(NS, params={"marker": "no-such-" + tag}).status_code == 404
    assert admin.api.get(NS, params={"limit": 0}).json()["namespaces"] == []


# ------------------------------------------------------------------ contents
def test_properties_objects_tags_associations(admin, reader1, uname):
    name = new_ns(admin, uname, visibility="public")["namespace"]
    base = f"{NS}/{name}"
    prop = {"name": "cpu", "title": "CPU", "type": "integer", "minimum": 1}
    r = admin.api.post(f"{base}/properties", json=prop)
    assert r.status_code == 201 and r.json()["name"] == "cpu", r.text
    assert admin.api.post(f"{base}/properties", json=prop).status_code == 409
    assert admin.api.post(f"{base}/properties", json={"name": "x", "title": "X",
                                                      "type": "bogus"}).status_code == 400
    assert admin.api.post(f"{base}/properties", json={"name": "y" * 81, "title": "X",
                                                      "type": "string"}).status_code == 400
    assert reader1.api.get(f"{base}/properties").json()["properties"]["cpu"]["minimum"] == 1
    r = admin.api.put(f"{base}/properties/cpu", json={**prop, "name": "cpus"})
    assert r.status_code == 200
    assert admin.api.get(f"{base}/properties/cpu").status_code == 404
    assert reader1.api.get(f"{base}/properties/cpus").json()["title"] == "CPU"
    assert admin.api.delete(f"{base}/properties/cpus").status_code == 204
    assert admin.api.delete(f"{base}/properties/cpus").status_code == 404

    obj = {"name": "o1", "description": "d", "required": ["a"],
           "properties": {"a": {"title": "A", "type": "string"}}}
    r = admin.api.post(f"{base}/objects", json=obj)
    assert r.status_code == 201, r.text
    assert r.json()["self"] == f"{base}/objects/o1"
    assert admin.api.post(f"{base}/objects", json=obj).status_code == 409
    assert admin.api.post(f"{base}/objects", json={**obj, "schema": "x"}).status_code == 403
    body = reader1.api.get(f"{base}/objects").json()
    assert [o["name"] for o in body["objects"]] == ["o1"]
    r = admin.api.put(f"{base}/objects/o1", json={"name": "o1", "description": "e"})
    assert r.status_code == 200 and r.json()["description"] == "e"
    assert admin.api.delete(f"{base}/objects/o1").status_code == 204
    assert admin.api.get(f"{base}/objects/o1").status_code == 404

    # Tags: single create (201), bulk replace, bulk append (X-Openstack-Append), rename.
    assert admin.api.post(f"{base}/tags/one").status_code == 201
    assert admin.api.post(f"{base}/tags/one").status_code == 409
    r = admin.api.post(f"{base}/tags", json={"tags": [{"name": "a"}, {"name": "b"}]})
    assert r.status_code == 201 and r.json() == {"tags": [{"name": "a"}, {"name": "b"}]}
    tags = lambda: sorted(t["name"] for t in reader1.api.get(f"{base}/tags").json()["tags"])  # noqa
    assert tags() == ["a", "b"]
    r = admin.api.post(f"{base}/tags", json={"tags": [{"name": "c"}]},
                       headers={"X-Openstack-Append": "True"})
    assert r.status_code == 201 and tags() == ["a", "b", "c"]
    assert admin.api.post(f"{base}/tags", json={"tags": [{"name": "d"}, {"name": "d"}]},
                          headers={"X-Openstack-Append": "true"}).status_code == 409
    assert tags() == ["a", "b", "c"]
    r = admin.api.put(f"{base}/tags/a", json={"name": "z"})
    assert r.status_code == 200 and r.json()["name"] == "z"
    assert reader1.api.get(f"{base}/tags/z").status_code == 200
    assert admin.api.delete(f"{base}/tags").status_code == 204
    assert tags() == []

    # Resource-type associations.
    r = admin.api.post(f"{base}/resource_types", json={"name": "OS::Glance::Image",
                                                       "prefix": "p_"})
    assert r.status_code == 201 and r.json()["prefix"] == "p_"
    assert admin.api.post(f"{base}/resource_types",
                          json={"name": "OS::Glance::Image"}).status_code == 409
    assoc = reader1.api.get(f"{base}/resource_types").json()["resource_type_associations"]
    assert [a["name"] for a in assoc] == ["OS::Glance::Image"]
    assert admin.api.delete(f"{base}/resource_types/OS::Glance::Image").status_code == 204
    assert admin.api.delete(f"{base}/resource_types/OS::Glance::Image").status_code == 404


@pytest.mark.parametrize("method,path,allow", [
    ("PATCH", "", "GET, POST"),
    ("PATCH", "/{ns}", "GET, PUT, DELETE"),
    ("PUT", "/{ns}/properties", "GET, POST, DELETE"),
    ("POST", "/{ns}/properties/p", "GET, PUT, DELETE"),
    ("PATCH", "/{ns}/tags/t", "GET, POST, PUT, DELETE"),
    ("DELETE", "/{ns}/resource_types", "GET, POST"),
    ("GET", "/{ns}/resource_types/x", "DELETE"),
])
def test_other_methods_405(admin, method, path, allow):
    name = new_ns(admin, lambda tag="": "m405-" + uuid.uuid4().hex[:8])["namespace"]
    r = admin.api.request(method, NS + path.format(ns=name))
    assert r.status_code == 405, r.text
    assert r.headers["Allow"] == allow
    r = admin.api.request("POST", "/v2/metadefs/resource_types")
    assert r.status_code == 405 and r.headers["Allow"] == "GET"


def test_schemas_served(admin):
    for name in ("namespace", "namespaces", "object", "objects", "property", "properties",
                 "tag", "tags", "resource_type", "resource_types"):
        assert admin.api.get(f"/v2/schemas/metadefs/{name}").status_code == 200, name


# ------------------------------------------------------------------ the real glance CLI
def test_glance_cli(loaded, admin_env, member1):
    out = run_cli(admin_env, "glance", "md-namespace-list")
    assert "OS::Compute::CPUPinning" in out and "OS::OperatingSystem" in out
    out = run_cli(member1.env, "glance", "md-namespace-list")
    assert "OS::Compute::CPUPinning" in out and "OS::OperatingSystem" not in out
    out = run_cli(admin_env, "glance", "md-namespace-show", "OS::Compute::CPUPinning")
    assert "hw_cpu_policy" in out or "cpu_policy" in out
    out = run_cli(admin_env, "glance", "md-resource-type-list")
    assert "OS::Glance::Image" in out
    out = run_cli(admin_env, "glance", "md-namespace-resource-type-list",
                  "OS::Compute::CPUPinning")
    assert "OS::Glance::Image" in out
    out = run_cli(admin_env, "glance", "md-property-list", "OS::Compute::CPUPinning")
    assert "cpu_policy" in out
