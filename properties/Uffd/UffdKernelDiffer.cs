using System.Diagnostics;
using FsCheck;
using FsCheck.Experimental;
using FsCheck.Fluent;
using Multikernel.Impl.Uffd.Linux;
using Multikernel.Model.Kernel;
using Multikernel.Model.Uffd;
using Multikernel.Properties.Checking;
using static Multikernel.Model.Uffd.UffdConstants;

namespace Multikernel.Properties.Uffd;

/// <summary>The model's state after a step and what the step returned there.</summary>
public sealed record DiffExpectation(UffdState State, int Rc, string? Fault = null)
{
    public override string ToString() => Fault != null ? $"model: {Fault}" : $"model: {Errno.Name(Rc)}";
}

/// <summary>
/// The reference specification against the running kernel, step by step (issue 19): FsCheck
/// generates UFFDIO_API (feature sets, a second call, an unknown bit), UFFDIO_REGISTER /
/// UNREGISTER in every mode combination (0 and an unknown bit too) over ranges of the two VMAs
/// (unaligned, empty, splitting a VMA, across both), mlock2(MLOCK_ONFAULT), mlock, munlock and
/// close, and faults resolved by a handler (<see cref="FaultStep"/>), on a layout of two VMAs of the
/// memory types given (anonymous private, shmem shared and private, hugetlbfs shared and private
/// when huge pages are there). After every step the return code (errno) or the fault's message,
/// and, per model page, the uffd bits (um, uw, ui) and the lock bit (lo) of the VMA holding it in
/// /proc/self/smaps must be the model's. Not compared: ranges past the model's four pages (its
/// TASK_SIZE stands in for the kernel's), mremap and fork.
/// </summary>
public sealed class UffdKernelDiffer(IReadOnlyList<MemType> types, ulong hugePageSize, int maxOps, UffdDesign? design = null)
    : Machine<KernelMm, DiffExpectation>(maxOps)
{
    private readonly UffdDesign _design = design ?? UffdDesigns.Reference;

    /// <summary>Generate faults (read and write, resolved by a handler with UFFDIO_COPY / CONTINUE) on anonymous and shmem VMAs.</summary>
    public bool Faults { get; init; } = true;
    private KernelMm? _live;

    /// <summary>The feature sets UFFDIO_API asks for: the model's, a later mainline one, and an unknown bit.</summary>
    public static readonly ulong[] FeatureSets =
    [
        0, UffdFeatureSigbus, UffdFeatureEventFork | UffdFeatureEventRemap, UffdFeatureMinorShmem | UffdFeatureMinorHugetlbfs,
        UffdFeatureMissingShmem | UffdFeatureMissingHugetlbfs | UffdFeatureThreadId, UffdFeaturePagefaultFlagWp | UffdFeatureEventRemove | UffdFeatureEventUnmap,
        UffdFeatureWpHugetlbfsShmem, UffdFeatureExactAddress, UffdFeatureWpUnpopulated | UffdFeatureWpAsync, UffdFeaturePoison | UffdFeatureMove, 1UL << 40,
    ];

    /// <summary>The kernel's address spaces still mapped by this machine: the last case's, unmapped on <see cref="Release"/>.</summary>
    public void Release()
    {
        _live?.Dispose();
        _live = null;
    }

    public override Arbitrary<Setup<KernelMm, DiffExpectation>> Setup =>
        Arb.From(from a in Gen.Elements(types.ToArray()) from b in Gen.Elements(types.ToArray())
                 select (Setup<KernelMm, DiffExpectation>)new Start(this, a, b));

    private sealed class Start(UffdKernelDiffer m, MemType a, MemType b) : Setup<KernelMm, DiffExpectation>
    {
        public override KernelMm Actual()
        {
            m.Release();
            m._live = new KernelMm(a, b, m._hugePageSize);
            return m._live;
        }

        public override DiffExpectation Model()
        {
            var init = new List<UffdState>();
            new UffdSpec(m._design, new UffdBounds { Layouts = [(a, b)], Contexts = 2 }).Initial(init);
            return new DiffExpectation(init[0], 0);
        }

        public override string ToString() => $"layout {MemTypes.Name(a)} + {MemTypes.Name(b)}";
    }

    private readonly ulong _hugePageSize = hugePageSize;

    public override Gen<Operation<KernelMm, DiffExpectation>> Next(DiffExpectation e)
    {
        var open = Enumerable.Range(1, 2).Where(c => e.State.Ctxs[c - 1].State != UffdCtx.Released).ToArray();
        var range = from first in Gen.Choose(0, UffdBounds.Pages - 1)
                    from n in Gen.Choose(0, UffdBounds.Pages - first)
                    from odd in Gen.Frequency((12, Gen.Constant(0UL)), (1, Gen.Constant(1UL)))
                    select ((ulong)first * PageSize + odd, (ulong)n * PageSize);
        var mode = Gen.Frequency((10, Gen.Elements(1UL, 2UL, 3UL, 4UL, 5UL, 6UL, 7UL)), (1, Gen.Elements(0UL, 8UL, 9UL)));
        var vma = Gen.Elements(0, 1);
        var ops = new List<(int, Gen<Operation<KernelMm, DiffExpectation>>)>
        {
            (2, vma.Select(v => Op(new Mlock2(v)))),
            (2, vma.Select(v => Op(new Munlock(v)))),
            (1, vma.Select(v => Op(new MlockPopulate(v)))),
        };
        if (open.Length > 0)
        {
            var ctx = Gen.Elements(open);
            ops.Add((3, from c in ctx from f in Gen.Elements(FeatureSets) select Op(new Api(c, f))));
            ops.Add((8, from c in ctx from r in range from md in mode select Op(new Register(c, r.Item1, r.Item2, md))));
            ops.Add((4, from c in ctx from r in range select Op(new Unregister(c, r.Item1, r.Item2))));
            ops.Add((1, ctx.Select(c => Op(new Close(c)))));
        }
        if (Faults)
            ops.Add((5, from p in Gen.Choose(0, UffdBounds.Pages - 1) from w in Gen.Elements(true, false) select Op(new FaultStep(p, w))));
        return Gen.Frequency(ops.ToArray());
    }

    private static Operation<KernelMm, DiffExpectation> Op(Operation<KernelMm, DiffExpectation> o) => o;

    /// <summary>The mnemonics the model's vm_flags stand for, of those compared.</summary>
    private string[] Expected(ulong vmFlags)
    {
        var l = new List<string>(4);
        if ((vmFlags & VmUffdMissing) != 0) l.Add(Smaps.UffdMissing);
        if ((vmFlags & VmUffdWp) != 0) l.Add(Smaps.UffdWp);
        if ((vmFlags & _design.VmUffdMinor) != 0) l.Add(Smaps.UffdMinor);
        if ((vmFlags & VmLocked) != 0) l.Add(Smaps.Locked);
        return [.. l];
    }

    private static readonly string[] Compared = [Smaps.UffdMissing, Smaps.UffdWp, Smaps.UffdMinor, Smaps.Locked];

    /// <summary>The kernel's return code and VMAs against the model's: the model's answer beside the kernel's.</summary>
    private Property Agree(KernelMm mm, DiffExpectation e, int rc)
    {
        if (rc != e.Rc) return false.Label($"returns: model {Errno.Name(e.Rc)}, kernel {Errno.Name(rc)}");
        var flags = mm.PageFlags();
        for (int p = 0; p < UffdBounds.Pages; p++)
        {
            string want = string.Join(' ', Expected(e.State.Pages[p].VmFlags));
            string got = string.Join(' ', Compared.Where(flags[p].Contains));
            if (want != got)
                return false.Label($"page {p} ({MemTypes.Name(e.State.Pages[p].Type)}) VmFlags: model [{want}], kernel [{got}] (all: {string.Join(' ', flags[p])})");
        }
        return true.ToProperty();
    }

    private abstract class Step : Operation<KernelMm, DiffExpectation>
    {
        public UffdKernelDiffer M { get; set; } = null!;
        protected abstract int Model(UffdKernel k, ref UffdState s);
        protected abstract int Kernel(KernelMm mm);
        public override DiffExpectation Run(DiffExpectation e)
        {
            var s = e.State;
            int rc = Model(new UffdKernel(M._design), ref s);
            return new DiffExpectation(s, rc);
        }
        public override Property Check(KernelMm mm, DiffExpectation e) => M.Agree(mm, e, Kernel(mm));
    }

    private Operation<KernelMm, DiffExpectation> Op(Step s)
    {
        s.M = this;
        return s;
    }

    private abstract class CtxStep(int ctx) : Step
    {
        protected int Ctx => ctx;
        public override bool Pre(DiffExpectation e) => e.State.Ctxs[ctx - 1].State != UffdCtx.Released; // a closed fd's number may be reused
    }

    private sealed class Api(int ctx, ulong features) : CtxStep(ctx)
    {
        protected override int Model(UffdKernel k, ref UffdState s) => k.Api(ref s, Ctx, UffdApi, features);
        protected override int Kernel(KernelMm mm) => mm.Api(Ctx, features);
        public override string ToString() => $"uffd{Ctx}: UFFDIO_API(features {Userfaultfd.FeatureNames(features)})";
    }

    private sealed class Register(int ctx, ulong start, ulong len, ulong mode) : CtxStep(ctx)
    {
        protected override int Model(UffdKernel k, ref UffdState s) => k.Register(ref s, Ctx, start, len, mode);
        protected override int Kernel(KernelMm mm) => mm.Register(Ctx, start, len, mode);
        public override string ToString() => $"uffd{Ctx}: UFFDIO_REGISTER([page {start / PageSize}{(start % PageSize != 0 ? "+1 byte" : "")}, +{len / PageSize} pages), mode {ModeName(mode)})";
    }

    private sealed class Unregister(int ctx, ulong start, ulong len) : CtxStep(ctx)
    {
        protected override int Model(UffdKernel k, ref UffdState s) => k.Unregister(ref s, Ctx, start, len);
        protected override int Kernel(KernelMm mm) => mm.Unregister(Ctx, start, len);
        public override string ToString() => $"uffd{Ctx}: UFFDIO_UNREGISTER([page {start / PageSize}{(start % PageSize != 0 ? "+1 byte" : "")}, +{len / PageSize} pages))";
    }

    private sealed class Close(int ctx) : CtxStep(ctx)
    {
        protected override int Model(UffdKernel k, ref UffdState s) => k.Release(ref s, Ctx) ? 0 : throw new InvalidOperationException("the model BUG()s in userfaultfd_release()");
        protected override int Kernel(KernelMm mm) => mm.Close(Ctx);
        public override string ToString() => $"close(uffd{Ctx})";
    }

    /// <summary>Whether populating VMA v could fault through a userfaultfd hook (and block the test): a context on it.</summary>
    private static bool Hooked(in UffdState s, int v) => s.Pages[v * 2].Ctx != 0 || s.Pages[v * 2 + 1].Ctx != 0;

    private sealed class Mlock2(int vma) : Step
    {
        // On hugetlbfs mlock_fixup() sets no VM_LOCKONFAULT, so mlock2() populates it: not under a userfaultfd.
        public override bool Pre(DiffExpectation e) => !MemTypes.IsHugetlb(e.State.Pages[vma * 2].Type) || !Hooked(e.State, vma);
        protected override int Model(UffdKernel k, ref UffdState s) => UffdKernel.Mlock(ref s, vma * 2, 2, on: true);
        protected override int Kernel(KernelMm mm) => mm.Mlock2OnFault(vma);
        public override string ToString() => $"mlock2(VMA {(vma == 0 ? "A" : "B")}, MLOCK_ONFAULT)";
    }

    private sealed class Munlock(int vma) : Step
    {
        protected override int Model(UffdKernel k, ref UffdState s) => UffdKernel.Mlock(ref s, vma * 2, 2, on: false);
        protected override int Kernel(KernelMm mm) => mm.Munlock(vma);
        public override string ToString() => $"munlock(VMA {(vma == 0 ? "A" : "B")})";
    }

    private sealed class MlockPopulate(int vma) : Step
    {
        // mlock() populates: only where no userfaultfd can intercept the faults.
        public override bool Pre(DiffExpectation e) => !Hooked(e.State, vma);
        protected override int Model(UffdKernel k, ref UffdState s) =>
            MemTypes.IsHugetlb(s.Pages[vma * 2].Type) ? UffdKernel.Mlock(ref s, vma * 2, 2, on: true, onFault: false) : k.MlockPopulate(ref s, vma * 2, 2);
        protected override int Kernel(KernelMm mm) => mm.Mlock(vma);
        public override string ToString() => $"mlock(VMA {(vma == 0 ? "A" : "B")})";
    }

    /// <summary>
    /// A read or write fault at a page of an anonymous or shmem VMA, on a thread; a fault the model
    /// blocks must send the message the model sends (flags WRITE / MINOR), and the handler resolves it
    /// with UFFDIO_COPY (missing) or UFFDIO_CONTINUE (minor), as the model then does. Not generated:
    /// hugetlbfs (a huge page is two model pages), a page registered WP (WP_UNPOPULATED / WP_ASYNC,
    /// which the model does not track, change what a write does there), a fault the model answers
    /// with SIGBUS (it would kill the test).
    /// </summary>
    private sealed class FaultStep(int page, bool write) : Step
    {
        public override bool Pre(DiffExpectation e)
        {
            var pg = e.State.Pages[page];
            if (MemTypes.IsHugetlb(pg.Type) || pg.Type == MemType.None || (pg.RegModes & UffdioRegisterModeWp) != 0 || pg.Waiter != 0) return false;
            var s = e.State;
            return new UffdKernel(M._design).Fault(ref s, page, write) != UffdKernel.FaultOutcome.Sigbus;
        }

        protected override int Model(UffdKernel k, ref UffdState s) => 0;
        protected override int Kernel(KernelMm mm) => 0;

        public override DiffExpectation Run(DiffExpectation e)
        {
            var s = e.State;
            var o = new UffdKernel(M._design).Fault(ref s, page, write);
            if (o != UffdKernel.FaultOutcome.Blocked) return new DiffExpectation(s, 0, "normal fault");
            int ctx = s.Pages[page].WaiterCtx;
            ulong modes = s.Pages[page].WaiterModes;
            ulong flags = M._design.MessageFlags(M._design.VmFlagsOf(modes), write);
            int rc = (modes & UffdioRegisterModeMinor) != 0 ? UffdKernel.Continue(ref s, page) : UffdKernel.Copy(ref s, page);
            return new DiffExpectation(s, 0, $"blocked on uffd{ctx}, message flags 0x{flags:x}, resolved {(rc == 0 ? "0" : Errno.Name(rc))}");
        }

        public override Property Check(KernelMm mm, DiffExpectation e)
        {
            var want = e.Fault!;
            int ctx = want.StartsWith("blocked on uffd", StringComparison.Ordinal) ? want[15] - '0' : 0;
            var seen = mm.Fault(page, write, ctx);
            string got = seen.Blocked ? $"blocked on uffd{ctx}, message flags 0x{seen.Flags:x}, resolved {(seen.Resolution.EndsWith(" 0", StringComparison.Ordinal) ? "0" : seen.Resolution)}" : "normal fault";
            if (!seen.Finished || got != want) return false.Label($"{ToString()}: model {want}; kernel {seen}");
            return M.Agree(mm, e, 0);
        }

        public override string ToString() => $"{(write ? "write" : "read")} fault at page {page}";
    }

    public static string ModeName(ulong mode)
    {
        if (mode == 0) return "0";
        var parts = new List<string>();
        if ((mode & UffdioRegisterModeMissing) != 0) parts.Add("MISSING");
        if ((mode & UffdioRegisterModeWp) != 0) parts.Add("WP");
        if ((mode & UffdioRegisterModeMinor) != 0) parts.Add("MINOR");
        if ((mode & ~UffdKernel.AllModes) != 0) parts.Add($"0x{mode & ~UffdKernel.AllModes:x}");
        return string.Join('|', parts);
    }
}

