#include "tasks/task_runner.h"

#include <spdlog/spdlog.h>

#include <exception>
#include <utility>
#include <vector>

namespace glimmer::tasks {

using Micros = std::chrono::microseconds;

static UnixMicros ToMicros(std::chrono::milliseconds d) {
  return std::chrono::duration_cast<Micros>(d).count();
}

struct TaskRunner::Running {
  domain::Task task;
  Handler* handler = nullptr;
  UnixMicros started_at = 0;
  std::mutex mu;
  Status cancel;                        // guarded by mu; OK while it may run
  std::optional<std::string> progress;  // guarded by mu; not yet written
  bool lost = false;                    // guarded by mu; the claim is no longer ours
};

class TaskRunner::Context final : public TaskContext {
 public:
  explicit Context(Running& run) : run_(run) {}
  const domain::Task& task() const override { return run_.task; }
  void Progress(std::string message) override {
    std::lock_guard lock(run_.mu);
    run_.progress = std::move(message);
  }
  Status Cancelled() const override {
    std::lock_guard lock(run_.mu);
    return run_.cancel;
  }

 private:
  Running& run_;
};

TaskRunner::TaskRunner(db::TaskRepository& repo, const platform::Clock& clock,
                       RunnerOptions options)
    : repo_(repo), clock_(clock), options_(std::move(options)) {}

TaskRunner::~TaskRunner() { Stop(); }

void TaskRunner::Register(std::string type, Handler* handler) {
  handlers_[std::move(type)] = handler;
}

void TaskRunner::Start() {
  // This node just started: tasks it held before are not running any more.
  auto released = repo_.ReleaseNode(options_.node_id, clock_.Now());
  if (released.ok() && *released > 0) {
    spdlog::info("task runner: resuming {} task(s) interrupted on this node", *released);
  }
  // Alive before anything is pinned to this node.
  if (Status alive = repo_.NodeAlive(options_.node_id, clock_.Now()); !alive.ok()) {
    spdlog::warn("task runner: cannot record this node's heartbeat: {}", alive.ToString());
  }
  workers_ = std::make_unique<platform::Executor>("task", options_.workers);
  dispatcher_ = platform::StartThread("task-dispatch", [this] { DispatchLoop(); });
}

void TaskRunner::Wake() {
  {
    std::lock_guard lock(mu_);
    wake_ = true;
  }
  cv_.notify_all();
}

void TaskRunner::Stop(std::chrono::milliseconds grace) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !dispatcher_.joinable() && !workers_) return;
    stopping_ = true;
    for (auto& [id, run] : running_) {
      std::lock_guard rl(run->mu);
      if (run->cancel.ok()) run->cancel = CancelledError("Glimmer is shutting down");
    }
  }
  cv_.notify_all();
  if (dispatcher_.joinable()) dispatcher_.join();
  {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, grace, [&] { return running_.empty(); });
    if (!running_.empty()) {
      spdlog::warn("task runner: {} task(s) still running after {} ms; waiting for them",
                   running_.size(), grace.count());
    }
  }
  workers_.reset();  // joins the workers
}

void TaskRunner::DispatchLoop() {
  const auto tick = std::min(options_.poll_interval, options_.heartbeat);
  UnixMicros last_renew = clock_.Now();
  UnixMicros last_purge = 0;
  UnixMicros last_orphan_check = clock_.Now();
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, tick, [&] { return wake_ || stopping_; });
      if (stopping_) return;
      wake_ = false;
    }
    const UnixMicros now = clock_.Now();
    if (now - last_renew >= ToMicros(options_.heartbeat)) {
      Renew();
      last_renew = now;
    }
    if (now - last_orphan_check >= ToMicros(options_.lease)) {
      AbandonOrphans();
      last_orphan_check = now;
    }
    ClaimAndStart();
    if (now - last_purge > 600'000'000) {
      auto purged = repo_.PurgeExpired(now);
      if (purged.ok() && *purged > 0) spdlog::info("task runner: purged {} expired tasks", *purged);
      last_purge = now;
    }
  }
}

void TaskRunner::ClaimAndStart() {
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stopping_ || static_cast<int>(running_.size()) >= options_.workers) return;
    }
    const UnixMicros now = clock_.Now();
    auto claimed = repo_.Claim(options_.node_id, now, ToMicros(options_.lease));
    if (!claimed.ok()) {
      spdlog::error("task runner: claim failed: {}", claimed.status().ToString());
      return;
    }
    if (!claimed->has_value()) return;
    domain::Task task = std::move(**claimed);
    const UnixMicros ttl = std::chrono::duration_cast<Micros>(options_.task_time_to_live).count();
    auto h = handlers_.find(task.type);
    if (h == handlers_.end()) {
      (void)repo_.Finish(task.id, options_.node_id, domain::TaskStatus::kFailure, std::nullopt,
                         "Unknown task type " + task.type, now, ttl);
      continue;
    }
    if (task.attempts > options_.max_attempts) {
      std::string reason = "The task was interrupted " + std::to_string(task.attempts - 1) +
                           " times (a Glimmer node stopped or crashed while running it) and "
                           "was given up";
      spdlog::warn("task {}: {}", task.id, reason);
      h->second->Abandon(task, reason);
      (void)repo_.Finish(task.id, options_.node_id, domain::TaskStatus::kFailure, std::nullopt,
                         reason, clock_.Now(), ttl);
      continue;
    }
    auto run = std::make_shared<Running>();
    run->task = std::move(task);
    run->handler = h->second;
    run->started_at = now;
    {
      std::lock_guard lock(mu_);
      running_[run->task.id] = run;
    }
    spdlog::info("task {}: started on {} (attempt {})", run->task.id, options_.node_id,
                 run->task.attempts);
    workers_->Post([this, run] { RunOne(run); });
  }
}

