#!/usr/bin/env python3
"""Writes the hostile disk-image corpus into a directory, plus manifest.json.

Every file is an attack or corruption class from /work/shared/reference/formats.md (and a few
safe controls). The manifest maps each file name to the expected result of glimmer-img:
  {"check": "<name>", "command": "check"|"convert", "safe": false}  or  {"safe": true, "format": ...}
Small valid images are made with qemu-img (Debian qemu-utils) and then patched byte by byte;
the rest is built from scratch. Usage: make_hostile_corpus.py OUTDIR
"""
import json
import os
import struct
import subprocess
import sys
import tempfile
import zlib

OUT = None
MANIFEST = {}


def emit(name, data, check=None, command="check", safe=False, fmt=None):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
    if safe:
        MANIFEST[name] = {"safe": True, "format": fmt}
    else:
        MANIFEST[name] = {"safe": False, "check": check, "command": command}


def qemu_image(args, size="4M", data_mb=2):
    """Returns the bytes of a small image made by qemu-img from patterned raw data."""
    with tempfile.TemporaryDirectory() as d:
        raw = os.path.join(d, "in.raw")
        with open(raw, "wb") as f:
            f.truncate(int(size[:-1]) << 20)
            for mb in range(data_mb):
                f.seek(mb << 20)
                f.write(bytes((i * 13 + mb) % 251 for i in range(1 << 16)) * 16)
        out = os.path.join(d, "out.img")
        subprocess.run(["qemu-img", "convert", "-f", "raw"] + args + [raw, out], check=True,
                       stdout=subprocess.DEVNULL)
        with open(out, "rb") as f:
            return bytearray(f.read())


def be(fmt, buf, off, *vals):
    struct.pack_into(">" + fmt, buf, off, *vals)


def le(fmt, buf, off, *vals):
    struct.pack_into("<" + fmt, buf, off, *vals)


def rbe(fmt, buf, off):
    return struct.unpack_from(">" + fmt, buf, off)[0]


def rle(fmt, buf, off):
    return struct.unpack_from("<" + fmt, buf, off)[0]


