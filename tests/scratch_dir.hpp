// ScratchDir: a fresh temporary directory for a test, removed when the test ends.
// Tests that write files (safetensors, checkpoints, corpora) share it.
#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>

struct ScratchDir {
  std::filesystem::path path;

  explicit ScratchDir(const std::string& tag) {
    static std::atomic<int> counter{0};
    path = std::filesystem::temp_directory_path() /
           ("mmx-" + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  std::filesystem::path operator/(const std::string& name) const { return path / name; }
};
