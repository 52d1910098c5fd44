#pragma once
// Time formatting used on the wire. Times are carried internally as microseconds since the
// Unix epoch (UTC) so that ordering is exact; Glance renders them at second precision.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace glimmer {

using UnixMicros = int64_t;

// "2026-11-25T13:26:28Z" (Glance image timestamps).
std::string FormatIsoSeconds(UnixMicros t);
// "2026-11-25T13:26:28.000000Z" (Keystone token timestamps).
std::string FormatIsoMicros(UnixMicros t);
// Parses ISO-8601 date-times as Glance's filters accept them ("2026-11-25T13:26:28Z",
// "2026-11-25T13:26:28", "2026-11-25 13:26:28+02:00", fractional seconds, date only).
// Returns nullopt when the text is not a valid timestamp. No timezone means UTC.
std::optional<UnixMicros> ParseIso8601(std::string_view text);

}  // namespace glimmer
