using Xunit;

namespace EdgeVpn.Tests.Cli;

// The CLI tests swap the process-wide Console.Out to capture a run's output. FsCheck's
// QuickThrowOnFailure, used by property tests in other classes, prints "Ok, passed N tests." to
// Console.Out; when such a test ran in parallel it landed in a CLI test's captured stdout (seen
// as "'O' is an invalid start of a value" from the JSON test). This collection runs alone.
[CollectionDefinition("console", DisableParallelization = true)]
public sealed class ConsoleCollection;
