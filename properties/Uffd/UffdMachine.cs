using FsCheck;
using FsCheck.Experimental;
using FsCheck.Fluent;
using Multikernel.Model.Kernel;
using Multikernel.Model.Uffd;
using IU = Multikernel.Impl.Uffd;
using static Multikernel.Model.Uffd.UffdConstants;

namespace Multikernel.Properties.Uffd;

/// <summary>The model's state after a call, and what the call should have returned.</summary>
public sealed record UffdExpectation(UffdState State, int Rc, UffdKernel.FaultOutcome Outcome = UffdKernel.FaultOutcome.None, ulong Message = 0, bool ChildOk = true)
{
    public override string ToString() => Outcome == UffdKernel.FaultOutcome.None
        ? $"model: {Errno.Name(Rc)}"
        : $"model: {Outcome}{(Outcome == UffdKernel.FaultOutcome.Blocked ? $", message flags 0x{Message:x}" : "")}";
}

/// <summary>
/// Model-based test of impl/Uffd against the reference design of the specification: random
/// UFFDIO_API (bad api numbers and features too), UFFDIO_REGISTER / UNREGISTER over random
/// ranges (unaligned, empty, past the end) and modes (0 and unknown bits too), close, mlock,
/// faults, COPY / ZEROPAGE / CONTINUE and WRITEPROTECT over ranges (unaligned, half a huge page
/// too), WAKE, mremap and fork, on a random layout of two
/// VMAs. After every call: the same return code or fault outcome and message flags, the same
/// VMAs (split and merged as the kernel does) with the same flags and contexts, the same pages.
/// </summary>
public sealed class UffdMachine(IU.UffdImplDefects defects, int maxOps) : Machine<IU.MmStruct, UffdExpectation>(maxOps)
{
    private static readonly UffdDesign Design = UffdDesigns.Reference;
    private static readonly UffdKernel K = new(Design);

    public override Arbitrary<Setup<IU.MmStruct, UffdExpectation>> Setup =>
        Arb.From(from a in Gen.Elements(MemTypes.All) from b in Gen.Elements(MemTypes.All)
                 select (Setup<IU.MmStruct, UffdExpectation>)new Start(a, b, defects));

    private sealed class Start(MemType a, MemType b, IU.UffdImplDefects defects) : Setup<IU.MmStruct, UffdExpectation>
    {
        public override IU.MmStruct Actual()
        {
            var mm = new IU.MmStruct([((IU.MemType)a, 2), ((IU.MemType)b, 2)], defects);
            for (int p = 0; p < UffdBounds.Pages; p++)
                if (MemTypes.StartsCached(p < 2 ? a : b, p)) mm.PopulatePageCache(p);
            mm.UserfaultfdCreate();
            mm.UserfaultfdCreate();
            return mm;
        }

        public override UffdExpectation Model()
        {
            var init = new List<UffdState>();
            new UffdSpec(Design, new UffdBounds { Layouts = [(a, b)], Contexts = 2 }).Initial(init);
            return new UffdExpectation(init[0], 0);
        }

        public override string ToString() => $"layout {MemTypes.Name(a)} + {MemTypes.Name(b)}";
    }

