// edgevpn-sim: the simulator's command line. Parses options (System.CommandLine), runs one
// experiment, shows progress on stderr (Spectre.Console) and prints a table, or with --json
// exactly one JSON object on stdout. Bad input gives one line on stderr and exit code 2;
// a run whose checkers fail exits 1.
using EdgeVpn.Sim.Cli;

return await CliApp.RunAsync(args);
