// Running the built `mmx` binary from a test (its path comes from the MMX_CLI_PATH compile
// definition that tests/CMakeLists.txt gives every test named test_*_cli).
#pragma once

#include <doctest/doctest.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

struct CliResult {
  int exit_code;       // -1 when the process did not exit normally
  std::string output;  // stdout, and stderr too unless asked otherwise
};

// Runs a shell command line; returns its exit code and what it wrote to the pipe (stdout).
inline CliResult run_shell(const std::string& command) {
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string output;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

// `arguments` go through the shell, so quote paths with spaces.
inline CliResult run_mmx(const std::string& arguments, bool with_stderr = true) {
  return run_shell(std::string(MMX_CLI_PATH) + " " + arguments +
                   (with_stderr ? " 2>&1" : " 2>/dev/null"));
}

// Only what `mmx` writes to stderr (stdout is discarded): its errors, without progress output.
inline CliResult run_mmx_stderr(const std::string& arguments) {
  return run_shell(std::string(MMX_CLI_PATH) + " " + arguments + " 2>&1 >/dev/null");
}

// `args` (arguments after the binary) joined into one line for run_mmx (no quoting: paths from
// ScratchDir have no spaces).
inline std::string command_line(const std::vector<std::string>& args) {
  std::string line;
  for (const std::string& a : args) {
    if (!line.empty()) line += ' ';
    line += a;
  }
  return line;
}

// The binary's path followed by `args`, for spawn_quiet.
inline std::vector<std::string> mmx_argv(std::vector<std::string> args) {
  args.insert(args.begin(), MMX_CLI_PATH);
  return args;
}

// Starts args[0] (a path, no shell) with stdout and stderr discarded; returns its pid, for tests
// that signal a running process.
inline pid_t spawn_quiet(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  REQUIRE(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ) == 0);
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

// Waits for the process; returns its exit code, or -signal when a signal ended it.
inline int wait_for(pid_t pid) {
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

// Waits until `file` exists, at most `limit` (a hang bound, not a speed check); false if it
// never did. For a file a spawned process writes.
inline bool wait_for_file(const std::filesystem::path& file, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!std::filesystem::exists(file) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  return std::filesystem::exists(file);
}
