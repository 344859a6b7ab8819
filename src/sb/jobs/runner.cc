#include "sb/jobs/runner.h"

#include <algorithm>
#include <exception>
#include <utility>

#include "sb/base/encoding.h"
#include "sb/base/logging.h"

namespace sb::jobs {
namespace {

using std::chrono::milliseconds;

std::string_view OutcomeName(JobResult::Kind kind) {
  switch (kind) {
    case JobResult::Kind::kDone:
      return "done";
    case JobResult::Kind::kRetry:
      return "retry";
    case JobResult::Kind::kFail:
      return "failed";
  }
  return "unknown";
}

// The repository cuts errors to size at a character boundary; it needs valid UTF-8.
std::string SafeError(const std::string& error) {
  return IsValidUtf8(error) ? error : "(the handler's error message was not UTF-8)";
}

}  // namespace

Result<store::EnqueueResult> Enqueue(store::Transaction& tx, const TenantId& tenant,
                                     const JobSpec& spec, const Clock& clock, IdGenerator& ids) {
  const Timestamp now = clock.Now();
  store::JobRecord job;
  job.tenant_id = tenant;
  job.id = JobId(ids.NewUuid());
  job.kind = spec.kind;
  job.payload = spec.payload;
  job.priority = spec.priority;
  job.run_at = spec.run_at.value_or(now);
  job.dedupe_key = spec.dedupe_key;
  job.max_attempts = spec.max_attempts;
  job.concurrency_key = spec.concurrency_key;
  job.concurrency_limit = spec.concurrency_limit;
  job.concurrency_group = spec.concurrency_group;
  job.group_limit = spec.group_limit;
  job.created_at = job.updated_at = now;
  return store::JobRepository().Enqueue(tx, tenant, job, spec.while_running);
}

Result<bool> RetireQueued(store::Transaction& tx, const TenantId& tenant, const std::string& kind,
                          const std::string& dedupe_key, const Clock& clock) {
  return store::JobRepository().CompleteQueued(tx, tenant, kind, dedupe_key, clock.Now());
}

Status JobContext::CompleteWith(const std::function<Status(store::Transaction&)>& work) {
  if (completed_) return FailedPreconditionError("the job was completed already");
  const Status s = db_.RunInTenant(job_.tenant_id, [&](store::Transaction& tx) -> Status {
    SB_RETURN_IF_ERROR(work(tx));
    SB_ASSIGN_OR_RETURN(bool ours, store::JobRepository().Complete(tx, job_.tenant_id, job_.id,
                                                                   job_.lease_owner, clock_.Now()));
    if (!ours) return AbortedError("the job's lease was lost; its work was rolled back");
    return OkStatus();
  });
  if (s.ok()) completed_ = true;
  return s;
}

JobRunner::JobRunner(store::Database& db, store::Database& maintenance, const Clock& clock,
                     Random& random, JobRunnerOptions options, metrics::MetricsRegistry* metrics)
    : db_(db),
      maintenance_(maintenance),
      clock_(clock),
      random_(random),
      options_(std::move(options)) {
  if (metrics != nullptr) {
    counter_ = &metrics->AddCounter("sb_jobs_total",
                                    "Background jobs run, by kind and outcome (done, retry, "
                                    "failed, dead, lost).",
                                    {"kind", "outcome"});
  }
}

JobRunner::~JobRunner() { Stop(); }

void JobRunner::Register(const std::string& kind, JobHandler handler) {
  handlers_[kind] = std::move(handler);
}

void JobRunner::Start() {
  if (loop_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stopping_ = false;
  }
  loop_ = std::thread([this] { Loop(); });
  heartbeat_ = std::thread([this] { Heartbeats(); });
}

void JobRunner::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (loop_.joinable()) loop_.join();
  if (heartbeat_.joinable()) heartbeat_.join();
}

void JobRunner::Loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    auto ran = RunOnce();
    if (!ran.ok()) log::Warn("jobs.poll_failed", {{"error", ran.status().ToString()}});
    lock.lock();
    // A poll that found work polls again at once: more may be waiting even when the batch was
    // not full (concurrency keys let through only so many of a key per poll). Only an empty
    // poll (or an error) waits.
    if ((!ran.ok() || *ran == 0) && !woken_) IdleWait(lock);
    woken_ = false;
  }
}

