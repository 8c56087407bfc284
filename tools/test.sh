#!/usr/bin/env bash
# Installs what the tests need, then runs them all: the C++ harness under ctest (plain, then
# under ASan and UBSan), the CMake package, the release artefacts (pytest against the sdist and
# the repaired wheel, each installed into a fresh venv), then the other compilers and platforms.
# Run from anywhere: bash tools/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# GoogleTest (and a compiler) from Debian, for the C++ harness
if ! dpkg -s libgtest-dev g++ >/dev/null 2>&1; then
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends libgtest-dev g++ >/dev/null
fi

# the build tools, in a virtual environment of the project's own (the package itself is
# installed by tools/check-dist.sh, from its sdist, into a fresh venv of its own)
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q cmake ninja
export PATH="$PWD/.venv/bin:$PATH"

bash tools/lint.sh  # the lint and type gates: ruff, mypy, clang-format, clang-tidy

echo "== C++ harness (GoogleTest under ctest)"
cmake -S . -B build/cpp-tests -G Ninja -DMINIFLOW_BUILD_TESTS=ON >/dev/null
cmake --build build/cpp-tests
ctest --test-dir build/cpp-tests --output-on-failure

echo "== C++ harness again, under AddressSanitizer and UBSan"
cmake -S . -B build/cpp-tests-sanitized -G Ninja -DMINIFLOW_BUILD_TESTS=ON -DMINIFLOW_BUILD_SANITIZED=ON >/dev/null
cmake --build build/cpp-tests-sanitized
ctest --test-dir build/cpp-tests-sanitized --output-on-failure

bash tools/check-cmake-package.sh

bash tools/check-dist.sh
bash tools/check-clang.sh
bash tools/check-arm64.sh
bash tools/check-mingw.sh
