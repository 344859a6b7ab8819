// Public routes where providers deliver push notifications (issue 15, PRODUCT.md section 10):
//
//   POST /push/google/{tenant}     Google Calendar channel notifications (X-Goog-* headers, no
//                                  body): 200 once stored; 404 unknown channel; 403 wrong token
//                                  or resource; 400 malformed; 503 when it could not be stored
//                                  (Google retries 5xx)
//   POST /push/microsoft/{tenant}  Graph: with ?validationToken= the subscription handshake (the
//                                  token echoed as text/plain, no database work); otherwise
//                                  change and lifecycle notifications: 202 once stored
//
// Both are rate limited per client address before any database work (routes.cc); what became
// of each notification is counted (sb_push_notifications_total).
#pragma once

#include "sb/http/request.h"
#include "sb/http/response.h"
#include "sb/sync/calendar/push.h"

namespace sb::api {

class PushHandlers {
 public:
  explicit PushHandlers(sync::calendar::CalendarPush& push) : push_(push) {}

  http::Response Google(http::Request& request);
  http::Response Microsoft(http::Request& request);

 private:
  sync::calendar::CalendarPush& push_;
};

}  // namespace sb::api
