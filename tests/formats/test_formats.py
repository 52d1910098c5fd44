"""glimmer-img against qemu-img: detection, virtual size, byte-identical conversion, the qcow2
writer, and the hostile corpus (make_hostile_corpus.py).

Run: GLIMMER_BUILD_DIR=/work/main/build /usr/bin/python3 -m pytest -q tests/formats
Needs qemu-utils. Each glimmer-img run has a timeout and (outside sanitizer builds) an address
space limit, so a hang or a runaway allocation fails the test.
"""
import json
import os
import resource
import subprocess
import sys

import pytest

BUILD = os.environ.get("GLIMMER_BUILD_DIR", "/work/main/build")
GLIMMER_IMG = os.path.join(BUILD, "glimmer-img")
HERE = os.path.dirname(os.path.abspath(__file__))
MiB = 1 << 20
SIZE = 64 * MiB
TIMEOUT = 30
MEMORY_LIMIT = 1 << 30  # address space for one glimmer-img run (not under ASan)


def _sanitized():
    try:
        with open(GLIMMER_IMG, "rb") as f:
            return b"__asan_init" in f.read() or b"__ubsan_handle" in f.read()
    except OSError:
        return False


SANITIZED = _sanitized()


def _limit():
    if not SANITIZED:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def glimmer(*args, timeout=TIMEOUT):
    p = subprocess.run([GLIMMER_IMG] + [str(a) for a in args], capture_output=True, text=True,
                       timeout=timeout, preexec_fn=_limit)
    assert p.returncode >= 0, f"glimmer-img killed by signal {-p.returncode}: {p.stderr}"
    assert "AddressSanitizer" not in p.stderr and "runtime error" not in p.stderr, p.stderr
    return p


def qemu(*args):
    return subprocess.run(["qemu-img"] + [str(a) for a in args], capture_output=True, text=True, check=True)


pytestmark = pytest.mark.skipif(not os.path.exists(GLIMMER_IMG), reason=f"{GLIMMER_IMG} not built")


@pytest.fixture(scope="session")
def base(tmp_path_factory):
    """64 MiB raw disk: patterned and text data in some MiB, a zero-filled MiB, holes."""
    d = tmp_path_factory.mktemp("formats")
    path = d / "base.raw"
    with open(path, "wb") as f:
        f.truncate(SIZE)
        for mb in range(0, 64, 3):
            f.seek(mb * MiB)
            if mb % 2:
                f.write(bytes((i * 7 + mb) % 251 for i in range(65536)) * 16)
            else:
                f.write((b"glimmer format test line %d\n" % mb) * (MiB // 28))
        f.seek(10 * MiB)
        f.write(bytes(MiB))
    return path


VARIANTS = [
    ("v3.qcow2", "qcow2", ["-O", "qcow2"]),
    ("v2.qcow2", "qcow2", ["-O", "qcow2", "-o", "compat=0.10"]),
    ("zlib.qcow2", "qcow2", ["-O", "qcow2", "-c"]),
    ("zlib-v2.qcow2", "qcow2", ["-O", "qcow2", "-c", "-o", "compat=0.10"]),
    ("zstd.qcow2", "qcow2", ["-O", "qcow2", "-c", "-o", "compression_type=zstd"]),
    ("c512.qcow2", "qcow2", ["-O", "qcow2", "-o", "cluster_size=512"]),
    ("c2m.qcow2", "qcow2", ["-O", "qcow2", "-o", "cluster_size=2M"]),
    ("sparse.vmdk", "vmdk", ["-O", "vmdk"]),
    ("stream.vmdk", "vmdk", ["-O", "vmdk", "-o", "subformat=streamOptimized"]),
    ("dynamic.vhd", "vpc", ["-O", "vpc"]),
    ("fixed.vhd", "vpc", ["-O", "vpc", "-o", "subformat=fixed"]),
    ("forcesize.vhd", "vpc", ["-O", "vpc", "-o", "subformat=fixed,force_size=on"]),
    ("disk.vhdx", "vhdx", ["-O", "vhdx"]),
    ("disk-1m.vhdx", "vhdx", ["-O", "vhdx", "-o", "block_size=1M"]),
    ("dynamic.vdi", "vdi", ["-O", "vdi"]),
    ("static.vdi", "vdi", ["-O", "vdi", "-o", "static=on"]),
    ("plain.raw", "raw", ["-O", "raw"]),
]


def _convert_and_compare(tmp_path, image, qfmt, extra=()):
    ours, theirs = tmp_path / "ours.raw", tmp_path / "theirs.raw"
    qemu("convert", "-f", qfmt, "-O", "raw", image, theirs)
    p = glimmer("convert", *extra, "-O", "raw", image, ours)
    assert p.returncode == 0, p.stderr
    assert subprocess.run(["cmp", ours, theirs]).returncode == 0
    qemu("compare", "-f", qfmt, "-F", "raw", image, ours)
    st = os.stat(ours)
    assert st.st_blocks * 512 < st.st_size, "raw output is not sparse"


@pytest.mark.parametrize("name,qfmt,args", VARIANTS, ids=[v[0] for v in VARIANTS])
def test_qemu_generated(base, tmp_path, name, qfmt, args):
    image = tmp_path / name
    qemu("convert", "-f", "raw", *args, base, image)
    p = glimmer("info", "--output=json", image)
    assert p.returncode == 0, p.stderr
    ours = json.loads(p.stdout)
    theirs = json.loads(qemu("info", "--output=json", "-f", qfmt, image).stdout)
    assert ours["format"] == theirs["format"]
    assert ours["virtual-size"] == theirs["virtual-size"]
    assert ours["safety"]["safe"] is True
    assert glimmer("check", image).returncode == 0
    _convert_and_compare(tmp_path, image, qfmt)


def test_qcow2_snapshots_and_zero_clusters(base, tmp_path):
    image = tmp_path / "snap.qcow2"
    qemu("convert", "-f", "raw", "-O", "qcow2", base, image)
    qemu("snapshot", "-c", "one", image)
    subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write -z 0 2M", "-c", "write -P 0x5a 5M 64k",
                    "-c", "write -z -u 9M 1M", image], check=True, capture_output=True)
    qemu("snapshot", "-c", "two", image)
    subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write -P 0x33 40M 192k", image], check=True, capture_output=True)
    info = json.loads(glimmer("info", "--output=json", image).stdout)
    assert info["format-specific"]["data"]["snapshots"] == 2
    _convert_and_compare(tmp_path, image, "qcow2")


