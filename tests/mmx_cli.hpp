// Running the built `mmx` binary from a test (its path comes from the MMX_CLI_PATH compile
// definition that tests/CMakeLists.txt gives every test named test_*_cli).
#pragma once

#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cstdio>
#include <string>

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
