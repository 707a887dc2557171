// Where the repository is, for tests that read its scripts and templates: the first directory
// above the test binaries that holds EdgeVpn.sln.
namespace EdgeVpn.Tests;

internal static class RepoPaths
{
    public static string Root
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "EdgeVpn.sln"))) dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException("cannot find the repository (EdgeVpn.sln) above " + AppContext.BaseDirectory);
        }
    }

    public static string Of(params string[] parts) => Path.Combine([Root, .. parts]);
}
