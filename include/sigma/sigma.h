// sigma/sigma.h: the umbrella header, as <torch/torch.h>.
#pragma once

#include "sigma/autograd.h"
#include "sigma/data.h"
#include "sigma/dtypes.h"
#include "sigma/error.h"
#include "sigma/kernels.h"
#include "sigma/nn.h"
#include "sigma/ops.h"
#include "sigma/optim.h"
#include "sigma/scalar_type.h"
#include "sigma/serialize.h"
#include "sigma/tensor.h"
#include "sigma/tensor_options.h"
#include "sigma/version.h"
