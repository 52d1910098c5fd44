"""Format inspection on upload and import (issue 5 §2, §4): Glance's rule applied with the native
deep inspector, through the API and the real `glance` CLI, with images made by qemu-img."""
import os
import subprocess

import pytest

import glimmer_testlib as lib

pytestmark = pytest.mark.glimmer_only
MiB = 1 << 20


def qemu_img(*args):
    subprocess.run(["qemu-img", *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    d = tmp_path_factory.mktemp("qemu-images")
    raw = d / "disk.raw"
    with open(raw, "wb") as f:
        f.truncate(32 * MiB)
        f.seek(MiB)
        f.write(os.urandom(2 * MiB))
    qemu_img("convert", "-f", "raw", "-O", "qcow2", str(raw), str(d / "disk.qcow2"))
    qemu_img("convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=streamOptimized", str(raw),
             str(d / "disk.vmdk"))
    qemu_img("create", "-f", "qcow2", "-b", str(d / "disk.qcow2"), "-F", "qcow2",
             str(d / "backed.qcow2"))
    return d


def upload(api, path, disk_format, expect):
    image_id = api.create_image(name="fmt-" + path.name, disk_format=disk_format,
                                container_format="bare")["id"]
    r = api.put(f"/v2/images/{image_id}/file", data=path.read_bytes(),
                headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == expect, r.text
    return image_id, r


def test_qcow2_upload_records_virtual_size(admin, images):
    image_id, _ = upload(admin.api, images / "disk.qcow2", "qcow2", 204)
    img = admin.api.image(image_id)
    assert img["status"] == "active" and img["virtual_size"] == 32 * MiB


def test_qcow2_with_backing_file_is_rejected_and_nothing_kept(admin, images):
    image_id, r = upload(admin.api, images / "backed.qcow2", "qcow2", 415)
    assert "backing_file" in r.text
    img = admin.api.image(image_id)
    assert img["status"] == "queued" and img["size"] is None and img["checksum"] is None
    # ... also when it is declared raw (the detected format's checks still run).
    _, r = upload(admin.api, images / "backed.qcow2", "raw", 415)
    assert "backing_file" in r.text


def test_mismatched_disk_format_is_rejected(admin, images):
    _, r = upload(admin.api, images / "disk.qcow2", "vmdk", 415)
    assert "qcow2" in r.text and "vmdk" in r.text
    _, r = upload(admin.api, images / "disk.raw", "qcow2", 415)


def test_qcow2_declared_raw_is_accepted_as_glance_does(admin, images):
    image_id, _ = upload(admin.api, images / "disk.qcow2", "raw", 204)
    img = admin.api.image(image_id)
    assert img["virtual_size"] == img["size"]


def test_vmdk_stream_optimized_with_the_glance_cli(admin, admin_env, images):
    out = lib.run_cli(admin_env, "glance", "image-create", "--name", "cli-vmdk",
                      "--disk-format", "vmdk", "--container-format", "bare",
                      "--file", str(images / "disk.vmdk"))
    image_id = [line.split("|")[2].strip() for line in out.splitlines()
                if line.startswith("| id ")][0]
    img = admin.api.image(image_id)
    assert img["status"] == "active" and img["virtual_size"] == 32 * MiB


def test_non_bare_containers_are_not_inspected(admin, images):
    image_id = admin.api.create_image(name="ova", disk_format="qcow2",
                                      container_format="ova")["id"]
    admin.api.upload(image_id, os.urandom(4096))
    assert admin.api.image(image_id)["virtual_size"] is None
