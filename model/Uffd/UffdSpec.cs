using System.Globalization;
using Multikernel.Model.Checking;
using Multikernel.Model.Kernel;
using static Multikernel.Model.Uffd.UffdConstants;

namespace Multikernel.Model.Uffd;

/// <summary>What a uffd step does.</summary>
public enum UffdOp : byte { Api, Register, Unregister, Close, Mlock, Munlock, Fault, Copy, Continue, WriteProtect, Fork, Mremap, Wake, MlockPopulate, CloseChild }

/// <summary>
/// One step: the operation and its arguments. <see cref="Ctx"/> is the userfaultfd (1-based);
/// <see cref="Choice"/> indexes <see cref="UffdSpec.FeatureChoices"/> (API) or <see cref="UffdSpec.Modes"/> (register);
/// <see cref="Range"/> indexes <see cref="UffdSpec.Ranges"/> (register, unregister) or is the VMA (mlock, munlock, mremap);
/// <see cref="Write"/> is the access of a fault, or MODE_WP of UFFDIO_WRITEPROTECT.
/// </summary>
public readonly record struct UffdAction(UffdOp Op, byte Ctx = 0, byte Range = 0, byte Choice = 0, byte Page = 0, bool Write = false);

/// <summary>
/// One mm with two VMAs (pages 0-1 and 2-3) and its userfaultfd contexts, as a state
/// machine over a design. Steps: UFFDIO_API (no features, UFFD_FEATURE_SIGBUS, or the
/// EVENT_FORK and EVENT_REMAP events),
/// UFFDIO_REGISTER / UNREGISTER over three ranges in four modes, close, mlock2(MLOCK_ONFAULT) / munlock of a
/// VMA that is not hugetlbfs, mlock() (populating) of a VMA no userfaultfd can intercept, read and write faults, UFFDIO_COPY, UFFDIO_CONTINUE
/// and UFFDIO_WRITEPROTECT (of a page, or of its huge page on hugetlbfs), UFFDIO_WAKE, fork() and mremap(). Pages 0 and 2
/// of shmem and the huge page of a shared hugetlbfs VMA A start in the page cache (their faults are minor faults,
/// <see cref="MemTypes.StartsCached"/>), the others do not. A BUG_ON that fires stops the machine.
/// </summary>
public sealed partial class UffdSpec : ISpec<UffdState, UffdAction>
{
    /// <summary>The features UFFDIO_API negotiates in the model: none, UFFD_FEATURE_SIGBUS, or the fork and remap events.</summary>
    public static readonly ulong[] FeatureChoices = [0, UffdFeatureSigbus, UffdFeatureEventFork | UffdFeatureEventRemap];

    /// <summary>
    /// The ranges register and unregister use: VMA A, VMA B, both. (Splitting a VMA in the
    /// middle and the huge-page alignment rule are covered by the register rules' tests.)
    /// </summary>
    public static readonly (ulong Start, ulong Len)[] Ranges = [(0, 2 * PageSize), (2 * PageSize, 2 * PageSize), (0, 4 * PageSize)];
    public static readonly ulong[] Modes = [UffdioRegisterModeMissing, UffdioRegisterModeWp, UffdioRegisterModeMinor, UffdioRegisterModeMissing | UffdioRegisterModeMinor];

    private readonly UffdKernel _k;
    /// <summary>uffd-bits-disjoint is a property of the design's constants: decided once, reported in every state.</summary>
    private readonly ulong _disjointBroken;
    private readonly Property[] _properties;

    public UffdSpec(UffdDesign design, UffdBounds? bounds = null)
    {
        Design = design;
        Bounds = bounds ?? UffdBounds.Default;
        if (Bounds.Validate() is { } problem) throw new ArgumentException(problem);
        _k = new UffdKernel(design);
        _disjointBroken = OverlappingFlag(design) != null ? Bit(UffdInvariant.UffdBitsDisjoint) : 0;
        _properties = UffdInvariants.Table.Properties();
        // A design of its own may change what mremap does to a VMA that keeps its context (EVENT_REMAP):
        // then that step is no longer a self-loop to leave out.
        _mremapHooked = design.GetType().GetMethod(nameof(UffdDesign.MremapVma))!.DeclaringType != typeof(UffdDesign);
    }

    private readonly bool _mremapHooked;

    public UffdDesign Design { get; }
    public UffdBounds Bounds { get; }
    public string Name => $"uffd/{Design.Name}";
    public IReadOnlyList<Property> Properties => _properties;

    public void Initial(List<UffdState> into)
    {
        foreach (var (a, b) in Bounds.Layouts)
            {
                var s = default(UffdState);
                for (int p = 0; p < UffdBounds.Pages; p++)
                {
                    var t = p < 2 ? a : b;
                    s.Pages[p] = new UffdPage { Type = t, VmFlags = MemTypes.MmapFlags(t), Cached = (byte)(MemTypes.StartsCached(t, p) ? 1 : 0) };
                }
                for (int c = Bounds.Contexts; c < UffdBounds.MaxContexts; c++) s.Ctxs[c].State = UffdCtx.Released;
                into.Add(s);
            }
    }

