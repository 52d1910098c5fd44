#include "platform/host.h"

#include <sys/resource.h>
#include <unistd.h>

namespace glimmer::platform {

std::string HostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

uint64_t RaiseOpenFilesLimit(uint64_t wanted) {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return 0;
  if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < wanted) {
    rlimit raised = lim;
    raised.rlim_cur = wanted;
    if (lim.rlim_max != RLIM_INFINITY && lim.rlim_max < wanted) raised.rlim_max = wanted;
    if (::setrlimit(RLIMIT_NOFILE, &raised) != 0 && lim.rlim_max != lim.rlim_cur) {
      // Not allowed to raise the hard limit: go as far as it allows.
      raised.rlim_max = lim.rlim_max;
      raised.rlim_cur = lim.rlim_max;
      (void)::setrlimit(RLIMIT_NOFILE, &raised);
    }
    (void)::getrlimit(RLIMIT_NOFILE, &lim);
  }
  return lim.rlim_cur == RLIM_INFINITY ? UINT64_MAX : static_cast<uint64_t>(lim.rlim_cur);
}

}  // namespace glimmer::platform