    public override Gen<Operation<IU.MmStruct, UffdExpectation>> Next(UffdExpectation e)
    {
        var ctx = Gen.Elements(1, 2);
        var page = Gen.Choose(0, UffdBounds.Pages - 1);
        var start = from p in Gen.Choose(0, 4) from odd in Gen.Frequency((9, Gen.Constant(0UL)), (1, Gen.Constant(1UL))) select (ulong)p * PageSize + odd;
        var len = Gen.Choose(0, 4).Select(n => (ulong)n * PageSize);
        var mode = Gen.Frequency((8, Gen.Elements(1UL, 2UL, 4UL, 3UL, 5UL, 6UL, 7UL)), (1, Gen.Elements(0UL, 8UL, 9UL)));
        // Fill and write-protect ranges: one or two pages (a huge page on hugetlbfs), sometimes a byte off or empty.
        var fill = from p in Gen.Choose(0, UffdBounds.Pages - 1) from n in Gen.Frequency((8, Gen.Choose(1, 2)), (1, Gen.Constant(0)))
                   from odd in Gen.Frequency((12, Gen.Constant(0UL)), (1, Gen.Constant(1UL)))
                   select ((ulong)p * PageSize + odd, (ulong)n * PageSize);
        var freePages = Enumerable.Range(0, UffdBounds.Pages).Where(p => e.State.Pages[p].Waiter == 0).ToArray();
        var ops = new List<(int, Gen<Operation<IU.MmStruct, UffdExpectation>>)>
        {
            (2, from c in ctx from api in Gen.Frequency((9, Gen.Constant(UffdApi)), (1, Gen.Constant(0xABUL)))
                from f in Gen.Elements(0UL, UffdFeatureSigbus, UffdFeatureEventFork | UffdFeatureEventRemap, 1UL << 40)
                select Op(new Api(c, api, f))),
            (6, from c in ctx from s in start from l in len from m in mode select Op(new Register(c, s, l, m))),
            (3, from c in ctx from s in start from l in len select Op(new Unregister(c, s, l))),
            (1, ctx.Select(c => Op(new Close(c)))),
            (2, from v in Gen.Elements(0, 1) from locks in Gen.Elements(true, false) select Op(new Mlock(v, locks))),
            (1, Gen.Elements(0, 1).Select(v => Op(new MlockPopulate(v)))),
            (4, from c in ctx from r in fill from m in Gen.Elements(UffdKernel.Mfill.Copy, UffdKernel.Mfill.Zeropage, UffdKernel.Mfill.Continue)
                select Op(new MfillStep(c, r.Item1, r.Item2, m))),
            (2, from c in ctx from r in fill from protect in Gen.Elements(true, false) select Op(new WriteProtect(c, r.Item1, r.Item2, protect))),
            (1, from c in ctx from p in page select Op(new Wake(c, p))),
            (1, Gen.Elements(0, 1).Select(v => Op(new Mremap(v)))),
            (1, Gen.Constant(Op(new Fork()))),
        };
        if (freePages.Length > 0)
            ops.Add((6, from p in Gen.Elements(freePages) from w in Gen.Elements(true, false) select Op(new Fault(p, w))));
        return Gen.Frequency(ops.ToArray());
    }

    private static Operation<IU.MmStruct, UffdExpectation> Op(Operation<IU.MmStruct, UffdExpectation> o) => o;

    /// <summary>The implementation's VMAs, pages and return value must be the model's.</summary>
    private static Property Agree(IU.MmStruct mm, UffdExpectation e, int rc, IU.FaultResult? fault = null)
    {
        if (fault is { } f)
        {
            if ((int)f.Outcome != (int)e.Outcome) return false.Label($"fault: {f.Outcome}, the model: {e.Outcome}");
            if (f.Outcome == IU.FaultOutcome.Blocked && f.MessageFlags != e.Message)
                return false.Label($"message flags 0x{f.MessageFlags:x}, the model 0x{e.Message:x}");
        }
        else if (rc != e.Rc) return false.Label($"returned {Errno.Name(rc)}, the model returns {Errno.Name(e.Rc)}");
        string want = ExpectedVmas(e.State), got = string.Join("; ", mm.Vmas.ToArray().Select(Describe));
        if (want != got) return false.Label($"VMAs [{got}], the model has [{want}]");
        for (int p = 0; p < UffdBounds.Pages; p++)
        {
            var s = e.State.Pages[p];
            if (mm.Pte(p) != s.Pte || mm.Cached(p) != (s.Cached != 0) || mm.WaiterCtx(p) != s.WaiterCtx)
                return false.Label($"page {p}: pte {mm.Pte(p)} cached {mm.Cached(p)} waiter on {mm.WaiterCtx(p)}, the model: pte {s.Pte} cached {s.Cached != 0} waiter on {s.WaiterCtx}");
        }
        return true.ToProperty();
    }

