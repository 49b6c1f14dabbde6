#!/usr/bin/env bash
# The one entry point on a fresh Debian 12 machine: installs the Debian packages that are
# missing, builds (Release, Ninja), then runs the main job or the tests.
#   ./setup.sh demo   train a MultiMax GPT and a SoftMax GPT side by side and report
#   ./setup.sh test   build and run the whole test suite through ctest
#   ./setup.sh build  only install and build
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(
  g++ cmake ninja-build pkg-config            # toolchain
  libdnnl-dev                                 # oneDNN 2.6: matmul, softmax, layer norm, ...
  ocl-icd-opencl-dev                          # oneDNN's CMake package requires OpenCL (only a
                                              # Recommends of libdnnl-dev, so named here)
  doctest-dev                                 # tests
  nlohmann-json3-dev                          # JSON: checkpoint headers, logs, --json output
  libcli11-dev                                # command-line parsing
  libpng-dev zlib1g-dev                       # PNG figures, gzip
  libfreetype-dev fonts-dejavu-core           # text in figures
  fortunes                                    # the default training corpus
  trans-de-en                                 # German-English phrase pairs (translation)
  dataset-fashion-mnist                       # images for the ViT (IDX, gzipped)
  libopenmpi-dev openmpi-bin                  # data-parallel training: mpirun -np N mmx train
)

install_missing() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "setup: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# MMX_CMAKE_ARGS: extra configure flags (CI passes -DMMX_WERROR=ON).
build() {
  # shellcheck disable=SC2086  # word splitting of the flags is the point
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release ${MMX_CMAKE_ARGS:-} >/dev/null
  cmake --build build -j"$(nproc)"
}

case "${1:-}" in
  demo) install_missing; build; exec build/cli/mmx demo ;;
  test) install_missing; build; ctest --test-dir build --output-on-failure -j"$(nproc)" ;;
  build) install_missing; build ;;
  *) echo "usage: ./setup.sh demo|test|build" >&2; exit 2 ;;
esac
