// Graph change notifications (provider-protocols.md 11): subscriptions with the validation
// handshake and expiration cap, change notifications on event writes and lifecycle events.
#include <random>

#include "sandbox/core/url.h"
#include "sandbox/microsoft/graph_common.h"
#include "sandbox/microsoft/microsoft.h"

#include "sb/base/check.h"

namespace sandbox::microsoft {
namespace {

using sb::http::Request;
using sb::http::Response;

constexpr int64_t kMinimumMinutes = 45;

Response SubscriptionNotFound(const Request& request) {
  return GraphError(request, 404, "ResourceNotFound", "The object was not found.");
}

// The event resources this emulator can watch: me/events, me/calendars/{id}/events and
// users/{id}/events (with or without a leading '/').
bool IsEventResource(std::string_view resource) {
  if (resource.starts_with('/')) resource.remove_prefix(1);
  std::string lower(resource);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "me/events") return true;
  if (!lower.ends_with("/events")) return false;
  return lower.starts_with("me/calendars/") || lower.starts_with("users/");
}

std::optional<int64_t> ParseExpiration(const sb::Json& body) {
  if (!body.contains("expirationDateTime") || !body["expirationDateTime"].is_string()) {
    return std::nullopt;
  }
  auto parsed = sb::caltime::ParseRfc3339(body["expirationDateTime"].get<std::string>());
  if (!parsed.ok()) return std::nullopt;
  return *parsed;
}

}  // namespace

sb::Json MicrosoftSandbox::SubscriptionJson(const Request& request, const Subscription& sub) const {
  return {{"@odata.context", origin_.UrlFor(request) + "/v1.0/$metadata#subscriptions/$entity"},
          {"id", sub.id},
          {"resource", sub.resource},
          {"applicationId", sub.client_id},
          {"changeType", sub.change_type},
          {"clientState", sub.client_state.empty() ? sb::Json() : sb::Json(sub.client_state)},
          {"notificationUrl", sub.notification_url},
          {"notificationQueryOptions", nullptr},
          {"lifecycleNotificationUrl",
           sub.lifecycle_url.empty() ? sb::Json() : sb::Json(sub.lifecycle_url)},
          {"expirationDateTime", FormatOffsetDateTime(sub.expiration_ms)},
          {"creatorId", sub.account_id},
          {"includeResourceData", false},
          {"latestSupportedTlsVersion", sub.tls_version},
          {"encryptionCertificate", nullptr},
          {"encryptionCertificateId", nullptr},
          {"notificationUrlAppId", nullptr}};
}

std::optional<Response> MicrosoftSandbox::ValidateEndpoint(const Request& request,
                                                           const std::string& url) {
  const std::string token =
      "Validation: Testing client application reachability for subscription Request-Id: " +
      NewGuid();
  sb::net::HttpRequest probe;
  probe.method = "POST";
  probe.url = AppendQuery(url, {{"validationToken", token}});
  probe.headers = {{"Content-Type", "text/plain; charset=utf-8"}};
  probe.timeout = std::chrono::milliseconds(
      std::max<int64_t>(1, origin_.settings().Int("validation_timeout_ms")));
  auto answer = http_.Send(probe);
  if (!answer.ok() && answer.status().code() == sb::StatusCode::kDeadlineExceeded) {
    return GraphError(request, 400, "InvalidRequest", "Subscription validation request timed out.");
  }
  const bool echoed = answer.ok() && answer->status == 200 && answer->body == token &&
                      answer->Header("Content-Type").value_or("").starts_with("text/plain");
  if (!echoed) {
    return GraphError(request, 400, "ValidationError",
                      "Subscription validation request failed. Notification endpoint must "
                      "respond with 200 OK to validation request.");
  }
  return std::nullopt;
}