    public int Enabled(in UffdState s, Span<UffdAction> into)
    {
        if (s.Bug != 0) return 0; // BUG(): the kernel has stopped
        int n = 0;
        for (int c = 0; c < Bounds.Contexts; c++)
        {
            var st = s.Ctxs[c].State;
            byte ctx = (byte)(c + 1);
            if (st == UffdCtx.Open)
                for (int f = 0; f < FeatureChoices.Length; f++) into[n++] = new(UffdOp.Api, ctx, Choice: (byte)f);
            if (st == UffdCtx.Ready)
            {
                for (int r = 0; r < Ranges.Length; r++)
                {
                    for (int m = 0; m < Modes.Length; m++) into[n++] = new(UffdOp.Register, ctx, (byte)r, (byte)m);
                    into[n++] = new(UffdOp.Unregister, ctx, (byte)r);
                }
            }
            if (st != UffdCtx.Released) into[n++] = new(UffdOp.Close, ctx);
        }
        // Steps that cannot change anything (a second mlock, a read of a mapped page, resolving
        // what is not there) are left out: they are self-loops, and the explorer pays per step.
        // mlock2() / munlock() of a hugetlbfs VMA sets no flag (mlock_fixup() skips it) and its
        // populate step is not modelled (UffdKernel.Mlock): not offered.
        for (int v = 0; v < 4; v++)
        {
            int first = (v & 1) * 2;
            byte on = (byte)(v >> 1 == 0 ? 1 : 0);
            if (MemTypes.IsHugetlb(s.Pages[first].Type) || MemTypes.IsHugetlb(s.Pages[first + 1].Type)) continue;
            if (s.Pages[first].UserLocked != on || s.Pages[first + 1].UserLocked != on ||
                ((s.Pages[first].VmFlags & VmLocked) != 0) != (on != 0) || ((s.Pages[first + 1].VmFlags & VmLocked) != 0) != (on != 0))
                into[n++] = new(on != 0 ? UffdOp.Mlock : UffdOp.Munlock, Range: (byte)(v & 1));
        }
        for (int v = 0; v < 2; v++)
        {
            // mlock(): only where populate takes normal faults, and only when it changes something.
            int first = v * 2;
            if (!_k.PopulateIsPlain(s, first, 2)) continue;
            bool changes = false;
            for (int p = first; p < first + 2; p++)
                changes |= s.Pages[p].Pte == UffdPage.PteNone || (s.Pages[p].VmFlags & (VmLocked | VmLockonfault)) != VmLocked || s.Pages[p].UserLocked == 0;
            if (changes) into[n++] = new(UffdOp.MlockPopulate, Range: (byte)v);
        }
        for (int p = 0; p < UffdBounds.Pages; p++)
        {
            var pg = s.Pages[p];
            byte page = (byte)p;
            if (pg.Waiter == 0)
            {
                if (pg.Pte == UffdPage.PteNone) into[n++] = new(UffdOp.Fault, Page: page);
                if (pg.Pte != UffdPage.PtePresent) into[n++] = new(UffdOp.Fault, Page: page, Write: true);
            }
            if (pg.Waiter != 0 && pg.WaiterCtx != pg.Ctx && s.Ctxs[pg.WaiterCtx - 1].State == UffdCtx.Ready)
                into[n++] = new(UffdOp.Wake, (byte)pg.WaiterCtx, Page: page); // its VMA left the context (mremap): only UFFDIO_WAKE reaches it
            if (pg.Ctx == 0) continue; // only a context's owner resolves its faults
            if (UffdKernel.UnitStart(s, p) != p) continue; // a huge page is filled and protected whole, from its first page
            if (pg.Pte == UffdPage.PteNone)
            {
                if ((pg.RegModes & UffdioRegisterModeMissing) != 0) into[n++] = new(UffdOp.Copy, pg.Ctx, Page: page);
                if ((pg.RegModes & UffdioRegisterModeMinor) != 0) into[n++] = new(UffdOp.Continue, pg.Ctx, Page: page);
            }
            else if ((pg.RegModes & UffdioRegisterModeWp) != 0)
                into[n++] = new(UffdOp.WriteProtect, pg.Ctx, Page: page, Write: pg.Pte != UffdPage.PteUffdWp);
        }
        bool anyCtx = false;
        for (int v = 0; v < 2; v++)
        {
            var pg = s.Pages[v * 2];
            anyCtx |= pg.Ctx != 0 || s.Pages[v * 2 + 1].Ctx != 0;
            bool drops = (pg.Ctx != 0 && (s.Ctxs[pg.Ctx - 1].Features & UffdCtx.EventRemap) == 0) ||
                         (s.Pages[v * 2 + 1].Ctx is var c1 && c1 != 0 && (s.Ctxs[c1 - 1].Features & UffdCtx.EventRemap) == 0);
            bool moves = Design.MremapsHugetlb || !MemTypes.IsHugetlb(pg.Type); // a refused mremap changes nothing
            bool hooked = _mremapHooked && (pg.Ctx != 0 || s.Pages[v * 2 + 1].Ctx != 0);
            if ((drops || hooked) && moves) into[n++] = new(UffdOp.Mremap, Range: (byte)v);
        }
        if (anyCtx) into[n++] = new(UffdOp.Fork);
        if (s.ChildBad != 0) into[n++] = new(UffdOp.CloseChild);
        return n;
    }

