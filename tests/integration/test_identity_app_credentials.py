"""Keystone v3 application credentials on the embedded identity, through the real `openstack`
CLI: a user creates one for its project, a script authenticates with it
(OS_AUTH_TYPE=v3applicationcredential) and gets exactly the roles it carries, a restricted one
cannot make more, and deleting it cuts its tokens off."""
import json

import pytest
import requests

from glimmer_testlib import run_cli

pytestmark = pytest.mark.glimmer_only


def _json(out):
    return json.loads(out)


def app_cred_env(base_env, cred):
    """An environment that authenticates with the credential only (no user, no project)."""
    env = {k: v for k, v in base_env.items()
           if k in ("OS_AUTH_URL", "OS_IDENTITY_API_VERSION", "OS_INTERFACE", "OS_REGION_NAME")}
    env.update(OS_AUTH_TYPE="v3applicationcredential", OS_APPLICATION_CREDENTIAL_ID=cred["id"],
               OS_APPLICATION_CREDENTIAL_SECRET=cred["secret"])
    return env


def test_a_script_works_with_an_application_credential(member1, uname):
    name = uname("ci")
    cred = _json(run_cli(member1.env, "openstack", "application", "credential", "create",
                         "-f", "json", "--description", "for CI", name))
    assert cred["name"] == name and cred["project_id"] == member1.project_id
    assert len(cred["secret"]) >= 64
    assert cred["unrestricted"] is False
    assert sorted(str(cred["roles"]).split()) == ["member", "reader"]

    env = app_cred_env(member1.env, cred)
    token = _json(run_cli(env, "openstack", "token", "issue", "-f", "json"))
    assert token["project_id"] == member1.project_id and token["user_id"] == member1.user_id
    image = _json(run_cli(env, "openstack", "image", "create", "-f", "json", "--disk-format",
                          "raw", "--container-format", "bare", uname("by-cred")))
    assert image["owner"] == member1.project_id
    listed = _json(run_cli(env, "openstack", "image", "list", "-f", "json"))
    assert image["id"] in [i["ID"] for i in listed]

    # Restricted (the default): it cannot make another credential.
    out = run_cli(env, "openstack", "application", "credential", "create", uname("more"),
                  ok=False)
    assert "403" in out or "not allowed" in out, out

    shown = _json(run_cli(member1.env, "openstack", "application", "credential", "show",
                          "-f", "json", name))
    assert shown["id"] == cred["id"] and "secret" not in shown
    rows = _json(run_cli(member1.env, "openstack", "application", "credential", "list",
                         "-f", "json"))
    assert cred["id"] in [r["ID"] for r in rows]

    run_cli(member1.env, "openstack", "application", "credential", "delete", name)
    out = run_cli(env, "openstack", "image", "list", ok=False)
    assert "401" in out or "authoriz" in out.lower(), out
    run_cli(member1.env, "openstack", "image", "delete", image["id"])


def test_a_reader_credential_reads_but_does_not_write(member1, uname):
    cred = _json(run_cli(member1.env, "openstack", "application", "credential", "create",
                         "-f", "json", "--role", "reader", uname("ro")))
    env = app_cred_env(member1.env, cred)
    run_cli(env, "openstack", "image", "list")
    out = run_cli(env, "openstack", "image", "create", "--disk-format", "raw",
                  "--container-format", "bare", uname("nope"), ok=False)
    assert "403" in out or "Forbidden" in out, out
    run_cli(member1.env, "openstack", "application", "credential", "delete", cred["id"])


def test_application_credentials_at_the_http_level(member1, member2, admin, uname):
    base = f"/identity/v3/users/{member1.user_id}/application_credentials"
    api = member1.api
    name = uname("http")
    # A role the user does not hold, an expiry in the past, access rules: refused.
    assert api.post(base, json={"application_credential": {
        "name": name, "roles": [{"name": "admin"}]}}).status_code == 404
    assert api.post(base, json={"application_credential": {
        "name": name, "expires_at": "2001-01-01T00:00:00Z"}}).status_code == 400
    assert api.post(base, json={"application_credential": {
        "name": name, "access_rules": [{"path": "/v2/images", "method": "GET",
                                        "service": "image"}]}}).status_code == 400
    assert api.post(base, json={"application_credential": {}}).status_code == 400
    r = api.post(base, json={"application_credential": {
        "name": name, "secret": "a secret", "expires_at": "2999-01-01T00:00:00Z",
        "roles": [{"name": "reader"}]}})
    assert r.status_code == 201, r.text
    cred = r.json()["application_credential"]
    assert cred["secret"] == "a secret" and cred["expires_at"].startswith("2999-01-01T00:00:00")
    assert [x["name"] for x in cred["roles"]] == ["reader"]
    assert api.post(base, json={"application_credential": {"name": name}}).status_code == 409

    # Only the user creates its own; others (admins included) only list, show and delete.
    other = f"/identity/v3/users/{member2.user_id}/application_credentials"
    assert api.get(other).status_code == 403
    assert api.post(other, json={"application_credential": {"name": "x"}}).status_code == 403
    assert admin.api.post(base, json={"application_credential": {"name": "x"}}).status_code == 403
    assert admin.api.get(f"{base}/{cred['id']}").status_code == 200
    assert member2.api.get(f"{base}/{cred['id']}").status_code == 403
    assert api.get(f"{other}/{cred['id']}").status_code == 403
    assert "secret" not in api.get(f"{base}/{cred['id']}").json()["application_credential"]

    # Authenticating by name and user, as keystoneauth can.
    auth = {"auth": {"identity": {"methods": ["application_credential"],
                                  "application_credential": {
                                      "name": name, "secret": "a secret",
                                      "user": {"name": member1.name,
                                               "domain": {"name": "Default"}}}}}}
    url = member1.base_url + "/identity/v3/auth/tokens"
    r = requests.post(url, json=auth, timeout=30)
    assert r.status_code == 201, r.text
    body = r.json()["token"]
    assert body["methods"] == ["application_credential"]
    assert body["application_credential"] == {"id": cred["id"], "name": name,
                                              "restricted": True}
    assert [x["name"] for x in body["roles"]] == ["reader"]
    assert body["project"]["id"] == member1.project_id
    token = r.headers["X-Subject-Token"]
    # It cannot be rescoped (that would drop the credential's limits).
    r = requests.post(url, json={"auth": {"identity": {"methods": ["token"],
                                                        "token": {"id": token}},
                                          "scope": {"project": {"id": member1.project_id}}}},
                      timeout=30)
    assert r.status_code == 403, r.text
    auth["auth"]["identity"]["application_credential"]["secret"] = "wrong"
    assert requests.post(url, json=auth, timeout=30).status_code == 401

    assert admin.api.delete(f"{base}/{cred['id']}").status_code == 204
    assert api.get(f"{base}/{cred['id']}").status_code == 404
    r = requests.get(member1.base_url + "/v2/images", headers={"X-Auth-Token": token}, timeout=30)
    assert r.status_code == 401