// Until options.poll has passed, Wake(), Stop(), or the earliest WakeIn() time, whichever comes
// first (a WakeIn() during the wait shortens it).
void JobRunner::IdleWait(std::unique_lock<std::mutex>& lock) {
  using Steady = std::chrono::steady_clock;
  const Steady::time_point until = Steady::now() + options_.poll;
  while (!stopping_ && !woken_) {
    const Steady::time_point deadline = wake_at_ ? std::min(until, *wake_at_) : until;
    if (Steady::now() >= deadline) break;
    wake_.wait_until(lock, deadline);
  }
  if (wake_at_ && *wake_at_ <= Steady::now()) wake_at_.reset();
}

void JobRunner::Wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  wake_.notify_all();
}

void JobRunner::WakeIn(milliseconds delay) {
  if (delay <= milliseconds(0)) return Wake();
  {
    std::lock_guard lock(mu_);
    const auto at = std::chrono::steady_clock::now() + delay;
    if (!wake_at_ || at < *wake_at_) wake_at_ = at;
  }
  wake_.notify_all();
}

void JobRunner::Heartbeats() {
  const milliseconds every = std::max(milliseconds(50), options_.lease / 3);
  std::unique_lock lock(mu_);
  while (!stopping_) {
    wake_.wait_for(lock, every, [this] { return stopping_; });
    if (stopping_) break;
    const auto running = running_;
    lock.unlock();
    const Timestamp until =
        clock_.Now() + std::chrono::duration_cast<std::chrono::microseconds>(options_.lease);
    // Not a structured binding: clang 14 (the debug preset) cannot capture one in a lambda.
    for (const auto& entry : running) {
      const auto& key = entry.first;
      const auto& job = entry.second;
      const Status s = db_.RunInTenant(job.tenant, [&](store::Transaction& tx) -> Status {
        return repo_.Heartbeat(tx, job.tenant, job.id, job.owner, until).status();
      });
      if (!s.ok()) log::Warn("jobs.heartbeat_failed", {{"job", key}, {"error", s.ToString()}});
    }
    lock.lock();
  }
}

Result<int> JobRunner::RunOnce() {
  std::vector<std::string> kinds;
  for (const auto& [kind, handler] : handlers_) kinds.push_back(kind);
  if (kinds.empty()) return 0;
  std::vector<store::JobRecord> leased;
  // A lease owner per poll, so that a job re-leased by this same node after its lease ran out
  // cannot be completed by the run that lost it.
  const std::string owner = options_.owner + "/" + std::to_string(++polls_);
  SB_RETURN_IF_ERROR(maintenance_.RunUnscoped([&](store::Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(leased, repo_.MaintenanceLease(tx, owner, clock_.Now(), options_.lease,
                                                       options_.batch, options_.per_tenant, kinds));
    return OkStatus();
  }));
  {
    std::lock_guard lock(mu_);
    for (const auto& job : leased) {
      running_[job.id.value()] = Running{job.tenant_id, job.id, job.lease_owner};
    }
  }
  // Jobs that end kDone without completing themselves are completed a few at a time, one
  // transaction per tenant, as soon as the poll has nothing left to hand out; until then they
  // stay in running_ (heartbeated).
  std::atomic<size_t> next{0};
  auto work = [&] {
    std::vector<Ran> done;
    for (size_t i = next++; i < leased.size(); i = next++) {
      if (std::optional<Ran> ran = Run(leased[i])) done.push_back(std::move(*ran));
      if (done.size() >= kCompleteTogether || next.load() >= leased.size()) {
        CompleteDone(std::move(done));
        done.clear();
      }
    }
    CompleteDone(std::move(done));
  };
  const int threads = std::clamp(options_.threads, 1, 256);
  std::vector<std::thread> pool;
  for (int t = 1; t < threads && static_cast<size_t>(t) < leased.size(); ++t) {
    pool.emplace_back(work);
  }
  work();
  for (auto& thread : pool) thread.join();
  return static_cast<int>(leased.size());
}

