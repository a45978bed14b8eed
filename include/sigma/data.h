// sigma/data.h: datasets, transforms, samplers and the data loader, as
// LibTorch's torch/data.h (namespace sigma::data).
#pragma once

#include "sigma/data/dataloader.h"
#include "sigma/data/datasets.h"
#include "sigma/data/example.h"
#include "sigma/data/samplers.h"
#include "sigma/data/transforms.h"
