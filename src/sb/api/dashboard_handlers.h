// The dashboard's files (a single-page app built by Vite) under /dashboard, public: the app
// signs in through the API itself. Off (404 problem+json on every path) without
// dashboard.assets_dir.
//
//   GET|HEAD /dashboard                 308 to /dashboard/ (query kept)
//   GET|HEAD /dashboard/                index.html
//   GET|HEAD /dashboard/{path...}       a file of the build, or index.html for app routes
//                                       (http::StaticFiles has the rules)
#pragma once

#include "sb/http/request.h"
#include "sb/http/response.h"
#include "sb/http/static_files.h"

namespace sb::api {

class DashboardHandlers {
 public:
  // `files` null: the dashboard is off. It must outlive the handlers.
  explicit DashboardHandlers(const http::StaticFiles* files) : files_(files) {}

  http::Response Redirect(http::Request& request);
  http::Response Serve(http::Request& request);

 private:
  const http::StaticFiles* files_;
};

}  // namespace sb::api
