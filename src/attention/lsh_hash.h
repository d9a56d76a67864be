// Reformer's angular locality-sensitive hash (Andoni et al. 2015, as Reformer uses it): a random
// rotation R (head_dim, n_buckets/2) and bucket(x) = argmax([x R, -x R]). Vectors at a small
// angle share a bucket far more often than unrelated ones, so sorting by bucket brings the keys a
// query scores highest next to it.
#pragma once
#include <cstdint>

namespace slimformer::attention::lsh {

// count standard normal floats from the stream keyed by (seed, a, b): the same on every platform.
void fill_standard_normal(float* out, int64_t count, uint64_t seed, uint64_t a, uint64_t b);

// Fills rot_t (n_buckets/2, head_dim) with R^T: row k is column k of R, standard normal entries.
// The stream is keyed by (seed, head, round) alone, so a head's rotation does not depend on how
// many heads or rounds there are, nor on the layer (a fixed hash seed gives every layer the same
// rotations, as in Hugging Face's Reformer with hash_seed set).
void random_rotation(float* rot_t, int64_t head_dim, int64_t n_buckets, uint64_t seed, int64_t head,
                     int64_t round);

// The bucket of a vector whose projections y = x R (n_buckets/2 values) are known:
// argmax over [y, -y], the first one on ties (torch.argmax).
int32_t bucket_from_projections(const float* y, int64_t n_buckets);

// argmax over the n_buckets values [x.R_0 .. x.R_{m-1}, -x.R_0 .. -x.R_{m-1}] (m = n_buckets/2),
// the first one on ties (torch.argmax): a bucket in [0, n_buckets).
int32_t bucket_of(const float* x, const float* rot_t, int64_t head_dim, int64_t n_buckets);

// order := positions 0..n-1 sorted by (bucket, position): a stable counting sort. buckets[t] is in
// [0, bucket_values); counts has room for bucket_values + 1 entries.
void sort_by_bucket(const int32_t* buckets, int64_t n, int64_t bucket_values, int32_t* counts,
                    int32_t* order);

}  // namespace slimformer::attention::lsh
