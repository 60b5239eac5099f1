using Multikernel.Model.Memory;
using Xunit;
using static Multikernel.Tests.Cli.CliRun;

namespace Multikernel.Tests.Memory;

/// <summary>The litmus command: its parser's one-line errors, its witnesses and its refusals.</summary>
public sealed class LitmusTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mk-litmus").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string TempFile(string text)
    {
        string file = Path.Combine(_dir, "t.litmus");
        File.WriteAllText(file, text);
        return file;
    }

    private const string Mp = "C MP\n{ x=0; y=0; }\nP0(int *x, int *y)\n{\n\tWRITE_ONCE(*x, 1);\n\tWRITE_ONCE(*y, 1);\n}\n\nP1(int *x, int *y)\n{\n\tint r0 = READ_ONCE(*y);\n\tint r1 = READ_ONCE(*x);\n}\nexists (1:r0=1 /\\ 1:r1=0)\n";

    [Theory]
    [InlineData("", "1:1: a C litmus test starts with 'C NAME'")]
    [InlineData("C t\nP0(int *x) { WRITE_ONCE(*x, 1) }\nexists (x=1)", "2:32: expected ';', found '}'")]
    [InlineData("C t\nP0(int *x) { WRITE_ONCE(*y, 1); }\nexists (x=1)", "2:26: 'y' is not a parameter of this process")]
    [InlineData("C t\nP0(int *x) { r0 = READ_ONCE(*x); }\nexists (0:r1=1)", "3:11: P0 has no register 'r1'")]
    [InlineData("C t\nP0(int *x) { smp_frob(); }\nexists (x=1)", "2:14: 'smp_frob' is not a primitive")]
    [InlineData("C t\nP0(int *x) { WRITE_ONCE(*x, 99999999999); }\nexists (x=1)", "2:29: '99999999999' is not a number")]
    [InlineData("C t\nP1(int *x) { }\nexists (x=1)", "2:1: expected P0")]
    [InlineData("C t\nP0(int *x) { WRITE_ONCE(*x, 1); }\nexists (x=1) junk", "3:14: expected the end of the test")]
    [InlineData("C t\n(* never closed\nP0(int *x) { }", "2:1: a comment '(*' that never ends")]
    [InlineData("C t\nP0(int *x) { if (r0) { WRITE_ONCE(*x, 1); } }\nexists (x=1)", "2:18: register 'r0' is used before it is assigned")]
    public void A_bad_test_is_one_line_with_line_and_column(string text, string expected)
    {
        var (code, o, e) = Run("litmus", TempFile(text));
        Assert.Equal(2, code);
        Assert.Empty(o);
        Assert.Single(e.TrimEnd('\n').Split('\n'));
        Assert.Contains("t.litmus:" + expected, e);
    }

    [Fact]
    public void Deep_nesting_and_long_chains_are_refused_not_overflowed()
    {
        string deep = "C t\nP0(int *x) { WRITE_ONCE(*x, " + new string('(', 5000) + "1" + new string(')', 5000) + "); }\nexists (x=1)";
        var (code, _, e) = Run("litmus", TempFile(deep));
        Assert.Equal(2, code);
        Assert.Contains("nested deeper than", e);
        string chain = "C t\nP0(int *x) { WRITE_ONCE(*x, " + string.Join("+", Enumerable.Repeat("1", 5000)) + "); }\nexists (x=1)";
        (code, _, e) = Run("litmus", TempFile(chain));
        Assert.Equal(2, code);
        Assert.Contains("operators", e);
    }

    [Fact]
    public void Mp_without_ordering_is_seen_under_lkmm_with_the_store_not_yet_visible()
    {
        var (code, o, _) = Run("litmus", TempFile(Mp));
        Assert.Equal(0, code);
        Assert.Contains("  sc    Never", o);
        Assert.Contains("  tso   Never", o);
        Assert.Contains("  lkmm  Sometimes", o);
        Assert.Contains("P1: r1 = READ_ONCE(*x) reads 0 (P0's x=1 not yet visible to P1)", o);
        Assert.Contains("final: 1:r0=1; 1:r1=0; x=1; y=1", o);
    }

    [Fact]
    public void Sb_under_tso_shows_the_store_buffer()
    {
        var (code, o, _) = Run("litmus", LitmusCalibration.PathOf("SB+once"), "--model", "tso");
        Assert.Equal(0, code);
        Assert.Contains("tso   Sometimes", o);
        Assert.Contains("enters the store buffer", o);
        Assert.Contains("is still in a store buffer, not visible to P", o);
    }

    [Fact]
    public void Locks_are_refused_by_every_model_and_plain_accesses_by_lkmm()
    {
        var (code, o, _) = Run("litmus", TempFile("C t\nP0(int *x, spinlock_t *s) { spin_lock(s); WRITE_ONCE(*x, 1); spin_unlock(s); }\nexists (x=1)"));
        Assert.Equal(3, code);
        Assert.Contains("sc    cannot express: not modelled: 2:12 spinlock_t (locks are not modelled), 2:29 spin_lock", o);
        (code, o, _) = Run("litmus", TempFile("C t\nP0(int *x) { *x = 1; }\nP1(int *x) { int r0 = *x; }\nexists (1:r0=1)"));
        Assert.Equal(3, code);
        Assert.Contains("sc    Sometimes", o);
        Assert.Contains("lkmm  cannot express: plain access", o);
    }

    [Fact]
    public void A_state_bound_is_a_bound_not_an_answer()
    {
        var (code, o, _) = Run("litmus", LitmusCalibration.PathOf("IRIW+once"), "--max-states", "10");
        Assert.Equal(3, code);
        Assert.Contains("bound: --max-states 10 reached", o);
    }

    [Fact]
    public void An_unknown_model_is_a_usage_error()
    {
        var (code, _, e) = Run("litmus", TempFile(Mp), "--model", "arm64");
        Assert.Equal(2, code);
        Assert.Contains("--model 'arm64' is not one of sc, tso, lkmm", e);
    }

    [Fact]
    public void Kernel_style_headers_comments_and_locations_parse()
    {
        var t = LitmusParser.Parse("C SB+x\n\n(*\n * Result: Sometimes\n *)\n\n{}\n\nP0(int *x, int *y)\n{\n\tint r1;\n\n\tWRITE_ONCE(*x, 1);\n\tr1 = READ_ONCE(*y); // c\n}\n\nP1(int *x, int *y)\n{\n\tr2 = xchg_acquire(y, 1); /* c */\n\tif (r2 == 0) { smp_rmb(); } else WRITE_ONCE(*x, 2);\n}\n\nlocations [0:r1; x; y] (* aid *)\nexists (0:r1=0 /\\ ~(1:r2=1 \\/ x=2))\n");
        Assert.Equal("SB+x", t.Name);
        Assert.Equal(2, t.Threads.Count);
        Assert.Equal(["x", "y"], t.Locations);
    }
}