/// <summary>What the kernel offers here for the differential run, and how the run went.</summary>
public sealed record UffdDiffReport(string Kernel, string Features, IReadOnlyList<MemType> Types, string? HugetlbSkipped,
                                    int Cases, TimeSpan Time, CheckResult Result)
{
    /// <summary>Faults taken on the kernel (shrinking's included): normal, resolved by UFFDIO_COPY, by UFFDIO_CONTINUE.</summary>
    public (long Normal, long Copied, long Continued) Faults { get; init; }

    public double CasesPerSecond => Cases / Math.Max(Time.TotalSeconds, 1e-9);
}

/// <summary>Runs <see cref="UffdKernelDiffer"/>: the memory types the kernel offers, a seed, a budget.</summary>
public static class UffdDiff
{
    public const int MaxOps = 30;

    /// <summary>Huge pages free for this run (HugePages_Free) and their size, from /proc/meminfo.</summary>
    public static (long Free, ulong Size) HugePages()
    {
        long free = 0;
        ulong size = 2UL << 20;
        foreach (var line in File.ReadLines("/proc/meminfo"))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 2) continue;
            if (parts[0] == "HugePages_Free:") free = long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
            if (parts[0] == "Hugepagesize:") size = ulong.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }
        return (free, size);
    }

    /// <summary>Two hugetlbfs VMAs of one huge page each: what a case needs.</summary>
    public const int HugePagesNeeded = 2;

    public static string KernelVersion()
    {
        try { return "Linux " + File.ReadAllText("/proc/sys/kernel/osrelease").Trim(); }
        catch (IOException) { return System.Runtime.InteropServices.RuntimeInformation.OSDescription; }
    }

    /// <summary>Runs <paramref name="cases"/> sequences; the caller has checked <see cref="Userfaultfd.Availability"/>.</summary>
    public static UffdDiffReport Run(int cases, ulong seed, ulong availableFeatures, bool hugetlb = true)
    {
        var (free, size) = HugePages();
        bool huge = hugetlb && free >= HugePagesNeeded;
        var types = huge ? MemTypes.All : MemTypes.All.Where(t => !MemTypes.IsHugetlb(t)).ToArray();
        var machine = new UffdKernelDiffer(types, size, MaxOps);
        KernelMm.ResetFaultCounts();
        var clock = Stopwatch.StartNew();
        CheckResult result;
        try { result = FsRun.Run("uffd reference against the running kernel (differ)", machine.ToProperty(), cases, seed); }
        finally { machine.Release(); }
        return new UffdDiffReport(KernelVersion(), Userfaultfd.FeatureNames(availableFeatures), types,
            huge ? null : hugetlb ? $"hugetlbfs cases skipped: {free} huge pages free, {HugePagesNeeded} needed" : "hugetlbfs cases skipped: not asked for",
            cases, clock.Elapsed, result)
        { Faults = KernelMm.FaultCounts };
    }
}
