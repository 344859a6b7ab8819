#include "sb/base/time_format.h"

#include <cstdio>

#include "sb/base/text.h"

namespace sb {
namespace {}  // namespace

std::string FormatRfc3339(Timestamp t) {
  using namespace std::chrono;  // NOLINT(google-build-using-namespace): local date math
  const auto day = floor<days>(t);
  const year_month_day ymd(day);
  const hh_mm_ss<microseconds> hms(t - day);
  char buf[40];
  const long long micros = hms.subseconds().count();
  if (micros == 0) {
    std::snprintf(buf, sizeof(buf), "%04d-%02u-%02uT%02lld:%02lld:%02lldZ", int(ymd.year()),
                  unsigned(ymd.month()), unsigned(ymd.day()), (long long)hms.hours().count(),
                  (long long)hms.minutes().count(), (long long)hms.seconds().count());
  } else {
    std::snprintf(buf, sizeof(buf), "%04d-%02u-%02uT%02lld:%02lld:%02lld.%06lldZ", int(ymd.year()),
                  unsigned(ymd.month()), unsigned(ymd.day()), (long long)hms.hours().count(),
                  (long long)hms.minutes().count(), (long long)hms.seconds().count(), micros);
  }
  return buf;
}

std::optional<Timestamp> ParseRfc3339(std::string_view s) {
  using namespace std::chrono;  // NOLINT(google-build-using-namespace): local date math
  int y, mo, d, h, mi, se;
  if (!ParseDigits(s, 0, 4, &y) || s.size() < 20 || s[4] != '-' || !ParseDigits(s, 5, 2, &mo) ||
      s[7] != '-' || !ParseDigits(s, 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
      !ParseDigits(s, 11, 2, &h) || s[13] != ':' || !ParseDigits(s, 14, 2, &mi) || s[16] != ':' ||
      !ParseDigits(s, 17, 2, &se)) {
    return std::nullopt;
  }
  const year_month_day ymd{year(y), month(unsigned(mo)), day(unsigned(d))};
  if (!ymd.ok() || h > 23 || mi > 59 || se > 60) return std::nullopt;
  size_t pos = 19;
  int64_t micros = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int n = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (n < 6) micros = micros * 10 + (s[pos] - '0');
      ++n;
      ++pos;
    }
    if (n == 0) return std::nullopt;
    for (int i = n; i < 6; ++i) micros *= 10;
  }
  int offset_min = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!ParseDigits(s, pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !ParseDigits(s, pos + 4, 2, &om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_min = (s[pos] == '-' ? -1 : 1) * (oh * 60 + om);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  auto t = sys_days(ymd) + hours(h) + minutes(mi) + seconds(se) + microseconds(micros) -
           minutes(offset_min);
  return time_point_cast<microseconds>(t);
}

}  // namespace sb
