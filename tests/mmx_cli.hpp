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

// `arguments` go through the shell, so quote paths with spaces.
inline CliResult run_mmx(const std::string& arguments, bool with_stderr = true) {
  const std::string command =
      std::string(MMX_CLI_PATH) + " " + arguments + (with_stderr ? " 2>&1" : " 2>/dev/null");
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string output;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}