# --- CRC32C for VHDX ------------------------------------------------------------------------
_T = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _T.append(_c)


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _T[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def vhdx_fix_crc(buf, off, length):
    le("I", buf, off + 4, 0)
    le("I", buf, off + 4, crc32c(bytes(buf[off:off + length])))


# --- qcow2 ----------------------------------------------------------------------------------
def qcow2_cases():
    base = qemu_image(["-O", "qcow2"])
    l1 = rbe("Q", base, 40)
    rt = rbe("Q", base, 48)
    l2 = rbe("Q", base, l1) & 0x00FFFFFFFFFFFE00
    data0 = rbe("Q", base, l2) & 0x00FFFFFFFFFFFE00
    size = len(base)

    def patched(fn):
        b = bytearray(base)
        fn(b)
        return b

    emit("qcow2_backing_file.qcow2", patched(lambda b: (be("Q", b, 8, 0x2000), be("I", b, 16, 11), b.__setitem__(slice(0x2000, 0x200B), b"/etc/passwd"))), "backing_file")
    emit("qcow2_backing_json.qcow2", patched(lambda b: (be("Q", b, 8, 0x2000), be("I", b, 16, 40), b.__setitem__(slice(0x2000, 0x2028), b'json:{"file.filename":"/etc/shadow"}    '))), "backing_file")
    emit("qcow2_data_file_bit.qcow2", patched(lambda b: be("Q", b, 72, rbe("Q", b, 72) | 4)), "data_file")

    def data_file_ext(b):
        hl = rbe("I", b, 100)
        be("I", b, hl, 0x44415441)
        be("I", b, hl + 4, 11)
        b[hl + 8:hl + 19] = b"/etc/passwd"
        be("Q", b, hl + 24, 0)
    emit("qcow2_data_file_ext.qcow2", patched(data_file_ext), "data_file")
    emit("qcow2_encrypted_aes.qcow2", patched(lambda b: be("I", b, 32, 1)), "encryption")
    emit("qcow2_encrypted_luks.qcow2", patched(lambda b: be("I", b, 32, 2)), "encryption")

    def crypto_ext(b):
        hl = rbe("I", b, 100)
        be("I", b, hl, 0x0537BE77)
        be("I", b, hl + 4, 16)
        be("Q", b, hl + 8, 0x100000)
        be("Q", b, hl + 16, 0x1000)
        be("Q", b, hl + 24, 0)
    emit("qcow2_crypto_header_ext.qcow2", patched(crypto_ext), "encryption")
    emit("qcow2_version1.qcow2", patched(lambda b: be("I", b, 4, 1)), "unknown_features")
    emit("qcow2_version4.qcow2", patched(lambda b: be("I", b, 4, 4)), "unknown_features")
    emit("qcow2_unknown_incompat.qcow2", patched(lambda b: be("Q", b, 72, 1 << 5)), "unknown_features")
    emit("qcow2_extended_l2.qcow2", patched(lambda b: be("Q", b, 72, 1 << 4)), "unknown_features")
    emit("qcow2_corrupt_bit.qcow2", patched(lambda b: be("Q", b, 72, 2)), "corrupt")
    emit("qcow2_cluster_bits_30.qcow2", patched(lambda b: be("I", b, 20, 30)), "header")
    emit("qcow2_cluster_bits_8.qcow2", patched(lambda b: be("I", b, 20, 8)), "header")
    emit("qcow2_header_length_huge.qcow2", patched(lambda b: be("I", b, 100, 1 << 20)), "header")
    emit("qcow2_zstd_without_bit.qcow2", patched(lambda b: b.__setitem__(104, 1)), "header")
    emit("qcow2_compression_type_9.qcow2", patched(lambda b: (b.__setitem__(104, 9), be("Q", b, 72, 8))), "unknown_features")
    emit("qcow2_truncated_header.qcow2", bytes(base[:100]), "header")
    emit("qcow2_l1_past_eof.qcow2", patched(lambda b: be("Q", b, 40, 0x7FFF0000)), "l1_table")
    emit("qcow2_l1_huge.qcow2", patched(lambda b: be("I", b, 36, 0x7FFFFFFF)), "l1_table")
    emit("qcow2_l1_too_small.qcow2", patched(lambda b: (be("Q", b, 24, 1 << 40), be("I", b, 36, 1))), "l1_table")
    emit("qcow2_l1_unaligned.qcow2", patched(lambda b: be("Q", b, 40, l1 + 8)), "l1_table")
    emit("qcow2_l1_entry_past_eof.qcow2", patched(lambda b: be("Q", b, l1, (1 << 63) | 0x40000000)), "l1_table")
    emit("qcow2_l1_entry_reserved_bits.qcow2", patched(lambda b: be("Q", b, l1, rbe("Q", b, l1) | 2)), "l1_table")
    # L1 entry 0 pointing at the L1 table itself, at the refcount table.
    emit("qcow2_l2_aliases_l1.qcow2", patched(lambda b: be("Q", b, l1, (1 << 63) | l1)), "l1_table")
    emit("qcow2_l2_aliases_refcount_table.qcow2", patched(lambda b: be("Q", b, l1, (1 << 63) | rt)), "l1_table")

    def shared_l2(b):
        be("Q", b, 24, 1 << 31)  # 2 GiB: two L1 entries needed
        be("I", b, 36, 4)
        be("Q", b, l1 + 8, rbe("Q", b, l1))
    emit("qcow2_l2_shared.qcow2", patched(shared_l2), "l1_table")
    emit("qcow2_data_past_eof.qcow2", patched(lambda b: be("Q", b, l2, (1 << 63) | 0x40000000)), "l2_table")
    emit("qcow2_data_aliases_l1.qcow2", patched(lambda b: be("Q", b, l2, (1 << 63) | l1)), "l2_table")
    emit("qcow2_data_aliases_l2.qcow2", patched(lambda b: be("Q", b, l2, (1 << 63) | l2)), "l2_table")
    emit("qcow2_data_unaligned.qcow2", patched(lambda b: be("Q", b, l2, (1 << 63) | (data0 + 0x200))), "l2_table")
    emit("qcow2_compressed_past_eof.qcow2", patched(lambda b: be("Q", b, l2, (1 << 62) | 0x3FFFFFF000)), "l2_table")
    emit("qcow2_compressed_in_header.qcow2", patched(lambda b: be("Q", b, l2, (1 << 62) | 0x100)), "l2_table")
    emit("qcow2_reftable_past_eof.qcow2", patched(lambda b: be("Q", b, 48, 0x7FFF0000)), "refcount_table")
    emit("qcow2_reftable_huge.qcow2", patched(lambda b: be("I", b, 56, 0x100000)), "refcount_table")
    emit("qcow2_reftable_overlaps_l1.qcow2", patched(lambda b: be("Q", b, 48, l1)), "refcount_table")
    emit("qcow2_refcount_order_7.qcow2", patched(lambda b: be("I", b, 96, 7)), "refcount_table")
    emit("qcow2_refblock_past_eof.qcow2", patched(lambda b: be("Q", b, rt, 0x7FFF0000)), "refcount_table")
    emit("qcow2_snapshots_too_many.qcow2", patched(lambda b: (be("I", b, 60, 0x7FFFFFFF), be("Q", b, 64, 0x10000))), "snapshot_table")
    emit("qcow2_snapshot_table_past_eof.qcow2", patched(lambda b: (be("I", b, 60, 3), be("Q", b, 64, 0x7FFF0000))), "snapshot_table")

    # 64 TiB virtual disk in a ~1 MiB file: beyond the default operator limit (16 TiB).
    def huge(b):
        n = (1 << 46) >> 29
        b += bytes(((len(b) + 0xFFFF) & ~0xFFFF) - len(b))
        off = len(b)
        b += bytes(n * 8)
        be("Q", b, 24, 1 << 46)
        be("I", b, 36, n)
        be("Q", b, 40, off)
    emit("qcow2_virtual_size_64t.qcow2", patched(huge), "virtual_size")

    # Compressed clusters: a deflate bomb (decodes past the cluster) and garbage, both only
    # detectable when decoding: glimmer-img convert must fail with compressed_cluster.
    comp = qemu_image(["-O", "qcow2", "-c"])
    cl1 = rbe("Q", comp, 40)
    cl2 = rbe("Q", comp, cl1) & 0x00FFFFFFFFFFFE00
    e0 = rbe("Q", comp, cl2)
    x = 62 - (16 - 8)
    coff = e0 & ((1 << x) - 1)
    bomb = zlib.compressobj(9, zlib.DEFLATED, -12)
    payload = bomb.compress(bytes(1 << 20)) + bomb.flush()  # 1 MiB of zeros: > one cluster
    b = bytearray(comp)
    nsec = (((coff + len(payload) - 1) >> 9) - (coff >> 9))
    b[coff:coff + len(payload)] = payload
    be("Q", b, cl2, (1 << 62) | (nsec << x) | coff)
    emit("qcow2_compressed_bomb.qcow2", b, "compressed_cluster", command="convert")
    b = bytearray(comp)
    b[coff:coff + 64] = b"\xff" * 64
    emit("qcow2_compressed_garbage.qcow2", b, "compressed_cluster", command="convert")


# --- vmdk -----------------------------------------------------------------------------------
def vmdk_cases():
    base = qemu_image(["-O", "vmdk"])
    desc_at = 512
    desc = bytes(base[desc_at:desc_at + rle("Q", base, 36) * 512]).split(b"\0")[0].decode()
    gd = rle("Q", base, 56) * 512

    def with_desc(text):
        b = bytearray(base)
        raw = text.encode()
        room = rle("Q", b, 36) * 512
        assert len(raw) < room
        b[desc_at:desc_at + room] = raw + bytes(room - len(raw))
        return b

    text_flat = ('# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\n'
                 'createType="monolithicFlat"\nRW 2048 FLAT "/etc/passwd" 0\n')
    emit("vmdk_text_descriptor_flat.vmdk", text_flat.encode(), "descriptor")
    emit("vmdk_text_descriptor_sparse_relative.vmdk",
         text_flat.replace("monolithicFlat", "monolithicSparse").replace('FLAT "/etc/passwd" 0', 'SPARSE "other.vmdk"').encode(),
         "descriptor")
    emit("vmdk_createtype_case_trick.vmdk",
         with_desc(desc.replace('createType="monolithicSparse"',
                                'CREATETYPE="monolithicSparse"\ncreateType="monolithicFlat"')), "descriptor")
    emit("vmdk_createtype_lowercase.vmdk", with_desc(desc.replace("createType=", "createtype=")), "descriptor")
    emit("vmdk_createtype_duplicate.vmdk",
         with_desc(desc.replace('createType="monolithicSparse"', 'createType="monolithicSparse"\ncreateType="monolithicSparse"')),
         "descriptor")
    emit("vmdk_createtype_vmfs.vmdk", with_desc(desc.replace("monolithicSparse", "vmfs")), "descriptor")
    lines = desc.split("\n")
    ext = [l for l in lines if l.startswith("RW ")][0]
    emit("vmdk_extent_absolute_path.vmdk", with_desc(desc.replace(ext, 'RW 8192 SPARSE "/etc/shadow"')), "descriptor")
    emit("vmdk_extent_relative_path.vmdk", with_desc(desc.replace(ext, 'RW 8192 SPARSE "../../x.vmdk"')), "descriptor")
    emit("vmdk_two_extents.vmdk", with_desc(desc.replace(ext, ext + "\n" + ext)), "descriptor")
    emit("vmdk_flat_extent.vmdk", with_desc(desc.replace(ext, 'RW 8192 FLAT "x.img" 0')), "descriptor")
    emit("vmdk_no_extent.vmdk", with_desc(desc.replace(ext, "")), "descriptor")
    emit("vmdk_garbage_line.vmdk", with_desc(desc + "\nthis is not a descriptor line\n"), "descriptor")
    emit("vmdk_parent_cid.vmdk", with_desc(desc.replace("parentCID=ffffffff", "parentCID=12345678")), "backing_file")
    emit("vmdk_parent_hint.vmdk", with_desc(desc + 'parentFileNameHint="/var/lib/base.vmdk"\n'), "backing_file")

    def patched(fn, b0=base):
        b = bytearray(b0)
        fn(b)
        return b

    emit("vmdk_capacity_zero.vmdk", patched(lambda b: le("Q", b, 12, 0)), "header")
    emit("vmdk_version_9.vmdk", patched(lambda b: le("I", b, 4, 9)), "header")
    emit("vmdk_grain_size_huge.vmdk", patched(lambda b: le("Q", b, 20, 1 << 40)), "header")
    emit("vmdk_descriptor_offset_2.vmdk", patched(lambda b: le("Q", b, 28, 2)), "descriptor")
    emit("vmdk_descriptor_huge.vmdk", patched(lambda b: le("Q", b, 36, 1 << 30)), "descriptor")
    # desc_size * 512 wraps around 2^64 to a small number (found by the fuzz smoke run).
    emit("vmdk_descriptor_size_wraps.vmdk",
         patched(lambda b: le("Q", b, 36, 144115188075855892)), "descriptor")
    emit("vmdk_gd_past_eof.vmdk", patched(lambda b: le("Q", b, 56, 0x7FFFFFF)), "grain_table")
    emit("vmdk_gt_past_eof.vmdk", patched(lambda b: le("I", b, gd, 0x7FFFFFF)), "grain_table")
    gt = rle("I", base, gd) * 512
    emit("vmdk_gt_overlaps_descriptor.vmdk", patched(lambda b: le("I", b, gd, 1)), "grain_table")
    emit("vmdk_grain_past_eof.vmdk", patched(lambda b: le("I", b, gt, 0x7FFFFFF)), "grain_table")
    emit("vmdk_grain_overlaps_gd.vmdk", patched(lambda b: le("I", b, gt, gd // 512)), "grain_table")
    # 1 PiB capacity (header and descriptor agree): beyond the default 16 TiB operator limit.
    huge = with_desc(desc.replace(ext, ext.replace(ext.split(" ")[1], str((1 << 50) // 512), 1)))
    le("Q", huge, 12, (1 << 50) // 512)
    emit("vmdk_capacity_huge.vmdk", huge, "virtual_size")

    # streamOptimized with the grain directory at the end (VMware layout): footer tricks.
    so = qemu_image(["-O", "vmdk", "-o", "subformat=streamOptimized"])
    so_gd = rle("Q", so, 56)

    def at_end(footer_gd=None, marker_type=3, eos=b"\0" * 512, footer_magic=b"KDMV", version=None):
        b = bytearray(so)
        le("Q", b, 56, 0xFFFFFFFFFFFFFFFF)
        # the file already ends with an all-zero EOS sector; append footer marker, footer, EOS
        b += bytes(-len(b) % 512)
        marker = bytearray(512)
        le("Q", marker, 0, 1)
        le("I", marker, 8, 0)
        le("I", marker, 12, marker_type)
        footer = bytearray(so[:512])
        footer[0:4] = footer_magic
        le("Q", footer, 56, so_gd if footer_gd is None else footer_gd)
        if version is not None:
            le("I", footer, 4, version)
        return b + marker + footer + eos

    emit("vmdk_stream_gd_at_end_ok.vmdk", at_end(), safe=True, fmt="vmdk")
    emit("vmdk_stream_footer_loop.vmdk", at_end(footer_gd=0xFFFFFFFFFFFFFFFF), "footer")
    emit("vmdk_stream_footer_bad_magic.vmdk", at_end(footer_magic=b"XXXX"), "footer")
    emit("vmdk_stream_footer_version.vmdk", at_end(version=1), "footer")
    emit("vmdk_stream_footer_marker_type.vmdk", at_end(marker_type=1), "footer")
    emit("vmdk_stream_bad_eos.vmdk", at_end(eos=b"\x01" + b"\0" * 511), "footer")
    emit("vmdk_stream_footer_gd_past_eof.vmdk", at_end(footer_gd=0x7FFFFFF), "grain_table")

    # streamOptimized grain marker naming the wrong LBA, and a zlib bomb grain.
    so_gt = rle("I", so, so_gd * 512) * 512
    g0 = rle("I", so, so_gt) * 512
    b = bytearray(so)
    le("Q", b, g0, 12345)
    emit("vmdk_stream_marker_wrong_lba.vmdk", b, "grain_table")
    bomb = zlib.compress(bytes(4 << 20), 9)
    b = bytearray(so)
    b += bytes(-len(b) % 512)
    off = len(b)
    b += struct.pack("<QI", 0, len(bomb)) + bomb
    b += bytes(-len(b) % 512) + bytes(512)
    le("I", b, so_gt, off // 512)
    emit("vmdk_stream_grain_bomb.vmdk", b, "compressed_cluster", command="convert")


# --- vhd ------------------------------------------------------------------------------------
def vhd_checksum(f):
    be("I", f, 64, 0)
    be("I", f, 64, (~sum(f[:512])) & 0xFFFFFFFF)


def vhd_cases():
    base = qemu_image(["-O", "vpc"])
    dyn_off = rbe("Q", base, 16)
    bat = rbe("Q", base, dyn_off + 16)

    def patched_footer(fn, recheck=True):
        b = bytearray(base)
        for at in (0, len(b) - 512):
            f = bytearray(b[at:at + 512])
            fn(f)
            if recheck:
                vhd_checksum(f)
            b[at:at + 512] = f
        return b

    emit("vhd_bad_checksum.vhd", patched_footer(lambda f: be("I", f, 64, 0x12345678), recheck=False), "footer")
    emit("vhd_differencing.vhd", patched_footer(lambda f: be("I", f, 60, 4)), "backing_file")
    emit("vhd_unknown_type.vhd", patched_footer(lambda f: be("I", f, 60, 9)), "footer")
    emit("vhd_huge_virtual_size.vhd", patched_footer(lambda f: (f.__setitem__(slice(28, 32), b"win "), be("Q", f, 48, 1 << 51))), "virtual_size")
    emit("vhd_dynamic_header_past_eof.vhd", patched_footer(lambda f: be("Q", f, 16, 0x7FFFFFFF)), "header")

    def patched(fn):
        b = bytearray(base)
        fn(b)
        return b

    def dyn_checksum(b):
        be("I", b, dyn_off + 36, 0)
        be("I", b, dyn_off + 36, (~sum(b[dyn_off:dyn_off + 1024])) & 0xFFFFFFFF)

    emit("vhd_dynamic_bad_cookie.vhd", patched(lambda b: b.__setitem__(slice(dyn_off, dyn_off + 8), b"xxsparse")), "header")
    emit("vhd_bat_past_eof.vhd", patched(lambda b: be("I", b, bat, 0x7FFFFFFF)), "bat")
    first = rbe("I", base, bat)
    emit("vhd_bat_duplicate_block.vhd", patched(lambda b: be("I", b, bat + 4, first)), "bat")
    emit("vhd_bat_overlaps_header.vhd", patched(lambda b: be("I", b, bat, 1)), "bat")
    emit("vhd_bat_too_few_entries.vhd", patched(lambda b: (be("I", b, dyn_off + 28, 1), dyn_checksum(b))), "bat")
    emit("vhd_block_size_odd.vhd", patched(lambda b: (be("I", b, dyn_off + 32, 3000), dyn_checksum(b))), "header")

    fixed = qemu_image(["-O", "vpc", "-o", "subformat=fixed"])
    b = bytearray(fixed)
    f = bytearray(b[-512:])
    f[28:32] = b"win "
    be("Q", f, 48, 1 << 30)
    vhd_checksum(f)
    b[-512:] = f
    emit("vhd_fixed_larger_than_file.vhd", b, "virtual_size")
    # A fixed VHD whose payload is an MBR-partitioned disk: safe, detected from the footer.
    b = bytearray(fixed)
    b[446] = 0x80
    b[446 + 4] = 0x83
    le("I", b, 446 + 8, 2048)
    le("I", b, 446 + 12, 4096)
    b[510:512] = b"\x55\xAA"
    emit("vhd_fixed_with_mbr_ok.vhd", b, safe=True, fmt="vhd")
    # A qcow2 header inside a "fixed VHD": qemu would probe qcow2 first.
    q = qemu_image(["-O", "qcow2"])
    b = bytearray(fixed)
    b[:len(q[:65536])] = q[:65536]
    emit("polyglot_qcow2_in_fixed_vhd.vhd", b, "polyglot")


# --- vhdx -----------------------------------------------------------------------------------
def vhdx_cases():
    base = qemu_image(["-O", "vhdx"])

    def patched(fn):
        b = bytearray(base)
        fn(b)
        return b

    def both_headers(fn):
        def g(b):
            for off in (65536, 131072):
                fn(b, off)
                vhdx_fix_crc(b, off, 4096)
        return g

    def region(fn):
        def g(b):
            for off in (192 * 1024, 256 * 1024):
                fn(b, off)
                vhdx_fix_crc(b, off, 65536)
        return g

    emit("vhdx_bad_header_crc.vhdx", patched(lambda b: [b.__setitem__(o + 4, b[o + 4] ^ 0xFF) for o in (65536, 131072)]), "crc")
    emit("vhdx_bad_region_crc.vhdx", patched(lambda b: [b.__setitem__(o + 20, b[o + 20] ^ 0xFF) for o in (192 * 1024, 256 * 1024)]), "crc")
    emit("vhdx_region_count_huge.vhdx", patched(region(lambda b, o: le("I", b, o + 8, 5000))), "region_table")
    emit("vhdx_version_2.vhdx", patched(both_headers(lambda b, o: le("H", b, o + 66, 2))), "header")

    # Find the metadata and BAT regions.
    rt = 192 * 1024
    regions = {}
    for i in range(rle("I", base, rt + 8)):
        e = rt + 16 + 32 * i
        regions[bytes(base[e:e + 4])] = (rle("Q", base, e + 16), rle("I", base, e + 24))
    meta_off = regions[struct.pack("<I", 0x8B7CA206)][0]
    bat_off = regions[struct.pack("<I", 0x2DC27766)][0]
    emit("vhdx_metadata_count_huge.vhdx", patched(lambda b: le("H", b, meta_off + 10, 4000)), "metadata")
    items = rle("H", base, meta_off + 10)

    def item_value_offset(guid_first_u32):
        for i in range(items):
            e = meta_off + 32 + 32 * i
            if rle("I", base, e) == guid_first_u32:
                return meta_off + rle("I", base, e + 16)
        raise KeyError(hex(guid_first_u32))

    fp = item_value_offset(0xCAA16737)
    vs = item_value_offset(0x2FA54224)
    emit("vhdx_has_parent.vhdx", patched(lambda b: le("I", b, fp + 4, rle("I", b, fp + 4) | 2)), "backing_file")
    emit("vhdx_block_size_bad.vhdx", patched(lambda b: le("I", b, fp, 12345)), "metadata")
    emit("vhdx_virtual_size_huge.vhdx", patched(lambda b: le("Q", b, vs, 1 << 50)), "virtual_size")
    emit("vhdx_bat_too_small.vhdx", patched(lambda b: le("Q", b, vs, 1 << 42)), "bat")
    emit("vhdx_bat_past_eof.vhdx", patched(lambda b: le("Q", b, bat_off, (0x7FFFF << 20) | 6)), "bat")
    emit("vhdx_bat_partially_present.vhdx", patched(lambda b: le("Q", b, bat_off, rle("Q", b, bat_off) | 7)), "bat")
    emit("vhdx_bat_in_header.vhdx", patched(lambda b: le("Q", b, bat_off, (0 << 20) | 6)), "bat")
    emit("vhdx_bat_aliases_metadata.vhdx", patched(lambda b: le("Q", b, bat_off, ((meta_off >> 20) << 20) | 6)), "bat")

    def pending_log(b):
        guid = b"\x11" * 16
        log_off = rle("Q", b, 65536 + 72)
        for off in (65536, 131072):
            b[off + 48:off + 64] = guid
            vhdx_fix_crc(b, off, 4096)
        entry = bytearray(4096)
        entry[0:4] = b"loge"
        entry[32:48] = guid
        b[log_off:log_off + 4096] = entry
    emit("vhdx_log_pending.vhdx", patched(pending_log), "log")


# --- vdi ------------------------------------------------------------------------------------
def vdi_cases():
    base = qemu_image(["-O", "vdi"])
    bmap = rle("I", base, 0x154)

    def patched(fn):
        b = bytearray(base)
        fn(b)
        return b

    emit("vdi_bmap_out_of_range.vdi", patched(lambda b: le("I", b, bmap, 1000)), "block_map")
    emit("vdi_bmap_duplicate.vdi", patched(lambda b: le("I", b, bmap + 4, rle("I", b, bmap))), "block_map")
    emit("vdi_bmap_past_eof.vdi", patched(lambda b: le("I", b, 0x154, 0x7FFFFE00)), "block_map")
    emit("vdi_differencing.vdi", patched(lambda b: le("I", b, 0x4C, 4)), "backing_file")
    emit("vdi_parent_uuid.vdi", patched(lambda b: b.__setitem__(slice(0x1B8, 0x1C8), b"\x42" * 16)), "backing_file")
    emit("vdi_block_size_odd.vdi", patched(lambda b: le("I", b, 0x178, 4096)), "header")
    emit("vdi_virtual_size_huge.vdi", patched(lambda b: (le("Q", b, 0x170, 1 << 50), le("I", b, 0x180, 0xFFFFFFFF))), "virtual_size")
    emit("vdi_blocks_too_few.vdi", patched(lambda b: le("I", b, 0x180, 1)), "block_map")


# --- others ---------------------------------------------------------------------------------
def other_cases():
    qed = bytearray(4096)
    qed[0:4] = b"QED\0"
    le("Q", qed, 40, 1 << 30)
    emit("banned.qed", qed, "banned")

    q = qemu_image(["-O", "qcow2"])
    iso_poly = bytearray(q) + bytes(max(0, 40000 - len(q)))
    iso_poly[32769:32774] = b"CD001"
    emit("polyglot_qcow2_iso.qcow2", iso_poly, "polyglot")
    tail = bytearray(q) + bytes(512)
    f = bytearray(512)
    f[0:8] = b"conectix"
    be("I", f, 60, 2)
    be("Q", f, 48, len(q))
    tail[-512:] = f
    emit("polyglot_qcow2_vhd_footer.qcow2", tail, "polyglot")
    mbr_q = bytearray(q)
    mbr_q[510:512] = b"\x55\xAA"
    emit("polyglot_qcow2_mbr.qcow2", mbr_q, "polyglot")
    v = qemu_image(["-O", "vmdk"])
    v[510:512] = b"\x55\xAA"
    emit("polyglot_vmdk_mbr.vmdk", v, "polyglot")

    def mbr(entries):
        d = bytearray(1 << 20)
        for i, (boot, chs, typ, lba, n) in enumerate(entries):
            e = 446 + 16 * i
            d[e] = boot
            d[e + 1:e + 4] = bytes(chs)
            d[e + 4] = typ
            le("I", d, e + 8, lba)
            le("I", d, e + 12, n)
        d[510:512] = b"\x55\xAA"
        return d

    emit("gpt_protective_ok.img", mbr([(0, (0, 2, 0), 0xEE, 1, 2047)]), safe=True, fmt="gpt")
    emit("gpt_protective_bad_lba.img", mbr([(0, (0, 2, 0), 0xEE, 5, 2047)]), "mbr")
    emit("gpt_protective_plus_partition.img", mbr([(0, (0, 2, 0), 0xEE, 1, 2047), (0, (0, 3, 0), 0x83, 2048, 10)]), "mbr")
    emit("mbr_bad_boot_flag.img", mbr([(0x42, (0, 3, 0), 0x83, 2048, 10)]), "mbr")
    emit("mbr_no_partitions.img", mbr([]), "mbr")

    luks = bytearray(4096)
    luks[0:6] = b"LUKS\xba\xbe"
    be("H", luks, 6, 2)
    emit("luks2.luks", luks, "version")

    iso = bytearray(64 * 1024)
    iso[32768] = 1
    iso[32769:32774] = b"CD001"
    le("I", iso, 32768 + 80, 1 << 30)
    le("H", iso, 32768 + 128, 2048)
    emit("iso_volume_larger_than_file.iso", iso, "virtual_size")
    iso2 = bytearray(iso)
    le("I", iso2, 32768 + 80, 32)
    iso2[446 + 4] = 0x17
    le("I", iso2, 446 + 8, 0)
    le("I", iso2, 446 + 12, 32)
    iso2[446] = 0x80
    iso2[510:512] = b"\x55\xAA"
    emit("hybrid_iso_mbr_ok.iso", iso2, safe=True, fmt="iso")


def main():
    global OUT
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    OUT = sys.argv[1]
    os.makedirs(OUT, exist_ok=True)
    qcow2_cases()
    vmdk_cases()
    vhd_cases()
    vhdx_cases()
    vdi_cases()
    other_cases()
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(MANIFEST, f, indent=1, sort_keys=True)
    print(f"{len(MANIFEST)} files in {OUT}")


if __name__ == "__main__":
    main()
