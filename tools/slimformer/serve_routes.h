// The endpoints of `slimformer serve` on a GuardedServer: POST /embed, /v1/embeddings and
// /tokenize, GET /health, /info and /metrics, and JSON errors for everything else.
#pragma once
#include <string>

#include "serve/embed_service.h"
#include "serve/metrics.h"
#include "serve_connection.h"

namespace slimcli {

struct RouteContext {
  slimformer::serve::EmbedService* service;
  slimformer::serve::Metrics* metrics;
  std::string model_id;    // OpenAI's "model" when a request names none
  std::string info_json;   // GET /info's answer
  size_t payload_limit;    // bytes of a request body
};

void add_routes(GuardedServer& server, const RouteContext& ctx);

}  // namespace slimcli
