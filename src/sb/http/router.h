// Router: maps (method, path) to a route whose handler runs inside the middleware chain.
//
// Patterns are absolute paths whose segments are literals or `{name}` parameters, e.g.
// "/v1/tenants/{id}"; a last segment `{name...}` matches the rest of the path (one or more
// segments) and keeps it raw, still percent-encoded, e.g. "/v1/proxy/{id}/{path...}". A pattern
// may end in a slash ("/dashboard/"), which then matches only that path with its slash. A literal
// segment wins over a parameter at the same position (with backtracking, so "/a/b/c" and "/a/{x}/d"
// both match what they should). Unknown paths give 404; a known path with another method gives 405
// with an Allow header. A route's name is its pattern: the metrics label, never the raw path, which
// keeps label cardinality bounded.
//
// Thread safety: register routes and middlewares (Add, Use) before serving; afterwards every
// const method may be called from any thread concurrently.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sb/base/status.h"
#include "sb/http/request.h"
#include "sb/http/response.h"

namespace sb::http {

using Handler = std::function<Response(Request&)>;
// A middleware may answer itself (e.g. 401) or call next(request) and adjust the result.
using Middleware = std::function<Response(Request&, const Handler& next)>;

struct Route {
  std::string method;
  std::string pattern;  // also the route's name
  RouteOptions options;
  Handler handler;
  std::vector<std::string> param_names;  // the {name}s in pattern order
  bool has_rest = false;                 // the last name is a {name...} rest parameter
};

enum class MatchKind { kFound, kNotFound, kMethodNotAllowed };

struct RouteMatch {
  MatchKind kind = MatchKind::kNotFound;
  const Route* route = nullptr;  // set when kFound; owned by the Router
  ParamMap params;               // decoded {param} values when kFound
  std::string allow;             // "GET, POST" when kMethodNotAllowed
};

class Router {
 public:
  Router();
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Registers a route. Returns InvalidArgument for a malformed pattern (not starting with '/',
  // empty segment, bad `{name}`) and AlreadyExists for a duplicate (method, pattern) or a
  // pattern that differs from an existing one only in parameter names.
  Status Add(std::string_view method, std::string_view pattern, Handler handler,
             RouteOptions options = {});
  // Appends a middleware; the first one added is the outermost.
  void Use(Middleware middleware);

  // Matches `method` and a raw (percent-encoded) `path`. A path param that fails to decode
  // makes the path not match (404).
  RouteMatch Match(std::string_view method, std::string_view path) const;

  // Matches request.method/request.path; on kFound fills route_name, route_options and
  // path_params in `request`.
  RouteMatch Resolve(Request& request) const;

  // Runs the middleware chain and then `route`'s handler. Exceptions propagate to the caller
  // (the server turns them into 500). REQUIRES: request was resolved to `route`.
  Response Invoke(const Route& route, Request& request) const;

  // Resolve + Invoke, with 404/405 problem responses. A convenience for tests and tools.
  Response Dispatch(Request& request) const;

  // True when `path` (raw) falls under a route registered with log_path=false, whatever the
  // method and even when no route matches it: its segments begin with that route's pattern up
  // to and including the pattern's first {param} (e.g. "/connect/<token>/x" under
  // "/connect/{token}"). Empty segments are skipped and segments percent-decoded first, so
  // that "/connect//<token>" or "/%63onnect/<token>" count too. The access log uses it so that
  // a secret in the path never reaches a log line (OA-12).
  bool IsSecretPath(std::string_view path) const;

  // Registered (method, pattern) pairs in registration order.
  std::vector<std::pair<std::string, std::string>> Routes() const;

 private:
  struct Node;
  struct Search;
  const Route* Find(const Node& node, size_t i, Search& search) const;
  Response RunChain(size_t index, const Route& route, Request& request) const;
  void AddSecretPrefix(const std::vector<std::string_view>& segments);

  std::unique_ptr<Node> root_;
  std::vector<std::unique_ptr<Route>> routes_;
  std::vector<Middleware> middlewares_;
  // Of each log_path=false route: its pattern's segments up to the first {param} (kept as "{}").
  std::vector<std::vector<std::string>> secret_prefixes_;
};

}  // namespace sb::http
