#pragma once
// Facts about the machine the process runs on, and the process limits it grants.

#include <cstdint>
#include <string>

namespace glimmer::platform {

// The host name (gethostname), or "localhost" if it cannot be read.
std::string HostName();

// Raises the soft RLIMIT_NOFILE (and the hard one when allowed, e.g. as root) to at least
// `wanted` open files. Returns the soft limit in force afterwards, which is below `wanted` when
// it could not be raised that far.
uint64_t RaiseOpenFilesLimit(uint64_t wanted);

}  // namespace glimmer::platform
