// slimformer serve: an HTTP server for embeddings (text-embeddings-inference's /embed, OpenAI's
// /v1/embeddings), tokenization, health, model info and Prometheus metrics. Requests arriving
// together are batched by one model thread (src/serve); this file wires cpp-httplib to it and
// shuts down gracefully on SIGTERM or SIGINT.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "commands.h"
#include "pooling_name.h"
#include "serve/embed_service.h"
#include "serve/heap_limits.h"
#include "serve/metrics.h"
#include "serve_connection.h"
#include "serve_routes.h"
#include "slimformer/checkpoint.h"
#include "slimformer/error.h"

namespace slimcli {
namespace {

namespace sv = slimformer::serve;

// Connections are served one per thread; most wait on the batch worker or on slow clients, so
// there are more of them than cores.
constexpr size_t kHttpThreads = 32;

struct ServeOptions {
  std::string model, host = "127.0.0.1", port = "8080", max_batch_tokens, max_input_length, threads;
  std::string payload_limit = "2M", read_timeout = "10", batching = "shared";
};

std::string model_id_of(std::string dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  const size_t slash = dir.rfind('/');
  return slash == std::string::npos ? dir : dir.substr(slash + 1);
}


std::string info_json(const ServeOptions& o, const sv::EmbedService& service) {
  const slimformer::SentenceEncoder& enc = service.encoder();
  const auto by_dtype = slimformer::Checkpoint(o.model).bytes_by_dtype();   // mmapped: reads headers only
  nlohmann::ordered_json j;
  j["model_id"] = model_id_of(o.model);
  j["model_path"] = o.model;
  j["model_dtype"] = by_dtype.empty() ? "none" : by_dtype.front().first;
  j["dims"] = enc.dim();   // the last Dense module's width where the folder has any
  j["attention"] = enc.encoder().attention().describe();
  j["pooling"] = pooling_name(enc.sentence_config().pooling);
  j["normalize"] = enc.sentence_config().normalize;
  j["max_input_length"] = service.limits().max_input_length;
  j["max_batch_tokens"] = service.limits().max_batch_tokens;
  j["batching"] = service.limits().batch_across_requests ? "shared" : "per-request";
  j["version"] = SLIM_VERSION;
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

// Waits for SIGTERM or SIGINT (blocked in every thread, so only this one takes them), then stops
// the server until its listen() has returned: a signal that came before listen() began is not lost.
class ShutdownOnSignal {
 public:
  ShutdownOnSignal(GuardedServer& server, const sigset_t& signals)
      : thread_([this, &server, signals] { wait(server, signals); }) {}
  ~ShutdownOnSignal() {
    listen_returned_ = true;
    thread_.join();
  }

 private:
  void wait(GuardedServer& server, sigset_t signals) {
    const timespec slice{0, 100 * 1000 * 1000};
    int sig = -1;
    while (!listen_returned_ && sig < 0) sig = sigtimedwait(&signals, nullptr, &slice);
    if (sig < 0) return;
    std::fprintf(stderr, "serve: %s, finishing requests in flight\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    while (!listen_returned_) {
      server.stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  std::atomic<bool> listen_returned_{false};
  std::thread thread_;
};

int run_serve(const ServeOptions& o) {
  sv::bound_heap_growth();
  // Before any thread starts, so that every thread (OpenMP's, cpp-httplib's) inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);   // a client gone mid-answer is a failed write, not the end of the server

  const int port = static_cast<int>(parse_int("--port", o.port, 0, 65535));
  sv::ServeLimits limits;
  if (!o.max_batch_tokens.empty()) limits.max_batch_tokens = parse_int("--max-batch-tokens", o.max_batch_tokens, 1);
  if (!o.max_input_length.empty()) limits.max_input_length = parse_int("--max-input-length", o.max_input_length, 1);
  if (o.batching != "shared" && o.batching != "per-request")
    throw slimformer::InputError("--batching: expected shared or per-request, got '" + o.batching + "'");
  limits.batch_across_requests = o.batching == "shared";
  const size_t payload_limit = parse_bytes("--payload-limit", o.payload_limit);
  ConnectionLimits conn;
  conn.request_read = std::chrono::seconds(parse_int("--read-timeout", o.read_timeout, 1, 3600));
  conn.io = std::min(conn.io, conn.request_read);
  apply_threads(o.threads);
  require_model_dir("--model", o.model);

  const slimformer::SentenceEncoder encoder(o.model);
  sv::Metrics metrics;
  sv::EmbedService service(encoder, limits,
                           [&metrics](size_t texts, int64_t tokens) { metrics.observe_batch(texts, tokens); });
  GuardedServer server(conn);
  server.new_task_queue = [] { return new httplib::ThreadPool(kHttpThreads); };
  server.set_payload_max_length(payload_limit);
  server.set_keep_alive_max_count(conn.keep_alive_requests);   // what the Keep-Alive header announces
  server.set_keep_alive_timeout(std::chrono::duration_cast<std::chrono::seconds>(conn.keep_alive_idle).count());
  add_routes(server, {&service, &metrics, model_id_of(o.model), info_json(o, service), payload_limit});

  const int bound = port == 0 ? server.bind_any(o.host) : (server.bind(o.host, port) ? port : -1);
  if (bound < 0) {
    throw slimformer::InputError("--host/--port: cannot listen on " + o.host + ":" + std::to_string(port) +
                                 " (address in use, not local, or not permitted)");
  }
  std::fprintf(stderr, "serve: listening on http://%s:%d\n", o.host.c_str(), bound);
  std::fflush(stderr);
  {
    ShutdownOnSignal shutdown(server, signals);
    server.listen_after_bind();   // returns once stopped and every connection thread has finished
  }
  service.close();
  std::fprintf(stderr, "serve: stopped\n");
  return 0;
}

}  // namespace

Runner add_serve(CLI::App& root) {
  auto o = std::make_shared<ServeOptions>();
  CLI::App* cmd = root.add_subcommand("serve", "Serve embeddings over HTTP (/embed, /v1/embeddings, /tokenize, /health, /info, /metrics)");
  cmd->add_option("--model", o->model, "Model folder (config.json, safetensors, tokenizer)")->type_name("DIR")->required();
  cmd->add_option("--host", o->host, "Address to listen on (default 127.0.0.1: this machine only)")->type_name("ADDR");
  cmd->add_option("--port", o->port, "Port (default 8080; 0 picks a free one, printed when ready)")->type_name("N");
  cmd->add_option("--max-batch-tokens", o->max_batch_tokens,
                  "Padded tokens per forward pass, texts of concurrent requests together (default 16 x the input limit)")
      ->type_name("N");
  cmd->add_option("--max-input-length", o->max_input_length,
                  "Tokens per text, special tokens included; longer ones are a 422 unless truncated (default: the model's limit)")
      ->type_name("N");
  cmd->add_option("--batching", o->batching,
                  "shared: concurrent requests' texts share forward passes (default); per-request: each request "
                  "runs alone, bit for bit what `slimformer embed` gives for its texts")
      ->type_name("MODE");
  cmd->add_option("--payload-limit", o->payload_limit, "Largest request body; larger ones get 413 (default 2M)")->type_name("BYTES");
  cmd->add_option("--read-timeout", o->read_timeout, "Seconds a request's head and body may take to arrive (default 10)")
      ->type_name("S");
  add_threads_flag(cmd, &o->threads);
  return [o] { return run_serve(*o); };
}

}  // namespace slimcli
