// A small thread-safe least-recently-used map, for the oneDNN primitives created per shape.
// Every distinct (batch x length) product M makes a new primitive; a long-running process that
// sees many lengths (a server, an eval over sorted batches) would otherwise hold all of them.
// Values are returned by copy: oneDNN primitives and memories are shared handles, so a copy is
// cheap and stays valid when the entry is evicted while another thread runs it.
#pragma once
#include <cstddef>
#include <list>
#include <map>
#include <mutex>
#include <utility>

namespace slimformer::kernels {

template <class Key, class Value>
class BoundedCache {
 public:
  explicit BoundedCache(size_t capacity) : capacity_(capacity < 1 ? 1 : capacity) {}

  // The value for key, made by make() (called under the lock) when absent; the least recently
  // used entry is dropped when the cache is full.
  template <class Make>
  Value get_or_make(const Key& key, Make&& make) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = index_.find(key);
    if (it != index_.end()) {
      order_.splice(order_.begin(), order_, it->second);   // now the most recent
      return it->second->second;
    }
    Value v = make();
    order_.emplace_front(key, v);
    index_[key] = order_.begin();
    if (order_.size() > capacity_) {
      index_.erase(order_.back().first);
      order_.pop_back();
    }
    return v;
  }

  size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return order_.size();
  }
  size_t capacity() const { return capacity_; }

 private:
  size_t capacity_;
  mutable std::mutex mu_;
  std::list<std::pair<Key, Value>> order_;   // most recent first
  std::map<Key, typename std::list<std::pair<Key, Value>>::iterator> index_;
};

// Primitives kept per layer (or per process-wide shape table): enough for the few batch shapes
// a run alternates between, small enough that memory stays flat over any number of shapes.
constexpr size_t kPrimitivesPerLayer = 16;
constexpr size_t kPrimitivesShared = 64;

}  // namespace slimformer::kernels
