#!/usr/bin/env bash
# The compose test as a stranger's machine runs it (`./irlkit test` calls this): a copy of the repository
# in a temporary directory (what git tracks plus untracked files it does not ignore, as a clone of the
# working tree: no .env, no .state, no node_modules, nothing beside it, so no ../shared), its npm
# dependencies installed from pnpm's store, then the copy's own test/compose/run.sh, which must need
# nothing outside the copy once the engine and the base images are present. Those come first, from
# ../shared/docker/base-images.sh when it exists (a machine that reaches no container registry), else
# from `./irlkit docker-engine`. The copy's screenshots are kept in test-artifacts/compose.
set -uo pipefail
cd "$(dirname "$(readlink -f "$0")")/../.."
say() { printf '\033[1mcompose test (from a copy):\033[0m %s\n' "$*" >&2; }
fail() {
  say "$1"
  [ -n "${IRL_TEST_SUMMARY_FILE:-}" ] && echo "0 1 0" >>"$IRL_TEST_SUMMARY_FILE"
  exit 1
}

if [ -f ../shared/docker/base-images.sh ]; then
  bash ../shared/docker/base-images.sh >&2 || fail "base-images.sh failed"
else
  ./irlkit docker-engine || fail "./irlkit docker-engine failed"
fi

tmp=$(mktemp -d /tmp/irlkit-clone.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
copy=$tmp/irlkit
mkdir -p "$copy"
git ls-files -z --cached --others --exclude-standard \
  | tar --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -C "$copy" -xf - || fail "copying the repository failed"
[ ! -e "$copy/.env" ] && [ ! -e "$copy/.state" ] && [ ! -e "$tmp/shared" ] || fail "the copy is not a fresh clone"
say "copied to $copy ($(du -sh "$copy" | cut -f1)); installing npm dependencies from the store"
(cd "$copy" && CI=true pnpm install --frozen-lockfile --offline --reporter=silent) || fail "pnpm install in the copy failed"

"$copy/test/compose/run.sh"
status=$?
if [ -d "$copy/test-artifacts/compose" ]; then
  mkdir -p test-artifacts/compose && cp -r "$copy/test-artifacts/compose/." test-artifacts/compose/
fi
exit $status
