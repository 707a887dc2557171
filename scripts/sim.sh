#!/usr/bin/env bash
# Runs the simulator's command line: builds it (Release) when needed, then passes every argument
# to edgevpn-sim. Example: scripts/sim.sh flood --nodes 10000
set -euo pipefail
# No cd: relative paths the user gives (--csv, --trace, --export-graph) name files in the directory
# the command was run from, not in the checkout.
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if ! command -v dotnet >/dev/null 2>&1; then
  echo "error: 'dotnet' was not found on PATH. Install the .NET 10 SDK and run this again." >&2
  exit 127
fi
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# The GC's first generation: 256 MiB per heap (the runtime sizes it to the cache, which makes a
# young collection, and its scan of the old heap's cards, far too frequent for a simulator that
# allocates small short-lived records at a high rate while it holds a large heap of nodes): ~15%
# faster at 30k nodes. Not larger: 1 GiB (this script's choice from 200k nodes until 2026-11-30)
# held 1.4 GB more at the peak of a 300k run (5,018 vs 3,634 MB) for no gain in time, and 670 MB
# more at 1M. The runtime reads this knob only from the environment; set it to override. `bench`
# passes the same value to its children (BenchCommand.Gen0Size; GcGen0SizeTests keeps them equal).
if [[ -z "${DOTNET_GCgen0size:-}" ]]; then
  export DOTNET_GCgen0size=0x10000000
fi
out="$repo/artifacts/sim"
# The build's own output only when it fails (MSBuild prints a summary even when told not to).
# (The build runs in the checkout, where global.json picks the SDK.)
if ! build_log=$(cd "$repo" && dotnet build src/Sim/Cli/edgevpn-sim.csproj -c Release -o "$out" -nologo -v quiet 2>&1); then
  echo "$build_log" >&2
  echo "error: the build failed" >&2
  exit 1
fi
exec dotnet "$out/edgevpn-sim.dll" "$@"
