// sigma/optim.h: optimizers and learning-rate schedulers, as LibTorch's
// torch/optim.h: SGD, Adam, AdamW, StepLR, CosineAnnealingLR, and their
// checkpoints.
#pragma once

#include "sigma/optim/adam.h"
#include "sigma/optim/optimizer.h"
#include "sigma/optim/schedulers.h"
#include "sigma/optim/serialize.h"
#include "sigma/optim/sgd.h"
