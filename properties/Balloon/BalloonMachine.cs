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
/// Model-based test of impl/Balloon against the reference design one work item at a time
/// (<see cref="BalloonApiModel"/>): random host targets (some past 32 bits), RESETs injected at
/// any command, refused PFNs, and work items, on guest memory with some PFNs above 4 GiB, batched
/// or not. After every call: the same size, target, reset state, ballooned PFNs, host-locked PFNs
/// and number of backdoor commands; and the simulated hypervisor saw no breach of the protocol.
/// </summary>
public sealed class BalloonMachine(BalloonImplDefects defects, int maxOps) : Machine<BalloonRig, BalloonApiModel>(maxOps)
{
    public override Arbitrary<Setup<BalloonRig, BalloonApiModel>> Setup =>
        Arb.From(from frames in Gen.Choose(3, 24)
                 from high in Gen.Elements(0, 3, 5)
                 from batching in Gen.Elements(true, false)
                 from batch in Gen.Elements(1, 2, 3, 8)
                 select (Setup<BalloonRig, BalloonApiModel>)new Start(frames, high, batching, batch, defects));

    private sealed class Start(int frames, int highEvery, bool batching, int batchPages, BalloonImplDefects defects) : Setup<BalloonRig, BalloonApiModel>
    {
        public override BalloonRig Actual() => new(GuestMemory.Range(0x100, frames, highEvery), batching, batchPages, defects);

        public override BalloonApiModel Model()
        {
            var mem = GuestMemory.Range(0x100, frames, highEvery);
            var pfns = new List<ulong>();
            while (mem.TryAlloc(out ulong p)) pfns.Add(p);
            return BalloonApiModel.Start(pfns, batching, batchPages);
        }

        public override string ToString() => $"{frames} frames{(highEvery > 0 ? $", every {highEvery}th above 4 GiB" : "")}, {(batching ? $"batches of {batchPages}" : "unbatched")}";
    }

    public override Gen<Operation<BalloonRig, BalloonApiModel>> Next(BalloonApiModel m) =>
        Gen.Frequency(
            (3, from t in Gen.Frequency((9, Gen.Choose(0, m.Frames.Length + 2).Select(x => (ulong)x)), (1, Gen.Constant((1UL << 32) + 1)))
                select (Operation<BalloonRig, BalloonApiModel>)new SetTarget(t)),
            (1, Gen.Choose(0, 6).Select(k => (Operation<BalloonRig, BalloonApiModel>)new ResetIn(k))),
            (1, Gen.Elements(m.Frames.ToArray()).Select(p => (Operation<BalloonRig, BalloonApiModel>)new Refuse(p))),
            (6, Gen.Constant((Operation<BalloonRig, BalloonApiModel>)new Work())));

    private static Property Agree(BalloonRig r, BalloonApiModel m)
    {
        var d = r.Driver;
        if (r.Host.Violations > 0) return false.Label($"the hypervisor saw a protocol breach: {r.Host.FirstViolation}");
        if (d.Size != (uint)m.Size) return false.Label($"size {d.Size}, the model {m.Size}");
        if (d.Target != m.Target) return false.Label($"target {d.Target}, the model {m.Target}");
        if (d.ResetRequired != m.ResetRequired) return false.Label($"reset required {d.ResetRequired}, the model {m.ResetRequired}");
        if (r.Host.Commands != m.Commands) return false.Label($"{r.Host.Commands} backdoor commands, the model {m.Commands}");
        var pages = d.Pages.ToArray().Order().ToArray();
        if (!pages.SequenceEqual(m.Ballooned.Order())) return false.Label($"ballooned [{Hex(pages)}], the model [{Hex(m.Ballooned.Order())}]");
        if (!r.Host.Locked.Order().SequenceEqual(m.HostLocked.Order())) return false.Label($"host locked [{Hex(r.Host.Locked.Order())}], the model [{Hex(m.HostLocked.Order())}]");
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

    private sealed class Refuse(ulong pfn) : Operation<BalloonRig, BalloonApiModel>
    {
        public override BalloonApiModel Run(BalloonApiModel m) => m.Refuse(pfn);
        public override Property Check(BalloonRig r, BalloonApiModel m) { r.Host.Refuse.Add(pfn); return Agree(r, m); }
        public override string ToString() => $"host refuses PFN 0x{pfn:x}";
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

    public static CheckResult Run(int cases, ulong seed, BalloonImplDefects defects = BalloonImplDefects.None) =>
        FsRun.Run("balloon model-based (FsCheck Machine)", new BalloonMachine(defects, 40).ToProperty(), cases, seed);
}
