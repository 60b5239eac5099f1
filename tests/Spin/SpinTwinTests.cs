using Multikernel.Cli.Registry;
using Multikernel.Cli.Spin;
using Multikernel.Model.Checking;
using Multikernel.Model.Ipi;
using Multikernel.Properties.Explorer;
using Xunit;

namespace Multikernel.Tests.Spin;

/// <summary>A test that runs Spin: skipped, saying why, where spin, gcc or /usr/bin/time is missing (the CLI's build installs them where it can).</summary>
public sealed class SpinFactAttribute : FactAttribute
{
    public SpinFactAttribute()
    {
        if (SpinRun.Missing() is { } why) Skip = why + ". The Spin twin's tests are skipped";
    }
}

/// <summary>Issue 25: the Promela twin of ipi/reference (cli/Spin/ipi-reference.pml) is the explorer's state space, state for state.</summary>
public sealed class SpinTwinTests
{
    private static readonly string[] Bounds =
    [
        "senders=1 messages=1 ring=1 handlers=1",
        "senders=3 messages=1 ring=2 handlers=3",
        "senders=2 messages=2 ring=2 handlers=2",
        "senders=2 messages=3 ring=4 handlers=1",
    ];

    private static ExploreReport Explore(string design, IpiBounds b)
    {
        var ipi = Mechanisms.Find("ipi")!.Model;
        return Explorer.Run(ipi.Specification(ipi.Designs.Find(design)!, b), new ExploreOptions { Liveness = Liveness.None, Threads = 1 });
    }

    private static T InTemp<T>(Func<string, T> f)
    {
        string dir = Path.Combine(Path.GetTempPath(), "mk-spin-test-" + Guid.NewGuid().ToString("N"));
        try { return f(dir); }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [SpinFact]
    public void Spin_stores_as_many_states_as_the_explorer_counts_and_finds_no_error_on_the_reference()
    {
        foreach (string text in Bounds)
        {
            var b = IpiBounds.Parse(text);
            var spin = InTemp(dir => SpinRun.Compile(dir, b).Search());
            var r = Explore("reference", b);
            Assert.True(spin.Errors == 0, $"{text}: Spin found an error on the reference's twin:\n{spin.Output}");
            Assert.True(r.States == spin.States, $"{text}: the explorer counts {r.States} states, Spin stored {spin.States}");
        }
    }

    [SpinFact]
    public void The_twin_without_the_full_check_fails_no_overwrite_as_the_explorer_finds_on_ref_no_full_check()
    {
        var b = IpiBounds.Parse("senders=2 messages=1 ring=1 handlers=1");
        var spin = InTemp(dir => SpinRun.Compile(dir, b, "-DNO_FULL_CHECK").Search());
        Assert.Equal(1, spin.Errors);
        // The no-overwrite assertion of before_write(): the slot's live message is the sender's own or none.
        Assert.Contains("assertion violated ((slots[sl].live", spin.Output, StringComparison.Ordinal);
        var r = Explore("ref-no-full-check", b);
        Assert.Contains(r.Outcomes, o => o.Property.Name == "no-overwrite" && o.Verdict == Verdict.Violated);
    }

    [Fact]
    public void The_header_is_written_from_the_model_and_refuses_what_the_twin_does_not_cover()
    {
        var b = IpiBounds.Parse("senders=3 messages=3 ring=1 handlers=2");
        string h = SpinTwin.Header(b);
        Assert.Contains("#define SENDERS 3\n", h, StringComparison.Ordinal);
        Assert.Contains("#define MSGS 9\n", h, StringComparison.Ordinal);
        Assert.Contains($"#define MK_MAX_DATA_SIZE {IpiConstants.MkMaxDataSize}\n", h, StringComparison.Ordinal);
        // Message 4 is sender 1's first: catalogue entry 2 (type 2, no bytes), identified without a payload.
        Assert.Contains("v.sender_cpu == 2 && v.data_size == 0 && v.type == 2) -> 4", h, StringComparison.Ordinal);
        Assert.Contains("#include \"ipi-bounds.h\"", SpinTwin.Model(), StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => SpinTwin.Header(b with { MemoryModel = IpiMemoryModel.Tso }));
        Assert.Throws<ArgumentException>(() => SpinTwin.Header(b with { HostilePeer = true }));
    }
}
