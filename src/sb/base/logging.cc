#include "sb/base/logging.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>

namespace sb::log {
namespace {

std::atomic<Level> g_level{Level::kInfo};
std::mutex g_mu;                          // guards g_logger replacement
std::shared_ptr<spdlog::logger> g_logger;  // guarded by g_mu

std::shared_ptr<spdlog::logger> Logger() {
  std::lock_guard<std::mutex> lock(g_mu);
  if (!g_logger) {
    g_logger = std::make_shared<spdlog::logger>(
        "sb", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    g_logger->set_pattern("%v");
    g_logger->set_level(spdlog::level::trace);
  }
  return g_logger;
}

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

}  // namespace

bool ParseLevel(std::string_view text, Level* level) {
  for (Level l : {Level::kDebug, Level::kInfo, Level::kWarn, Level::kError}) {
    if (text == LevelName(l)) {
      *level = l;
      return true;
    }
  }
  return false;
}

void SetLevel(Level level) { g_level.store(level); }

void SetFileSink(const std::string& path) {
  auto logger = std::make_shared<spdlog::logger>(
      "sb", std::make_shared<spdlog::sinks::basic_file_sink_mt>(path));
  logger->set_pattern("%v");
  logger->flush_on(spdlog::level::trace);
  std::lock_guard<std::mutex> lock(g_mu);
  g_logger = std::move(logger);
}

void Write(Level level, std::string_view event, const Json& fields) {
  if (static_cast<int>(level) < static_cast<int>(g_level.load())) return;
  Json line = Json::object();
  const auto now = std::chrono::system_clock::now();
  line["ts"] = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch())
                   .count() / 1e6;
  line["level"] = LevelName(level);
  line["event"] = event;
  if (fields.is_object()) {
    for (const auto& [k, v] : fields.items()) line[k] = v;
  }
  Logger()->info(line.dump(-1, ' ', false, Json::error_handler_t::replace));
}

}  // namespace sb::log
