// Tests for ParseResult: a success carries its value and no error, a failure carries a
// non-empty error and refuses to give a value, and a default-initialised result is a failure.
using EdgeVpn.Protocol.Core;
using Xunit;

namespace EdgeVpn.Tests.Core;

public sealed class ParseResultTests
{
    [Fact]
    public void A_success_has_its_value_and_no_error()
    {
        var r = ParseResult<int>.Success(42);
        Assert.True(r.Ok);
        Assert.Null(r.Error);
        Assert.Equal(42, r.Value);
        Assert.Equal("Ok(42)", r.ToString());
    }

    [Fact]
    public void A_value_converts_implicitly_to_a_success()
    {
        ParseResult<string> r = "hello";
        Assert.True(r.Ok);
        Assert.Equal("hello", r.Value);
    }

    [Fact]
    public void A_failure_has_its_error_and_throws_when_asked_for_a_value()
    {
        var r = ParseResult<int>.Fail("bad digit");
        Assert.False(r.Ok);
        Assert.Equal("bad digit", r.Error);
        var ex = Assert.Throws<InvalidOperationException>(() => r.Value);
        Assert.Contains("bad digit", ex.Message);
        Assert.Equal("Error(bad digit)", r.ToString());
    }

    [Fact]
    public void A_failure_always_has_a_non_empty_error()
    {
        Assert.False(ParseResult<int>.Fail("").Ok);
        Assert.False(string.IsNullOrEmpty(ParseResult<int>.Fail("").Error));
        Assert.False(ParseResult<int>.Fail(null!).Ok);
    }

    [Fact]
    public void A_default_result_is_a_failure_not_a_success()
    {
        var r = default(ParseResult<int>);
        Assert.False(r.Ok);
        Assert.False(string.IsNullOrEmpty(r.Error));
        Assert.Throws<InvalidOperationException>(() => r.Value);
    }

    [Fact]
    public void A_success_may_carry_a_default_value()
    {
        var r = ParseResult<int?>.Success(null);
        Assert.True(r.Ok);
        Assert.Null(r.Value);
    }
}
