// One JSON object of the configuration, read field by field with its dotted path, so that every
// problem is reported as "Path.To.Field: problem". Contract:
//   - every accessor records its key as known; Finish() then reports each field nobody asked for
//     ("unknown field") and each field that appears twice ("duplicate field"); field names are
//     case-sensitive, as written in the example;
//   - a JSON null counts as absent (the default applies, or "required" is reported);
//   - an accessor never throws: on a wrong type or an out-of-range value it records one error
//     and returns the default, so one pass collects every problem in the file.
// Hand-written over System.Text.Json's JsonElement (the serializer's messages name JSON paths
// like "$.Signaling.Port" and not the rule that was broken).
using System.Globalization;
using System.Text.Json;

namespace EdgeVpn.RealNode.Config;

internal sealed class JsonSection
{
    private readonly JsonElement _element;
    private readonly List<string> _errors;
    private readonly List<string> _known = [];

    public string Path { get; }

    private JsonSection(JsonElement element, string path, List<string> errors)
    {
        _element = element;
        Path = path;
        _errors = errors;
    }

    /// <summary>The root object; a non-object root is reported and read as an empty object.</summary>
    public static JsonSection Root(JsonElement element, List<string> errors)
    {
        if (element.ValueKind == JsonValueKind.Object) return new JsonSection(element, "", errors);
        errors.Add($"(root): must be a JSON object, got {Describe(element)}");
        return new JsonSection(EmptyObject(), "", errors);
    }

    public string PathOf(string key) => Path.Length == 0 ? key : Path + "." + key;

    public void Error(string key, string problem) => _errors.Add($"{PathOf(key)}: {problem}");

    private bool TryGet(string key, out JsonElement value)
    {
        _known.Add(key);
        if (_element.TryGetProperty(key, out value) && value.ValueKind != JsonValueKind.Null) return true;
        value = default;
        return false;
    }

    public bool Has(string key) => _element.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null;

    /// <summary>A nested object; absent gives an empty section (its defaults apply) unless required.</summary>
    public JsonSection Section(string key, bool required = false)
    {
        if (!TryGet(key, out var value))
        {
            if (required) Error(key, "required section is missing");
            return new JsonSection(EmptyObject(), PathOf(key), _errors);
        }
        if (value.ValueKind != JsonValueKind.Object)
        {
            Error(key, $"must be an object, got {Describe(value)}");
            return new JsonSection(EmptyObject(), PathOf(key), _errors);
        }
        return new JsonSection(value, PathOf(key), _errors);
    }

    /// <summary>A nested object or null when absent (an optional part such as the tap).</summary>
    public JsonSection? OptionalSection(string key) => Has(key) ? Section(key) : Absent(key);

    private JsonSection? Absent(string key) { _known.Add(key); return null; }

    public string? String(string key, bool required, int lengthMax, Func<string, string?>? check = null)
    {
        if (!TryGet(key, out var value))
        {
            if (required) Error(key, "required field is missing");
            return null;
        }
        if (value.ValueKind != JsonValueKind.String) { Error(key, $"must be a string, got {Describe(value)}"); return null; }
        string text = value.GetString()!;
        if (text.Length == 0) { Error(key, "must not be empty"); return null; }
        if (text.Length > lengthMax) { Error(key, $"must be at most {lengthMax} characters, got {text.Length}"); return null; }
        if (check?.Invoke(text) is { } problem) { Error(key, problem); return null; }
        return text;
    }

    /// <summary>A credential: like String, but no error ever quotes the value.</summary>
    public Secret? Secret(string key, bool required, int lengthMax)
    {
        if (!TryGet(key, out var value))
        {
            if (required) Error(key, "required field is missing");
            return null;
        }
        if (value.ValueKind != JsonValueKind.String) { Error(key, "must be a string"); return null; }
        string text = value.GetString()!;
        if (text.Length == 0) { Error(key, "must not be empty"); return null; }
        if (text.Length > lengthMax) { Error(key, $"must be at most {lengthMax} characters"); return null; }
        return new Secret(text);
    }

