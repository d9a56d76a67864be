#include "serve_routes.h"

#include <chrono>
#include <optional>
#include <variant>

#include "serve/responses.h"

namespace slimcli {
namespace {

namespace sv = slimformer::serve;
using httplib::ContentReader;
using httplib::Request;
using httplib::Response;

const char* const kJson = "application/json";

void send_error(Response& res, const sv::RequestError& e, sv::Metrics& metrics) {
  res.status = e.status;
  res.set_content(sv::error_json(e), kJson);
  metrics.count_error(e.error_type);
}

bool is_chunked(const Request& req) {
  return req.get_header_value("Transfer-Encoding").find("chunked") != std::string::npos;
}

// The body, read through the content reader so that no request, chunked or not, holds more than
// `limit` bytes (cpp-httplib checks Content-Length against its own limit and drains the body, but
// would buffer a chunked body of any size).
std::optional<sv::RequestError> read_body(const Request& req, Response& res, const ContentReader& reader, size_t limit,
                                          std::string& body) {
  const sv::RequestError too_large{413, "the request body is over the limit of " + std::to_string(limit) + " bytes",
                                   "Validation"};
  if (req.is_multipart_form_data()) {   // not read: the connection closes after the answer
    GuardedServer::close_after_answer();
    return sv::RequestError{415, "Content-Type must be application/json, got multipart/form-data", "UnsupportedMediaType"};
  }
  bool over = false;
  const bool ok = reader([&](const char* data, size_t n) {
    if (body.size() + n > limit) {
      over = true;
      return false;
    }
    body.append(data, n);
    return true;
  });
  if (over) GuardedServer::close_after_answer();   // the rest of a chunked body is still unread
  if (over || res.status == 413) return too_large;
  if (!ok) {
    GuardedServer::close_after_answer();
    return sv::RequestError{400, "the request body could not be read (cut short or malformed)", "Malformed"};
  }
  return std::nullopt;
}

// A POST endpoint: reads the body, then answers with fn(content_type, body, res); times the
// whole and turns any exception into a 500 JSON error.
using PostFn = std::function<void(const std::string& content_type, const std::string& body, Response& res)>;
httplib::Server::HandlerWithContentReader post(const RouteContext& ctx, PostFn fn) {
  return [ctx, fn](const Request& req, Response& res, const ContentReader& reader) {
    const auto start = std::chrono::steady_clock::now();
    std::string body;
    try {
      if (auto err = read_body(req, res, reader, ctx.payload_limit, body)) send_error(res, *err, *ctx.metrics);
      else fn(req.get_header_value("Content-Type"), body, res);
    } catch (const std::exception& e) {
      send_error(res, {500, std::string("internal error: ") + e.what(), "Backend"}, *ctx.metrics);
    }
    ctx.metrics->observe_latency(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  };
}

// Answers `parsed`'s error, or calls fn with its request.
template <typename T, typename Fn>
void with_request(const RouteContext& ctx, sv::Parsed<T> parsed, Response& res, Fn fn) {
  if (auto* e = std::get_if<sv::RequestError>(&parsed)) return send_error(res, *e, *ctx.metrics);
  fn(std::get<T>(parsed));
}

void embed_routes(GuardedServer& server, const RouteContext& ctx) {
  server.Post("/embed", post(ctx, [ctx](const std::string& type, const std::string& body, Response& res) {
    with_request(ctx, sv::parse_embed_request(body, type), res, [&](const sv::EmbedRequest& r) {
      auto out = ctx.service->embed(r);
      if (auto* e = std::get_if<sv::RequestError>(&out)) return send_error(res, *e, *ctx.metrics);
      res.set_content(sv::embeddings_json(std::get<sv::EmbedResult>(out).rows), kJson);
    });
  }));
  server.Post("/v1/embeddings", post(ctx, [ctx](const std::string& type, const std::string& body, Response& res) {
    with_request(ctx, sv::parse_openai_request(body, type), res, [&](const sv::EmbedRequest& r) {
      auto out = ctx.service->embed(r);
      if (auto* e = std::get_if<sv::RequestError>(&out)) return send_error(res, *e, *ctx.metrics);
      const auto& result = std::get<sv::EmbedResult>(out);
      res.set_content(sv::openai_embeddings_json(result.rows, r.model.empty() ? ctx.model_id : r.model, result.tokens), kJson);
    });
  }));
  server.Post("/tokenize", post(ctx, [ctx](const std::string& type, const std::string& body, Response& res) {
    with_request(ctx, sv::parse_tokenize_request(body, type), res, [&](const sv::TokenizeRequest& r) {
      try {
        res.set_content(sv::tokenize_json(ctx.service->tokenize(r), r.texts), kJson);
      } catch (const std::exception& e) {
        send_error(res, {422, e.what(), "Tokenizer"}, *ctx.metrics);
      }
    });
  }));
  // Any other POST: drained within the limit like the others, then a 404 (from the error handler).
  server.Post(".*", post(ctx, [](const std::string&, const std::string&, Response& res) { res.status = 404; }));
}

bool is_endpoint(const std::string& path) { return sv::Metrics::endpoint_label(path) != "other"; }

}  // namespace

void add_routes(GuardedServer& server, const RouteContext& ctx) {
  embed_routes(server, ctx);
  server.Get("/health", [](const Request&, Response& res) { res.set_content("{\"status\":\"ok\"}", kJson); });
  server.Get("/info", [ctx](const Request&, Response& res) { res.set_content(ctx.info_json, kJson); });
  server.Get("/metrics", [ctx](const Request&, Response& res) {
    res.set_content(ctx.metrics->render(), "text/plain; version=0.0.4; charset=utf-8");
  });
  // Only POST bodies go through read_body's limit: refuse a chunked body on any other method
  // before cpp-httplib would buffer it whole.
  server.set_pre_routing_handler([ctx](const Request& req, Response& res) {
    if (req.method == "POST" || !is_chunked(req)) return httplib::Server::HandlerResponse::Unhandled;
    GuardedServer::close_after_answer();
    send_error(res, {400, "a chunked body is accepted on POST only", "Malformed"}, *ctx.metrics);
    return httplib::Server::HandlerResponse::Handled;
  });
  // Answers cpp-httplib gives on its own (no route, body over the limit, unreadable request) in
  // the same JSON shape as ours.
  server.set_error_handler(httplib::Server::HandlerWithResponse([ctx](const Request& req, Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    sv::RequestError e{res.status, "the request could not be read", "Malformed"};
    if (res.status == 404 && is_endpoint(req.path)) {
      e = {405, req.method + " is not served on " + req.path, "MethodNotAllowed"};
    } else if (res.status == 404) {
      e = {404, "no endpoint " + req.method + " " + req.path, "NotFound"};
    } else if (res.status == 413) {
      e = {413, "the request body is over the limit of " + std::to_string(ctx.payload_limit) + " bytes", "Validation"};
    } else if (res.status >= 500) {
      e = {res.status, "internal error", "Backend"};
    }
    send_error(res, e, *ctx.metrics);
    return httplib::Server::HandlerResponse::Handled;
  }));
  server.set_logger([ctx](const Request& req, const Response& res) { ctx.metrics->count_request(req.path, res.status); });
}

}  // namespace slimcli
