// sigma/nn.h: the neural-network layer, as LibTorch's torch/nn.h: Module and
// ModuleHolder (SIGMA_MODULE), layers, losses, functional forms and init.
#pragma once

#include "sigma/nn/functional.h"
#include "sigma/nn/init.h"
#include "sigma/nn/module.h"
#include "sigma/nn/modules/activation.h"
#include "sigma/nn/modules/attention.h"
#include "sigma/nn/modules/container.h"
#include "sigma/nn/modules/dropout.h"
#include "sigma/nn/modules/linear.h"
#include "sigma/nn/modules/embedding.h"
#include "sigma/nn/modules/normalization.h"
#include "sigma/nn/modules/loss.h"
#include "sigma/nn/modules/rnn.h"
#include "sigma/nn/modules/transformer.h"
#include "sigma/nn/options.h"
#include "sigma/nn/ordered_dict.h"
#include "sigma/nn/pimpl.h"
#include "sigma/nn/utils.h"
// layers: convolution, pooling, batch norm, Functional.
#include "sigma/nn/modules/batchnorm.h"
#include "sigma/nn/modules/conv.h"
#include "sigma/nn/modules/functional.h"
#include "sigma/nn/modules/pooling.h"
