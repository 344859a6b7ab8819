// JSON batching, POST /v1.0/$batch (provider-protocols.md 7.3): each step is dispatched through
// the origin's router as its own request (so fault rules throttle steps individually), steps
// run once their dependsOn steps ran, and a step whose dependency failed answers 424.
#include <set>

#include "sandbox/microsoft/graph_common.h"
#include "sandbox/microsoft/microsoft.h"

#include "sb/base/encoding.h"

namespace sandbox::microsoft {
namespace {

using sb::http::Request;
using sb::http::Response;

constexpr size_t kMaxSteps = 20;

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

struct Step {
  std::string id;
  std::string method;
  std::string url;
  sb::Json headers = sb::Json::object();
  sb::Json body;
  std::vector<std::string> depends_on;  // lower-cased ids
};

// Parses and checks the batch; the error message when it is malformed.
std::variant<std::vector<Step>, std::string> ParseSteps(const sb::Json& body) {
  if (!body.is_object() || !body.contains("requests") || !body["requests"].is_array()) {
    return std::string("Invalid batch payload format.");
  }
  const sb::Json& requests = body["requests"];
  if (requests.size() > kMaxSteps) {
    return "Number of batch request steps exceeds the maximum of " + std::to_string(kMaxSteps) +
           ".";
  }
  std::vector<Step> steps;
  std::set<std::string> ids;
  for (const sb::Json& item : requests) {
    if (!item.is_object() || !item.contains("id") || !item.contains("method") ||
        !item.contains("url") || !item["url"].is_string() || !item["method"].is_string()) {
      return std::string("Every batch request needs id, method and url.");
    }
    Step step;
    step.id = item["id"].is_string() ? item["id"].get<std::string>() : item["id"].dump();
    if (!ids.insert(Lower(step.id)).second) return "Batch request ids must be unique: " + step.id;
    step.method = item["method"].get<std::string>();
    step.url = item["url"].get<std::string>();
    if (item.contains("headers") && item["headers"].is_object()) step.headers = item["headers"];
    if (item.contains("body")) {
      step.body = item["body"];
      bool has_type = false;
      for (const auto& [name, value] : step.headers.items()) {
        has_type = has_type || Lower(name) == "content-type";
      }
      if (!has_type) return "Content-Type header must be specified when a body is present.";
    }
    for (const auto& dep : item.value("dependsOn", sb::Json::array())) {
      if (dep.is_string()) step.depends_on.push_back(Lower(dep.get<std::string>()));
    }
    steps.push_back(std::move(step));
  }
  for (const Step& step : steps) {
    for (const std::string& dep : step.depends_on) {
      if (!ids.contains(dep)) return "dependsOn names an unknown request id: " + dep;
    }
  }
  return steps;
}

// The synthesized request for one step, carrying the outer request's credentials and host.
Request StepRequest(const Request& outer, const Step& step) {
  Request inner;
  inner.method = step.method;
  std::string url = step.url;
  if (!url.starts_with('/')) url = "/" + url;
  if (!url.starts_with("/v1.0/")) url = "/v1.0" + url;
  if (!sb::http::ParseTarget(url, inner).ok()) inner.path = "/v1.0/invalid";
  inner.target = url;
  inner.remote_address = outer.remote_address;
  inner.request_id = sb::http::NewRequestId();
  std::string content_type;
  for (const auto& [name, value] : step.headers.items()) {
    const std::string text = value.is_string() ? value.get<std::string>() : value.dump();
    inner.headers.emplace_back(name, text);
    if (Lower(name) == "content-type") content_type = text;
  }
  for (std::string_view name : {"Authorization", "Host"}) {
    const auto value = outer.Header(name);
    if (value && !inner.Header(name)) inner.headers.emplace_back(std::string(name), *value);
  }
  if (step.body.is_string() && content_type.find("json") == std::string::npos) {
    inner.body =
        sb::Base64Decode(step.body.get<std::string>()).value_or(step.body.get<std::string>());
  } else if (!step.body.is_null()) {
    inner.body = step.body.dump();
  }
  return inner;
}

sb::Json StepResult(const Step& step, const Response& response) {
  sb::Json headers = sb::Json::object();
  for (const auto& [name, value] : response.headers) {
    if (Lower(name) != "content-length") headers[name] = value;
  }
  sb::Json result = {{"id", step.id}, {"status", response.status}, {"headers", headers}};
  if (!response.body.empty()) {
    const std::string type(response.Header("Content-Type").value_or(""));
    sb::Json parsed = type.find("json") != std::string::npos
                          ? sb::Json::parse(response.body, nullptr, false)
                          : sb::Json(sb::Json::value_t::discarded);
    result["body"] = parsed.is_discarded() ? sb::Json(sb::Base64Encode(response.body)) : parsed;
  }
  return result;
}

}  // namespace

Response MicrosoftSandbox::Batch(Request& request) {
  auto principal = Authenticate(request, Need::kNone);
  if (auto* denied = std::get_if<Response>(&principal)) return std::move(*denied);
  const sb::Json body = sb::Json::parse(request.body, nullptr, false);
  auto parsed = ParseSteps(body);
  if (auto* error = std::get_if<std::string>(&parsed)) {
    return GraphError(request, 400, "BadRequest", *error);
  }
  const std::vector<Step>& steps = std::get<std::vector<Step>>(parsed);
  std::map<std::string, int> status;  // lower-cased id -> status, once run
  sb::Json responses = sb::Json::array();
  while (status.size() < steps.size()) {
    bool progressed = false;
    for (const Step& step : steps) {
      if (status.contains(Lower(step.id))) continue;
      bool ready = true;
      bool failed = false;
      for (const std::string& dep : step.depends_on) {
        const auto it = status.find(dep);
        ready = ready && it != status.end();
        failed = failed || (it != status.end() && it->second >= 400);
      }
      if (!ready) continue;
      progressed = true;
      Response response;
      if (failed) {
        response = GraphError(request, 424, "FailedDependency",
                              "The request could not be executed because a dependency failed.");
      } else {
        Request inner = StepRequest(request, step);
        response = origin_.router().Dispatch(inner);
      }
      status[Lower(step.id)] = response.status;
      responses.push_back(StepResult(step, response));
    }
    if (!progressed) return GraphError(request, 400, "BadRequest", "dependsOn forms a cycle.");
  }
  return GraphJson(200, {{"responses", std::move(responses)}});
}

}  // namespace sandbox::microsoft
