// Being written.
#include "metrics.h"
