#!/usr/bin/env bash
# The core and the C++ tests cross-built for Linux on arm64 (NEON kernels), every test run under
# qemu-user. Installs its Debian packages if missing. Run from anywhere: bash tools/check-arm64.sh
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# The cross compiler, qemu, and GoogleTest's sources (built here for the target)
if ! dpkg -s g++-aarch64-linux-gnu qemu-user googletest >/dev/null 2>&1; then
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends g++-aarch64-linux-gnu qemu-user googletest >/dev/null
fi
if ! [ -x .venv/bin/cmake ] || ! [ -x .venv/bin/ninja ]; then
  python3 -m venv .venv
  .venv/bin/python -m pip install -q cmake ninja
fi
export PATH="$PWD/.venv/bin:$PATH"

echo "== arm64: the core and the C++ harness, cross-built, run under qemu-aarch64"
cmake -S . -B build/arm64 -G Ninja -DMINIFLOW_BUILD_TESTS=ON \
  -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake \
  -DMINIFLOW_GOOGLETEST_SOURCE_DIR=/usr/src/googletest -Wno-dev -Wno-deprecated >/dev/null
cmake --build build/arm64 -j2
# the NEON kernels must be what runs, not the generic fallback
qemu-aarch64 -L /usr/aarch64-linux-gnu build/arm64/tests/cpp/miniflow_core_tests \
  --gtest_filter='Isa.EachArchitectureBuildsItsOwnKernels' | tail -1
ctest --test-dir build/arm64 --output-on-failure -j2
