#!/usr/bin/env bash
# The lint and type gates; fails on any finding. Python: ruff (lint and format) and mypy --strict
# (settings in pyproject.toml). C++: clang-format and clang-tidy 14 from Debian (.clang-format,
# .clang-tidy; another clang-format version formats differently). Every gate runs, then the
# script fails if one did. Run by tools/test.sh; alone: bash tools/lint.sh
# Fix with: ruff check --fix; ruff format; clang-format-14 -i <files>
set -euo pipefail
cd "$(dirname "$0")/.."

# the tools' versions: a new one may bring new findings, so they move only with the fixes
RUFF=ruff==0.17.6
MYPY=mypy==2.4.1
TYPES_TQDM=types-tqdm==4.70.0.20261106

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# clang-format, clang-tidy, and what the C++ they read includes (GoogleTest, a C++ library)
if ! dpkg -s clang-format-14 clang-tidy-14 libgtest-dev g++ >/dev/null 2>&1; then
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends \
    clang-format-14 clang-tidy-14 libgtest-dev g++ >/dev/null
fi

# the linters, and what mypy reads the package against (pytest: miniflow.exercises.pytest_plugin),
# in the project's virtual environment;
# pybind11 as the build asks for it, for the bindings' compile commands
[ -x .venv/bin/python ] || python3 -m venv .venv
pybind11=$(grep -o '"pybind11[^"]*"' pyproject.toml | head -1 | tr -d '"')
.venv/bin/python -m pip install -q "$RUFF" "$MYPY" "$TYPES_TQDM" numpy tqdm matplotlib pytest \
  "$pybind11" cmake ninja
export PATH="$PWD/.venv/bin:$PATH"

failed=()
gate() {
  local name=$1
  shift
  echo "== lint: $name"
  "$@" || failed+=("$name")
}

python_paths=(python tests benchmarks examples docs)
gate "ruff check" ruff check --no-cache "${python_paths[@]}"
gate "ruff format" ruff format --no-cache --check "${python_paths[@]}"
gate "mypy --strict" mypy

mapfile -t cpp_files < <(find cpp tests/cpp examples/cpp -type f \
  \( -name '*.cpp' -o -name '*.hpp' -o -name '*.inc' \) | sort)
gate "clang-format" clang-format-14 --dry-run --Werror "${cpp_files[@]}"

# clang-tidy reads the compile commands of a configure that has the core, the C++ tests and
# (SKBUILD defined, as scikit-build-core does) the bindings; nothing is built
tidy() {
  cmake -S . -B build/clang-tidy -G Ninja -DMINIFLOW_BUILD_TESTS=ON -DSKBUILD=2 \
    -DPython_EXECUTABLE="$PWD/.venv/bin/python" -Dpybind11_DIR="$(python -m pybind11 --cmakedir)" \
    -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null || return 1
  local output status=0 root
  root=$(sed 's/[][\.*^$+?(){}|]/\\&/g' <<<"$PWD")  # the checkout's path, as a regex
  # two files at a time, each file's findings together; shown without the command lines
  output=$(run-clang-tidy-14 -p build/clang-tidy -j 2 -quiet "^$root/(cpp|tests/cpp)/" 2>&1) ||
    status=1
  grep -vE '^clang-tidy-14 |^[0-9]+ warnings? generated\.$|^$' <<<"$output" || true
  # the C++ example is built by tools/check-cmake-package.sh, not by this configure
  output=$(clang-tidy-14 --quiet examples/cpp/two_layer_network.cpp -- -std=c++17 -Icpp/include \
    2>&1) || status=1
  grep -vE '^[0-9]+ warnings? generated\.$' <<<"$output" || true
  return $status
}
gate "clang-tidy" tidy

if [ ${#failed[@]} -gt 0 ]; then
  echo "lint: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "lint: all gates pass"
