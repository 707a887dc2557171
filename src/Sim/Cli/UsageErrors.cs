// How every usage error of edgevpn-sim is worded: one line naming the option, the value given and
// what is allowed ("--nodes: '0' is not in 1..50000000"). The rules an option's value must follow
// (a range, a list of words) are declared here too, so the check and its wording cannot drift
// apart; parse errors System.CommandLine finds by itself (a value of the wrong type, a value given
// twice) are reworded here from the option's declared type and rule, not from the library's text.
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace EdgeVpn.Sim.Cli;

public static class UsageErrors
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    // The declared range of each ranged option, so that a whole number too large for the option's
    // type (rejected by the parser before any validator runs) is still answered with that range.
    private static readonly ConditionalWeakTable<Option, string> Ranges = new();

    public static string NotWholeNumber(string option, string value) => $"{option}: '{value}' is not a whole number";
    public static string NotNumber(string option, string value) => $"{option}: '{value}' is not a number";
    public static string NotInRange(string option, string value, string range) => $"{option}: '{value}' is not in {range}";
    public static string NotOneOf(string option, string value, IEnumerable<string> allowed) => $"{option}: '{value}' is not one of {string.Join(", ", allowed)}";
    public static string IsDirectory(string option, string path) => $"{option}: {path} is a directory";
    public static string NoSuchDirectory(string option, string directory) => $"{option}: the directory {directory} does not exist";
    public static string NotADirectory(string option, string directory) => $"{option}: {directory} is a file, not a directory";

    /// <summary>Accepts only values in min..max; a value that is not a number at all is worded by Describe.</summary>
    public static void Range<T>(Option<T> option, double min, double max)
    {
        string range = string.Create(C, $"{min}..{max}");
        Ranges.AddOrUpdate(option, range);
        option.Validators.Add(r =>
        {
            if (r.Tokens.Count == 0) return;
            string value = r.Tokens[^1].Value;
            if (!double.TryParse(value, NumberStyles.Float, C, out double v)) return;
            if (!(v >= min && v <= max)) r.AddError(NotInRange(option.Name, value, range));
        });
    }

    /// <summary>Accepts only these words (as typed: case matters); help shows them in this order.</summary>
    public static void OneOf(Option<string> option, params string[] allowed)
    {
        option.HelpName = string.Join("|", allowed);
        option.CompletionSources.Add(allowed);
        option.Validators.Add(r =>
        {
            if (r.Tokens.Count > 0 && !allowed.Contains(r.Tokens[^1].Value, StringComparer.Ordinal))
                r.AddError(NotOneOf(option.Name, r.Tokens[^1].Value, allowed));
        });
    }

    /// <summary>Where an output file cannot be: a directory, or in a directory that is not there.
    /// shown: how to name the path when it is a directory (e.g. with the link it was reached by).</summary>
    public static void CheckOutputPath(string option, string path, string? shown = null)
    {
        if (Directory.Exists(path)) throw new UsageException(IsDirectory(option, shown ?? path));
        if (Path.GetDirectoryName(path) is { Length: > 0 } dir && !Directory.Exists(dir))
            throw new UsageException(File.Exists(dir) ? NotADirectory(option, dir) : NoSuchDirectory(option, dir));
    }

    /// <summary>The one parse error to print, worded as above: one naming a word nobody recognised when
    /// there is one, since a misspelled command ("flod") also makes "Required command was not
    /// provided." and that comes first.</summary>
    public static string Describe(ParseResult parsed)
    {
        var error = parsed.Errors.FirstOrDefault(e => parsed.UnmatchedTokens.Any(t => e.Message.Contains($"'{t}'", StringComparison.Ordinal))) ?? parsed.Errors[0];
        // No command at all (nothing unmatched, and the command reached does nothing by itself).
        if (parsed.UnmatchedTokens.Count == 0 && parsed.CommandResult.Command is { Action: null, Subcommands.Count: > 0 } bare)
            return $"give a command: {string.Join(", ", bare.Subcommands.Select(c => c.Name))}";
        return Reworded(error) ?? error.Message;
    }

    /// <summary>The library's own errors about an option's value, in the words above; null for
    /// errors this file already worded (validators) and for those not about one option's value.</summary>
    private static string? Reworded(ParseError error)
    {
        var result = error.SymbolResult as OptionResult ?? error.SymbolResult?.Parent as OptionResult;
        if (result is null || error.Message.StartsWith(result.Option.Name + ":", StringComparison.Ordinal)) return null;
        string name = result.Option.Name;
        if (result.Tokens.Count == 0) return $"{name}: needs a value";
        if (result.Tokens.Count > 1) return $"{name}: given {result.Tokens.Count} times ({string.Join(", ", result.Tokens.Select(t => $"'{t.Value}'"))}); give it once";
        string value = result.Tokens[0].Value;
        Type type = Nullable.GetUnderlyingType(result.Option.ValueType) ?? result.Option.ValueType;
        if (type == typeof(double)) return NotNumber(name, value);
        if (type == typeof(int) || type == typeof(long) || type == typeof(ulong))
        {
            if (!BigInteger.TryParse(value, NumberStyles.AllowLeadingSign, C, out _)) return NotWholeNumber(name, value);
            // A whole number the type cannot hold: outside the declared range, or the type's own.
            string range = Ranges.TryGetValue(result.Option, out var declared) ? declared
                : type == typeof(ulong) ? $"0..{ulong.MaxValue}" : type == typeof(long) ? $"{long.MinValue}..{long.MaxValue}" : $"{int.MinValue}..{int.MaxValue}";
            return NotInRange(name, value, range);
        }
        if (type == typeof(FileInfo) && value.Length == 0) return $"{name}: '' is not a file name";
        return null;
    }
}
