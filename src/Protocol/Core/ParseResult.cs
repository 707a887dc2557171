// The result of parsing untrusted bytes or text: a value or a one-line error, never an
// exception escaping to the caller. default(ParseResult<T>) is a failure, never a success.
namespace EdgeVpn.Protocol.Core;

public readonly struct ParseResult<T>
{
    private readonly T? _value;
    private readonly string? _error;
    private readonly bool _ok;

    public bool Ok => _ok;
    /// <summary>The error when not Ok (never null or empty then); null when Ok.</summary>
    public string? Error => _ok ? null : _error ?? "no parse result (default value)";
    public T Value => _ok ? _value! : throw new InvalidOperationException("no value: " + Error);

    private ParseResult(bool ok, T? value, string? error) { _ok = ok; _value = value; _error = error; }
    public static ParseResult<T> Success(T value) => new(true, value, null);
    public static ParseResult<T> Fail(string error) =>
        new(false, default, string.IsNullOrEmpty(error) ? "unspecified parse error" : error);

    public static implicit operator ParseResult<T>(T value) => Success(value);
    public override string ToString() => Ok ? $"Ok({_value})" : $"Error({Error})";
}
