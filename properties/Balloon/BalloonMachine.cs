using FsCheck;
using FsCheck.Experimental;
using FsCheck.Fluent;
using Multikernel.Impl.Balloon;
using Multikernel.Model.Balloon;
using Multikernel.Properties.Checking;

namespace Multikernel.Properties.Balloon;

/// <summary>The implementation under test: the driver, the guest memory it balloons, and the simulated hypervisor.</summary>
public sealed class BalloonRig
{
    public BalloonRig(GuestMemory mem, bool batching, int batchPages, BalloonImplDefects defects)
    {
        Memory = mem;
        Host = new SimulatedHypervisor(mem);
        Driver = new VmBalloon(Host, mem, batching, batchPages, defects);
    }

    public GuestMemory Memory { get; }
    public SimulatedHypervisor Host { get; }
    public VmBalloon Driver { get; }
}

/// <summary>
/// Model-based test of impl/Balloon against the specification's reference design one work item at
/// a time (<see cref="BalloonApiModel"/>: the specification's own steps), in the specification's
/// world: its guest pages (2..4; page 0 above 2^44 bytes with high-pfn), its batch of two (or one
/// LOCK per page), its host (a target 0..pages or one past 32 bits, a RESET at any command, a
/// refusal of a LOCK's first page), and work items. After every call: the same size, target, reset
/// state, ballooned PFNs, host-locked PFNs and number of backdoor commands; and the simulated
/// hypervisor saw no breach of the protocol.
/// </summary>
/// <param name="design">The specification's design the model runs: the reference, or a mutant of it to show the check catches a defect planted there.</param>
public sealed class BalloonMachine(BalloonImplDefects defects, int maxOps, BalloonDesign? design = null) : Machine<BalloonRig, BalloonApiModel>(maxOps)
{
    public override Arbitrary<Setup<BalloonRig, BalloonApiModel>> Setup =>
        Arb.From(from pages in Gen.Choose(2, BalloonBounds.MaxPages)
                 from high in Gen.Elements(false, true)
                 from batching in Gen.Elements(true, false)
                 select (Setup<BalloonRig, BalloonApiModel>)new Start(pages, high, batching, defects, design));

    private sealed class Start(int pages, bool highPfn, bool batching, BalloonImplDefects defects, BalloonDesign? design) : Setup<BalloonRig, BalloonApiModel>
    {
        private readonly BalloonApiModel _model = BalloonApiModel.Start(pages, highPfn, batching, design);

        // The specification's batch is two pages; its requests take pages in page order.
        public override BalloonRig Actual() => new(new GuestMemory(_model.Frames.AsSpan(), inGivenOrder: true), batching, 2, defects);
        public override BalloonApiModel Model() => _model;

        public override string ToString() => $"{pages} pages{(highPfn ? ", page 0 above 2^32" : "")}, {(batching ? "batches of 2" : "unbatched")}";
    }

    public override Gen<Operation<BalloonRig, BalloonApiModel>> Next(BalloonApiModel m) =>
        Gen.Frequency(
            (3, from t in Gen.Frequency((9, Gen.Choose(0, m.Frames.Length).Select(x => (ulong)x)), (1, Gen.Constant(BalloonBounds.HugeTargetValue)))
                select (Operation<BalloonRig, BalloonApiModel>)new SetTarget(t)),
            (1, Gen.Choose(0, 6).Select(k => (Operation<BalloonRig, BalloonApiModel>)new ResetIn(k))),
            (1, Gen.Constant((Operation<BalloonRig, BalloonApiModel>)new RefuseNextLock())),
            (6, Gen.Constant((Operation<BalloonRig, BalloonApiModel>)new Work())));

    /// <summary>The driver's view against the model's, first difference named: what the implementation has, then what the model (the specification) has.</summary>
    private static Property Agree(BalloonRig r, BalloonApiModel m)
    {
        var d = r.Driver;
        if (r.Host.Violations > 0) return false.Label($"the hypervisor saw a protocol breach: {r.Host.FirstViolation}");
        if (d.Size != (uint)m.Size) return false.Label($"the driver's size {d.Size}, the model's {m.Size}");
        if (d.Target != m.Target) return false.Label($"the driver's target {d.Target}, the model's {m.Target}");
        if (d.ResetRequired != m.ResetRequired) return false.Label($"the driver's reset required {d.ResetRequired}, the model's {m.ResetRequired}");
        var pages = d.Pages.ToArray().Order().ToArray();
        if (!pages.SequenceEqual(m.Ballooned.Order())) return false.Label($"the driver's ballooned [{Hex(pages)}], the model's [{Hex(m.Ballooned.Order())}]");
        if (!r.Host.Locked.Order().SequenceEqual(m.HostLocked.Order())) return false.Label($"the host locked [{Hex(r.Host.Locked.Order())}], the model's host [{Hex(m.HostLocked.Order())}]");
        if (r.Host.Commands != m.Commands) return false.Label($"the driver sent {r.Host.Commands} backdoor commands, the model {m.Commands}");
        // A design whose own steps break its properties is no oracle, even where the driver cannot show the difference.
        if (m.Broken is { } broken) return false.Label($"the model's design breaks {broken} on the way here; the driver agrees with it so far");
        return true.ToProperty();
    }

    private static string Hex(IEnumerable<ulong> xs) => string.Join(" ", xs.Select(x => $"0x{x:x}"));

    private sealed class SetTarget(ulong t) : Operation<BalloonRig, BalloonApiModel>
    {
        public override BalloonApiModel Run(BalloonApiModel m) => m.SetHostTarget(t);
        public override Property Check(BalloonRig r, BalloonApiModel m) { r.Host.TargetPages = t; return Agree(r, m); }
        public override string ToString() => $"host target {t}";
    }

    private sealed class ResetIn(int k) : Operation<BalloonRig, BalloonApiModel>
    {
        public override BalloonApiModel Run(BalloonApiModel m) => m.ResetIn(k);
        public override Property Check(BalloonRig r, BalloonApiModel m) { r.Host.ResetAtCommand = r.Host.Commands + k; return Agree(r, m); }
        public override string ToString() => $"RESET at the {k}th command from now";
    }

    private sealed class RefuseNextLock : Operation<BalloonRig, BalloonApiModel>
    {
        public override BalloonApiModel Run(BalloonApiModel m) => m.RefuseNextLock();
        public override Property Check(BalloonRig r, BalloonApiModel m) { r.Host.RefuseLocks++; return Agree(r, m); }
        public override string ToString() => "host refuses the first page of the next LOCK";
    }

    private sealed class Work : Operation<BalloonRig, BalloonApiModel>
    {
        public override BalloonApiModel Run(BalloonApiModel m) => m.Work();
        public override Property Check(BalloonRig r, BalloonApiModel m) { r.Driver.Work(); return Agree(r, m); }
        public override string ToString() => "vmballoon_work()";
    }
}

/// <summary>The balloon implementation against the specification, for check and the registry.</summary>
public static class BalloonSuite
{
    public static IEnumerable<CheckResult> Checks(SuiteSize size, ulong seed) =>
        new[] { Run(size.ModelCases, seed) }.Concat(Ipi.Systematic.Checks("balloon", size, seed));

    public static CheckResult Run(int cases, ulong seed, BalloonImplDefects defects = BalloonImplDefects.None, BalloonDesign? design = null) =>
        FsRun.Run(design is null ? "balloon model-based (FsCheck Machine)" : $"balloon model-based against {design.Name}", new BalloonMachine(defects, 40, design).ToProperty(), cases, seed);
}
