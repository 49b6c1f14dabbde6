/// \file
/// mmx::Error: the one exception type the engine throws for bad input.
/// Messages name the op and the shapes involved, e.g. "matmul: inner dims differ: [4, 3] x [5, 2]".
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace mmx {

/// The exception every bad input raises; the message names the op and the shapes.
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Builds a message from any streamable parts: throw Error(cat("op: ", a, " vs ", b)).
template <typename... Parts>
std::string cat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

/// Throws mmx::Error with the streamed message parts when `cond` is false.
#define MMX_CHECK(cond, ...)                                  \
  do {                                                        \
    if (!(cond)) throw ::mmx::Error(::mmx::cat(__VA_ARGS__)); \
  } while (0)

}  // namespace mmx
