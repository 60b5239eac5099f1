using Multikernel.Model.Checking;
using Multikernel.Model.Ipi;
using Multikernel.Model.Ipi.Designs;
using Multikernel.Model.Memory;
using Multikernel.Properties.Explorer;
using Multikernel.Properties.Traces;
using Xunit;

namespace Multikernel.Tests.Ipi;

/// <summary>
/// The IPI protocol explored under --memory-model tso and lkmm (IpiWeakSpec): the reference holds under all three
/// models, each ordering mutant is caught under lkmm only (with the reordering in its shortest trace), the seeds
/// find nothing under lkmm that they do not find under sc, and the store-buffer bound is reported as a bound.
/// </summary>
public class IpiMemoryModelTests
{
    /// <summary>One sender, two messages, a ring of one: the slot is reused (the tail side's S shape).</summary>
    private static readonly IpiBounds Small = new() { Senders = 1, Messages = 2, Ring = 1, Handlers = 1, Unregister = false, Destroy = false };
    /// <summary>Two senders of one message each: one's IPI lets the drain run while the other's stores are in flight (MP).</summary>
    private static readonly IpiBounds Mp = new() { Senders = 2, Messages = 1, Ring = 2, Unregister = false, Destroy = false };

    private static ISpecHandle Spec(string design, IpiBounds bounds) =>
        IpiMechanism.Instance.Specification(IpiMechanism.Instance.Designs.Find(design)!, bounds);

    private static ExploreReport Run(ISpecHandle spec) => spec.Accept(new Runner());

    private sealed class Runner : ISpecVisitor<ExploreReport>
    {
        public ExploreReport Visit<TState, TAction>(ISpec<TState, TAction> spec) where TState : unmanaged where TAction : unmanaged =>
            Explorer.Run(spec);
    }

    [Theory]
    [InlineData(IpiMemoryModel.Sc)]
    [InlineData(IpiMemoryModel.Tso)]
    [InlineData(IpiMemoryModel.Lkmm)]
    public void Reference_holds_every_property_under_every_memory_model_at_the_default_bounds(IpiMemoryModel model)
    {
        var spec = Spec("reference", IpiBounds.Default with { MemoryModel = model });
        var r = Run(spec);
        Assert.All(r.Outcomes, o => Assert.True(o.Verdict == Verdict.Holds, $"{model}: {o.Property.Name}: {o.Verdict} {o.Reason}"));
        Assert.Equal(Bound.None, r.Bound);
        Assert.True(r.CycleSearch);
        Assert.Null(spec.ModelBoundReached);
        Assert.Equal(model == IpiMemoryModel.Sc, spec is IpiSpec); // sc is IpiSpec itself: the layer costs it nothing
    }

    [Theory]
    [InlineData("ref-publish-once", false, IpiInvariant.Intact, "slot0.state = READY becomes visible to every CPU (ahead of")]
    [InlineData("ref-barriers-no-wmb", false, IpiInvariant.Intact, "slot0.state = READY becomes visible to every CPU (ahead of")]
    [InlineData("ref-drain-once", false, IpiInvariant.Intact, "now reads slot0's state as memory holds it")]
    [InlineData("ref-tail-once", true, IpiInvariant.Delivered, "ring->tail = 1 becomes visible to every CPU (ahead of")]
    public void Each_ordering_mutant_is_caught_under_lkmm_and_not_under_sc_or_tso(string mutant, bool reuse, IpiInvariant caught, string reorder)
    {
        var small = reuse ? Small : Mp;
        foreach (var model in new[] { IpiMemoryModel.Sc, IpiMemoryModel.Tso })
            foreach (var bounds in new[] { small, IpiBounds.Default })
            {
                if (model == IpiMemoryModel.Tso && bounds == IpiBounds.Default) continue; // tso at the default bounds: 97k states each; once is in the reference's test
                var r = Run(Spec(mutant, bounds with { MemoryModel = model }));
                Assert.All(r.Outcomes, o => Assert.True(o.Verdict == Verdict.Holds, $"{mutant} {model}: {o.Property.Name} is {o.Verdict}"));
            }
        var lkmm = Run(Spec(mutant, small with { MemoryModel = IpiMemoryModel.Lkmm }));
        var t = SeedAuditTests.Violation(lkmm, caught);
        Assert.Contains(t.States, s => s.Step?.Contains(reorder, StringComparison.Ordinal) == true);
    }

    [Fact]
    public void The_reorder_is_what_catches_the_mutant_the_same_run_with_the_reference_ordering_holds()
    {
        // The mutant and the reference differ only in their ordering: the reference at the same bounds and model holds.
        foreach (var bounds in new[] { Small, Mp })
        {
            var r = Run(Spec("reference", bounds with { MemoryModel = IpiMemoryModel.Lkmm }));
            Assert.All(r.Outcomes, o => Assert.Equal(Verdict.Holds, o.Verdict));
        }
        Assert.Equal(4, IpiDesigns.OrderingMutants.Count());
        Assert.All(IpiDesigns.OrderingMutants, d => Assert.Equal(RingDesign.Defect.None, d.Defects));
    }

    [Theory]
    [InlineData("ipi-v1")]
    [InlineData("ipi-v2")]
    public void Seeds_find_under_lkmm_what_they_find_under_sc_and_nothing_undeclared(string seed)
    {
        var bounds = new IpiBounds { Senders = 1, Messages = 2, Receivers = 1, Unregister = false, Destroy = true };
        var sc = Run(Spec(seed, bounds));
        var lkmm = Run(Spec(seed, bounds with { MemoryModel = IpiMemoryModel.Lkmm }));
        Assert.Equal(Bound.None, lkmm.Bound);
        string[] Violated(ExploreReport r) => [.. r.Outcomes.Where(o => o.Verdict == Verdict.Violated).Select(o => o.Property.Name)];
        Assert.Equal(Violated(sc), Violated(lkmm));
        var design = IpiMechanism.Instance.Designs.Find(seed)!;
        Assert.All(Violated(lkmm), p => Assert.Contains(design.Findings, f => f.Property == p));
    }

