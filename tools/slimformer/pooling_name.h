// The name `inspect` and `serve`'s /info give a pooling mode (sentence-transformers' spelling).
#pragma once
#include <string>

#include "slimformer/checkpoint.h"

namespace slimcli {
std::string pooling_name(slimformer::PoolingMode m);
}  // namespace slimcli
