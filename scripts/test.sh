#!/usr/bin/env bash
# Installs what the tests need, builds, runs the whole NUnit suite and ends with "N passed, N failed, N skipped".
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
bash scripts/deps.sh || { echo "dependency install failed"; exit 1; }
dotnet build tests/Ctmsr.Tests -c Release -nologo -v quiet || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }
log=$(mktemp)
dotnet test tests/Ctmsr.Tests -c Release --no-build -nologo "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
line=$(grep -E "(Passed|Failed)!\s+-\s+Failed:" "$log" | tail -1)
f=$(sed -E 's/.*Failed:\s*([0-9]+).*/\1/' <<<"$line"); p=$(sed -E 's/.*Passed:\s*([0-9]+).*/\1/' <<<"$line"); s=$(sed -E 's/.*Skipped:\s*([0-9]+).*/\1/' <<<"$line")
rm -f "$log"
if [ -z "$line" ]; then echo "0 passed, 1 failed, 0 skipped"; exit 1; fi
echo "$p passed, $f failed, $s skipped"
[ "$rc" -eq 0 ] && [ "$f" -eq 0 ] || exit 1
