#!/usr/bin/env bash
# The C++ package, as a C++ user meets it: install the core to a fresh prefix, check what was
# installed, then build and run examples/cpp against that prefix with find_package, and again
# from the sources with add_subdirectory. Each run's loss must fall.
# Run from anywhere: bash tools/check-cmake-package.sh (needs cmake and a C++ compiler; any
# generator: CI runs it with MSVC too).
set -euo pipefail
cd "$(dirname "$0")/.."

work=build/cmake-package
prefix="$PWD/$work/prefix"
# Ninja when there is one; else CMake's default generator.
if [ -z "${CMAKE_GENERATOR:-}" ]; then
  unset CMAKE_GENERATOR
  if command -v ninja >/dev/null; then export CMAKE_GENERATOR=Ninja; fi
fi

fail() { echo "check-cmake-package: $*" >&2; exit 1; }

# "Epoch: N, Loss: X" lines: the last loss must be under half the first.
check_loss_fell() {
  awk -F'Loss: ' '/^Epoch: [0-9]+, Loss: / { if (first == "") first = $2; last = $2 }
    END { if (first == "" || !(last + 0 < first / 2)) exit 1
          printf "loss fell from %s to %s\n", first, last }' "$1" || fail "the loss did not fall to under half in $1"
}

echo "== C++ package: build and install the core to a fresh prefix"
cmake -S . -B "$work/core" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/core" --config Release
rm -rf "$prefix"
cmake --install "$work/core" --config Release --prefix "$prefix" >/dev/null

# The public headers, the library, the package files and the licence; nothing internal.
for file in include/miniflow/miniflow.hpp lib*/cmake/miniflow/miniflowConfig.cmake \
            lib*/cmake/miniflow/miniflowConfigVersion.cmake share/doc/miniflow/LICENSE; do
  compgen -G "$prefix/$file" >/dev/null || fail "$file was not installed"
done
compgen -G "$prefix/lib*/*miniflow_core*" >/dev/null || fail "the core library was not installed"
if find "$prefix" -name detail -o -name check.hpp -o -name '_core*' | grep .; then
  fail "internal files were installed (above)"
fi
# The package's version is the one pyproject.toml states.
version=$(sed -n 's/^version *= *"\([^"]*\)".*/\1/p' pyproject.toml)
grep -q "set(PACKAGE_VERSION \"$version\")" "$prefix"/lib*/cmake/miniflow/miniflowConfigVersion.cmake ||
  fail "the package's version is not pyproject.toml's $version"

if command -v "${CXX:-c++}" >/dev/null; then
  echo "== C++ package: each installed header compiles on its own"
  for header in "$prefix"/include/miniflow/*.hpp; do
    printf '#include "miniflow/%s"\n' "$(basename "$header")" |
      "${CXX:-c++}" -std=c++17 -fsyntax-only -Wall -Wextra -Werror -I"$prefix/include" -x c++ - ||
      fail "$(basename "$header") does not compile on its own"
  done
fi

# Builds examples/cpp in $1 (more configure arguments follow), installs it to $1-bin, runs it.
build_and_run_example() {
  local build=$1
  shift
  rm -rf "$build" "$build-bin"
  cmake -S examples/cpp -B "$build" "$@" >/dev/null
  cmake --build "$build" --config Release
  cmake --install "$build" --config Release --prefix "$build-bin" >/dev/null
  "$build-bin/bin/two_layer_network" | tee "$build.log"
  check_loss_fell "$build.log"
}

echo "== C++ package: examples/cpp against the installed prefix (find_package)"
build_and_run_example "$work/installed" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix"

echo "== C++ package: examples/cpp with the sources (add_subdirectory)"
# No build type given: MiniFlow must leave the parent's (empty) choice alone, and must not add
# its files to the parent's install.
build_and_run_example "$work/subdirectory" -DMINIFLOW_SOURCE_DIR="$PWD"
cache=$(tr -d '\r' <"$work/subdirectory/CMakeCache.txt")
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' <<<"$cache")
[ -z "$build_type" ] || fail "add_subdirectory changed the parent's build type to $build_type"
grep -qx 'MINIFLOW_INSTALL:BOOL=OFF' <<<"$cache" || fail "MINIFLOW_INSTALL is not OFF under a parent project"
[ ! -e "$work/subdirectory-bin/include" ] || fail "the parent's install holds MiniFlow's headers"
