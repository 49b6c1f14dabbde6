#include "nn/tasks/training_loop.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>

#include "engine/error.hpp"
#include "engine/io/atomic_write.hpp"
#include "engine/io/json_input.hpp"
#include "engine/io/read_file.hpp"
#include "engine/thread_count.hpp"
#include "nn/data/checkpoint.hpp"
#include "nn/distributed/communicator.hpp"

namespace mmx::nn {

std::vector<nlohmann::json> read_training_log(const std::filesystem::path& log_file) {
  std::vector<nlohmann::json> records;
  std::error_code ec;
  if (!std::filesystem::exists(log_file, ec)) return records;
  const std::string text = io::read_file_bytes(log_file);
  int64_t number = 0;
  for (size_t start = 0, end = 0; start < text.size(); start = end + 1) {
    end = std::min(text.find('\n', start), text.size());
    ++number;
    if (end == start) continue;
    std::optional<nlohmann::json> record =
        io::parse_json_if_valid(std::string_view(text).substr(start, end - start),
                                cat(log_file.string(), ": line ", number));
    if (!record || !record->is_object()) {
      // A record cut short by a crash is the last line, without its newline: the usable log
      // ends before it. Anywhere else a bad line is damage, and dropping it would lose records.
      MMX_CHECK(end == text.size(), log_file.string(), ": line ", number,
                " is not a JSON record; repair or delete that line, then run again");
      break;
    }
    records.push_back(std::move(*record));
  }
  return records;
}

bool holds_run(const std::filesystem::path& dir) {
  std::error_code ec;
  const uintmax_t log_bytes = std::filesystem::file_size(dir / "log.jsonl", ec);
  return data::checkpoint_present(dir) || (!ec && log_bytes > 0);
}

void remove_run(const std::filesystem::path& dir) {
  data::remove_checkpoint(dir);
  std::error_code ignored;
  std::filesystem::remove(dir / "log.jsonl", ignored);
}

namespace {
// log.jsonl, opened without following a link planted in its place; each record is appended
// with one write(2), so a reader never sees half a line from a live run.
class LogFile {
 public:
  LogFile() = default;
  LogFile(const std::filesystem::path& path, bool fresh)
      : path_(path), fd_(io::open_for_append(path, fresh)) {}
  ~LogFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  LogFile(const LogFile&) = delete;
  LogFile& operator=(const LogFile&) = delete;

  void append(const std::string& line) {
    const ssize_t n = ::write(fd_, line.data(), line.size());
    MMX_CHECK(n == static_cast<ssize_t>(line.size()), "train: cannot append to ", path_.string(),
              ": ", n < 0 ? std::strerror(errno) : "short write",
              "; stopping (the last checkpoint is kept)");
  }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

// Rewrites the log keeping only records up to `step`. Atomically: a kill in the middle of an
// in-place rewrite would lose the records before the checkpoint, which no later resume restores.
void truncate_log(const std::filesystem::path& log_file, int64_t step) {
  std::string kept;
  for (const nlohmann::json& r : read_training_log(log_file))
    if (io::json_field<int64_t>(r, "step", cat(log_file.string(), ": a record")) <= step)
      kept += r.dump() + '\n';
  io::write_file_atomically(log_file, kept);
}
}  // namespace

TrainingEnd run_training(Trainer& trainer, const std::filesystem::path& out_dir,
                         const TrainingHooks& hooks) {
  // Data-parallel: every rank trains, rank 0 alone writes the log and the checkpoint (the state
  // is the same on every rank).
  distributed::Communicator& comm = distributed::world();
  std::optional<LogFile> log;
  if (comm.is_main()) {
    std::error_code ec;
    std::filesystem::create_directories(out_dir, ec);
    MMX_CHECK(!ec, "train: cannot create the output directory ", out_dir.string(), ": ",
              ec.message());
    const std::filesystem::path log_file = out_dir / "log.jsonl";
    const bool fresh = trainer.step() == 0;
    if (!fresh) truncate_log(log_file, trainer.step());
    log.emplace(log_file, fresh);
  }
  const auto save = [&] {
    if (comm.is_main()) trainer.save(out_dir);
  };

  const int64_t total = trainer.total_steps();
  const int64_t interval = trainer.eval_interval();
  AdaptiveThreads threads;  // a step at a time: fewer threads when another process holds a core
  while (trainer.step() < total) {
    // Agreed by all ranks: a signal that reached one rank alone must stop them all.
    if (comm.any(hooks.stop_requested && hooks.stop_requested())) {
      save();
      return TrainingEnd::interrupted;
    }
    const float loss = [&] {
      const AdaptiveThreads::Unit step(threads);
      return trainer.train_step();
    }();
    if (hooks.on_step) hooks.on_step(trainer.step(), loss);
    if (trainer.step() % interval == 0 || trainer.step() == total) {
      const EvalRecord record = trainer.evaluate();
      if (comm.is_main()) log->append(record.to_json().dump() + '\n');
      save();
      if (hooks.on_eval) hooks.on_eval(record);
    }
  }
  return TrainingEnd::finished;
}

}  // namespace mmx::nn
