#!/usr/bin/env bash
# The core and the C++ tests cross-built for WebAssembly (wasm32, Debian's emscripten, no threads),
# every test run under Node; and a check that the generic kernels compiled to SIMD128 vector code.
# Installs its Debian packages if missing. Run from anywhere: bash tools/check-wasm.sh
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# Emscripten (and Node), wabt's wasm-objdump, and GoogleTest's sources (built here for wasm32)
if ! dpkg -s emscripten nodejs wabt googletest >/dev/null 2>&1; then
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends emscripten nodejs wabt googletest >/dev/null
fi
if ! [ -x .venv/bin/cmake ] || ! [ -x .venv/bin/ninja ]; then
  python3 -m venv .venv
  .venv/bin/python -m pip install -q cmake ninja
fi
export PATH="$PWD/.venv/bin:$PATH"
# em++'s JavaScript optimizer needs Debian's acorn, which a node of another origin does not find
export NODE_PATH=/usr/share/nodejs

echo "== wasm32: the core and the C++ harness, cross-built with emscripten $(emcc --version | head -1 | grep -o '[0-9][0-9.]*' | head -1), run under Node $(node --version)"
# This emscripten's loader reads the .wasm with fetch() when Node has it (Node 18 and later), which
# fails on a file path: --no-experimental-fetch makes it read the file.
emcmake cmake -S . -B build/wasm -G Ninja -DMINIFLOW_BUILD_TESTS=ON -DMINIFLOW_WARNINGS_AS_ERRORS=ON \
  -DMINIFLOW_GOOGLETEST_SOURCE_DIR=/usr/src/googletest \
  "-DCMAKE_CROSSCOMPILING_EMULATOR=$(command -v node);--no-experimental-fetch" \
  -Wno-dev -Wno-deprecated >/dev/null
cmake --build build/wasm -j2

# The generic kernels are all that wasm32 runs: they must have become SIMD128 arithmetic.
for source in gemm/microkernel_generic elementwise/kernels_generic; do
  object=build/wasm/cpp/CMakeFiles/miniflow_core.dir/src/$source.cpp.o
  count=$(wasm-objdump -d "$object" | grep -cE '\b(f32x4|f64x2)\.(add|sub|mul|div)\b' || true)
  echo "$source: $count SIMD128 arithmetic instructions (f32x4/f64x2 add, sub, mul, div)"
  if [ "$count" -eq 0 ]; then
    echo "error: $source.cpp was not vectorised for wasm SIMD128" >&2
    exit 1
  fi
done

# Emscripten's getenv() has an environment of its own: tests/cpp/node_environment.js copies Node's
# in, or the MINIFLOW_ISA runs would all test an unset variable. GoogleTest reads GTEST_FILTER.
if ! GTEST_FILTER=Cpu.DoesNotExist node --no-experimental-fetch build/wasm/tests/cpp/miniflow_core_tests.js |
  grep -q 'filter = Cpu.DoesNotExist'; then
  echo "error: the wasm tests do not see the environment that ctest sets" >&2
  exit 1
fi

ctest --test-dir build/wasm --output-on-failure -j2