    private static string Describe(IU.Vma v) => $"[{v.Start:x},{v.End:x}) {MemTypes.Name((MemType)v.Type)} 0x{v.VmFlags:x} ctx{v.Ctx}";

    /// <summary>The model's pages as the kernel's VMAs: runs of one file (or anonymous memory) with equal flags and context.</summary>
    private static string ExpectedVmas(in UffdState s)
    {
        var runs = new List<string>();
        int start = 0;
        for (int p = 1; p <= UffdBounds.Pages; p++)
        {
            if (p < UffdBounds.Pages && Same(s, start, p)) continue;
            var pg = s.Pages[start];
            runs.Add(Describe(new IU.Vma { Start = (ulong)start * PageSize, End = (ulong)p * PageSize, Type = (IU.MemType)pg.Type, VmFlags = pg.VmFlags, Ctx = pg.Ctx }));
            start = p;
        }
        return string.Join("; ", runs);
    }

    private static bool Same(in UffdState s, int a, int b) => UffdKernel.SameVma(s, a, b);

    private abstract class Call : Operation<IU.MmStruct, UffdExpectation>
    {
        protected abstract int Model(ref UffdState s);
        protected abstract int Actual(IU.MmStruct mm);
        public override UffdExpectation Run(UffdExpectation e)
        {
            var s = e.State;
            int rc = Model(ref s);
            return new UffdExpectation(s, rc);
        }
        public override Property Check(IU.MmStruct mm, UffdExpectation e) => Agree(mm, e, Actual(mm));
    }

    private sealed class Api(int ctx, ulong api, ulong features) : Call
    {
        protected override int Model(ref UffdState s) => K.Api(ref s, ctx, api, features);
        protected override int Actual(IU.MmStruct mm) => mm.Api(ctx, api, features);
        public override string ToString() => $"uffd{ctx}: UFFDIO_API(0x{api:x}, features 0x{features:x})";
    }

    private sealed class Register(int ctx, ulong start, ulong len, ulong mode) : Call
    {
        protected override int Model(ref UffdState s) => K.Register(ref s, ctx, start, len, mode);
        protected override int Actual(IU.MmStruct mm) => mm.Register(ctx, start, len, mode);
        public override string ToString() => $"uffd{ctx}: UFFDIO_REGISTER([0x{start:x}, +0x{len:x}), mode {mode})";
    }

    private sealed class Unregister(int ctx, ulong start, ulong len) : Call
    {
        protected override int Model(ref UffdState s) => K.Unregister(ref s, ctx, start, len);
        protected override int Actual(IU.MmStruct mm) => mm.Unregister(ctx, start, len);
        public override string ToString() => $"uffd{ctx}: UFFDIO_UNREGISTER([0x{start:x}, +0x{len:x}))";
    }

    private sealed class Close(int ctx) : Call
    {
        protected override int Model(ref UffdState s) => K.Release(ref s, ctx) ? 0 : throw new InvalidOperationException("the reference BUG()s in userfaultfd_release()");
        protected override int Actual(IU.MmStruct mm) { mm.Release(ctx); return 0; }
        public override string ToString() => $"close(uffd{ctx})";
    }

    private sealed class Mlock(int vma, bool on) : Call
    {
        // mlock2() of a hugetlbfs VMA populates it: not modelled (UffdKernel.Mlock).
        public override bool Pre(UffdExpectation e) => !MemTypes.IsHugetlb(e.State.Pages[vma * 2].Type);
        protected override int Model(ref UffdState s) => UffdKernel.Mlock(ref s, vma * 2, 2, on);
        protected override int Actual(IU.MmStruct mm) => mm.Mlock((ulong)vma * 2 * PageSize, 2 * PageSize, on);
        public override string ToString() => $"{(on ? "mlock2" : "munlock")}(VMA {(vma == 0 ? "A" : "B")})";
    }

