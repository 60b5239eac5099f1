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
    /// <summary>The uffd events a step sends (mremap, fork): "uffd1 REMAP, …" or "none"; null where none is compared.</summary>
    public string? Events { get; init; }
    /// <summary>fork(): the compared mnemonics of the child's VMA at each model page.</summary>
    public string[]? Child { get; init; }
    /// <summary>The features each context negotiated (UFFDIO_API), which the model keeps only in part.</summary>
    public (ulong, ulong) Features { get; init; }

    public ulong FeaturesOf(int ctx) => ctx == 1 ? Features.Item1 : Features.Item2;

    /// <summary>The state after a step: what the step returned, nothing else carried over but the features.</summary>
    public DiffExpectation After(UffdState s, int rc) => this with { State = s, Rc = rc, Fault = null, Events = null, Child = null };

    public override string ToString() => Fault != null ? $"model: {Fault}" : $"model: {Errno.Name(Rc)}{(Events != null ? $", events {Events}" : "")}";
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
/// /proc/self/smaps must be the model's. mremap() (a VMA or a page, moved away and back) and
/// fork() (the child stopped, its smaps read) compare the events the monitor reads
/// (UFFD_EVENT_REMAP, UFFD_EVENT_FORK) and, for fork, the child's bits too; UFFDIO_WRITEPROTECT
/// and write faults on write-protected pages compare the WP message. Faults, UFFDIO_COPY / ZEROPAGE /
/// CONTINUE and UFFDIO_WRITEPROTECT go a huge page (two model pages) at a time on hugetlbfs, as in
/// the kernel, and half a huge page is generated too. Not compared: ranges past the model's four
/// pages (its TASK_SIZE stands in for the kernel's), UFFDIO_WRITEPROTECT on a none PTE of file
/// memory (a PTE marker), what the child does after fork.
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
        var ready = Enumerable.Range(1, 2).Where(c => e.State.Ctxs[c - 1].State == UffdCtx.Ready).ToArray();
        // Fill and write-protect ranges: a model page, its huge page on hugetlbfs, or one or two pages
        // from anywhere (half a huge page, a byte off, empty: the alignment refusals).
        var fill = Gen.Frequency(
            (3, from p in Gen.Choose(0, UffdBounds.Pages - 1) select Unit(e.State, p)),
            (2, from first in Gen.Choose(0, UffdBounds.Pages - 1) from n in Gen.Choose(0, Math.Min(2, UffdBounds.Pages - first))
                from odd in Gen.Frequency((10, Gen.Constant(0UL)), (1, Gen.Constant(1UL)))
                select ((ulong)first * PageSize + odd, (ulong)n * PageSize)));
        if (ready.Length > 0)
        {
            ops.Add((3, from c in Gen.Elements(ready) from r in fill from prot in Gen.Elements(true, false)
                        select Op(new WriteProtect(c, r.Item1, r.Item2, prot))));
            ops.Add((3, from c in Gen.Elements(ready) from r in fill from m in Gen.Elements(UffdKernel.Mfill.Copy, UffdKernel.Mfill.Zeropage, UffdKernel.Mfill.Continue)
                        select Op(new MfillStep(c, r.Item1, r.Item2, m))));
        }
        // Write-protect faults need a WP-registered page mapped, protected, then written: steer to them.
        var protectable = Enumerable.Range(0, UffdBounds.Pages).Where(p => (e.State.Pages[p].VmFlags & VmUffdWp) != 0 && e.State.Pages[p].Pte == UffdPage.PtePresent).ToArray();
        if (protectable.Length > 0 && ready.Length > 0)
            ops.Add((3, from c in Gen.Elements(ready) from p in Gen.Elements(protectable) let r = Unit(e.State, p) select Op(new WriteProtect(c, r.Item1, r.Item2, true))));
        var protectedPages = Enumerable.Range(0, UffdBounds.Pages).Where(p => e.State.Pages[p].Pte == UffdPage.PteUffdWp).ToArray();
        if (Faults && protectedPages.Length > 0)
            ops.Add((3, Gen.Elements(protectedPages).Select(p => Op(new FaultStep(p, true)))));
        ops.Add((2, Gen.Elements((0, 2), (2, 2), (0, 1), (1, 1), (2, 1), (3, 1), (1, 2), (0, 4)).Select(r => Op(new Mremap(r.Item1, r.Item2)))));
        ops.Add((1, Gen.Constant(Op(new Fork()))));
        if (Faults)
            ops.Add((5, from p in Gen.Choose(0, UffdBounds.Pages - 1) from w in Gen.Elements(true, false) select Op(new FaultStep(p, w))));
        return Gen.Frequency(ops.ToArray());
    }

    private static Operation<KernelMm, DiffExpectation> Op(Operation<KernelMm, DiffExpectation> o) => o;

    /// <summary>The model range of page p's unit: the page, or its huge page on hugetlbfs.</summary>
    private static (ulong Start, ulong Len) Unit(in UffdState s, int p) =>
        ((ulong)UffdKernel.UnitStart(s, p) * PageSize, (ulong)MemTypes.Unit(s.Pages[p].Type) * PageSize);

    /// <summary>The mnemonics the model's vm_flags stand for, of those compared.</summary>
    internal string[] Expected(ulong vmFlags)
    {
        var l = new List<string>(4);
        if ((vmFlags & VmUffdMissing) != 0) l.Add(Smaps.UffdMissing);
        if ((vmFlags & VmUffdWp) != 0) l.Add(Smaps.UffdWp);
        if ((vmFlags & _design.VmUffdMinor) != 0) l.Add(Smaps.UffdMinor);
        if ((vmFlags & VmLocked) != 0) l.Add(Smaps.Locked);
        return [.. l];
    }

    /// <summary>Why the kernel's answer says nothing of the model (an -ENOMEM it does not predict), or null.</summary>
    internal static string? Unmodelled(int kernelRc, int modelRc) =>
        kernelRc == -Errno.ENOMEM && modelRc != kernelRc
            ? $"the kernel returned -ENOMEM where the model says {Errno.Name(modelRc)} (allocation failure is not modelled; {MemAvailable()})"
            : null;

    private static string MemAvailable()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/meminfo"))
                if (line.StartsWith("MemAvailable:", StringComparison.Ordinal)) return "MemAvailable " + string.Join(' ', line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..]);
        }
        catch (IOException) { }
        return "MemAvailable unknown";
    }

    private static readonly string[] Compared = [Smaps.UffdMissing, Smaps.UffdWp, Smaps.UffdMinor, Smaps.Locked];

    /// <summary>The kernel's return code and VMAs against the model's: the model's answer beside the kernel's.</summary>
    private Property Agree(KernelMm mm, DiffExpectation e, int rc)
    {
        // The model has no allocation failure: a kernel out of memory (seen once, on a machine other jobs had
        // filled) is no verdict on the model, never a divergence.
        if (Unmodelled(rc, e.Rc) is { } why) throw new KernelEnvironmentException(why);
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

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> StepCounts = new(StringComparer.Ordinal);

    /// <summary>The steps run on the kernel since the last reset, by kind (UFFDIO_API, mremap, fork, …).</summary>
    public static IReadOnlyDictionary<string, long> StepsRun => new SortedDictionary<string, long>(StepCounts, StringComparer.Ordinal);
    public static void ResetStepCounts() => StepCounts.Clear();

    private abstract class Step : Operation<KernelMm, DiffExpectation>
    {
        public UffdKernelDiffer M { get; set; } = null!;
        /// <summary>The kind of step, as the run's summary counts them.</summary>
        public virtual string Kind => GetType().Name switch
        {
            "Api" => "UFFDIO_API", "Register" => "UFFDIO_REGISTER", "Unregister" => "UFFDIO_UNREGISTER", "Close" => "close",
            "Mlock2" => "mlock2", "Munlock" => "munlock", "MlockPopulate" => "mlock", "WriteProtect" => "UFFDIO_WRITEPROTECT",
            "Mremap" => "mremap", "Fork" => "fork", "FaultStep" => "fault", var n => n,
        };
        protected void Counted() => StepCounts.AddOrUpdate(Kind, 1, (_, n) => n + 1);
        protected abstract int Model(UffdKernel k, ref UffdState s);
        protected abstract int Kernel(KernelMm mm);
        public override DiffExpectation Run(DiffExpectation e)
        {
            var s = e.State;
            int rc = Model(new UffdKernel(M._design), ref s);
            return e.After(s, rc);
        }
        public override Property Check(KernelMm mm, DiffExpectation e)
        {
            Counted();
            return M.Agree(mm, e, Kernel(mm));
        }
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
        public override DiffExpectation Run(DiffExpectation e)
        {
            var r = base.Run(e);
            if (r.Rc != 0) return r;
            return r with { Features = Ctx == 1 ? (features, e.Features.Item2) : (e.Features.Item1, features) };
        }

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

    /// <summary>Whether populating VMA v takes only normal faults (no context on it, so no hook could block the test).</summary>
    private bool Plain(in UffdState s, int v) => new UffdKernel(_design).PopulateIsPlain(s, v * 2, 2, hugetlb: true);

    private sealed class Mlock2(int vma) : Step
    {
        // On hugetlbfs mlock_fixup() sets no VM_LOCKONFAULT, so mlock2() populates it: not under a userfaultfd.
        public override bool Pre(DiffExpectation e) => !MemTypes.IsHugetlb(e.State.Pages[vma * 2].Type) || M.Plain(e.State, vma);
        protected override int Model(UffdKernel k, ref UffdState s) => k.Mlock2OnFault(ref s, vma * 2, 2);
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
        public override bool Pre(DiffExpectation e) => M.Plain(e.State, vma);
        protected override int Model(UffdKernel k, ref UffdState s) => k.MlockPopulate(ref s, vma * 2, 2);
        protected override int Kernel(KernelMm mm) => mm.Mlock(vma);
        public override string ToString() => $"mlock(VMA {(vma == 0 ? "A" : "B")})";
    }

    /// <summary>
    /// The features the model does not have that change what a WP-registered VMA does: with
    /// WP_UNPOPULATED a none PTE of anonymous memory is write-protected too, with WP_ASYNC the
    /// kernel resolves write-protect faults itself. Steps on such a VMA are not generated.
    /// </summary>
    private const ulong WpFeaturesNotModelled = UffdFeatureWpUnpopulated | UffdFeatureWpAsync;

    private static bool WpUnmodelled(DiffExpectation e, int page) =>
        e.State.Pages[page].Ctx is var c and not 0 && (e.FeaturesOf(c) & WpFeaturesNotModelled) != 0;

    /// <summary>
    /// Whether a step on [start, start+len) stays where the model is the kernel: inside the model's
    /// pages, and not on a WP-registered page the model does not follow there (a context that
    /// negotiated WP_UNPOPULATED or WP_ASYNC; a none PTE of shmem or hugetlbfs, where
    /// UFFDIO_WRITEPROTECT puts a uffd-wp PTE marker the model does not have).
    /// </summary>
    private static bool WpModelled(DiffExpectation e, ulong start, ulong len)
    {
        ulong end = Math.Min(start + len, UffdBounds.Pages * PageSize);
        for (ulong a = start / PageSize * PageSize; a < end; a += PageSize)
        {
            int p = (int)(a / PageSize);
            var pg = e.State.Pages[p];
            if (WpUnmodelled(e, p)) return false;
            if ((pg.VmFlags & VmUffdWp) != 0 && !MemTypes.IsAnon(pg.Type) && pg.Pte == UffdPage.PteNone) return false;
        }
        return true;
    }

    /// <summary>
    /// UFFDIO_WRITEPROTECT (protect or unprotect, which wakes) of a model range through a ready
    /// userfaultfd: a model page, its huge page, or any range of up to two pages (on hugetlbfs half a
    /// huge page is -EINVAL), where the model follows the kernel (<see cref="WpModelled"/>).
    /// </summary>
    private sealed class WriteProtect(int ctx, ulong start, ulong len, bool protect) : CtxStep(ctx)
    {
        public override bool Pre(DiffExpectation e) => e.State.Ctxs[Ctx - 1].State == UffdCtx.Ready && WpModelled(e, start, len);
        protected override int Model(UffdKernel k, ref UffdState s) => UffdKernel.WriteProtect(ref s, Ctx, start, len, protect);
        protected override int Kernel(KernelMm mm) => mm.WriteProtect(Ctx, start, len, protect);
        public override string ToString() => $"uffd{Ctx}: UFFDIO_WRITEPROTECT({RangeText(start, len)}, {(protect ? "MODE_WP" : "unprotect")})";
    }

    /// <summary>
    /// UFFDIO_COPY, UFFDIO_ZEROPAGE or UFFDIO_CONTINUE of a model range through a ready userfaultfd,
    /// not as the answer to a fault: on hugetlbfs a huge page at a time, -EINVAL for half of one and for
    /// ZEROPAGE; -ENOENT outside a registered VMA; -EEXIST, -EFAULT and the partial -EAGAIN as mfill_atomic() has them.
    /// </summary>
    private sealed class MfillStep(int ctx, ulong dst, ulong len, UffdKernel.Mfill mode) : CtxStep(ctx)
    {
        public override bool Pre(DiffExpectation e) => e.State.Ctxs[Ctx - 1].State == UffdCtx.Ready;
        public override string Kind => "UFFDIO_" + mode.ToString().ToUpperInvariant();
        protected override int Model(UffdKernel k, ref UffdState s) => UffdKernel.MfillAtomic(ref s, Ctx, dst, len, mode);
        protected override int Kernel(KernelMm mm) => mm.Mfill(Ctx, dst, len, mode);
        public override string ToString() => $"uffd{Ctx}: UFFDIO_{mode.ToString().ToUpperInvariant()}({RangeText(dst, len)})";
    }

    private static string RangeText(ulong start, ulong len) =>
        $"[page {start / PageSize}{(start % PageSize != 0 ? "+1 byte" : "")}, +{len / PageSize} page{(len / PageSize == 1 ? "" : "s")})";

    /// <summary>
    /// mremap() of model pages [first, first + count) away and back (<see cref="KernelMm.Mremap"/>):
    /// the return code, the VMAs after, and the UFFD_EVENT_REMAP messages (one per move, two in all,
    /// where the VMA's context asked for them). A range may span several VMAs (pages 1-2, 0-3). On
    /// hugetlbfs only whole huge pages are moved.
    /// </summary>
    private sealed class Mremap(int first, int count) : Step
    {
        public override bool Pre(DiffExpectation e)
        {
            for (int p = first; p < first + count; p++)
                if (MemTypes.IsHugetlb(e.State.Pages[p].Type) && (p / HugePages * HugePages < first || (p / HugePages + 1) * HugePages > first + count)) return false;
            return true;
        }
        protected override int Model(UffdKernel k, ref UffdState s) => k.Mremap(ref s, first, count);
        protected override int Kernel(KernelMm mm) => throw new InvalidOperationException("Check runs the kernel's mremap");
        public override DiffExpectation Run(DiffExpectation e)
        {
            int remap = UffdKernel.RemapEventCtx(e.State, first, count);
            var r = base.Run(e);
            return r with { Events = KernelMm.EventText(r.Rc == 0 && remap != 0 ? [(remap, UffdMsg.EventRemap), (remap, UffdMsg.EventRemap)] : []) };
        }
        public override Property Check(KernelMm mm, DiffExpectation e)
        {
            Counted();
            var (rc, events) = mm.Mremap(first, count);
            if (events != e.Events) return false.Label($"{this}: events: model {e.Events}, kernel {events}");
            return M.Agree(mm, e, rc);
        }
        public override string ToString() => $"mremap(page {first}, {count} page{(count > 1 ? "s" : "")}, MREMAP_MAYMOVE | MREMAP_FIXED elsewhere, then back)";
    }

    /// <summary>
    /// fork(): the child's VMAs (uffd bits and lock bit at every model page, read from its smaps while
    /// it is stopped) must be what dup_mmap() and dup_userfaultfd() make of the parent's in the model,
    /// the UFFD_EVENT_FORK messages one per context that asked for them, and the parent unchanged.
    /// </summary>
    private sealed class Fork : Step
    {
        protected override int Model(UffdKernel k, ref UffdState s)
        {
            var before = s.Broken;
            k.Fork(ref s);
            s.Broken = before; // what the child breaks is the explorer's business; here its bits are compared
            return 0;
        }
        protected override int Kernel(KernelMm mm) => throw new InvalidOperationException("Check runs the kernel's fork");
        public override DiffExpectation Run(DiffExpectation e)
        {
            var k = new UffdKernel(M._design);
            var child = new string[UffdBounds.Pages];
            var forkCtxs = new SortedSet<int>();
            for (int p = 0; p < UffdBounds.Pages; p++)
            {
                child[p] = string.Join(' ', M.Expected(k.ChildVmFlags(e.State, p)));
                if (UffdKernel.ChildKeepsCtx(e.State, p)) forkCtxs.Add(e.State.Pages[p].Ctx);
            }
            var r = base.Run(e);
            return r with { Child = child, Events = KernelMm.EventText(forkCtxs.Select(c => (c, UffdMsg.EventFork))) };
        }
        public override Property Check(KernelMm mm, DiffExpectation e)
        {
            Counted();
            var (rc, child, events) = mm.Fork();
            if (rc != 0) return false.Label($"fork(): kernel {Errno.Name(rc)}");
            if (events != e.Events) return false.Label($"fork(): events: model {e.Events}, kernel {events}");
            for (int p = 0; p < UffdBounds.Pages; p++)
            {
                string got = string.Join(' ', Compared.Where(child[p].Contains));
                if (got != e.Child![p])
                    return false.Label($"fork(): the child's page {p} ({MemTypes.Name(e.State.Pages[p].Type)}) VmFlags: model [{e.Child[p]}], kernel [{got}] (all: {string.Join(' ', child[p])})");
            }
            return M.Agree(mm, e, 0);
        }
        public override string ToString() => "fork() (the child stopped, its smaps read)";
    }

    /// <summary>
    /// A read or write fault at a model page, on a thread; a fault the model blocks must send the
    /// message the model sends (flags WRITE / MINOR / WP, and the address: the model page, or on
    /// hugetlbfs its huge page's start, unless the context asked for UFFD_FEATURE_EXACT_ADDRESS), and
    /// the handler resolves it with UFFDIO_COPY (missing), UFFDIO_CONTINUE (minor) or
    /// UFFDIO_WRITEPROTECT unprotecting (write-protect: a write to a page it protected) the model
    /// page, or its whole huge page on hugetlbfs, as the model then does. Not generated: a page
    /// registered WP through a context that negotiated WP_UNPOPULATED or WP_ASYNC (the model does not
    /// have them), a fault the model answers with SIGBUS (it would kill the test).
    /// </summary>
    private sealed class FaultStep(int page, bool write) : Step
    {
        public override bool Pre(DiffExpectation e)
        {
            var pg = e.State.Pages[page];
            if (pg.Type == MemType.None || pg.Waiter != 0 || WpUnmodelled(e, page)) return false;
            // A write to a hugetlbfs page whose PTE kept the uffd-wp bit after its VMA lost VM_UFFD_WP
            // (registered again without WP: register does not reset the PTEs) never finishes on 6.18:
            // hugetlb_fault() no longer takes the uffd-wp path, and hugetlb_wp() will not break the
            // protection ("never handle CoW for uffd-wp protected pages"), so the fault is retried for
            // ever (found by `differ uffd`, issue 19). Not generated: the thread would spin for good.
            if (write && MemTypes.IsHugetlb(pg.Type) && pg.Pte == UffdPage.PteUffdWp && (pg.VmFlags & VmUffdWp) == 0) return false;
            var s = e.State;
            return new UffdKernel(M._design).Fault(ref s, page, write) != UffdKernel.FaultOutcome.Sigbus;
        }

        protected override int Model(UffdKernel k, ref UffdState s) => 0;
        protected override int Kernel(KernelMm mm) => 0;

        public override DiffExpectation Run(DiffExpectation e)
        {
            var s = e.State;
            var o = new UffdKernel(M._design).Fault(ref s, page, write);
            if (o != UffdKernel.FaultOutcome.Blocked) return e.After(s, 0) with { Fault = "normal fault" };
            int ctx = s.Pages[page].WaiterCtx;
            ulong modes = s.Pages[page].WaiterModes;
            ulong flags = M._design.MessageFlags(M._design.VmFlagsOf(modes), write);
            ulong address = UffdKernel.MessageAddress(s, page, (e.FeaturesOf(ctx) & UffdFeatureExactAddress) != 0);
            var (at, len) = Unit(s, page);
            int rc = (modes & UffdioRegisterModeWp) != 0 ? UffdKernel.WriteProtect(ref s, ctx, at, len, protect: false)
                   : UffdKernel.MfillAtomic(ref s, ctx, at, len, (modes & UffdioRegisterModeMinor) != 0 ? UffdKernel.Mfill.Continue : UffdKernel.Mfill.Copy);
            return e.After(s, 0) with { Fault = $"blocked on uffd{ctx}, message flags 0x{flags:x} at page {address / PageSize}{(address % PageSize != 0 ? $"+0x{address % PageSize:x}" : "")}, resolved {(rc == 0 ? "0" : Errno.Name(rc))}" };
        }

        public override Property Check(KernelMm mm, DiffExpectation e)
        {
            Counted();
            var want = e.Fault!;
            int ctx = want.StartsWith("blocked on uffd", StringComparison.Ordinal) ? want[15] - '0' : 0;
            int first = UffdKernel.UnitStart(e.State, page), count = MemTypes.Unit(e.State.Pages[page].Type);
            var seen = mm.Fault(page, write, ctx, first, count);
            string got = seen.Blocked
                ? $"blocked on uffd{seen.Ctx}, message flags 0x{seen.Flags:x} at page {seen.Address / PageSize}{(seen.Address % PageSize != 0 ? $"+0x{seen.Address % PageSize:x}" : "")}, resolved {(seen.Resolution.EndsWith(" 0", StringComparison.Ordinal) ? "0" : seen.Resolution)}"
                : "normal fault";
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
    /// <summary>Faults taken on the kernel (shrinking's included): normal, resolved by UFFDIO_COPY, by UFFDIO_CONTINUE, by UFFDIO_WRITEPROTECT.</summary>
    public (long Normal, long Copied, long Continued, long Unprotected) Faults { get; init; }

    /// <summary>The steps run on the kernel (shrinking's included), by kind.</summary>
    public IReadOnlyDictionary<string, long> Steps { get; init; } = new Dictionary<string, long>();

    /// <summary>uffd events read during mremap and fork that the model does not have (UNMAP), not compared.</summary>
    public long OtherEvents { get; init; }

    public double CasesPerSecond => Cases / Math.Max(Time.TotalSeconds, 1e-9);
}

/// <summary>Runs <see cref="UffdKernelDiffer"/>: the memory types the kernel offers, a seed, a budget.</summary>
public static class UffdDiff
{
    public const int MaxOps = 30;
    public const string CheckName = "uffd reference against the running kernel (differ)";

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
    public static UffdDiffReport Run(int cases, ulong seed, ulong availableFeatures, bool hugetlb = true, UffdDesign? design = null, IReadOnlyList<MemType>? only = null)
    {
        var (free, size) = HugePages();
        bool huge = hugetlb && free >= HugePagesNeeded;
        var types = (only ?? MemTypes.All).Where(t => huge || !MemTypes.IsHugetlb(t)).ToArray();
        var machine = new UffdKernelDiffer(types, size, MaxOps, design);
        KernelMm.ResetFaultCounts();
        UffdKernelDiffer.ResetStepCounts();
        var clock = Stopwatch.StartNew();
        CheckResult result;
        try { result = FsRun.Run(CheckName, machine.ToProperty(), cases, seed); }
        finally { machine.Release(); }
        // A case the machine could not set up is no verdict, not a divergence.
        if (!result.Holds && result.Detail.Contains(nameof(KernelEnvironmentException), StringComparison.Ordinal))
        {
            int at = result.Detail.IndexOf(nameof(KernelEnvironmentException), StringComparison.Ordinal);
            string why = result.Detail[at..].Split('\n')[0];
            result = result with { BoundHit = true, Detail = $"no verdict: a case could not be set up: {why}" };
        }
        return new UffdDiffReport(KernelVersion(), Userfaultfd.FeatureNames(availableFeatures), types,
            huge ? null : hugetlb ? $"hugetlbfs cases skipped: {free} huge pages free, {HugePagesNeeded} needed" : "hugetlbfs cases skipped: not asked for",
            cases, clock.Elapsed, result)
        { Faults = KernelMm.FaultCounts, Steps = UffdKernelDiffer.StepsRun, OtherEvents = KernelMm.OtherEvents };
    }
}
