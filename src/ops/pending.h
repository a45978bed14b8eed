// pending.h: scaffolding while the ops are being written; removed with the
// last pending_*.cpp.
#pragma once
#include <string>
#include "sigma/autograd.h"
#include "sigma/ops.h"
#define SIGMA_PENDING(name) throw ::sigma::Error(std::string(name) + ": not implemented yet")
