#include "sb/api/dashboard_handlers.h"

#include <string>

#include "sb/http/problem.h"

namespace sb::api {

namespace {

http::Response Off(const http::Request& request) {
  return http::MakeProblem(404, "not-found",
                           "The dashboard is not enabled on this server (dashboard.assets_dir).",
                           request.request_id);
}

}  // namespace

http::Response DashboardHandlers::Redirect(http::Request& request) {
  if (files_ == nullptr) return Off(request);
  const size_t query = request.target.find('?');
  std::string location = "/dashboard/";
  if (query != std::string::npos) location += request.target.substr(query);
  http::Response response = http::Response::Empty(308);
  response.SetHeader("Location", location);
  response.SetHeader("Cache-Control", "no-cache");
  return response;
}

http::Response DashboardHandlers::Serve(http::Request& request) {
  if (files_ == nullptr) return Off(request);
  // The rest parameter stays raw (percent-encoded): StaticFiles decodes it once itself.
  return files_->Serve(request.PathParam("path").value_or(""), request.request_id);
}

}  // namespace sb::api
