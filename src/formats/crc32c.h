#pragma once
// Internal: CRC-32C (Castagnoli), as used by VHDX headers, region and log entries.
// IWYU pragma: private

#include <cstddef>
#include <cstdint>
#include <span>

namespace glimmer::formats::internal {

uint32_t Crc32c(std::span<const std::byte> data, uint32_t crc = 0);

}  // namespace glimmer::formats::internal
