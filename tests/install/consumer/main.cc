// Embeds two sentences with a sentence-transformers model folder; prints the dimension and the cosine.
#include <cmath>
#include <cstdio>

#include <slimformer/encoder.h>

int main(int argc, char** argv) {
  if (argc != 2) return std::fprintf(stderr, "usage: consumer MODEL_DIR\n"), 2;
  slimformer::SentenceEncoder model(argv[1]);
  slimformer::Tensor e = model.embed({"A man is playing a guitar.", "Someone plays the guitar."});
  const int64_t dim = e.dim(1);
  const float* a = e.data<float>();
  const float* b = a + dim;
  double ab = 0, aa = 0, bb = 0;
  for (int64_t i = 0; i < dim; ++i) ab += a[i] * b[i], aa += a[i] * a[i], bb += b[i] * b[i];
  std::printf("dim %lld cosine %.6f\n", static_cast<long long>(dim), ab / std::sqrt(aa * bb));
}