void MicrosoftSandbox::RegisterSubscriptions() {
  auto add = [this](std::string_view method, std::string_view pattern, GraphHandler handler) {
    auto wrapped = [this, handler](Request& request) {
      auto principal = Authenticate(request, Need::kCalendarRead);
      if (auto* denied = std::get_if<Response>(&principal)) return std::move(*denied);
      return handler(request, std::get<Principal>(principal));
    };
    SB_CHECK(origin_.router().Add(method, pattern, wrapped).ok());
  };
  add("POST", "/v1.0/subscriptions", [this](Request& request, const Principal& principal) {
    const sb::Json body = sb::Json::parse(request.body, nullptr, false);
    if (!body.is_object()) {
      return GraphError(request, 400, "InvalidRequest",
                        "Could not process subscription creation payload. Are all property "
                        "names spelled and camelCased properly?");
    }
    Subscription sub;
    sub.id = NewGuid();
    sub.account_id = principal.account.id;
    sub.client_id = principal.token.client_id;
    sub.resource = body.value("resource", std::string());
    sub.change_type = body.value("changeType", std::string());
    sub.notification_url = body.value("notificationUrl", std::string());
    sub.lifecycle_url = body.value("lifecycleNotificationUrl", std::string());
    sub.client_state = body.value("clientState", std::string());
    sub.tls_version = body.value("latestSupportedTlsVersion", std::string("v1_2"));
    if (sub.resource.empty() || sub.change_type.empty() || sub.notification_url.empty()) {
      return GraphError(request, 400, "InvalidRequest",
                        "resource, changeType and notificationUrl are required properties for "
                        "subscription creation.");
    }
    if (!IsEventResource(sub.resource)) {
      return GraphError(request, 400, "InvalidRequest",
                        "The resource '" + sub.resource + "' is not supported.");
    }
    if (sub.client_state.size() > 128) {
      return GraphError(request, 400, "InvalidRequest",
                        "clientState must not exceed 128 characters.");
    }
    const auto expiration = ParseExpiration(body);
    if (!expiration) {
      return GraphError(request, 400, "InvalidRequest",
                        "expirationDateTime is a required property for subscription creation.");
    }
    const int64_t max_minutes = origin_.settings().Int("subscription_max_minutes");
    const int64_t now = Now();
    if (*expiration > now + max_minutes * 60'000) {
      return GraphError(request, 400, "ExtensionError",
                        "Subscription expiration can only be " + std::to_string(max_minutes) +
                            " minutes in the future.");
    }
    sub.expiration_ms = std::max(*expiration, now + kMinimumMinutes * 60'000);
    if (auto failed = ValidateEndpoint(request, sub.notification_url)) return std::move(*failed);
    if (!sub.lifecycle_url.empty()) {
      if (auto failed = ValidateEndpoint(request, sub.lifecycle_url)) return std::move(*failed);
    }
    {
      std::lock_guard<std::mutex> lock(subscriptions_mu_);
      subscriptions_[sub.id] = sub;
    }
    return GraphJson(201, SubscriptionJson(request, sub));
  });
  add("GET", "/v1.0/subscriptions", [this](Request& request, const Principal& principal) {
    sb::Json value = sb::Json::array();
    std::lock_guard<std::mutex> lock(subscriptions_mu_);
    for (const auto& [id, sub] : subscriptions_) {
      if (sub.account_id == principal.account.id && sub.client_id == principal.token.client_id &&
          sub.expiration_ms > Now()) {
        sb::Json json = SubscriptionJson(request, sub);
        json.erase("@odata.context");
        value.push_back(std::move(json));
      }
    }
    return GraphJson(200,
                     {{"@odata.context", origin_.UrlFor(request) + "/v1.0/$metadata#subscriptions"},
                      {"value", value}});
  });
  // Runs `change` on the caller's live subscription `{id}` under the lock; 404 otherwise.
  auto with_sub = [this](Request& request, const Principal& principal,
                         const std::function<Response(Subscription&)>& change) {
    std::lock_guard<std::mutex> lock(subscriptions_mu_);
    const auto it = subscriptions_.find(std::string(*request.PathParam("id")));
    if (it == subscriptions_.end() || it->second.account_id != principal.account.id ||
        it->second.expiration_ms <= Now()) {
      return SubscriptionNotFound(request);
    }
    return change(it->second);
  };
  add("GET", "/v1.0/subscriptions/{id}", [this, with_sub](Request& request, const Principal& p) {
    return with_sub(request, p, [&](Subscription& sub) {
      return GraphJson(200, SubscriptionJson(request, sub));
    });
  });
  add("PATCH", "/v1.0/subscriptions/{id}", [this, with_sub](Request& request, const Principal& p) {
    const sb::Json body = sb::Json::parse(request.body, nullptr, false);
    const auto expiration = body.is_object() ? ParseExpiration(body) : std::nullopt;
    if (!expiration) {
      return GraphError(request, 400, "InvalidRequest", "expirationDateTime is required.");
    }
    const int64_t max_minutes = origin_.settings().Int("subscription_max_minutes");
    if (*expiration > Now() + max_minutes * 60'000) {
      return GraphError(request, 400, "ExtensionError",
                        "Subscription expiration can only be " + std::to_string(max_minutes) +
                            " minutes in the future.");
    }
    return with_sub(request, p, [&](Subscription& sub) {
      sub.expiration_ms = std::max(*expiration, Now() + kMinimumMinutes * 60'000);
      return GraphJson(200, SubscriptionJson(request, sub));
    });
  });
  add("DELETE", "/v1.0/subscriptions/{id}", [this, with_sub](Request& request, const Principal& p) {
    Response response = with_sub(request, p, [](Subscription&) { return Response::Empty(204); });
    if (response.status == 204) {
      std::lock_guard<std::mutex> lock(subscriptions_mu_);
      subscriptions_.erase(std::string(*request.PathParam("id")));
    }
    return response;
  });
  add("POST", "/v1.0/subscriptions/{id}/reauthorize",
      [with_sub](Request& request, const Principal& p) {
        return with_sub(request, p, [](Subscription&) { return Response::Empty(204); });
      });
}

void MicrosoftSandbox::Notify(const std::vector<Change>& changes) {
  if (changes.empty()) return;
  const double drop_rate = origin_.settings().Double("notification_drop_rate");
  const bool duplicate = origin_.settings().Bool("notification_duplicate");
  thread_local std::mt19937_64 engine{std::random_device{}()};
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::map<std::string, sb::Json> batches;  // notification URL -> items
  const int64_t now = Now();
  std::lock_guard<std::mutex> lock(subscriptions_mu_);
  for (const Change& change : changes) {
    const auto account = identity_.FindAccount(change.account_id);
    const std::string tenant = account ? account->tenant_id : "";
    const std::string resource = "Users/" + change.account_id + "/Events/" + change.event_id;
    for (const auto& [id, sub] : subscriptions_) {
      if (sub.account_id != change.account_id || sub.expiration_ms <= now ||
          sub.change_type.find(change.change_type) == std::string::npos) {
        continue;
      }
      if (drop_rate > 0 && uniform(engine) < drop_rate) continue;
      sb::Json data = {{"@odata.type", "#Microsoft.Graph.Event"},
                       {"@odata.id", resource},
                       {"id", change.event_id}};
      if (!change.etag.empty()) data["@odata.etag"] = change.etag;
      sb::Json item = {
          {"id", NewGuid()},
          {"subscriptionId", sub.id},
          {"subscriptionExpirationDateTime", FormatOffsetDateTime(sub.expiration_ms)},
          {"clientState", sub.client_state.empty() ? sb::Json() : sb::Json(sub.client_state)},
          {"changeType", change.change_type},
          {"resource", resource},
          {"tenantId", tenant},
          {"resourceData", std::move(data)}};
      sb::Json& batch = batches[sub.notification_url];
      if (batch.is_null()) batch = sb::Json::array();
      batch.push_back(item);
      if (duplicate) batch.push_back(std::move(item));
    }
  }
  for (auto& [url, items] : batches) {
    notifier_.Enqueue(url, sb::Json{{"value", std::move(items)}}.dump());
  }
}

bool MicrosoftSandbox::SendLifecycle(const std::string& subscription_id, const std::string& event) {
  std::lock_guard<std::mutex> lock(subscriptions_mu_);
  const auto it = subscriptions_.find(subscription_id);
  if (it == subscriptions_.end() || it->second.lifecycle_url.empty()) return false;
  const Subscription& sub = it->second;
  const auto account = identity_.FindAccount(sub.account_id);
  const sb::Json item = {
      {"subscriptionId", sub.id},
      {"subscriptionExpirationDateTime", FormatOffsetDateTime(sub.expiration_ms)},
      {"tenantId", account ? account->tenant_id : ""},
      {"clientState", sub.client_state.empty() ? sb::Json() : sb::Json(sub.client_state)},
      {"lifecycleEvent", event}};
  notifier_.Enqueue(sub.lifecycle_url, sb::Json{{"value", {item}}}.dump());
  if (event == "subscriptionRemoved") subscriptions_.erase(it);
  return true;
}

}  // namespace sandbox::microsoft
