// sigma/optim.h: optimizers and learning-rate schedulers, as LibTorch's
// torch/optim.h: SGD, Adam, AdamW, RMSprop, Adagrad, LBFGS; StepLR, ExponentialLR,
// CosineAnnealingLR, LambdaLR and ReduceLROnPlateauScheduler (alias
// ReduceLROnPlateau); and their checkpoints (not LBFGS's).
#pragma once

#include "sigma/optim/adagrad.h"
#include "sigma/optim/adam.h"
#include "sigma/optim/lbfgs.h"
#include "sigma/optim/optimizer.h"
#include "sigma/optim/rmsprop.h"
#include "sigma/optim/schedulers.h"
#include "sigma/optim/serialize.h"
#include "sigma/optim/sgd.h"