std::optional<JobRunner::Ran> JobRunner::Run(store::JobRecord job) {
  JobContext context(db_, clock_, job);
  JobResult result;
  auto handler = handlers_.find(job.kind);
  if (handler == handlers_.end()) {
    result = JobResult::Fail("no handler for kind " + job.kind);
  } else {
    try {
      result = handler->second(context);
    } catch (const std::exception& e) {
      result = JobResult::Retry(std::string("handler threw: ") + e.what());
    } catch (...) {
      result = JobResult::Retry("handler threw");
    }
  }
  if (result.kind == JobResult::Kind::kDone && !context.completed()) {
    return Ran{std::move(job), std::move(result)};
  }
  Status finished = OkStatus();
  if (result.kind != JobResult::Kind::kDone) finished = Finish(job, result);
  Settle(job, result, finished);
  return std::nullopt;
}

void JobRunner::CompleteDone(std::vector<Ran> done) {
  std::stable_sort(done.begin(), done.end(),
                   [](const Ran& a, const Ran& b) { return a.job.tenant_id < b.job.tenant_id; });
  for (size_t begin = 0; begin < done.size();) {
    size_t end = begin;
    while (end < done.size() && done[end].job.tenant_id == done[begin].job.tenant_id) ++end;
    std::vector<Status> finished(end - begin, OkStatus());
    const Timestamp now = clock_.Now();
    const TenantId& tenant = done[begin].job.tenant_id;
    const Status tx = db_.RunInTenant(tenant, [&](store::Transaction& t) -> Status {
      for (size_t i = begin; i < end; ++i) {
        const store::JobRecord& job = done[i].job;
        SB_ASSIGN_OR_RETURN(bool ours, repo_.Complete(t, tenant, job.id, job.lease_owner, now));
        finished[i - begin] = ours ? OkStatus() : AbortedError("the job's lease was lost");
      }
      return OkStatus();
    });
    for (size_t i = begin; i < end; ++i) {
      Settle(done[i].job, done[i].result, tx.ok() ? finished[i - begin] : tx);
    }
    begin = end;
  }
}

void JobRunner::Settle(const store::JobRecord& job, const JobResult& result,
                       const Status& finished) {
  {
    std::lock_guard lock(mu_);
    running_.erase(job.id.value());
  }
  std::string_view outcome = OutcomeName(result.kind);
  if (!finished.ok()) {
    outcome = finished.code() == StatusCode::kAborted ? "lost" : "error";
    log::Warn("jobs.finish_failed",
              {{"job", job.id.value()}, {"kind", job.kind}, {"error", finished.ToString()}});
  } else if (result.kind != JobResult::Kind::kDone &&
             (result.kind == JobResult::Kind::kFail || job.attempts >= job.max_attempts)) {
    outcome = "dead";
    log::Warn("jobs.dead", {{"job", job.id.value()}, {"kind", job.kind}, {"error", result.error}});
  } else if (result.kind == JobResult::Kind::kRetry) {
    log::Info("jobs.retry", {{"job", job.id.value()},
                             {"kind", job.kind},
                             {"attempts", job.attempts},
                             {"error", result.error}});
  }
  if (counter_ != nullptr) counter_->WithLabels({job.kind, outcome}).Increment();
}

milliseconds JobRunner::Backoff(int attempts) {
  const int exponent = std::clamp(attempts - 1, 0, 30);
  milliseconds delay = options_.backoff_base * (int64_t{1} << std::min(exponent, 24));
  delay = std::min(delay, options_.backoff_max);
  // Up to half of it as jitter.
  return delay - milliseconds(static_cast<int64_t>(static_cast<double>(delay.count()) / 2 *
                                                   random_.Fraction()));
}

Status JobRunner::Finish(const store::JobRecord& job, const JobResult& result) {
  const Timestamp now = clock_.Now();
  std::optional<Timestamp> retry_at;  // none: the job is dead
  if (result.kind == JobResult::Kind::kRetry) {
    milliseconds delay = result.at_once ? milliseconds(0) : Backoff(job.attempts);
    if (result.after) delay = std::max(delay, *result.after);
    retry_at = now + std::chrono::duration_cast<std::chrono::microseconds>(delay);
  }
  return db_.RunInTenant(job.tenant_id, [&](store::Transaction& tx) -> Status {
    SB_ASSIGN_OR_RETURN(bool ours, repo_.Fail(tx, job.tenant_id, job.id, job.lease_owner, now,
                                              SafeError(result.error), retry_at));
    if (!ours) return AbortedError("the job's lease was lost");
    return OkStatus();
  });
}

}  // namespace sb::jobs
