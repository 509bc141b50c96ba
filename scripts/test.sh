#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine that has the .NET SDK (10.0.100 or later).
# It installs and starts whatever the tests need; today that is nothing beyond the SDK (the queue
# backends that need Redis and PostgreSQL come with their own issues and will be started here).
# Prints the test runners' output, then one line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp)
dotnet test TaskTempest.sln -c Debug --nologo 2>&1 | tee "$log"
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
