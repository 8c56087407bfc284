#!/usr/bin/env bash
# Installs what the tests need, then runs them all: the C++ harness under ctest (plain, then
# under ASan and UBSan), the CMake package, the release artefacts (pytest against the sdist and
# the repaired wheel, each installed into a fresh venv), the wheel on every CPython 3.9-3.13 that
# pyenv has, then the other compilers and platforms (wasm32 last).
# Run from anywhere: bash tools/test.sh
# The quick tier for the edit loop, bash tools/test.sh --quick: the lint gates, the C++ harness
# (plain) and pytest against a development build (kept in build/dev, so a rebuild is incremental).
set -euo pipefail
cd "$(dirname "$0")/.."

quick=false
case "${1:-}" in
  "") ;;
  --quick) quick=true ;;
  *) echo "usage: bash tools/test.sh [--quick]" >&2; exit 2 ;;
esac

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# GoogleTest (and a compiler) from Debian, for the C++ harness
if ! dpkg -s libgtest-dev g++ >/dev/null 2>&1; then
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends libgtest-dev g++ >/dev/null
fi

# headless Chromium and its driver from Debian, for step_through's browser tests (selenium)
if ! dpkg -s chromium chromium-driver >/dev/null 2>&1; then
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
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

if $quick; then
  echo "== pytest against a development build (the quick tier)"
  pybind11=$(grep -o '"pybind11[^"]*"' pyproject.toml | head -1 | tr -d '"')
  .venv/bin/python -m pip install -q scikit-build-core "$pybind11"
  .venv/bin/python -m pip install -q --no-build-isolation -Cbuild-dir=build/dev ".[test]"
  .venv/bin/python -m pytest
  exit 0
fi

echo "== C++ harness again, under AddressSanitizer and UBSan"
cmake -S . -B build/cpp-tests-sanitized -G Ninja -DMINIFLOW_BUILD_TESTS=ON -DMINIFLOW_BUILD_SANITIZED=ON >/dev/null
cmake --build build/cpp-tests-sanitized
ctest --test-dir build/cpp-tests-sanitized --output-on-failure

bash tools/check-cmake-package.sh

bash tools/check-dist.sh
# every other CPython 3.9-3.13: check-dist has just tested the repaired wheel on python3's
bash tools/check-pythons.sh --except "$(python3 -c 'import platform; print(platform.python_version())')"
bash tools/check-clang.sh
bash tools/check-arm64.sh
bash tools/check-mingw.sh
bash tools/check-wasm.sh
