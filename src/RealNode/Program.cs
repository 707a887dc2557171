// edgevpn: the deployable node's command line (see Cli/CliApp.cs).
using EdgeVpn.RealNode.Cli;

return await CliApp.RunAsync(args);
