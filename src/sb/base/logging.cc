#include "sb/base/logging.h"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

namespace sb::log {
namespace {

// Buffers lines and writes them to a file descriptor in large chunks: one write(2) per 64 KiB
// instead of one per line keeps access logging off the request hot path. Warnings and errors,
// and a periodic flush (see Logger()), bound how long a line can wait.
class BufferedFdSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit BufferedFdSink(int fd) : fd_(fd) {}
  ~BufferedFdSink() override { flush_(); }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    buffer_.append(msg.payload.data(), msg.payload.size());
    buffer_ += '\n';
    if (buffer_.size() >= kChunk) flush_();
  }
  void flush_() override {
    size_t done = 0;
    while (done < buffer_.size()) {
      ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // nowhere to log to: drop rather than block the server
      done += static_cast<size_t>(n);
    }
    buffer_.clear();
  }

 private:
  static constexpr size_t kChunk = 64 * 1024;
  const int fd_;
  std::string buffer_;
};

std::atomic<Level> g_level{Level::kInfo};
std::mutex g_mu;                           // guards g_logger replacement
std::shared_ptr<spdlog::logger> g_logger;  // guarded by g_mu

std::shared_ptr<spdlog::logger> Logger() {
  std::lock_guard<std::mutex> lock(g_mu);
  if (!g_logger) {
    g_logger =
        std::make_shared<spdlog::logger>("sb", std::make_shared<BufferedFdSink>(STDERR_FILENO));
    g_logger->set_pattern("%v");
    g_logger->set_level(spdlog::level::trace);
    g_logger->flush_on(spdlog::level::warn);
    spdlog::register_logger(g_logger);
    spdlog::flush_every(std::chrono::seconds(1));
  }
  return g_logger;
}

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

spdlog::level::level_enum SpdLevel(Level level) {
  switch (level) {
    case Level::kDebug:
      return spdlog::level::debug;
    case Level::kInfo:
      return spdlog::level::info;
    case Level::kWarn:
      return spdlog::level::warn;
    case Level::kError:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

}  // namespace

void Flush() { Logger()->flush(); }

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
  line["ts"] =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() / 1e6;
  line["level"] = LevelName(level);
  line["event"] = event;
  if (fields.is_object()) {
    for (const auto& [k, v] : fields.items()) line[k] = v;
  }
  Logger()->log(SpdLevel(level), line.dump(-1, ' ', false, Json::error_handler_t::replace));
}

}  // namespace sb::log
