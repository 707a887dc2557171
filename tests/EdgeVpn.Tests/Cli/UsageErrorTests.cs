// Every kind of bad value edgevpn-sim can be given, on every command, is answered in one line on
// stderr that names the option, the value and what is allowed, with exit code 2 and nothing on
// stdout (UsageErrors words them all). The cases that CommandLineTests already runs for their exit
// code and lack of a stack trace are not repeated here; these check the wording.
using EdgeVpn.Sim.Cli;
using Xunit;

namespace EdgeVpn.Tests.Cli;

[Collection("console")]
public sealed class UsageErrorTests : IDisposable
{
    // "{dir}" in a case stands for this existing directory, "{file}" for an existing regular file.
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("edgevpn-usage-");
    private string File_ => Path.Combine(_dir.FullName, "plain.txt");

    public UsageErrorTests() => File.WriteAllText(File_, "x");

    public void Dispose() => _dir.Delete(recursive: true);

    [Theory]
    // Whole numbers that are not numbers, or not whole.
    [InlineData("converge --nodes abc", "--nodes: 'abc' is not a whole number")]
    [InlineData("route --nodes 2.5", "--nodes: '2.5' is not a whole number")]
    [InlineData("flood --long-links x", "--long-links: 'x' is not a whole number")]
    [InlineData("converge --successors two", "--successors: 'two' is not a whole number")]
    [InlineData("flood --check-invariants 1e3", "--check-invariants: '1e3' is not a whole number")]
    [InlineData("route --pairs many", "--pairs: 'many' is not a whole number")]
    [InlineData("nat-matrix --trials abc", "--trials: 'abc' is not a whole number")]
    [InlineData("vopr --seed abc", "--seed: 'abc' is not a whole number")]
    [InlineData("bench --seed x", "--seed: 'x' is not a whole number")]
    [InlineData("bench --check-invariants y", "--check-invariants: 'y' is not a whole number")]
    [InlineData("bench --sizes abc,10", "--sizes: 'abc' is not a whole number")]
    // Numbers outside the option's range, including ones too large for the option's type.
    [InlineData("converge --nodes 0", "--nodes: '0' is not in 1..50000000")]
    [InlineData("flood --nodes 99999999999", "--nodes: '99999999999' is not in 1..50000000")]
    [InlineData("flood --long-links -1", "--long-links: '-1' is not in 0..64")]
    [InlineData("flood --successors 17", "--successors: '17' is not in 1..16")]
    [InlineData("flood --join-window -1", "--join-window: '-1' is not in 0..86400")]
    [InlineData("converge --join-window NaN", "--join-window: 'NaN' is not in 0..86400")]
    [InlineData("flood --check-invariants 0", "--check-invariants: '0' is not in 1..1000000")]
    [InlineData("route --pairs 0", "--pairs: '0' is not in 1..10000000")]
    [InlineData("nat-matrix --trials 10001", "--trials: '10001' is not in 1..10000")]
    [InlineData("flood --seed -1", "--seed: '-1' is not in 0..18446744073709551615")]
    [InlineData("vopr --seed 18446744073709551616", "--seed: '18446744073709551616' is not in 0..18446744073709551615")]
    [InlineData("bench --sizes 0", "--sizes: '0' is not in 1..50000000")]
    [InlineData("bench --sizes 10,99999999999", "--sizes: '99999999999' is not in 1..50000000")]
    [InlineData("bench naive-flood --nodes 1.5", "--nodes: '1.5' is not a whole number")]
    // A number that is not a number at all.
    [InlineData("flood --join-window soon", "--join-window: 'soon' is not a number")]
    // Words outside the option's list, case included.
    [InlineData("flood --membership foo", "--membership: 'foo' is not one of presence, lookup")]
    [InlineData("converge --membership Lookup", "--membership: 'Lookup' is not one of presence, lookup")]
    [InlineData("bench --membership foo", "--membership: 'foo' is not one of presence, lookup")]
    [InlineData("vopr --membership foo", "--membership: 'foo' is not one of presence, lookup")]
    [InlineData("route --sampler uniform", "--sampler: 'uniform' is not one of harmonic, edgevpn")]
    [InlineData("converge --links packets", "--links: 'packets' is not one of modeled, ice")]
    [InlineData("vopr --links ICE", "--links: 'ICE' is not one of modeled, ice")]
    [InlineData("converge --signaling prosody", "--signaling: 'prosody' is not one of modeled, xmpp")]
    [InlineData("flood --nat-mix none=5,mystery=1", "--nat-mix: unknown NAT preset 'mystery' (expected one of: ")]
    [InlineData("bench --sizes 10,,20", "--sizes: '10,,20' has an empty entry")]
    // An option with no value, or given twice.
    [InlineData("flood --nodes", "--nodes: needs a value")]
    [InlineData("flood --nodes 10 --nodes 20", "--nodes: given 2 times ('10', '20'); give it once")]
    // Output files that cannot be files.
    [InlineData("flood --trace {dir}", "--trace: {dir} is a directory")]
    [InlineData("flood --export-graph {dir}", "--export-graph: {dir} is a directory")]
    [InlineData("flood --csv {dir}", "--csv: {dir} is a directory")]
    [InlineData("converge --trace {dir}/missing/t.txt", "--trace: the directory {dir}/missing does not exist")]
    [InlineData("route --export-graph {file}/g.graphml", "--export-graph: {file} is a file, not a directory")]
    [InlineData("vopr --seed 1 --trace {dir}", "--trace: {dir} is a directory")]
    [InlineData("vopr --seed 1 --export-graph {dir}", "--export-graph: {dir} is a directory")]
    [InlineData("vopr --seeds 1..2 --csv {dir}", "--csv: {dir} is a directory")]
    [InlineData("bench --sizes 10 --csv {dir}", "--csv: {dir} is a directory")]
    public void A_bad_value_is_answered_in_one_line_naming_the_option_the_value_and_what_is_allowed(string args, string expected)
    {
        string Fill(string s) => s.Replace("{dir}", _dir.FullName).Replace("{file}", File_);
        var (exit, stdout, stderr) = ConsoleCapture.Run(CliApp.RunAsync, Fill(args).Split(' '));
        Assert.Equal(2, exit);
        Assert.Equal("", stdout);
        string line = Assert.Single(stderr.TrimEnd('\n').Split('\n'));
        Assert.StartsWith("edgevpn-sim: " + Fill(expected), line);
    }

    [Fact]
    public void No_command_at_all_is_answered_with_the_commands_there_are()
    {
        var (exit, stdout, stderr) = ConsoleCapture.Run(CliApp.RunAsync, []);
        Assert.Equal(2, exit);
        Assert.Equal("", stdout);
        Assert.Equal("edgevpn-sim: give a command: converge, flood, route, bench, vopr, nat-matrix (see --help)", stderr.Trim());
    }

    [Fact]
    public void Help_lists_each_option_s_words_in_the_order_the_error_gives_them()
    {
        var (exit, stdout, _) = ConsoleCapture.Run(CliApp.RunAsync, ["flood", "--help"]);
        Assert.Equal(0, exit);
        Assert.Contains("--membership <presence|lookup>", stdout);
        Assert.Contains("--sampler <harmonic|edgevpn>", stdout);
    }
}
