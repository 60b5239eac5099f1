using Multikernel.Model.Checking;
using Multikernel.Model.Ipi;
using Multikernel.Properties.Explorer;
using Multikernel.Tests.Engine;
using Xunit;
using static Multikernel.Tests.Cli.CliRun;

namespace Multikernel.Tests.Designs;

/// <summary>A design's state is sized by the variables it declares: 16 bytes in IpiState, else a frame of 64, 128 or 256.</summary>
public class WideStateTests
{
    private static readonly string Dll = typeof(PaddedLazyInit).Assembly.Location;

    /// <summary>
    /// The padded ring keeps its variables in the frame, past the state: it explores exactly as LazyInitRing, whose
    /// variables are in the state (same counts, verdicts, reasons and traces). Were the frame's bytes not part of the
    /// state, ring_ready would be forgotten between steps and the counts would differ; were they not read right, every
    /// send would wait on the statistic and nothing would be sent.
    /// </summary>
    [Theory]
    [InlineData(2, 2, typeof(PaddedLazyInit), typeof(IpiWideSpec<MoreVars48>))]        // 41 + 2 × 11 = 63 bytes
    [InlineData(3, 1, typeof(PaddedLazyInit), typeof(IpiWideSpec<MoreVars112>))]       // 41 + 3 × 11 = 74
    [InlineData(2, 2, typeof(PaddedLazyInitWidest), typeof(IpiWideSpec<MoreVars240>))] // 201 + 2 × 11 = 223
    public void Variables_past_the_state_explore_as_variables_in_it(int senders, int messages, Type design, Type spec)
    {
        var bounds = IpiBounds.Default with { Senders = senders, Messages = messages };
        var wide = IpiSpecs.For((IpiDesign)Activator.CreateInstance(design)!, bounds);
        Assert.IsType(spec, wide);
        var narrow = IpiSpecs.For(new LazyInitRing(), bounds);
        Assert.IsType<IpiSpec>(narrow);
        var r = Explorer.Run(wide, new ExploreOptions());
        Assert.Equal(ReportText.Summary(Explorer.Run(narrow, new ExploreOptions())), ReportText.Summary(r));
        Assert.Contains(r.Outcomes, o => o.Verdict == Verdict.Violated); // the second sender resets head under the first's claim
    }

    /// <summary>Init's, the steps' and the predicate's variables are what a trace shows, from the frame.</summary>
    [Fact]
    public void A_trace_renders_the_variables_in_the_frame()
    {
        var (code, o, e) = Run("audit", "ipi/my-padded-lazy-init", "--load", Dll, "--senders", "2");
        Assert.Equal(1, code);
        Assert.Empty(e);
        Assert.Contains("stat39 = 40", o);
        Assert.Contains("ring_ready = 1", o);
        Assert.Matches(@"saw_unready: 1", o);
    }

    [Fact]
    public void A_step_that_reaches_a_wide_variable_in_a_copy_of_the_state_breaks_the_step_contract()
    {
        var (code, o, e) = Run("audit", "ipi/my-wide-variable-on-a-copy", "--load", Dll);
        Assert.Equal(1, code);
        Assert.Empty(e);
        Assert.Contains("reached design variable byte 19 of a state it was not given", o);
    }

    [Fact]
    public void More_than_256_bytes_is_refused_naming_the_counts_and_the_weak_layer_takes_16()
    {
        var e = Assert.Throws<ArgumentException>(() => IpiSpecs.For(new TooManyVariables(), IpiBounds.Default with { Senders = 3 } with { MemoryModel = IpiMemoryModel.Tso }));
        Assert.Equal("my-too-many-variables: 19 bytes of variables at these bounds; under memory-model=tso a design keeps at most 16 (the weak-memory layer is not modelled for wider designs)", e.Message);
        Assert.IsType<IpiWeakSpec>(IpiSpecs.For(new TooManyVariables(), IpiBounds.Default with { Senders = 2, MemoryModel = IpiMemoryModel.Tso })); // 4 + 2 × 5 = 14
        var direct = Assert.Throws<ArgumentException>(() => new IpiSpec(new TooManyVariables(), IpiBounds.Default with { Senders = 3 }));
        Assert.Contains("IpiSpecs.For explores it in a wider state", direct.Message);

        Assert.IsType<IpiWideSpec<MoreVars240>>(IpiSpecs.For(new TooWide(), IpiBounds.Default with { Senders = 2 }));
        var (code, _, err) = Run("audit", "ipi/my-too-wide", "--load", Dll, "--senders", "3");
        Assert.Equal(2, code);
        Assert.Equal("multikernel: audit: ipi/my-too-wide: my-too-wide: 240 shared variables and 6 locals on each of 3 senders need 258 bytes; a design has at most 256", err.Trim());
    }
}
