// One experiment's outcome: ordered named values, printed as a table (stdout) or as exactly one
// JSON object (stdout), plus problems found by checkers (stderr, exit code 1).
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Spectre.Console;

namespace EdgeVpn.Sim.Cli;

public sealed class Report(string command)
{
    private readonly List<KeyValuePair<string, object?>> _values = new();
    private readonly List<KeyValuePair<string, string>> _parameters = new();
    public List<string> Problems { get; } = new();
    public string Command { get; } = command;

    public Report Add(string name, object? value) { _values.Add(new(name, value)); return this; }
    public void AddParameter(string name, string value) => _parameters.Add(new(name, value));
    public object? this[string name] => _values.FirstOrDefault(v => v.Key == name).Value;

    public string ToJson()
    {
        var obj = new Dictionary<string, object?> { ["command"] = Command };
        foreach (var (k, v) in _values) obj[k] = v;
        obj["parameters"] = _parameters.ToDictionary(p => p.Key, p => p.Value);
        obj["problems"] = Problems;
        return JsonSerializer.Serialize(obj, new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    public void PrintTable(TextWriter stdout)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(stdout) });
        console.WriteLine(string.Join(' ', _parameters.Select(p => (p.Key == "seed" ? "SEED" : p.Key) + "=" + p.Value)));
        var table = new Table().AddColumn(Command).AddColumn(new TableColumn("value").RightAligned());
        foreach (var (k, v) in _values) table.AddRow(Markup.Escape(k), Markup.Escape(Format(v)));
        console.Write(table);
    }

    private static string Format(object? v) => v switch
    {
        null => "-",
        double d => d.ToString(Math.Abs(d) >= 100 ? "N0" : "0.###", CultureInfo.InvariantCulture),
        long l => l.ToString("N0", CultureInfo.InvariantCulture),
        int i => i.ToString("N0", CultureInfo.InvariantCulture),
        bool b => b ? "yes" : "no",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };
}