    [Fact]
    public void A_run_past_the_store_buffer_bound_says_so()
    {
        // Three senders of RFC v2 each buffer memset, header and payload before their IPI: up to nine stores, past the bound.
        var spec = Spec("ipi-v2", new IpiBounds { Senders = 3, Messages = 2, Unregister = false, Destroy = false, MemoryModel = IpiMemoryModel.Tso });
        spec.Accept(new Bounded());
        Assert.NotNull(spec.ModelBoundReached);
        Assert.Contains("store-buffer bound", spec.ModelBoundReached, StringComparison.Ordinal);
    }

    private sealed class Bounded : ISpecVisitor<ExploreReport>
    {
        public ExploreReport Visit<TState, TAction>(ISpec<TState, TAction> spec) where TState : unmanaged where TAction : unmanaged =>
            Explorer.Run(spec, new ExploreOptions { MaxStates = 200_000 });
    }

    [Fact]
    public void The_memory_model_is_a_bound_written_in_the_bounds_text_and_read_back()
    {
        var b = IpiBounds.Default with { MemoryModel = IpiMemoryModel.Lkmm };
        Assert.EndsWith("memory-model=lkmm", b.ToString(), StringComparison.Ordinal);
        Assert.Equal(b, IpiBounds.Parse(b.ToString()));
        Assert.DoesNotContain("memory-model", IpiBounds.Default.ToString(), StringComparison.Ordinal); // sc traces read as before
        Assert.Contains("lkmm", Spec("reference", b).MemoryModel, StringComparison.Ordinal);
        Assert.Null(Spec("reference", IpiBounds.Default).MemoryModel);
    }

    [Theory]
    [InlineData("reference", null)]
    [InlineData("ref-publish-once", "payload-visible")]
    [InlineData("ref-drain-once", "payload-visible")]
    [InlineData("ref-barriers-no-wmb", "payload-visible")]
    [InlineData("ref-tail-once", "slot-free")]
    public void The_exported_litmus_tests_answer_under_lkmm_as_the_protocol_does(string design, string? sometimes)
    {
        // The shape through which audit --memory-model lkmm catches the mutant is Sometimes under lkmm, Never under sc and tso.
        var ring = (RingDesign)IpiMechanism.Instance.Designs.Find(design)!;
        foreach (var p in ring.Ordering.Exports().Where(p => p.Name != "slot-reuse"))
            foreach (var m in MemoryModel.All)
            {
                var v = LitmusCheck.Judge(LitmusParser.Parse(p.Litmus), m, LitmusCheck.DefaultMaxStates);
                Assert.True((m is LkmmModel && p.Name == sometimes ? "Sometimes" : "Never") == v.Word, $"{design} {p.Name} under {m.Name}: {v.Word}");
            }
    }

    [Fact]
    public void Audit_says_its_memory_model_writes_it_in_the_json_and_writes_the_litmus_tests()
    {
        string dir = Path.Combine(Path.GetTempPath(), "mk-wmm-" + Environment.ProcessId);
        Directory.CreateDirectory(dir);
        try
        {
            var (code, o, _) = Cli.CliRun.Run("audit", "ipi/ref-tail-once", "--senders", "1", "--messages", "2", "--ring", "1", "--handlers", "1", "--no-unregister", "--no-destroy",
                "--memory-model", "lkmm", "--json", Path.Combine(dir, "t.itf.json"), "--litmus", Path.Combine(dir, "tail.litmus"));
            Assert.Equal(1, code);
            Assert.Contains("memory model: lkmm (", o, StringComparison.Ordinal);
            Assert.Contains("\"memory-model\": \"lkmm\"", File.ReadAllText(Path.Combine(dir, "t.itf.json")), StringComparison.Ordinal);
            foreach (var name in new[] { "payload-visible", "slot-free", "slot-reuse" })
                Assert.StartsWith("C ipi-ref-tail-once-" + name, File.ReadAllText(Path.Combine(dir, $"tail.{name}.litmus")), StringComparison.Ordinal);
            (code, o, _) = Cli.CliRun.Run("audit", "ipi/reference", "--senders", "1", "--messages", "2", "--no-unregister", "--no-destroy");
            Assert.Equal(0, code);
            Assert.Contains("memory model: sc: sequential consistency", o, StringComparison.Ordinal);
            var (c2, o2, e2) = Cli.CliRun.Run("audit", "ipi/ipi-v2", "--litmus", Path.Combine(dir, "v2.litmus"));
            Cli.CliRun.OneLineError(c2, o2, e2, "declares no ring orderings");
            Assert.False(File.Exists(Path.Combine(dir, "v2.payload-visible.litmus")));
            // The option comes from the registry (IDesignExports): a mechanism that exports nothing refuses it.
            var (c4, o4, e4) = Cli.CliRun.Run("audit", "balloon/reference", "--litmus", Path.Combine(dir, "b.litmus"));
            Cli.CliRun.OneLineError(c4, o4, e4, "--litmus is not a file balloon writes");
            var (c3, o3, e3) = Cli.CliRun.Run("audit", "ipi/reference", "--memory-model", "arm64");
            Cli.CliRun.OneLineError(c3, o3, e3, "memory-model must be sc, tso or lkmm");
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
