// The slimformer side of ../shared/anchors/run.sh (ENGINE_CMD): loads a model folder, times the
// encoder forward on the anchors' fixed inputs, writes the JSON record and the mean-pooled
// embeddings. Usage:
//   slim_anchor_engine MODEL_DIR BATCH SEQ THREADS OUT_JSON OUT_EMB
//                      [--warmup N] [--min-runs N] [--max-runs N] [--target-s S]
//                      [--precision fp32|int8]
// --precision int8 quantizes the folder's model in memory as `slimformer quantize --dtype int8`
// does (Linear weights int8 per output channel, activations per row at run time; embeddings
// kept), the counterpart of the anchors' PyTorch dynamic int8; the time to quantize counts as load.
// At batch 1, seq 128 it also writes OUT_EMB's ".pad.bin" sibling: the padded B=4, S=128 check
// (lengths 128/97/64/9, pad id 0) that the anchors' report compares with PyTorch.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "slimformer/checkpoint.h"
#include "slimformer/compress.h"
#include "slimformer/encoder.h"
#include "slimformer/error.h"
#include "slimformer/threads.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Args {
  std::string model_dir, out_json, out_emb, precision = "fp32";
  int64_t batch = 0, seq = 0;
  int threads = 2, warmup = -1, min_runs = 10, max_runs = 50;
  double target_s = 3.0;
};

int64_t parse_int(const std::string& s, const char* what) {
  size_t used = 0;
  long long v = 0;
  try { v = std::stoll(s, &used); } catch (const std::exception&) { used = 0; }
  if (used != s.size() || v < 1)
    throw slimformer::InputError(std::string(what) + ": expected a positive integer, got '" + s + "'");
  return v;
}

Args parse_args(int argc, char** argv) {
  if (argc < 7)
    throw slimformer::InputError(
        "usage: slim_anchor_engine MODEL_DIR BATCH SEQ THREADS OUT_JSON OUT_EMB [--warmup N] "
        "[--min-runs N] [--max-runs N] [--target-s S] [--precision fp32|int8]");
  Args a;
  a.model_dir = argv[1];
  a.batch = parse_int(argv[2], "BATCH");
  a.seq = parse_int(argv[3], "SEQ");
  a.threads = static_cast<int>(parse_int(argv[4], "THREADS"));
  a.out_json = argv[5];
  a.out_emb = argv[6];
  for (int i = 7; i < argc; i += 2) {
    const std::string f = argv[i];
    if (i + 1 >= argc) throw slimformer::InputError("flag " + f + " needs a value");
    const std::string v = argv[i + 1];
    if (f == "--warmup") a.warmup = static_cast<int>(parse_int(v, "--warmup"));
    else if (f == "--min-runs") a.min_runs = static_cast<int>(parse_int(v, "--min-runs"));
    else if (f == "--max-runs") a.max_runs = static_cast<int>(parse_int(v, "--max-runs"));
    else if (f == "--target-s") a.target_s = std::stod(v);
    else if (f == "--precision" && (v == "fp32" || v == "int8")) a.precision = v;
    else if (f == "--precision") throw slimformer::InputError("--precision: expected fp32 or int8, got '" + v + "'");
    else throw slimformer::InputError("unknown flag " + f);
  }
  if (a.warmup < 0) a.warmup = a.batch * a.seq >= 4096 ? 1 : 2;   // as the anchors do
  return a;
}

// The anchors' input formula: id[b,s] = 1000 + (b*7919 + s*104729 + 17) % 28000; positions at
// or past lens[b] are padding (id 0, mask 0).
slimformer::Batch anchor_inputs(int64_t batch, int64_t seq, const std::vector<int64_t>& lens = {}) {
  slimformer::Batch b;
  b.batch = batch;
  b.seq = seq;
  b.ids.resize(batch * seq);
  b.mask.assign(batch * seq, 1);
  b.type_ids.assign(batch * seq, 0);
  for (int64_t i = 0; i < batch; ++i)
    for (int64_t s = 0; s < seq; ++s) {
      const bool pad = !lens.empty() && s >= lens[i];
      b.ids[i * seq + s] = pad ? 0 : 1000 + (i * 7919 + s * 104729 + 17) % 28000;
      b.mask[i * seq + s] = pad ? 0 : 1;
    }
  return b;
}

