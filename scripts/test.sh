#!/usr/bin/env bash
# Runs the whole test suite on a fresh Debian 12 machine that has the .NET SDK (10.0.100 or later).
# It installs and starts whatever the tests need: today a C toolchain and zlib's headers for the
# NativeAOT publish test, and a throwaway PostgreSQL and Redis for the server queues' tests
# (scripts/ci-services.sh, which installs redis-server from Debian's packages when it is missing).
# Prints the test runners' output, then one line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

# NativeAOT links with clang (or gcc) and needs zlib's headers: install what is missing, or say which
# packages to install when this is not root.
missing=()
command -v clang >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1 || missing+=(clang)
[ -e /usr/include/zlib.h ] || missing+=(zlib1g-dev)
[ -e /usr/include/stdlib.h ] || missing+=(libc6-dev)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: installing ${missing[*]} for the NativeAOT test"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
      { apt-get update >/dev/null && apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; } ||
      { echo "test.sh: could not install ${missing[*]} with apt-get"; echo "0 passed, 1 failed"; exit 1; }
  else
    echo "test.sh: the NativeAOT test needs ${missing[*]}: run 'sudo apt-get install ${missing[*]}' and try again"
    echo "0 passed, 1 failed"
    exit 1
  fi
fi

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
# A test that hangs is named and its process dumped, instead of eating the CI budget.
dotnet test TaskTempest.sln -c Debug --nologo --blame-hang-timeout 10m 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

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