    public long? OptionalLong(string key, long min, long max)
    {
        if (!TryGet(key, out var value)) return null;
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out long n))
        {
            Error(key, $"must be a whole number in {min}..{max}, got {Describe(value)}");
            return null;
        }
        if (n < min || n > max) { Error(key, $"must be in {min}..{max}, got {n}"); return null; }
        return n;
    }

    /// <summary>A whole number in 0..ulong.MaxValue (a seed: the node prints its random seed in full).</summary>
    public ulong? OptionalUInt64(string key)
    {
        if (!TryGet(key, out var value)) return null;
        if (value.ValueKind == JsonValueKind.Number && value.TryGetUInt64(out ulong n)) return n;
        Error(key, $"must be a whole number in 0..{ulong.MaxValue}, got {Describe(value)}");
        return null;
    }

    public int Int(string key, int fallback, int min, int max) => (int)(OptionalLong(key, min, max) ?? fallback);
    public int? OptionalInt(string key, int min, int max) => (int?)OptionalLong(key, min, max);
    public long Long(string key, long fallback, long min, long max) => OptionalLong(key, min, max) ?? fallback;

    /// <summary>A number in [min, max] (or (min, max] when minExclusive).</summary>
    public double Double(string key, double fallback, double min, double max, bool minExclusive = false)
    {
        if (!TryGet(key, out var value)) return fallback;
        string range = $"{(minExclusive ? "(" : "[")}{Format(min)}, {Format(max)}]";
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out double d) || !double.IsFinite(d))
        {
            Error(key, $"must be a number in {range}, got {Describe(value)}");
            return fallback;
        }
        if (d < min || d > max || (minExclusive && d == min)) { Error(key, $"must be in {range}, got {Format(d)}"); return fallback; }
        return d;
    }

    /// <summary>A duration written in seconds (the key ends in "Seconds"), in [min, max] seconds.</summary>
    public TimeSpan Seconds(string key, TimeSpan fallback, double min, double max, bool minExclusive = false)
    {
        bool present = Has(key);
        double s = Double(key, fallback.TotalSeconds, min, max, minExclusive);
        return present ? TimeSpan.FromTicks((long)Math.Round(s * TimeSpan.TicksPerSecond)) : fallback;
    }

    public bool Bool(string key, bool fallback)
    {
        if (!TryGet(key, out var value)) return fallback;
        if (value.ValueKind is JsonValueKind.True or JsonValueKind.False) return value.GetBoolean();
        Error(key, $"must be true or false, got {Describe(value)}");
        return fallback;
    }

    /// <summary>One of the given words (exact, lower case), mapped to its value.</summary>
    public T Choice<T>(string key, T fallback, params (string Word, T Value)[] choices)
    {
        string words = string.Join(", ", choices.Select(c => $"\"{c.Word}\""));
        if (!TryGet(key, out var value)) return fallback;
        if (value.ValueKind == JsonValueKind.String)
            foreach (var (word, v) in choices)
                if (value.GetString() == word) return v;
        Error(key, $"must be one of {words}, got {Describe(value)}");
        return fallback;
    }

    /// <summary>The elements of an array (at most itemsMax), each with its path "Key[i]".</summary>
    public List<(string Path, JsonElement Element)> Array(string key, int itemsMax)
    {
        var result = new List<(string, JsonElement)>();
        if (!TryGet(key, out var value)) return result;
        if (value.ValueKind != JsonValueKind.Array) { Error(key, $"must be an array, got {Describe(value)}"); return result; }
        int n = value.GetArrayLength();
        if (n > itemsMax) { Error(key, $"must have at most {itemsMax} entries, got {n}"); return result; }
        int i = 0;
        foreach (var e in value.EnumerateArray()) result.Add(($"{PathOf(key)}[{i++}]", e));
        return result;
    }

    /// <summary>An object inside an array, read like a section at the element's path.</summary>
    public JsonSection? Element(string path, JsonElement element)
    {
        if (element.ValueKind == JsonValueKind.Object) return new JsonSection(element, path, _errors);
        ErrorAt(path, $"must be an object, got {Describe(element)}");
        return null;
    }

    /// <summary>An error at a full path (an array element's).</summary>
    public void ErrorAt(string path, string problem) => _errors.Add($"{path}: {problem}");

    /// <summary>Reports unknown and duplicate fields. Call once, after every field was read.</summary>
    public void Finish()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in _element.EnumerateObject())
        {
            if (!seen.Add(property.Name)) { Error(Printable(property.Name), "duplicate field"); continue; }
            if (!_known.Contains(property.Name)) Error(Printable(property.Name), "unknown field");
        }
    }

    public static string Describe(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString()!.Length <= 40 ? $"\"{Printable(e.GetString()!)}\"" : "a long string",
        JsonValueKind.Number => e.GetRawText().Length <= 40 ? e.GetRawText() : "a long number",
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Null => "null",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => "nothing",
    };

    /// <summary>Field names and values from the file may hold control characters: escape them for one-line errors.</summary>
    public static string Printable(string text, int lengthMax = 64)
    {
        if (text.Length > lengthMax) text = text[..lengthMax] + "…";
        if (!text.Any(c => char.IsControl(c) || char.IsSurrogate(c))) return text;
        return string.Concat(text.Select(c => char.IsControl(c) || char.IsSurrogate(c) ? $"\\u{(int)c:x4}" : c.ToString()));
    }

    private static string Format(double d) => d.ToString("R", CultureInfo.InvariantCulture);

    private static JsonElement EmptyObject()
    {
        using var doc = JsonDocument.Parse("{}");
        return doc.RootElement.Clone();
    }
}
