#!/usr/bin/env bash
# The project's one test command (run by new users and by CI through .ci/run).
# Contract: restores and builds EdgeVpn.sln in Release, runs every test assembly once without
# rebuilding, and prints as its LAST line exactly "N passed, N failed, N skipped" (summed over
# all test assemblies, read from the TRX files). Exits 0 only when the build succeeded, the
# test run completed and no test failed. EDGEVPN_TEST_FILTER, when set, is passed to
# `dotnet test --filter`. Needs only the .NET SDK (python3 is used to read TRX when present,
# otherwise awk). Uses whatever NuGet source the machine is configured with. As root with
# apt-get, installs Debian's prosody (XMPP integration tests), coturn, iptables and conntrack
# (ICE integration tests on a NAT testbed) and the notebook packages when missing.
set -uo pipefail

script_dir="${BASH_SOURCE[0]%/*}"
[[ "$script_dir" == "${BASH_SOURCE[0]}" ]] && script_dir=.
cd "$script_dir/.." || exit 2
repo_root="$(pwd)"

if ! command -v dotnet >/dev/null 2>&1; then
  echo "error: 'dotnet' was not found on PATH. Install the .NET 10 SDK (https://dot.net) and run scripts/test.sh again." >&2
  exit 127
fi

export DOTNET_NOLOGO=1
export DOTNET_CLI_TELEMETRY_OPTOUT=1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export DOTNET_CLI_UI_LANGUAGE=en

# The XMPP integration tests start a real Prosody (Debian package 'prosody'). Install it when it
# is missing and this runs as root with apt-get; otherwise those tests are skipped with the reason.
if ! command -v prosody >/dev/null 2>&1 && [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "==> installing prosody (Debian) for the XMPP integration tests"
  export DEBIAN_FRONTEND=noninteractive
  if ! { apt-get install -y -q prosody >/dev/null 2>&1 \
         || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q prosody >/dev/null 2>&1; }; }; then
    echo "warning: could not install prosody; the XMPP integration tests will be skipped" >&2
  fi
fi

# The ICE integration tests build NATs in network namespaces (iptables, conntrack) and start a
# real coturn (Debian package 'coturn'). Installed the same way; without them those tests skip.
if { ! command -v turnserver >/dev/null 2>&1 || ! command -v iptables >/dev/null 2>&1 || ! command -v conntrack >/dev/null 2>&1; } \
   && [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "==> installing coturn, iptables and conntrack (Debian) for the ICE integration tests"
  export DEBIAN_FRONTEND=noninteractive
  if ! { apt-get install -y -q coturn iptables conntrack >/dev/null 2>&1 \
         || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q coturn iptables conntrack >/dev/null 2>&1; }; }; then
    echo "warning: could not install coturn/iptables/conntrack; the ICE NAT integration tests will be skipped" >&2
  fi
fi

# The notebook test runs scripts/notebooks.sh (Debian's python3-pandas, python3-matplotlib,
# python3-ipykernel and jupyter-nbconvert). Installed the same way; without them that test skips.
if { ! /usr/bin/python3 -c 'import pandas, matplotlib, ipykernel' >/dev/null 2>&1 || ! command -v jupyter-nbconvert >/dev/null 2>&1; } \
   && [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "==> installing python3-pandas, python3-matplotlib, python3-ipykernel and jupyter-nbconvert (Debian) for the notebook test"
  export DEBIAN_FRONTEND=noninteractive
  if ! { apt-get install -y -q --no-install-recommends python3-pandas python3-matplotlib python3-ipykernel jupyter-nbconvert >/dev/null 2>&1 \
         || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q --no-install-recommends python3-pandas python3-matplotlib python3-ipykernel jupyter-nbconvert >/dev/null 2>&1; }; }; then
    echo "warning: could not install the notebook packages; the notebook test will be skipped" >&2
  fi
fi

results_dir="$repo_root/artifacts/test-results"
rm -rf "$results_dir"
mkdir -p "$results_dir"

echo "==> dotnet $(dotnet --version): restore and build EdgeVpn.sln (Release)"
if ! dotnet build EdgeVpn.sln -c Release -nologo -v quiet -clp:NoSummary\;ErrorsOnly; then
  echo "error: build failed (warnings are errors); no tests were run." >&2
  exit 1
fi

test_args=(test EdgeVpn.sln -c Release --no-build --nologo -v quiet
  --results-directory "$results_dir"
  --logger "trx"
  --logger "console;verbosity=minimal")
if [[ -n "${EDGEVPN_TEST_FILTER:-}" ]]; then
  echo "==> test filter: $EDGEVPN_TEST_FILTER"
  test_args+=(--filter "$EDGEVPN_TEST_FILTER")
fi

echo "==> dotnet test (Release, no rebuild)"
dotnet "${test_args[@]}"
test_rc=$?

shopt -s nullglob
trx_files=("$results_dir"/*.trx "$results_dir"/*/*.trx)
shopt -u nullglob
if [[ ${#trx_files[@]} -eq 0 ]]; then
  echo "error: dotnet test exited with $test_rc and wrote no TRX results to $results_dir." >&2
  echo "0 passed, 0 failed, 0 skipped"
  exit 1
fi

# Sum the outcomes of every UnitTestResult over all TRX files. Passed and NotExecuted (skipped)
# are counted as such; every other outcome (Failed, Error, Timeout, Aborted, ...) is a failure.
if command -v python3 >/dev/null 2>&1; then
  counts="$(python3 - "${trx_files[@]}" <<'PY'
import sys, xml.etree.ElementTree as ET
passed = failed = skipped = 0
for path in sys.argv[1:]:
    for el in ET.parse(path).iter():
        if el.tag.rsplit('}', 1)[-1] != 'UnitTestResult':
            continue
        outcome = el.get('outcome', '')
        if outcome == 'Passed': passed += 1
        elif outcome == 'NotExecuted': skipped += 1
        else: failed += 1
print(passed, failed, skipped)
PY
)" || counts=""
else
  # Fallback without python3: the <Counters .../> element of each TRX (one per assembly).
  counts="$(awk '
    /<Counters / {
      for (i = 1; i <= NF; i++) {
        if (split($i, kv, "=") == 2) { gsub(/[^0-9]/, "", kv[2]); v[kv[1]] += kv[2] }
      }
    }
    END {
      # Skipped tests are counted in total but not in executed (notExecuted stays 0).
      print v["passed"] + 0,
            v["failed"] + v["error"] + v["timeout"] + v["aborted"] + 0,
            v["total"] - v["executed"]
    }' "${trx_files[@]}")" || counts=""
fi

if [[ -z "$counts" ]]; then
  echo "error: could not read the TRX files in $results_dir." >&2
  echo "0 passed, 0 failed, 0 skipped"
  exit 1
fi

read -r passed failed skipped <<<"$counts"
rc=0
if [[ "$failed" -ne 0 ]]; then
  rc=1
elif [[ "$test_rc" -ne 0 ]]; then
  echo "error: dotnet test exited with $test_rc although no test result failed (test host crash or aborted run?)." >&2
  rc=1
fi
echo "$passed passed, $failed failed, $skipped skipped"
exit "$rc"