    public UffdState Next(in UffdState s, in UffdAction a)
    {
        var t = s;
        Apply(ref t, a);
        return t;
    }

    /// <summary>Runs the step; returns the call's return value (faults: their outcome).</summary>
    private int Apply(ref UffdState t, in UffdAction a)
    {
        switch (a.Op)
        {
            case UffdOp.Api: return _k.Api(ref t, a.Ctx, UffdApi, FeatureChoices[a.Choice]);
            case UffdOp.Register: return _k.Register(ref t, a.Ctx, Ranges[a.Range].Start, Ranges[a.Range].Len, Modes[a.Choice]);
            case UffdOp.Unregister: return _k.Unregister(ref t, a.Ctx, Ranges[a.Range].Start, Ranges[a.Range].Len);
            case UffdOp.Close: _k.Release(ref t, a.Ctx); return 0;
            case UffdOp.Mlock: return UffdKernel.Mlock(ref t, a.Range * 2, 2, on: true);
            case UffdOp.Munlock: return UffdKernel.Mlock(ref t, a.Range * 2, 2, on: false);
            case UffdOp.MlockPopulate: return _k.MlockPopulate(ref t, a.Range * 2, 2);
            case UffdOp.CloseChild: UffdKernel.ReleaseChild(ref t); return 0;
            case UffdOp.Fault: return (int)_k.Fault(ref t, a.Page, a.Write);
            case UffdOp.Copy: return UffdKernel.Copy(ref t, a.Page);
            case UffdOp.Continue: return UffdKernel.Continue(ref t, a.Page);
            case UffdOp.WriteProtect: return UffdKernel.WriteProtect(ref t, a.Page, a.Write);
            case UffdOp.Fork: _k.Fork(ref t); return 0;
            case UffdOp.Mremap: return _k.Mremap(ref t, a.Range * 2, 2);
            case UffdOp.Wake: return UffdKernel.WakeIoctl(ref t, a.Ctx, a.Page);
            default: throw new ArgumentOutOfRangeException(nameof(a));
        }
    }

    public ulong Violated(in UffdState s)
    {
        ulong v = s.Broken;
        if (s.Bug != 0) v |= Bit(UffdInvariant.NoKernelBug);
        for (int p = 0; p < UffdBounds.Pages; p++)
        {
            var pg = s.Pages[p];
            if (pg.Type == MemType.None) continue;
            if ((pg.Ctx != 0) != ((pg.VmFlags & Design.VmUffdFlags) != 0)) v |= Bit(UffdInvariant.CtxIffUffdBit);
            if ((pg.UserLocked != 0) != ((pg.VmFlags & VmLocked) != 0)) v |= Bit(UffdInvariant.MlockSurvives);
            if (pg.Waiter != 0 && s.Ctxs[pg.WaiterCtx - 1].State != UffdCtx.Ready) v |= Bit(UffdInvariant.NoStrandedFault);
        }
        return v | _disjointBroken;
    }

    /// <summary>The name of a VM_* flag of the build that shares a bit with __VM_UFFD_FLAGS, or null.</summary>
    public static string? OverlappingFlag(UffdDesign d)
    {
        foreach (var (name, value) in d.OtherVmFlags) if ((value & d.VmUffdFlags) != 0) return name;
        return null;
    }

    private static ulong Bit(UffdInvariant i) => PropertyTable<UffdInvariant>.Bit(i);

    public ulong Reached(in UffdState s)
    {
        ulong r = 0;
        for (int p = 0; p < UffdBounds.Pages; p++)
        {
            byte w = s.Pages[p].WaiterModes;
            if ((w & UffdioRegisterModeMissing) != 0) r |= Bit(UffdInvariant.MissingFaultQueued);
            if ((w & UffdioRegisterModeMinor) != 0) r |= Bit(UffdInvariant.MinorFaultQueued);
            if ((w & UffdioRegisterModeWp) != 0) r |= Bit(UffdInvariant.WpFaultQueued);
        }
        return r;
    }

}
