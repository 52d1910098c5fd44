#pragma once
// Disk-image inspection: format detection, virtual size, complete metadata walk and safety checks
// for raw, qcow2, vmdk, vhd (qemu: vpc), vhdx, vdi, iso, gpt (also MBR disks), luks and qed.
// Every byte of the input is treated as hostile: offsets are bounds-checked against the input
// size, memory is never allocated in proportion to an unchecked header field, and tables are
// capped (see Limits). Design and the list of checks: docs/formats.md.
//
// Result model: Inspect() returns a non-OK Status only when the input cannot be read (I/O error).
// A malformed or unsafe image is a successful inspection with a failed Verdict that names the
// check (Glance/oslo names where they exist: backing_file, data_file, unknown_features, banned,
// descriptor, footer, mbr, version; and ours: encryption, corrupt, header, l1_table, l2_table,
// refcount_table, snapshot_table, compressed_cluster, grain_table, bat, block_map, crc,
// region_table, metadata, log, virtual_size, polyglot).
//
// Thread-safety: free functions; a Source may be inspected by several threads if it supports
// concurrent ReadAt.

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"
#include "formats/source.h"

namespace glimmer::formats {

struct Limits {
  // Operator limit on the declared virtual size (bytes). Larger images fail "virtual_size".
  int64_t max_virtual_size = int64_t{1} << 44;  // 16 TiB
  // Cap on any single metadata table held in memory (qcow2 L1 is also capped at 32 MiB and the
  // refcount table at 8 MiB as qemu does; VHD BAT, VHDX BAT, VDI block map, VMDK GD).
  int64_t max_table_bytes = int64_t{64} << 20;
  // true: walk every table (L1/L2, refcount table, BAT, grain tables, block map) and check each
  // entry. false: header-level checks only (what the streaming inspector can do).
  bool deep = true;
};

// The outcome of the safety and consistency checks. ok() when `check` is empty.
struct Verdict {
  std::string check;    // failed check name, e.g. "backing_file"; empty when the image passed
  std::string message;  // human-readable reason, e.g. "qcow2 image has a backing file"
  bool ok() const { return check.empty(); }
};

// A format-specific detail (reported by glimmer-img info under "format-specific").
struct Detail {
  std::string key;  // qemu-img's key names where they exist ("compat", "create-type", ...)
  std::variant<std::string, int64_t, bool> value;
};

struct Inspection {
  std::string format;           // Glance disk_format: raw qcow2 vmdk vhd vhdx vdi iso gpt luks qed
  std::string qemu_format;      // qemu-img's driver name: vpc for vhd, raw for iso/gpt, ...
  int64_t virtual_size = -1;    // bytes; -1 when unknown (header unreadable)
  int64_t file_size = 0;        // bytes of the input
  int64_t allocated_size = -1;  // virtual bytes backed by data (deep walk only), -1 if unknown
  int64_t cluster_size = 0;     // qcow2 cluster / vmdk grain / vhd, vhdx, vdi block; 0 if none
  bool deep_checked = false;  // whether every table was walked (Limits::deep and no failure before)
  std::vector<Detail> details;
  Verdict verdict;
  bool safe() const { return verdict.ok(); }
};

// Detects the format and inspects the whole image. `format`, if not empty, forces the format
// (a Glance or qemu name, e.g. from `glimmer-img -f`); detection still runs, and a different
// detected format fails the "format" check. Fails only on I/O errors.
StatusOr<Inspection> Inspect(Source& src, const Limits& limits, std::string_view format = {});

// Maps a qemu-img driver name or Glance name to the Glance name ("vpc" -> "vhd"); empty if unknown.
std::string GlanceFormatName(std::string_view name);

// Conversions and the upload path report check failures as Status(kUnsupportedMedia,
// "<check>: <message>"). CheckFailure builds one; FailedCheck returns the check name of such a
// status ("" for other statuses).
Status CheckFailure(std::string_view check, std::string_view message);
std::string FailedCheck(const Status& status);

}  // namespace glimmer::formats
