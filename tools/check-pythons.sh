#!/usr/bin/env bash
# Every CPython from 3.9 to 3.13 that pyenv has here (~/.pyenv/versions): for each, the wheel is
# built from this checkout, installed with the test extras into a fresh venv, and pytest runs
# against it: all of the suite but the slow command-line suites (tests/test_cli*.py: processes, a
# browser, Jupyter kernels, which tools/check-dist.sh runs on the sdist's build), so the lesson,
# docs and notebook tests run on every version. Run from anywhere: bash tools/check-pythons.sh
# With --except VERSION (say 3.11.7) that CPython is left out: tools/test.sh passes the one
# tools/check-dist.sh has just tested the repaired wheel on. Fails if no version is tested.
set -euo pipefail
cd "$(dirname "$0")/.."

skipped_version=""
case "${1:-}" in
  "") ;;
  --except) skipped_version="${2:?usage: bash tools/check-pythons.sh [--except VERSION]}" ;;
  *) echo "usage: bash tools/check-pythons.sh [--except VERSION]" >&2; exit 2 ;;
esac

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# ccache keeps the C++ objects between the versions' builds (the core is the same for each)
if ! dpkg -s ccache >/dev/null 2>&1; then
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends ccache >/dev/null
fi
if ! [ -x .venv/bin/uv ] || ! [ -x .venv/bin/cmake ] || ! [ -x .venv/bin/ninja ]; then
  python3 -m venv .venv
  .venv/bin/python -m pip install -q uv cmake ninja
fi
# scikit-build-core finds this cmake and ninja instead of fetching them into each build
export PATH="$PWD/.venv/bin:$PATH"
export CMAKE_CXX_COMPILER_LAUNCHER=ccache CCACHE_DIR="$PWD/build/ccache"

work="$PWD/build/pythons"
rm -rf "$work" && mkdir -p "$work"
pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
tested=()
for minor in 9 10 11 12 13; do
  # the newest patch release of 3.$minor that pyenv has; with none, the pattern stays as written
  # and the test below skips it (not ls in a pipeline: under pipefail its failure ends the script)
  candidates=("$pyenv_root"/versions/3."$minor".*)
  python=$(printf '%s\n' "${candidates[@]}" | sort -V | tail -1)/bin/python
  [ -x "$python" ] || { echo "== CPython 3.$minor: not under $pyenv_root/versions, skipped"; continue; }
  version=$("$python" -c 'import platform; print(platform.python_version())')
  if [ "$version" = "$skipped_version" ]; then
    echo "== CPython $version: left out (--except: its wheel was tested by tools/check-dist.sh)"
    continue
  fi
  echo "== CPython $version: the wheel, a fresh venv, pytest"
  # a persistent build directory per version would go stale across Python ABIs: build afresh
  uv build --quiet --wheel --python "$python" --out-dir "$work/$version/dist" . \
    >"$work/$version.build.log" 2>&1 || { cat "$work/$version.build.log"; exit 1; }
  uv venv --quiet --python "$python" "$work/$version/venv"
  wheel=$(echo "$work/$version/dist"/*.whl)
  uv pip install --quiet --python "$work/$version/venv/bin/python" "$wheel[test]"
  # the command-line suites (processes, a browser, Jupyter kernels) run once, in check-dist's pass
  skip=(--ignore-glob="tests/test_cli*.py")
  # from the checkout: pytest's settings and the tests; the package comes from the venv
  log="$work/$version.pytest.log"
  "$work/$version/venv/bin/python" -m pytest -p no:cacheprovider -q "${skip[@]}" >"$log" 2>&1 ||
    { cat "$log"; echo "check-pythons: pytest failed on CPython $version" >&2; exit 1; }
  echo "CPython $version: $(tail -1 "$log")"
  tested+=("$version")
done
if [ ${#tested[@]} -eq 0 ]; then
  echo "check-pythons: no CPython 3.9-3.13 tested (under $pyenv_root/versions${skipped_version:+, but $skipped_version})" >&2
  exit 1
fi
echo "check-pythons: the wheel passed its tests on CPython ${tested[*]}${skipped_version:+ (and $skipped_version in tools/check-dist.sh)}"