slimformer::Tensor embed(const slimformer::Encoder& enc, const slimformer::Batch& b) {
  const auto r = enc.forward(b);
  return slimformer::pool(r.last_hidden_state, b.mask, slimformer::PoolingMode::Mean);
}

void write_embeddings(const std::string& path, const slimformer::Tensor& emb) {
  const auto* p = static_cast<const char*>(emb.raw());   // float32, little-endian host
  slimformer::write_file_atomic(path, std::string(p, p + emb.nbytes()));
}

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;   // ru_maxrss is in KiB on Linux
}

int run(const Args& a) {
  slimformer::set_num_threads(a.threads);
  const auto t_load = Clock::now();
  auto ckpt = std::make_shared<const slimformer::Checkpoint>(a.model_dir);
  if (a.precision == "int8") {
    namespace compress = slimformer::compress;
    compress::ModelState m = compress::state_of(*ckpt);
    compress::quantize(m, compress::Quantization{});
    ckpt = compress::checkpoint_of(m);
  }
  const slimformer::Encoder enc(ckpt);
  const double load_s = std::chrono::duration<double>(Clock::now() - t_load).count();

  const auto inputs = anchor_inputs(a.batch, a.seq);
  slimformer::Tensor emb;
  const auto t_warm = Clock::now();
  for (int i = 0; i < a.warmup; ++i) emb = embed(enc, inputs);
  const double warm_s =
      std::chrono::duration<double>(Clock::now() - t_warm).count() / std::max(a.warmup, 1);
  const int runs = std::min(a.max_runs,
                            std::max(a.min_runs, static_cast<int>(std::ceil(a.target_s / std::max(warm_s, 1e-6)))));
  std::vector<double> times;
  for (int i = 0; i < runs; ++i) {
    const auto t = Clock::now();
    emb = embed(enc, inputs);
    times.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t).count());
  }
  write_embeddings(a.out_emb, emb);

  std::string pad_file;
  if (a.batch == 1 && a.seq == 128) {
    pad_file = a.out_emb + ".pad.bin";
    write_embeddings(pad_file, embed(enc, anchor_inputs(4, 128, {128, 97, 64, 9})));
  }

  std::vector<double> sorted = times;
  std::sort(sorted.begin(), sorted.end());
  const size_t n = sorted.size();
  const double median = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  nlohmann::json rec = {
      {"runtime", "slimformer"}, {"precision", a.precision},
      {"model", std::filesystem::path(a.model_dir).lexically_normal().filename().string()},
      {"batch", a.batch}, {"seq", a.seq}, {"threads", a.threads}, {"warmup", a.warmup},
      {"runs", n}, {"median_ms", median}, {"min_ms", sorted.front()}, {"max_ms", sorted.back()},
      {"tokens_per_s", static_cast<double>(a.batch * a.seq) / (median / 1e3)},
      {"peak_rss_mb", peak_rss_mb()}, {"load_s", load_s}, {"times_ms", times},
      {"emb_file", std::filesystem::absolute(a.out_emb).string()}};
  if (!pad_file.empty()) rec["pad_check_file"] = std::filesystem::absolute(pad_file).string();
  slimformer::write_file_atomic(a.out_json, rec.dump(1) + "\n");
  std::printf("slimformer %s %s b=%ld s=%ld: median %.1f ms (min %.1f, max %.1f, n=%zu), load %.1fs\n",
              a.precision.c_str(), rec["model"].get<std::string>().c_str(), a.batch, a.seq, median, sorted.front(),
              sorted.back(), n, load_s);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse_args(argc, argv));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "slim_anchor_engine: %s\n", e.what());
    return 2;
  }
}
