// The result of parsing untrusted bytes or text: a value or a one-line error, never an
// exception escaping to the caller.
namespace EdgeVpn.Protocol.Core;

public readonly struct ParseResult<T>
{
    private readonly T? _value;
    public string? Error { get; }
    public bool Ok => Error is null;
    public T Value => Ok ? _value! : throw new InvalidOperationException("no value: " + Error);

    private ParseResult(T? value, string? error) { _value = value; Error = error; }
    public static ParseResult<T> Success(T value) => new(value, null);
    public static ParseResult<T> Fail(string error) => new(default, error);

    public static implicit operator ParseResult<T>(T value) => Success(value);
    public override string ToString() => Ok ? $"Ok({_value})" : $"Error({Error})";
}