    private sealed class MlockPopulate(int vma) : Call
    {
        // Populating through a userfaultfd hook is not modelled (UffdKernel.MlockPopulate).
        public override bool Pre(UffdExpectation e) => K.PopulateIsPlain(e.State, vma * 2, 2);
        protected override int Model(ref UffdState s) => K.MlockPopulate(ref s, vma * 2, 2);
        protected override int Actual(IU.MmStruct mm) => mm.Mlock((ulong)vma * 2 * PageSize, 2 * PageSize, on: true, onFault: false);
        public override string ToString() => $"mlock(VMA {(vma == 0 ? "A" : "B")})";
    }

    private sealed class MfillStep(int ctx, ulong dst, ulong len, UffdKernel.Mfill mode) : Call
    {
        protected override int Model(ref UffdState s) => UffdKernel.MfillAtomic(ref s, ctx, dst, len, mode);
        protected override int Actual(IU.MmStruct mm) => mm.MfillAtomic(ctx, dst, len, (IU.MmStruct.Mfill)mode);
        public override string ToString() => $"uffd{ctx}: UFFDIO_{mode.ToString().ToUpperInvariant()}([0x{dst:x}, +0x{len:x}))";
    }

    private sealed class WriteProtect(int ctx, ulong start, ulong len, bool on) : Call
    {
        protected override int Model(ref UffdState s) => UffdKernel.WriteProtect(ref s, ctx, start, len, on);
        protected override int Actual(IU.MmStruct mm) => mm.WriteProtect(ctx, start, len, on);
        public override string ToString() => $"uffd{ctx}: UFFDIO_WRITEPROTECT([0x{start:x}, +0x{len:x}), {(on ? "MODE_WP" : "unprotect")})";
    }

    private sealed class Wake(int ctx, int page) : Call
    {
        protected override int Model(ref UffdState s) => UffdKernel.WakeIoctl(ref s, ctx, page);
        protected override int Actual(IU.MmStruct mm) => mm.Wake(ctx, (ulong)page * PageSize);
        public override string ToString() => $"uffd{ctx}: UFFDIO_WAKE(page {page})";
    }

    private sealed class Mremap(int vma) : Call
    {
        protected override int Model(ref UffdState s) => K.Mremap(ref s, vma * 2, 2);
        protected override int Actual(IU.MmStruct mm) => mm.Mremap((ulong)vma * 2 * PageSize, 2 * PageSize);
        public override string ToString() => $"mremap(VMA {(vma == 0 ? "A" : "B")})";
    }

    private sealed class Fault(int page, bool write) : Operation<IU.MmStruct, UffdExpectation>
    {
        public override bool Pre(UffdExpectation e) => e.State.Pages[page].Waiter == 0; // its thread is not blocked already
        public override UffdExpectation Run(UffdExpectation e)
        {
            var s = e.State;
            var o = K.Fault(ref s, page, write);
            ulong msg = o == UffdKernel.FaultOutcome.Blocked ? Design.MessageFlags(Design.VmFlagsOf(s.Pages[page].WaiterModes), write) : 0;
            return new UffdExpectation(s, 0, o, msg);
        }
        public override Property Check(IU.MmStruct mm, UffdExpectation e) => Agree(mm, e, 0, mm.HandleMmFault((ulong)page * PageSize, write));
        public override string ToString() => $"{(write ? "write" : "read")} fault at page {page}";
    }

    private sealed class Fork : Operation<IU.MmStruct, UffdExpectation>
    {
        public override UffdExpectation Run(UffdExpectation e)
        {
            var s = e.State;
            ushort before = s.Broken;
            K.Fork(ref s);
            bool ok = s.Broken == before;
            s.Broken = before;
            return new UffdExpectation(s, 0, ChildOk: ok);
        }
        public override Property Check(IU.MmStruct mm, UffdExpectation e)
        {
            bool ok = mm.ForkChildVmas().All(v => IU.MmStruct.CtxIffUffdBit(v));
            return ok == e.ChildOk ? Agree(mm, e, 0) : false.Label($"the child's VMAs are {(ok ? "" : "not ")}consistent; the model says {(e.ChildOk ? "" : "not ")}");
        }
        public override string ToString() => "fork()";
    }
}
