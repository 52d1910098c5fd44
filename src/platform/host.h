#pragma once
// Facts about the machine the process runs on.

#include <string>

namespace glimmer::platform {

// The host name (gethostname), or "localhost" if it cannot be read.
std::string HostName();

}  // namespace glimmer::platform
