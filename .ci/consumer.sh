#!/usr/bin/env bash
# Uses multimax as a library, the way a downstream project would: installs a built tree into a
# temporary prefix, then builds and runs examples/consumer against that prefix alone, checks
# the pkg-config file, and (with --docs) builds the API reference, failing on any warning.
#   .ci/consumer.sh [BUILD_DIR] [--docs]      BUILD_DIR defaults to build/
set -euo pipefail
cd "$(dirname "$0")/.."

build=build
docs=0
for arg in "$@"; do
  case "$arg" in
    --docs) docs=1 ;;
    *) build="$arg" ;;
  esac
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"

cmake --build "$build" --target mmx mmx_nn  # mmx_nn needs every engine layer
cmake --install "$build" --prefix "$prefix" >/dev/null

# The public headers are installed; no kernel or oneDNN header is among them or reachable.
test -f "$prefix/include/mmx/mmx.hpp"
test -x "$prefix/bin/mmx"
if [ -e "$prefix/include/mmx/engine/kernels" ] ||
   grep -rlE '#include [<"](dnnl|oneapi/|engine/kernels/)' "$prefix/include"; then
  echo "consumer: a kernel or oneDNN header is installed or included by a public header" >&2
  exit 1
fi
# The umbrella header names every installed header (an include, or a note saying why not).
for header in $(cd "$prefix/include/mmx" && find engine nn -name '*.hpp'); do
  grep -qF "$header" "$prefix/include/mmx/mmx.hpp" || {
    echo "consumer: include/mmx/mmx.hpp does not name the public header $header" >&2
    exit 1
  }
done
"$prefix/bin/mmx" --version

# The downstream project sees only the prefix.
cmake -S examples/consumer -B "$work/consumer" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/consumer"
OMP_NUM_THREADS=2 "$work/consumer/consumer"

# pkg-config: the flags resolve, and a one-file program builds and links with them alone.
export PKG_CONFIG_PATH="$(dirname "$(find "$prefix" -name multimax.pc)")"
pkg-config --exists --print-errors "multimax >= 0.1"
pkg-config --cflags --libs multimax
cat > "$work/pc.cpp" <<'CPP'
#include <mmx/mmx.hpp>
int main() { return mmx::sum(mmx::Tensor::full({2, 3}, 1.0f)).item() == 6.0f ? 0 : 1; }
CPP
# shellcheck disable=SC2046  # pkg-config prints several words on purpose
c++ -std=c++20 "$work/pc.cpp" -o "$work/pc" $(pkg-config --cflags --libs multimax)
"$work/pc"

if [ "$docs" = 1 ]; then
  command -v doxygen >/dev/null || {
    sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq  # a fresh machine may have no package lists yet
    $sudo apt-get install -y -qq --no-install-recommends doxygen >/dev/null
  }
  cmake "$build" >/dev/null  # re-configure so the docs target appears
  cmake --build "$build" --target docs
fi
echo "consumer: OK"
