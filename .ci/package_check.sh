#!/usr/bin/env bash
# Package check, run from anywhere after `make setup`: builds the sdist and the wheel (the wheel from the sdist, which
# proves the sdist complete), installs each into a clean virtual environment outside the checkout, and runs the
# installed commands from a folder outside it.
#
# The clean environments do not download torch & co. again (GBs): they reuse what .venv installed through a folder of
# links to .venv's site-packages that leaves out the checkout's own editable install (its __editable__ finder and
# dist-info), added by a .pth file AFTER the environment's own site-packages, so that the installed bnn_toolkit is the
# one imported, and the import is checked to come from there.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
PY=$REPO/.venv/bin/python
fail() { echo "::error::package check: $*" >&2; exit 1; }
step() { echo "== package check (${SECONDS}s): $*"; }
[ -x "$PY" ] || fail ".venv/bin/python is missing: run \`make setup\` first"
VERSION=$(sed -n 's/^version *= *//p' settings.ini)
[ -n "$VERSION" ] || fail "no version in settings.ini"
unset PYTHONPATH PYTHONHOME
TMP=$(mktemp -d "${TMPDIR:-/tmp}/bnn_package_check.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
SECONDS=0

step "1. build the sdist and the wheel (the wheel from the sdist)"
"$PY" -m pip install -q build || fail "could not install 'build' into .venv"
# from a copy of the files git sees (tracked, and untracked but not ignored): a stale bnn_toolkit.egg-info in the
# checkout, whose SOURCES.txt setuptools reads back, cannot add files to the sdist, and the checkout is left untouched
SRC=$REPO
if git -C "$REPO" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  SRC=$TMP/src && mkdir "$SRC"
  git -C "$REPO" ls-files -z -co --exclude-standard | tar -C "$REPO" --null --ignore-failed-read -T - -cf - 2>/dev/null |
    tar -C "$SRC" -xf - || fail "could not copy the checkout's files to $SRC"
fi
"$PY" -m build --sdist --wheel --outdir "$TMP/dist" "$SRC" >"$TMP/build.log" 2>&1 || { tail -40 "$TMP/build.log"; fail "python -m build failed (log above)"; }
SDIST=$(ls "$TMP"/dist/*.tar.gz) && WHEEL=$(ls "$TMP"/dist/*.whl) || fail "build left no sdist or no wheel in $TMP/dist"
listing=$(tar tzf "$SDIST")   # held, not piped: grep -q would cut tar's pipe short and pipefail would say it failed
for f in settings.ini README.md LICENSE CHANGELOG.md setup.py MANIFEST.in; do
  grep -qx "[^/]*/$f" <<<"$listing" || fail "the sdist lacks $f"
done
echo "built $(basename "$SDIST") and $(basename "$WHEEL")"

step "2. shared dependencies without the checkout's editable install"
SITE=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
mkdir "$TMP/deps" "$TMP/work"
for f in "$SITE"/* "$SITE"/.[!.]*; do
  [ -e "$f" ] || continue
  case $(basename "$f") in
    # the checkout's own install (editable finder + its .pth, dist-info, egg-link), and cached bytecode of the finder
    bnn_toolkit|bnn_toolkit-*|bnn_toolkit.*|__editable__*|__pycache__) continue ;;
  esac
  ln -s "$f" "$TMP/deps/"
done
grep -rlsF "$REPO" "$TMP"/deps/*.pth "$TMP"/deps/*.egg-link && fail "a .pth or .egg-link in .venv points into the checkout (listed above)"

clean_env() {  # a virtual environment at $TMP/$1 seeing the shared dependencies after its own site-packages
  local env=$TMP/$1 site
  "$PY" -m venv "$env" || fail "could not create the virtual environment $env"
  site=$("$env/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  echo "import site; site.addsitedir('$TMP/deps')" >"$site/zz_shared_deps.pth"   # addsitedir appends: own packages first
  (cd "$TMP/work" && "$env/bin/python" -c 'import bnn_toolkit' 2>/dev/null) &&
    fail "bnn_toolkit imports in the fresh environment $env before anything is installed: the checkout leaks in"
  (cd "$TMP/work" && "$env/bin/python" -c 'import torch') || fail "torch does not import from the shared dependencies in $env"
}

installed_ok() {  # bnn_toolkit, its metadata and its data files come from the environment $1's own site-packages
  local env=$TMP/$1
  (cd "$TMP/work" && "$env/bin/python" - "$env" "$VERSION" "$REPO") <<'EOF' || fail "the package installed into $TMP/$1 is not what was built (above)"
import sys, sysconfig, importlib.metadata as md
from pathlib import Path
env, version, repo = Path(sys.argv[1]).resolve(), sys.argv[2], Path(sys.argv[3]).resolve()
site = Path(sysconfig.get_paths()['purelib']).resolve()
import bnn_toolkit
pkg = Path(bnn_toolkit.__file__).resolve().parent
print(f"bnn_toolkit {bnn_toolkit.__version__} imported from {pkg}")
assert pkg.parent == site, f"bnn_toolkit imported from {pkg}, not from {site}"
assert repo not in pkg.parents, f"bnn_toolkit imported from the checkout {pkg}"
dists = [d for d in md.distributions() if (d.metadata['Name'] or '').lower().replace('-', '_') == 'bnn_toolkit']
where = [str(Path(d.locate_file('')).resolve()) for d in dists]
assert where == [str(site)], f"bnn_toolkit's metadata found in {where}, expected only {site}"
assert bnn_toolkit.__version__ == md.version('bnn_toolkit') == version, (bnn_toolkit.__version__, md.version('bnn_toolkit'), version)
meta = md.metadata('bnn_toolkit')
assert meta['License-Expression'] == 'Apache-2.0', f"License-Expression: {meta['License-Expression']}"
assert any(f.name == 'LICENSE' for f in md.files('bnn_toolkit')), "no LICENSE file in the installed metadata"
assert any('extra == "plots"' in r for r in md.requires('bnn_toolkit') or []), "no [plots] extra in the metadata"
shipped = sorted(p.relative_to(repo / 'bnn_toolkit').as_posix() for p in (repo / 'bnn_toolkit').rglob('*')
                 if p.suffix == '.yaml' or p.name in ('py.typed', 'README.md'))
missing = [f for f in sorted({*shipped, 'py.typed', 'configs/README.md'}) if not (pkg / f).is_file()]
assert not missing, f"data files not installed: {missing[:5]} ({len(missing)} in all)"
print(f"{len(shipped)} data files installed (configs, their README.md, py.typed); metadata: license, [plots] extra")
EOF
  (cd "$TMP/work" && "$env/bin/python" -m pip check) || fail "pip check found broken requirements in $env"
}

step "3a. the wheel in a clean environment"
clean_env wheel_env
(cd "$TMP/work" && "$TMP/wheel_env/bin/python" -m pip install -q "$WHEEL[plots]") || fail "the wheel did not install (with its [plots] extra)"
installed_ok wheel_env

step "3b. the sdist in a second clean environment"
clean_env sdist_env
(cd "$TMP/work" && "$TMP/sdist_env/bin/python" -m pip install -q "$SDIST") || fail "the sdist did not install"
installed_ok sdist_env
(cd "$TMP/work" && "$TMP/sdist_env/bin/bnn-train" --help >/dev/null) || fail "bnn-train --help failed (sdist install)"

step "4. the installed commands, from a folder outside the checkout"
BIN=$TMP/wheel_env/bin
cd "$TMP/work"
out=$("$BIN/bnn-train" --version) || fail "bnn-train --version failed"
echo "$out"
grep -qF "$VERSION" <<<"$out" || fail "bnn-train --version does not say $VERSION"
out=$("$BIN/bnn-train" --list-configs) || fail "bnn-train --list-configs failed"
head -5 <<<"$out"
grep -qF 'imagenette/MLPMixer-dfa-binary' <<<"$out" || fail "bnn-train --list-configs does not list imagenette/MLPMixer-dfa-binary"
"$BIN/bnn-train" --fashion-mnist --model FullyConnected --fc-widths 32 --binary-act --binary-weights --rule dfa --bs 64 \
  --epochs 1 --limit-batches 5 --out "$TMP/run" --no-progress --wandb disabled || fail "the tiny bnn-train run failed"
"$BIN/python" -c "import json, sys; s = json.load(open(sys.argv[1])); assert s['status'] == 'finished', s" \
  "$TMP/run/summary.json" || fail "the tiny run's summary.json does not say finished"
# a shipped config by name, from outside the checkout: its values land in the run's config (the command line
# overrides dataset and model so that it runs in seconds on Fashion-MNIST)
"$BIN/bnn-train" --config-file imagenette/MLPMixer-dfa-binary --dataset fashion-mnist --model FullyConnected \
  --fc-widths 32 --epochs 1 --limit-batches 2 --out "$TMP/run_config" --no-progress --wandb disabled \
  || fail "bnn-train --config-file imagenette/MLPMixer-dfa-binary failed"
"$BIN/python" - "$TMP/run_config" <<'EOF' || fail "the shipped config's values are not in the run's config.json"
import json, sys
c = json.load(open(sys.argv[1] + '/config.json'))
c = c.get('config', c)
want = dict(rule='dfa', lr=0.0001, wd=1e-05, bs=64, binary_act=True, binary_weights=True, dataset='fashion-mnist')
got = {k: c.get(k) for k in want}
assert got == want, f"config.json has {got}, expected {want}"
assert json.load(open(sys.argv[1] + '/summary.json'))['status'] == 'finished', "the run did not finish"
EOF
cd "$REPO"
step "passed"