void TaskRunner::AbandonOrphans() {
  const UnixMicros ttl = std::chrono::duration_cast<Micros>(options_.task_time_to_live).count();
  auto silent = repo_.SilentNodes(clock_.Now() - SilenceLimit());
  if (!silent.ok()) {
    spdlog::error("task runner: silent-node check failed: {}", silent.status().ToString());
  } else {
    std::erase(*silent, options_.node_id);  // this node is running this very code
    if (!silent->empty()) {
      for (auto& [type, handler] : handlers_) handler->NodesSilent(*silent);
    }
  }
  for (;;) {
    const UnixMicros now = clock_.Now();
    auto claimed =
        repo_.ClaimOrphan(options_.node_id, now, ToMicros(options_.lease), now - SilenceLimit());
    if (!claimed.ok()) {
      spdlog::error("task runner: orphan check failed: {}", claimed.status().ToString());
      return;
    }
    if (!claimed->has_value()) return;
    const domain::Task& task = **claimed;
    const std::string reason =
        "The task can only run on node " + task.affinity.value_or("?") +
        " (it holds the task's staged data or credentials), which has shown no sign of life "
        "for " + std::to_string(SilenceLimit() / 1'000'000) + " s; start the import again";
    spdlog::warn("task {}: {}", task.id, reason);
    if (auto h = handlers_.find(task.type); h != handlers_.end()) h->second->Abandon(task, reason);
    (void)repo_.Finish(task.id, options_.node_id, domain::TaskStatus::kFailure, std::nullopt,
                       reason, clock_.Now(), ttl);
  }
}

void TaskRunner::Renew() {
  Status alive = repo_.NodeAlive(options_.node_id, clock_.Now());
  if (!alive.ok()) spdlog::warn("task runner: cannot record this node's heartbeat: {}",
                                alive.ToString());
  std::vector<std::shared_ptr<Running>> runs;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, run] : running_) runs.push_back(run);
  }
  const UnixMicros now = clock_.Now();
  const UnixMicros limit = std::chrono::duration_cast<Micros>(options_.time_limit).count();
  for (auto& run : runs) {
    std::optional<std::string> progress;
    {
      std::lock_guard rl(run->mu);
      progress = std::move(run->progress);
      run->progress.reset();
      if (run->cancel.ok() && now - run->started_at > limit) {
        run->cancel = DeadlineExceededError(
            "The task ran longer than the time limit of " +
            std::to_string(options_.time_limit.count()) + " s and was stopped");
      }
    }
    Status hb = repo_.Heartbeat(run->task.id, options_.node_id, now, ToMicros(options_.lease),
                                progress);
    if (!hb.ok() && (hb.code() == StatusCode::kAborted || hb.code() == StatusCode::kNotFound)) {
      std::lock_guard rl(run->mu);
      run->lost = true;
      if (run->cancel.ok()) run->cancel = CancelledError("The task was taken over by another node");
      spdlog::warn("task {}: lease lost: {}", run->task.id, hb.ToString());
      continue;
    }
    Status wanted = run->handler->StillWanted(run->task);
    if (!wanted.ok()) {
      // Not an interruption: the run ends (and is recorded) as a failure.
      if (wanted.code() == StatusCode::kCancelled) wanted = AbortedError(wanted.message());
      std::lock_guard rl(run->mu);
      if (run->cancel.ok()) {
        run->cancel = wanted;
        spdlog::info("task {}: stopping: {}", run->task.id, wanted.message());
      }
    }
  }
}

void TaskRunner::RunOne(std::shared_ptr<Running> run) {
  Context ctx(*run);
  Outcome outcome;
  try {
    outcome = run->handler->Run(ctx);
  } catch (const std::exception& e) {
    outcome = {false, std::nullopt, std::string("Internal error: ") + e.what()};
  }
  const UnixMicros now = clock_.Now();
  const UnixMicros ttl = std::chrono::duration_cast<Micros>(options_.task_time_to_live).count();
  bool lost, interrupted;
  {
    std::lock_guard rl(run->mu);
    lost = run->lost;
    interrupted = run->cancel.code() == StatusCode::kCancelled;
  }
  if (lost) {
    spdlog::warn("task {}: finished here after its lease was lost; outcome not recorded",
                 run->task.id);
  } else if (interrupted) {
    // Give the claim up now: the next start (or another node) resumes the task at once.
    (void)repo_.Heartbeat(run->task.id, options_.node_id, now, -1, std::nullopt);
    spdlog::info("task {}: interrupted; left for resumption", run->task.id);
  } else {
    Status st = repo_.Finish(run->task.id, options_.node_id,
                             outcome.success ? domain::TaskStatus::kSuccess
                                             : domain::TaskStatus::kFailure,
                             outcome.result_json, outcome.message, now, ttl);
    if (!st.ok()) spdlog::error("task {}: cannot record outcome: {}", run->task.id, st.ToString());
    spdlog::info("task {}: {}{}{}", run->task.id, outcome.success ? "success" : "failure",
                 outcome.message.empty() ? "" : ": ", outcome.message);
  }
  {
    std::lock_guard lock(mu_);
    running_.erase(run->task.id);
  }
  cv_.notify_all();
  Wake();
}

}  // namespace glimmer::tasks
