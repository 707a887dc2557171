// Runs every FsCheck property of the suite so that any failure can be replayed from its seed.
// Contract: Run(maxTest, property) checks `property` on maxTest cases (Run(property): FsCheck's
// 100) with FsCheck's Quick sizes (1 to 100). Each call draws a fresh seed, so runs keep
// exploring, unless the environment variable EDGEVPN_PROPERTY_SEED holds a replay: "seed,gamma"
// (the whole run again, FsCheck's Rnd) or "seed,gamma,size" (only the failing case, the triple of
// FsCheck's "Replay directly at failing step" line); then every property uses that replay. A
// failure (or exhaustion) throws a message that starts with the exact command replaying it,
// followed by FsCheck's own report (original and shrunk counterexample). A malformed replay value
// throws an error naming the variable and the expected form. The variable is read in one place
// (the public Run); tests of this class pass the replay text to the internal Run instead, so they
// never touch process-wide state that parallel test classes share.
using System.Diagnostics;
using System.Globalization;
using FsCheck;
using Microsoft.FSharp.Collections;
using Microsoft.FSharp.Core;
using Xunit;
using Xunit.Sdk;

namespace EdgeVpn.Tests;

internal static class PropertyCheck
{
    public const string SeedVariable = "EDGEVPN_PROPERTY_SEED";

    /// <summary>FsCheck's own default, kept for the properties that used QuickCheckThrowOnFailure.</summary>
    public const int MaxTestDefault = 100;

    private const string ExpectedForm =
        "expected \"seed,gamma\" or \"seed,gamma,size\" as printed by a failing property " +
        "(unsigned 64-bit integers, gamma odd; size a non-negative int), e.g. " + SeedVariable + "=12345,67891";

    public static void Run(Property property) => Run(MaxTestDefault, property);

    public static void Run(int maxTest, Property property) =>
        Run(maxTest, property, Environment.GetEnvironmentVariable(SeedVariable));

    /// <summary>As Run, with the replay text given (null or empty: a fresh seed).</summary>
    internal static void Run(int maxTest, Property property, string? replayText)
    {
        var replay = ParseReplay(replayText) ?? new Replay(FreshRnd(), FSharpOption<int>.None);
        var runner = new ReportRunner();
        var config = Config.Quick.WithMaxTest(maxTest).WithReplay(FSharpOption<Replay>.Some(replay)).WithRunner(runner);
        try
        {
            Check.One(config, property);
        }
        catch (Exception e)
        {
            // A generator or FsCheck itself threw: that too depends on the seed.
            throw new XunitException($"{ReplayLine(replay)}{Environment.NewLine}The property threw before FsCheck could report: {e.Message}", e);
        }
        if (runner.Failure is { } report)
            throw new XunitException(ReplayLine(replay) + Environment.NewLine + report.TrimEnd());
    }

    /// <summary>A fresh seed with FsCheck's golden gamma (FsCheck's own Random.Create is internal to it).</summary>
    private static Rnd FreshRnd()
    {
        Span<byte> bytes = stackalloc byte[sizeof(ulong)];
        System.Random.Shared.NextBytes(bytes);
        return new Rnd(BitConverter.ToUInt64(bytes));
    }

    /// <summary>The replay in text, null for null or blank text; throws naming the variable when malformed.</summary>
    internal static Replay? ParseReplay(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        string[] parts = text.Trim().Trim('(', ')').Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length is not (2 or 3)
            || !ulong.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out ulong seed)
            || !ulong.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out ulong gamma))
            throw new InvalidOperationException($"{SeedVariable}=\"{text}\" is not a property replay: {ExpectedForm}.");
        if (gamma % 2 == 0)
            throw new InvalidOperationException($"{SeedVariable}=\"{text}\": gamma {gamma} is even (FsCheck's gamma is odd): {ExpectedForm}.");
        var size = FSharpOption<int>.None;
        if (parts.Length == 3)
        {
            if (!int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out int s))
                throw new InvalidOperationException($"{SeedVariable}=\"{text}\": size \"{parts[2]}\" is not a non-negative int: {ExpectedForm}.");
            size = FSharpOption<int>.Some(s);
        }
        return new Replay(new Rnd(seed, gamma), size);
    }

    private static string ReplayText(Replay replay) =>
        FormattableString.Invariant($"{replay.Rnd.Seed},{replay.Rnd.Gamma}")
        + (FSharpOption<int>.get_IsSome(replay.Size) ? FormattableString.Invariant($",{replay.Size.Value}") : "");

    private static string ReplayLine(Replay replay)
    {
        string test = TestName();
        string filter = test.Length > 0 ? $" --filter \"FullyQualifiedName~{test}\"" : "";
        return $"Property failed. Replay: {SeedVariable}={ReplayText(replay)} dotnet test tests/EdgeVpn.Tests -c Release{filter}";
    }

    /// <summary>Class.Method of the xunit test on the stack ("" outside a test): the filter that runs it alone.</summary>
    private static string TestName()
    {
        foreach (var frame in new StackTrace().GetFrames())
        {
            if (frame.GetMethod() is { DeclaringType: { } type } method && method.IsDefined(typeof(FactAttribute), inherit: true))
                return $"{type.Name}.{method.Name}";
        }
        return "";
    }

    /// <summary>Keeps FsCheck's report of a failed or exhausted run; prints nothing (one per Run call).</summary>
    private sealed class ReportRunner : IRunner
    {
        public string? Failure { get; private set; }

        public void OnStartFixture(Type t) { }

        public void OnArguments(int ntest, FSharpList<object> args, FSharpFunc<int, FSharpFunc<FSharpList<object>, string>> every) { }

        public void OnShrink(FSharpList<object> args, FSharpFunc<FSharpList<object>, string> everyShrink) { }

        public void OnFinished(string name, TestResult result)
        {
            if (!result.IsPassed) Failure = Runner.onFinishedToString(name, result);
        }
    }
}
