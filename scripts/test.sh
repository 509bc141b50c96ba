#!/usr/bin/env bash
# Runs the whole test suite on a fresh Debian 12 machine that has the .NET SDK (10.0.100 or later).
# It installs and starts whatever the tests need: today a C toolchain and zlib's headers for the
# NativeAOT publish test, Chromium for the dashboard's browser tests, and a throwaway PostgreSQL and Redis for the server queues' tests
# (scripts/ci-services.sh, which installs redis-server from Debian's packages when it is missing).
# Prints the test runners' output, then one line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

# NativeAOT links with clang (or gcc) and needs zlib's headers; the dashboard's browser tests need Chromium
# (Debian's package, driven headless over the DevTools protocol; no browser download). What is missing is
# installed IN THE BACKGROUND, one apt-get for all of it (apt takes one lock), logged to a file, so that it
# overlaps the servers' start and the build; the script waits for it before 'dotnet test'. Not root: it says what to install.
missing=()
command -v clang >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1 || missing+=(clang)
[ -e /usr/include/zlib.h ] || missing+=(zlib1g-dev)
[ -e /usr/include/stdlib.h ] || missing+=(libc6-dev)
export TASKTEMPEST_CHROMIUM=/usr/bin/chromium
wanted=("${missing[@]}")
[ -x "$TASKTEMPEST_CHROMIUM" ] || wanted+=(chromium)
# ci-services.sh installs redis-server with its own apt-get, which would meet this one's lock: when it is missing
# it joins this install, and the servers start after it (the overlap is lost only on a machine without Redis).
redis_missing=0
if ! command -v redis-server >/dev/null 2>&1 && ! bash scripts/ci-services.sh status >/dev/null 2>&1; then
  redis_missing=1
  [ ${#wanted[@]} -gt 0 ] && wanted+=(redis-server)
fi
install_pid=""
install_log=$(mktemp --suffix=.apt.log)
if [ ${#wanted[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: installing ${wanted[*]} in the background (log: $install_log)"
    (
      export DEBIAN_FRONTEND=noninteractive
      started=$(date +%s)
      apt-get install -y --no-install-recommends -o DPkg::Lock::Timeout=300 "${wanted[@]}" ||
        { apt-get update && apt-get install -y --no-install-recommends -o DPkg::Lock::Timeout=300 "${wanted[@]}"; }
      rc=$?
      echo "apt-get exited $rc after $(( $(date +%s) - started )) s"
      exit $rc
    ) >"$install_log" 2>&1 &
    install_pid=$!
  elif [ ${#missing[@]} -gt 0 ]; then
    echo "test.sh: the NativeAOT test needs ${missing[*]}: run 'sudo apt-get install ${missing[*]}' and try again"
    echo "0 passed, 1 failed"
    exit 1
  else
    echo "test.sh: the dashboard's browser tests need Chromium: run 'sudo apt-get install chromium'; they fail without it"
  fi
fi

wait_for_install() {
  [ -n "$install_pid" ] || return 0
  wait "$install_pid"
  install_status=$?
  install_pid=""
  echo "test.sh: $(tail -n 1 "$install_log")"
  if [ "$install_status" -ne 0 ]; then
    echo "test.sh: could not install ${wanted[*]} with apt-get:"
    tail -n 20 "$install_log" | sed 's/^/  /'
    if [ ${#missing[@]} -gt 0 ]; then echo "0 passed, 1 failed"; exit 1; fi
  fi
}
[ "$redis_missing" -eq 1 ] && wait_for_install

# The server tests use the suite's own PostgreSQL on 127.0.0.1:5440 and Redis on 127.0.0.1:6390, stopped on
# exit. Servers that were already up (a developer's 'ci-services.sh start') are used and left running. If the
# start fails, the tests still run: a test that needs a server fails when it is missing under CI, it never skips.
export TASKTEMPEST_POSTGRES='Host=127.0.0.1;Port=5440;Username=postgres;Database=postgres'
export TASKTEMPEST_REDIS='127.0.0.1:6390'
if bash scripts/ci-services.sh status >/dev/null 2>&1; then
  echo "test.sh: PostgreSQL and Redis are already running; using them and leaving them running"
else
  trap 'bash scripts/ci-services.sh stop >/dev/null 2>&1' EXIT
  started_ns=$(date +%s%N)
  if services_out=$(bash scripts/ci-services.sh start 2>&1); then
    elapsed_ms=$(( ($(date +%s%N) - started_ns) / 1000000 ))
    printf 'test.sh: PostgreSQL and Redis started in %d.%d s\n' $((elapsed_ms / 1000)) $((elapsed_ms % 1000 / 100))
  else
    echo "test.sh: the servers did not start; the tests that need them will fail:"
    printf '%s\n' "$services_out" | sed 's/^/  /'
  fi
fi

log=$(mktemp)
# The build runs while the background install (above) goes on; the install must be done before the tests: the
# toolchain for the NativeAOT publish, Chromium for the dashboard's browser tests (which fail, never skip, without it).
# A failed build prints no test summary, and the tests then run nothing: it counts as a failure below.
dotnet build TaskTempest.sln -c Debug --nologo 2>&1 | tee "$log"
build_status=${PIPESTATUS[0]}
wait_for_install
rm -f "$install_log"

# A test that hangs is named and its process dumped, instead of eating the CI budget.
dotnet test TaskTempest.sln -c Debug --nologo --no-build --blame-hang-timeout 10m 2>&1 | tee -a "$log"
status=${PIPESTATUS[0]}
[ "$build_status" -ne 0 ] && status=$build_status

# dotnet test prints one summary per test assembly, e.g.
#   Passed!  - Failed:     0, Passed:    29, Skipped:     0, Total:    29, Duration: 19 s - TaskTempest.Tests.dll (net10.0)
read -r passed failed < <(grep -E '^(Passed|Failed)! +- Failed: ' "$log" |
  sed -E 's/.*Failed: +([0-9]+), Passed: +([0-9]+).*/\2 \1/' |
  awk '{p += $1; f += $2} END {print p + 0, f + 0}')
rm -f "$log"

# A build failure prints no summary at all: count it as a failure, never as a pass.
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "$passed passed, $failed failed"
exit "$status"
