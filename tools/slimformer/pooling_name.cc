#include "pooling_name.h"

namespace slimcli {

std::string pooling_name(slimformer::PoolingMode m) {
  switch (m) {
    case slimformer::PoolingMode::Mean: return "mean";
    case slimformer::PoolingMode::Cls: return "cls";
    case slimformer::PoolingMode::Max: return "max";
    case slimformer::PoolingMode::MeanSqrtLen: return "mean_sqrt_len";
    case slimformer::PoolingMode::WeightedMean: return "weightedmean";
    case slimformer::PoolingMode::LastToken: return "lasttoken";
  }
  return "?";
}

}  // namespace slimcli
