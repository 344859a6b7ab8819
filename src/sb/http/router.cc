#include "sb/http/router.h"

#include <algorithm>
#include <map>
#include <set>

#include "sb/http/problem.h"

namespace sb::http {

struct Router::Node {
  std::map<std::string, std::unique_ptr<Node>, std::less<>> literals;
  std::unique_ptr<Node> param;       // the child for a {name} segment
  std::unique_ptr<Node> rest;        // the child for a final {name...} segment
  std::vector<const Route*> routes;  // routes ending here, one per method
};

// State of one Match: the split path, the param values on the current DFS branch, and the
// first node whose path matched (for 405) when no node had the method.
struct Router::Search {
  std::vector<std::string_view> segments;
  std::string_view path;
  std::string_view method;
  std::vector<std::string_view> values;
  const Node* path_match = nullptr;
};

namespace {

// "/a/b" -> {"a", "b"}; "/" -> {}. REQUIRES: path starts with '/'.
std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> segments;
  if (path == "/") return segments;
  path.remove_prefix(1);
  while (true) {
    const size_t slash = path.find('/');
    segments.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return segments;
}

bool IsParamSegment(std::string_view s) {
  return s.size() >= 2 && s.front() == '{' && s.back() == '}';
}

bool IsValidParamName(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

bool IsValidLiteral(std::string_view s) {
  return !s.empty() && s.find_first_of("{}") == std::string_view::npos;
}

bool IsValidMethod(std::string_view m) {
  return !m.empty() && std::all_of(m.begin(), m.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

}  // namespace

Router::Router() : root_(std::make_unique<Node>()) {}
Router::~Router() = default;

Status Router::Add(std::string_view method, std::string_view pattern, Handler handler,
                   RouteOptions options) {
  if (!IsValidMethod(method)) return InvalidArgumentError("invalid method");
  if (pattern.empty() || pattern.front() != '/') {
    return InvalidArgumentError("route pattern must start with '/'");
  }
  auto route = std::make_unique<Route>(
      Route{std::string(method), std::string(pattern), options, std::move(handler), {}});
  Node* node = root_.get();
  const std::vector<std::string_view> segments = SplitPath(pattern);
  for (size_t i = 0; i < segments.size(); ++i) {
    const std::string_view segment = segments[i];
    if (IsParamSegment(segment) && segment.ends_with("...}")) {
      const std::string_view name = segment.substr(1, segment.size() - 5);
      if (!IsValidParamName(name)) return InvalidArgumentError("invalid parameter name");
      if (i + 1 != segments.size()) {
        return InvalidArgumentError("a {name...} segment must come last");
      }
      route->param_names.emplace_back(name);
      route->has_rest = true;
      if (!node->rest) node->rest = std::make_unique<Node>();
      node = node->rest.get();
    } else if (IsParamSegment(segment)) {
      const std::string_view name = segment.substr(1, segment.size() - 2);
      if (!IsValidParamName(name)) return InvalidArgumentError("invalid parameter name");
      route->param_names.emplace_back(name);
      if (!node->param) node->param = std::make_unique<Node>();
      node = node->param.get();
    } else {
      // An empty last segment is a trailing slash ("/dashboard/"), a path of its own.
      const bool trailing_slash = segment.empty() && i > 0 && i + 1 == segments.size();
      if (!IsValidLiteral(segment) && !trailing_slash) {
        return InvalidArgumentError("invalid pattern segment");
      }
      auto& child = node->literals[std::string(segment)];
      if (!child) child = std::make_unique<Node>();
      node = child.get();
    }
  }
  for (const Route* existing : node->routes) {
    if (existing->method == method) return AlreadyExistsError("duplicate route");
  }
  node->routes.push_back(route.get());
  if (!options.log_path) AddSecretPrefix(segments);
  routes_.push_back(std::move(route));
  return OkStatus();
}

void Router::AddSecretPrefix(const std::vector<std::string_view>& segments) {
  std::vector<std::string> prefix;
  for (std::string_view segment : segments) {
    if (IsParamSegment(segment)) {
      prefix.emplace_back("{}");
      secret_prefixes_.push_back(std::move(prefix));
      return;
    }
    prefix.emplace_back(segment);
  }
  // No parameter: the secret can only be the whole path, which Match then finds or not; keep
  // every path below it out of the log too.
  secret_prefixes_.push_back(std::move(prefix));
}

bool Router::IsSecretPath(std::string_view path) const {
  if (secret_prefixes_.empty() || path.empty() || path.front() != '/') return false;
  std::vector<std::string> segments;
  for (std::string_view raw : SplitPath(path)) {
    if (raw.empty()) continue;
    Result<std::string> decoded = PercentDecode(raw);
    segments.push_back(decoded.ok() ? std::move(decoded).value() : std::string(raw));
  }
  for (const std::vector<std::string>& prefix : secret_prefixes_) {
    if (segments.size() < prefix.size()) continue;
    bool under = true;
    for (size_t i = 0; i < prefix.size() && under; ++i) {
      under = prefix[i] == "{}" || prefix[i] == segments[i];
    }
    if (under) return true;
  }
  return false;
}

void Router::Use(Middleware middleware) { middlewares_.push_back(std::move(middleware)); }

const Route* Router::Find(const Node& node, size_t i, Search& search) const {
  if (i == search.segments.size()) {
    if (node.routes.empty()) return nullptr;
    for (const Route* route : node.routes) {
      if (route->method == search.method) return route;
    }
    if (search.path_match == nullptr) search.path_match = &node;
    return nullptr;
  }
  const std::string_view segment = search.segments[i];
  auto literal = node.literals.find(segment);
  if (literal != node.literals.end()) {
    if (const Route* r = Find(*literal->second, i + 1, search)) return r;
  }
  if (node.param && !segment.empty()) {
    search.values.push_back(segment);
    if (const Route* r = Find(*node.param, i + 1, search)) return r;
    search.values.pop_back();
  }
  if (node.rest && !segment.empty()) {
    // The rest of the path, raw, from this segment to the end.
    const size_t offset = static_cast<size_t>(segment.data() - search.path.data());
    search.values.push_back(search.path.substr(offset));
    if (const Route* r = Find(*node.rest, search.segments.size(), search)) return r;
    search.values.pop_back();
  }
  return nullptr;
}

RouteMatch Router::Match(std::string_view method, std::string_view path) const {
  RouteMatch match;
  if (path.empty() || path.front() != '/') return match;
  Search search{SplitPath(path), path, method, {}, nullptr};
  const Route* route = Find(*root_, 0, search);
  if (route == nullptr) {
    if (search.path_match == nullptr) return match;
    std::set<std::string_view> methods;
    for (const Route* r : search.path_match->routes) methods.insert(r->method);
    for (std::string_view m : methods) {
      if (!match.allow.empty()) match.allow += ", ";
      match.allow += m;
    }
    match.kind = MatchKind::kMethodNotAllowed;
    return match;
  }
  for (size_t i = 0; i < search.values.size(); ++i) {
    if (route->has_rest && i + 1 == search.values.size()) {
      match.params.emplace(route->param_names[i], std::string(search.values[i]));
      continue;
    }
    Result<std::string> decoded = PercentDecode(search.values[i]);
    if (!decoded.ok()) return RouteMatch{};
    match.params.emplace(route->param_names[i], std::move(decoded).value());
  }
  match.kind = MatchKind::kFound;
  match.route = route;
  return match;
}

RouteMatch Router::Resolve(Request& request) const {
  RouteMatch match = Match(request.method, request.path);
  if (match.kind == MatchKind::kFound) {
    request.route_name = match.route->pattern;
    request.route_options = match.route->options;
    request.path_params = std::move(match.params);
    match.params.clear();
  }
  return match;
}

Response Router::RunChain(size_t index, const Route& route, Request& request) const {
  if (index == middlewares_.size()) return route.handler(request);
  const Handler next = [this, index, &route](Request& r) { return RunChain(index + 1, route, r); };
  return middlewares_[index](request, next);
}

Response Router::Invoke(const Route& route, Request& request) const {
  return RunChain(0, route, request);
}

Response Router::Dispatch(Request& request) const {
  const RouteMatch match = Resolve(request);
  switch (match.kind) {
    case MatchKind::kFound:
      return Invoke(*match.route, request);
    case MatchKind::kMethodNotAllowed:
      return MethodNotAllowedProblem(match.allow, request.request_id);
    case MatchKind::kNotFound:
      break;
  }
  return RouteNotFoundProblem(request.request_id);
}

std::vector<std::pair<std::string, std::string>> Router::Routes() const {
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(routes_.size());
  for (const auto& route : routes_) out.emplace_back(route->method, route->pattern);
  return out;
}

}  // namespace sb::http
