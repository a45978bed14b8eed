// The version string compiled into the library.
#include "sigma/version.h"

namespace sigma {
const char* version() noexcept { return SIGMA_VERSION_STRING; }
}  // namespace sigma
