#pragma once
// The asynchronous task runner: the one component that runs tasks (today: image imports).
//
// Tasks live in the database (db::TaskRepository); any node sharing the database may run any
// task. Each node's runner claims runnable tasks with a lease, runs them on a bounded worker
// pool, renews the leases while they run, and records the outcome. A task whose node died is
// claimed again by a survivor (or by the same node after a restart) once its lease expires,
// and run again from the start: handlers are written to be restartable. A task claimed more
// than max_attempts times, or one that runs past time_limit, is failed and its handler's
// Abandon undoes what it left behind — so no import stays "importing" forever.
//
// Thread-safety: Register before Start; Wake and Stop may be called from any thread.

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/status.h"
#include "db/task_repository.h"
#include "domain/task.h"
#include "platform/clock.h"
#include "platform/executor.h"

namespace glimmer::tasks {

// What a handler sees while it runs a task.
class TaskContext {
 public:
  virtual ~TaskContext() = default;
  virtual const domain::Task& task() const = 0;
  // Replaces the task's progress message (written with the next lease renewal).
  virtual void Progress(std::string message) = 0;
  // Non-OK when the run must stop: time limit reached, lease lost to another node, the runner
  // is stopping (these three: resumable, kCancelled or kDeadlineExceeded), or the handler's
  // StillWanted said no. Handlers check it between chunks of work and return promptly.
  virtual Status Cancelled() const = 0;
};

struct Outcome {
  bool success = false;
  std::optional<std::string> result_json;
  std::string message;  // the reason on failure; usually empty on success
};

class Handler {
 public:
  virtual ~Handler() = default;
  // Runs the task to its end (restartable: it may be a second attempt after a crash).
  virtual Outcome Run(TaskContext& ctx) = 0;
  // The task will not run (again): undo its effects (e.g. return the image to queued, remove
  // staged data). `reason` is recorded as the task's message.
  virtual void Abandon(const domain::Task& task, std::string_view reason) = 0;
  // Asked by the runner for each running task with every lease renewal (a few seconds apart):
  // OK while the work is still wanted; an error (e.g. the task's image was deleted) cancels the
  // run with that status, which the handler sees in TaskContext::Cancelled() and ends as a
  // failure (not an interruption: the task is not resumed). Transient errors (the database
  // unreachable) should answer OK. Called from the runner's thread, concurrently with Run.
  virtual Status StillWanted(const domain::Task& task) {
    (void)task;
    return OkStatus();
  }
  // Called every lease, on every node, with the other nodes that have shown no sign of life
  // for two leases (never empty): give up work they hold outside the task queue, which would
  // otherwise wait for them forever (the import handler returns their uploads and stages to
  // queued). Called from the runner's thread.
  virtual void NodesSilent(const std::vector<std::string>& nodes) { (void)nodes; }
};

struct RunnerOptions {
  std::string node_id = "node";
  int workers = 2;  // tasks run at once on this node
  std::chrono::milliseconds poll_interval{1000};
  std::chrono::milliseconds lease{30000};      // a silent node loses its tasks after this
  std::chrono::milliseconds heartbeat{5000};   // lease renewal period (< lease)
  int max_attempts = 3;                        // claims before a task is failed
  std::chrono::seconds time_limit{4 * 3600};   // one run; then cancelled and failed
  std::chrono::seconds task_time_to_live{48 * 3600};  // ended tasks are purged after this
};

class TaskRunner {
 public:
  TaskRunner(db::TaskRepository& repo, const platform::Clock& clock, RunnerOptions options);
  ~TaskRunner();  // Stop()s
  TaskRunner(const TaskRunner&) = delete;
  TaskRunner& operator=(const TaskRunner&) = delete;

  // Handlers are borrowed and must outlive the runner.
  void Register(std::string type, Handler* handler);
  void Start();
  // Asks the dispatcher to look for work now (a task was just created on this node).
  void Wake();
  // Stops claiming, cancels running tasks, waits for them (up to `grace`) and gives their
  // claims up so that the next start (or another node) resumes them at once.
  void Stop(std::chrono::milliseconds grace = std::chrono::milliseconds(10000));

  const RunnerOptions& options() const { return options_; }

 private:
  struct Running;
  class Context;
  void DispatchLoop();
  void ClaimAndStart();
  void Renew();
  // Gives up the pending tasks pinned to nodes that have been silent for SilenceLimit(), and
  // tells the handlers which nodes those are (Handler::NodesSilent).
  void AbandonOrphans();
  // Two leases: a live node renews its heartbeat six times per lease.
  UnixMicros SilenceLimit() const {
    return 2 * std::chrono::duration_cast<std::chrono::microseconds>(options_.lease).count();
  }
  void RunOne(std::shared_ptr<Running> run);

  db::TaskRepository& repo_;
  const platform::Clock& clock_;
  const RunnerOptions options_;
  std::map<std::string, Handler*> handlers_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool wake_ = false;                                  // guarded by mu_
  bool stopping_ = false;                              // guarded by mu_
  std::map<std::string, std::shared_ptr<Running>> running_;  // guarded by mu_
  std::unique_ptr<platform::Executor> workers_;
  std::thread dispatcher_;
};

}  // namespace glimmer::tasks
