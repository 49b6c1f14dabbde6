// `mmx`: the command-line front end. Subcommands register themselves (command_registry.hpp);
// this file only parses, dispatches and turns errors into one clear line and a non-zero exit.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "cli/command_registry.hpp"
#include "cli/training/train_flags.hpp"
#include "engine/error.hpp"
#include "nn/distributed/communicator.hpp"

// Started with stdin, stdout or stderr closed (`2>&-`), the first file opened would take that
// descriptor, and progress and errors would then be written into it (a log, a checkpoint).
// /dev/null fills each closed one first; they are taken in order, so open() returns that one.
// Returns whether stdout was among them: the results would be lost, which is an error (as for
// cat and head), while a closed stdin or stderr loses nothing that matters.
bool make_standard_descriptors_valid() {
  bool stdout_closed = false;
  for (int fd = 0; fd <= 2; ++fd)
    if (fcntl(fd, F_GETFD) == -1 && errno == EBADF) {
      stdout_closed = stdout_closed || fd == 1;
      open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
    }
  return stdout_closed;
}

// Past a file-size limit (`ulimit -f`) the kernel sends SIGXFSZ, whose default kills the process
// mid-save. Ignored, the write fails with EFBIG instead, and a save fails as on a full disk:
// the temporaries are removed, the previous checkpoint is kept, the error names the file.
void fail_writes_past_the_file_size_limit() {
  std::signal(SIGXFSZ, SIG_IGN);
}

// Under a small address-space limit (`ulimit -v`) oneDNN cannot map its generated kernels nor
// OpenMP its threads' stacks, and the process dies with SIGSEGV deep inside oneDNN. Measured with
// a tiny model on 2 threads: 70,000 KB crashed, 80,000 KB ran; the floor leaves room above that.
constexpr rlim_t kMinimumAddressSpace = rlim_t{96} << 20;

// A limit below the floor: the error to give instead of a crash, or "" when there is room.
std::string address_space_problem() {
  rlimit limit{};
  if (getrlimit(RLIMIT_AS, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY ||
      limit.rlim_cur >= kMinimumAddressSpace)
    return "";
  return mmx::cat("the address-space limit (ulimit -v) is ", limit.rlim_cur >> 10,
                  " KB; mmx needs at least ", kMinimumAddressSpace >> 10,
                  " KB (oneDNN maps its generated kernels and OpenMP its thread stacks there); "
                  "raise it with `ulimit -v unlimited`, or at least `ulimit -v ",
                  kMinimumAddressSpace >> 10, "`");
}

// Between parallel regions (~250 per training step) libgomp's threads wait for the next one.
// Its default spins ~300k times holding the core: on a machine shared with other work, every
// region then waits for a descheduled partner and a step got 5-9x slower. Passive waiting (a
// futex sleep per region) avoids that but cost ~20% of a step on an idle machine. A short spin
// (10k) was as fast as passive under load and ~20% faster idle (docs/performance.md,
// "Threads"). libgomp reads the setting when it loads, before main, so the only way to set it
// is to re-execute ourselves with it set. An explicit OMP_WAIT_POLICY or GOMP_SPINCOUNT in the
// environment is respected.
void default_to_short_openmp_spin(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr || std::getenv("GOMP_SPINCOUNT") != nullptr) return;
  setenv("GOMP_SPINCOUNT", "10000", 1);
  execv("/proc/self/exe", argv);  // returns only on failure: then run with libgomp's default
}

// Under mpirun (data-parallel training) every rank runs this same command; rank 0 alone prints
// results, so the other ranks' stdout goes nowhere. stderr stays: it carries their errors.
void silence_all_but_rank_0() {
  if (!mmx::nn::distributed::world().is_main()) std::freopen("/dev/null", "w", stdout);
}

// One error line and exit code 1. Under mpirun the other ranks may be waiting for this one in
// a collective: abort exits so that mpirun ends them all and reports which rank failed.
int fail(const char* message) {
  mmx::nn::distributed::Communicator& comm = mmx::nn::distributed::world();
  if (comm.size() > 1) comm.abort(message);
  std::fprintf(stderr, "mmx: error: %s\n", message);
  return 1;
}

int main(int argc, char** argv) {
  // Before anything opens a file, and before the re-exec below (which would see /dev/null).
  if (make_standard_descriptors_valid()) {
    std::fprintf(stderr,
                 "mmx: error: cannot write to standard output: it is closed (>&-); mmx writes its "
                 "results there (redirect them to /dev/null to discard them)\n");
    return 1;
  }
  fail_writes_past_the_file_size_limit();
  if (const std::string problem = address_space_problem(); !problem.empty()) {
    std::fprintf(stderr, "mmx: error: %s\n", problem.c_str());
    return 1;
  }
  default_to_short_openmp_spin(argv);
  try {
    silence_all_but_rank_0();  // initialises MPI under mpirun: after the re-exec above
  } catch (const mmx::Error& e) {
    std::fprintf(stderr, "mmx: error: %s\n", e.what());
    return 1;
  }
  CLI::App app{"multimax: MultiMax attention, its peers, and tiny transformers on a CPU", "mmx"};
  app.set_version_flag("--version", "mmx " MMX_VERSION);
  app.require_subcommand(1);
  mmx::cli::add_registered_commands(app);
  // CLI11 answers an unknown first word with "A subcommand is required": name the word instead.
  if (argc > 1 && argv[1][0] != '-') {
    bool known = false;
    std::string commands;
    for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
      known = known || sub->check_name(argv[1]);
      commands += (commands.empty() ? "" : ", ") + sub->get_name();
    }
    if (!known)
      return fail(
          ("unknown command '" + std::string(argv[1]) + "'; the commands are " + commands).c_str());
  }
  // Under mpirun every rank runs this same command line; only train divides its work among
  // them (the others would each do all of it, and bench's child processes would inherit MPI).
  const std::string command = argc > 1 ? argv[1] : "";
  if (mmx::nn::distributed::world().size() > 1 && command != "train")
    return fail(("only `mmx train` runs data-parallel; start `mmx" +
                 (command.empty() ? "" : " " + command) + "` as one process, without mpirun")
                    .c_str());
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const mmx::Error& e) {
    return fail(mmx::cli::with_flag_names(e.what()).c_str());  // `warmup` -> --warmup
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  return 0;
}