def test_forced_format(base, tmp_path):
    image = tmp_path / "f.qcow2"
    qemu("convert", "-f", "raw", "-O", "qcow2", base, image)
    p = glimmer("check", "-f", "vmdk", image)
    assert p.returncode == 2 and "check 'format'" in p.stderr
    assert glimmer("check", "-f", "qcow2", image).returncode == 0


@pytest.mark.parametrize("opts", [[], ["-c"], ["-c", "-o", "compression_type=zstd"], ["-o", "cluster_size=4096"]],
                         ids=["plain", "zlib", "zstd", "c4k"])
def test_write_qcow2(base, tmp_path, opts):
    out = tmp_path / "out.qcow2"
    p = glimmer("convert", "-O", "qcow2", *opts, base, out)
    assert p.returncode == 0, p.stderr
    qemu("check", "-f", "qcow2", out)
    qemu("compare", "-f", "raw", "-F", "qcow2", base, out)
    assert glimmer("check", out).returncode == 0
    if "-c" in opts:
        assert os.path.getsize(out) < SIZE // 4


def test_convert_from_compressed_to_qcow2(base, tmp_path):
    src = tmp_path / "src.vmdk"
    qemu("convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=streamOptimized", base, src)
    out = tmp_path / "out.qcow2"
    assert glimmer("convert", "-O", "qcow2", "-c", src, out).returncode == 0
    qemu("check", "-f", "qcow2", out)
    qemu("compare", "-f", "raw", "-F", "qcow2", base, out)


def _make_corpus():
    """Writes the corpus once per session (at collection: the names become test ids)."""
    import atexit
    import shutil
    import tempfile
    d = tempfile.mkdtemp(prefix="glimmer-hostile-")
    atexit.register(shutil.rmtree, d, True)
    subprocess.run([sys.executable, os.path.join(HERE, "make_hostile_corpus.py"), d], check=True,
                   capture_output=True)
    with open(os.path.join(d, "manifest.json")) as f:
        return d, json.load(f)


try:
    CORPUS_DIR, MANIFEST = _make_corpus()
except Exception as e:  # qemu-img missing
    CORPUS_DIR, MANIFEST = None, {}
    CORPUS_ERROR = e


@pytest.fixture(scope="session")
def corpus():
    if CORPUS_DIR is None:
        pytest.fail(f"hostile corpus could not be built: {CORPUS_ERROR}")
    return CORPUS_DIR, MANIFEST


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_hostile(corpus, tmp_path, name):
    d, manifest = corpus
    exp = manifest[name]
    path = os.path.join(d, name)
    if exp["safe"]:
        p = glimmer("check", path)
        assert p.returncode == 0, p.stderr
        info = json.loads(glimmer("info", "--output=json", path).stdout)
        assert info["disk-format"] == exp["format"]
        return
    if exp["command"] == "convert":
        assert glimmer("check", path).returncode in (0, 2)
        out = tmp_path / "out.raw"
        p = glimmer("convert", "-O", "raw", path, out)
        assert p.returncode == 1
        assert not out.exists(), "partial output left behind"
    else:
        p = glimmer("check", "--output=json", path)
        assert p.returncode == 2, p.stderr
        info = json.loads(p.stdout)
        assert info["safety"]["safe"] is False
        assert info["safety"]["check"] == exp["check"]
        # Conversion refuses too, naming the same check.
        c = glimmer("convert", "-O", "raw", path, tmp_path / "out.raw")
        assert c.returncode == 1 and f"check '{exp['check']}'" in c.stderr, c.stderr
    assert f"check '{exp['check']}'" in p.stderr, p.stderr
