// Placeholder entry point for the edgevpn-sim command line, so that the solution builds.
// Contract until the real CLI lands: prints that no commands exist yet and exits with 2.
// Whoever writes the CLI replaces this file.
Console.Error.WriteLine("edgevpn-sim: no commands are implemented yet");
return 2;
