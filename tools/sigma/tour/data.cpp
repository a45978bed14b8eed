// Being written.
#include "data.h"
