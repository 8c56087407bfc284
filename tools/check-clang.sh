#!/usr/bin/env bash
# The core, the C++ tests and the Python module built with Clang, warnings as errors on our own
# targets; the C++ tests and the Python tests run against that build; and the core built with
# Clang for arm64 (its tests run under qemu in tools/check-arm64.sh, built with GCC). Installs its Debian
# packages if missing. Run from anywhere: bash tools/check-clang.sh
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# clang, GoogleTest, and the arm64 C++ headers and libraries for clang's arm64 build
if ! dpkg -s clang libgtest-dev g++-aarch64-linux-gnu >/dev/null 2>&1; then
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends clang libgtest-dev g++-aarch64-linux-gnu >/dev/null
fi
if ! [ -x .venv/bin/cmake ] || ! [ -x .venv/bin/ninja ]; then
  python3 -m venv .venv
  .venv/bin/python -m pip install -q cmake ninja
fi
export PATH="$PWD/.venv/bin:$PATH"

echo "== clang: the core and the C++ harness, warnings as errors"
cmake -S . -B build/clang -G Ninja -DMINIFLOW_BUILD_TESTS=ON -DMINIFLOW_WARNINGS_AS_ERRORS=ON \
  -DCMAKE_CXX_COMPILER=clang++ >/dev/null
cmake --build build/clang -j2
ctest --test-dir build/clang --output-on-failure -j2

echo "== clang for arm64 (Apple Silicon's compiler family): the core, warnings as errors"
cmake -S . -B build/clang-arm64 -G Ninja -DMINIFLOW_WARNINGS_AS_ERRORS=ON \
  -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu-clang.cmake >/dev/null
cmake --build build/clang-arm64 -j2 --target miniflow_core

echo "== clang: the Python module, in a throwaway virtual environment, and the Python tests"
venv="$(mktemp -d)"
trap 'rm -rf "$venv"' EXIT
python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q scikit-build-core pybind11 cmake ninja
CXX=clang++ "$venv/bin/python" -m pip install -q --no-build-isolation ".[test]" \
  -Ccmake.define.MINIFLOW_WARNINGS_AS_ERRORS=ON -Cbuild-dir=build/clang-python
"$venv/bin/python" -c "import miniflow._core as core; print('module built with clang, kernels:', core.isa())"
# the tests that run every kernel through the module (tools/test.sh runs them all with GCC's build)
"$venv/bin/python" -m pytest -q -x -p no:cacheprovider tests/test_lesson.py tests/test_reference.py \
  tests/test_dtypes.py tests/test_gradients.py tests/test_isa.py
