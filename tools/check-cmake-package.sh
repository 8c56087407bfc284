#!/usr/bin/env bash
# The C++ package, as a C++ user meets it: install the core to a fresh prefix, check what was
# installed, then build and run examples/cpp against that prefix with find_package, and again
# from the sources with add_subdirectory. Each run's loss must fall.
# Run from anywhere: bash tools/check-cmake-package.sh (needs cmake and a C++ compiler).
set -euo pipefail
cd "$(dirname "$0")/.."

work=build/cmake-package
prefix="$PWD/$work/prefix"
# Ninja when there is one; else CMake's default generator.
if [ -z "${CMAKE_GENERATOR:-}" ] && command -v ninja >/dev/null; then export CMAKE_GENERATOR=Ninja; fi

fail() { echo "check-cmake-package: $*" >&2; exit 1; }

# "Epoch: N, Loss: X" lines: the last loss must be under half the first.
check_loss_fell() {
  awk -F'Loss: ' '/^Epoch: [0-9]+, Loss: / { if (first == "") first = $2; last = $2 }
    END { if (first == "" || !(last + 0 < first / 2)) exit 1
          printf "loss fell from %s to %s\n", first, last }' "$1" || fail "the loss did not fall to under half in $1"
}

echo "== C++ package: build and install the core to a fresh prefix"
cmake -S . -B "$work/core" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/core"
rm -rf "$prefix"
cmake --install "$work/core" --prefix "$prefix" >/dev/null

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

echo "== C++ package: each installed header compiles on its own"
for header in "$prefix"/include/miniflow/*.hpp; do
  printf '#include "miniflow/%s"\n' "$(basename "$header")" |
    "${CXX:-c++}" -std=c++17 -fsyntax-only -Wall -Wextra -Werror -I"$prefix/include" -x c++ - ||
    fail "$(basename "$header") does not compile on its own"
done

echo "== C++ package: examples/cpp against the installed prefix (find_package)"
rm -rf "$work/installed"
cmake -S examples/cpp -B "$work/installed" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/installed"
"$work/installed/two_layer_network" | tee "$work/installed.log"
check_loss_fell "$work/installed.log"

echo "== C++ package: examples/cpp with the sources (add_subdirectory)"
# No build type given: MiniFlow must leave the parent's (empty) choice alone.
rm -rf "$work/subdirectory"
cmake -S examples/cpp -B "$work/subdirectory" -DMINIFLOW_SOURCE_DIR="$PWD" >/dev/null
grep -qx 'CMAKE_BUILD_TYPE:STRING=' "$work/subdirectory/CMakeCache.txt" ||
  fail "add_subdirectory changed the parent's build type: $(grep '^CMAKE_BUILD_TYPE:' "$work/subdirectory/CMakeCache.txt")"
grep -qx 'MINIFLOW_INSTALL:BOOL=OFF' "$work/subdirectory/CMakeCache.txt" ||
  fail "a parent project would install MiniFlow's files along with its own"
cmake --build "$work/subdirectory"
"$work/subdirectory/two_layer_network" | tee "$work/subdirectory.log"
check_loss_fell "$work/subdirectory.log"
