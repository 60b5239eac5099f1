using System.Globalization;
using Multikernel.Model.Checking;
using Multikernel.Model.Kernel;
using static Multikernel.Model.Uffd.UffdConstants;

namespace Multikernel.Model.Uffd;

/// <summary>
/// One mm with two VMAs (pages 0-1 and 2-3) and its userfaultfd contexts, as a state
/// machine over a design. Steps: UFFDIO_API (no features, UFFD_FEATURE_SIGBUS, or the
/// EVENT_FORK and EVENT_REMAP events),
/// UFFDIO_REGISTER / UNREGISTER over three ranges in four modes, close, mlock / munlock, read and write faults, UFFDIO_COPY, UFFDIO_CONTINUE
/// and UFFDIO_WRITEPROTECT, UFFDIO_WAKE, fork() and mremap(). Pages 0 and 2 start in the page cache (their faults are
/// minor faults on shmem and hugetlbfs), pages 1 and 3 do not.
/// </summary>
public sealed class UffdSpec : ISpec<UffdState>
{
    private const byte ApiActor = 1, RegisterActor = 2, UnregisterActor = 3, CloseActor = 4, MlockActor = 5,
        FaultActor = 6, CopyActor = 7, ContinueActor = 8, WpActor = 9, ForkActor = 10, MremapActor = 11, WakeActor = 12;

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
        _properties = UffdInvariants.All.Select(i => new Property(UffdInvariants.Name(i), PropertyKind.Always,
            UffdInvariants.Statement(i), UffdInvariants.Source(i))).ToArray();
    }

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
                    s.Pages[p] = new UffdPage { Type = t, VmFlags = MemTypes.MmapFlags(t), Cached = (byte)(MemTypes.HasPageCache(t) && p % 2 == 0 ? 1 : 0) };
                }
                for (int c = Bounds.Contexts; c < UffdBounds.MaxContexts; c++) s.Ctxs[c].State = UffdCtx.Released;
                into.Add(s);
            }
    }

    public int Enabled(in UffdState s, Span<Step> into)
    {
        int n = 0;
        for (int c = 0; c < Bounds.Contexts; c++)
        {
            var st = s.Ctxs[c].State;
            if (st == UffdCtx.Open)
                for (int f = 0; f < FeatureChoices.Length; f++) into[n++] = new Step(ApiActor, (byte)((c << 2) | f));
            if (st == UffdCtx.Ready)
            {
                for (int r = 0; r < Ranges.Length; r++)
                {
                    for (int m = 0; m < Modes.Length; m++) into[n++] = new Step(RegisterActor, (byte)((c << 4) | (r << 2) | m));
                    into[n++] = new Step(UnregisterActor, (byte)((c << 2) | r));
                }
            }
            if (st != UffdCtx.Released) into[n++] = new Step(CloseActor, (byte)c);
        }
        // Steps that cannot change anything (a second mlock, a read of a mapped page, resolving
        // what is not there) are left out: they are self-loops, and the explorer pays per step.
        for (int v = 0; v < 4; v++)
        {
            int first = (v & 1) * 2;
            byte on = (byte)(v >> 1 == 0 ? 1 : 0);
            if (s.Pages[first].UserLocked != on || s.Pages[first + 1].UserLocked != on ||
                ((s.Pages[first].VmFlags & VmLocked) != 0) != (on != 0) || ((s.Pages[first + 1].VmFlags & VmLocked) != 0) != (on != 0))
                into[n++] = new Step(MlockActor, (byte)v); // VMA (v & 1), lock (v >> 1)
        }
        for (int p = 0; p < UffdBounds.Pages; p++)
        {
            var pg = s.Pages[p];
            if (pg.Waiter == 0)
            {
                if (pg.Pte == UffdPage.PteNone) into[n++] = new Step(FaultActor, (byte)(p << 1));
                if (pg.Pte != UffdPage.PtePresent) into[n++] = new Step(FaultActor, (byte)((p << 1) | 1));
            }
            if (pg.Waiter != 0 && pg.WaiterCtx != pg.Ctx && s.Ctxs[pg.WaiterCtx - 1].State == UffdCtx.Ready)
                into[n++] = new Step(WakeActor, (byte)p); // its VMA left the context (mremap): only UFFDIO_WAKE reaches it
            if (pg.Ctx == 0) continue; // only a context's owner resolves its faults
            if (pg.Pte == UffdPage.PteNone)
            {
                if ((pg.RegModes & UffdioRegisterModeMissing) != 0) into[n++] = new Step(CopyActor, (byte)p);
                if ((pg.RegModes & UffdioRegisterModeMinor) != 0) into[n++] = new Step(ContinueActor, (byte)p);
            }
            else if ((pg.RegModes & UffdioRegisterModeWp) != 0)
                into[n++] = new Step(WpActor, (byte)((p << 1) | (pg.Pte == UffdPage.PteUffdWp ? 0 : 1)));
        }
        bool anyCtx = false;
        for (int v = 0; v < 2; v++)
        {
            var pg = s.Pages[v * 2];
            anyCtx |= pg.Ctx != 0 || s.Pages[v * 2 + 1].Ctx != 0;
            bool drops = (pg.Ctx != 0 && (s.Ctxs[pg.Ctx - 1].Features & UffdCtx.EventRemap) == 0) ||
                         (s.Pages[v * 2 + 1].Ctx is var c1 && c1 != 0 && (s.Ctxs[c1 - 1].Features & UffdCtx.EventRemap) == 0);
            if (drops) into[n++] = new Step(MremapActor, (byte)v);
        }
        if (anyCtx) into[n++] = new Step(ForkActor);
        return n;
    }

    public UffdState Next(in UffdState s, Step step)
    {
        var t = s;
        Apply(ref t, step);
        return t;
    }

    /// <summary>Runs the step; returns the call's return value (faults: their outcome).</summary>
    private int Apply(ref UffdState t, Step step)
    {
        int a = step.Arg;
        switch (step.Actor)
        {
            case ApiActor: return _k.Api(ref t, (a >> 2) + 1, UffdApi, FeatureChoices[a & 3]);
            case RegisterActor: { var r = Ranges[(a >> 2) & 3]; return _k.Register(ref t, (a >> 4) + 1, r.Start, r.Len, Modes[a & 3]); }
            case UnregisterActor: { var r = Ranges[a & 3]; return _k.Unregister(ref t, (a >> 2) + 1, r.Start, r.Len); }
            case CloseActor: _k.Release(ref t, a + 1); return 0;
            case MlockActor: return UffdKernel.Mlock(ref t, (a & 1) * 2, 2, (a >> 1) == 0);
            case FaultActor: return (int)_k.Fault(ref t, a >> 1, (a & 1) != 0);
            case CopyActor: return UffdKernel.Copy(ref t, a);
            case ContinueActor: return UffdKernel.Continue(ref t, a);
            case WpActor: return UffdKernel.WriteProtect(ref t, a >> 1, (a & 1) != 0);
            case ForkActor: _k.Fork(ref t); return 0;
            case MremapActor: _k.Mremap(ref t, a * 2, 2); return 0;
            case WakeActor: return UffdKernel.WakeIoctl(ref t, t.Pages[a].WaiterCtx, a);
            default: throw new ArgumentOutOfRangeException(nameof(step));
        }
    }

    public ulong Violated(in UffdState s)
    {
        ulong v = s.Broken;
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
        foreach (var (name, value) in OtherVmFlags) if ((value & d.VmUffdFlags) != 0) return name;
        return null;
    }

    private static ulong Bit(UffdInvariant i) => 1UL << (int)i;

    public ulong Pending(in UffdState s) => 0;

    // ---- presentation ------------------------------------------------------------

    private static string Hex(ulong v) => "0x" + v.ToString("x4", CultureInfo.InvariantCulture);
    private static string RangeText(int r) => $"[{Hex(Ranges[r].Start)}, {Hex(Ranges[r].Start + Ranges[r].Len)})";
    private static string ModeText(ulong m) => string.Join("|",
        new[] { (UffdioRegisterModeMissing, "MISSING"), (UffdioRegisterModeWp, "WP"), (UffdioRegisterModeMinor, "MINOR") }
            .Where(x => (m & x.Item1) != 0).Select(x => "MODE_" + x.Item2));

    public string Describe(in UffdState s, Step step)
    {
        var t = s;
        int rc = Apply(ref t, step);
        int a = step.Arg;
        string ret = Errno.Name(rc);
        return step.Actor switch
        {
            ApiActor => $"uffd{(a >> 2) + 1}: ioctl(UFFDIO_API, {{api: UFFD_API, features: {FeatureText(FeatureChoices[a & 3])}}}) = {ret}",
            ForkActor => "fork(): dup_mmap() and dup_userfaultfd() make the child's VMAs",
            MremapActor => $"mremap({Hex((ulong)a * 2 * PageSize)}, {Hex(2 * PageSize)}, …, MREMAP_MAYMOVE): mremap_userfaultfd_prep()",
            WakeActor => $"uffd{s.Pages[a].WaiterCtx}: ioctl(UFFDIO_WAKE, {Hex((ulong)a * PageSize)}) = {ret}",
            RegisterActor => $"uffd{(a >> 4) + 1}: ioctl(UFFDIO_REGISTER, {RangeText((a >> 2) & 3)}, {ModeText(Modes[a & 3])}) = {ret}",
            UnregisterActor => $"uffd{(a >> 2) + 1}: ioctl(UFFDIO_UNREGISTER, {RangeText(a & 3)}) = {ret}",
            CloseActor => $"close(uffd{a + 1}): userfaultfd_release()",
            MlockActor => (a >> 1) == 0
                ? $"mlock2({Hex((ulong)(a & 1) * 2 * PageSize)}, {Hex(2 * PageSize)}, MLOCK_ONFAULT) = {ret}"
                : $"munlock({Hex((ulong)(a & 1) * 2 * PageSize)}, {Hex(2 * PageSize)}) = {ret}",
            FaultActor => $"{((a & 1) != 0 ? "write" : "read")} fault at {Hex((ulong)(a >> 1) * PageSize)}: {FaultText((UffdKernel.FaultOutcome)rc, s, t, a >> 1)}",
            CopyActor => $"ioctl(UFFDIO_COPY, {Hex((ulong)a * PageSize)}) = {ret}",
            ContinueActor => $"ioctl(UFFDIO_CONTINUE, {Hex((ulong)a * PageSize)}) = {ret}",
            WpActor => $"ioctl(UFFDIO_WRITEPROTECT, {Hex((ulong)(a >> 1) * PageSize)}, {((a & 1) != 0 ? "MODE_WP" : "0")}) = {ret}",
            _ => "?",
        };
    }

    private string FaultText(UffdKernel.FaultOutcome o, in UffdState before, in UffdState after, int p) => o switch
    {
        UffdKernel.FaultOutcome.Normal => "normal fault, page mapped",
        UffdKernel.FaultOutcome.Blocked => $"handle_userfault({ReasonText(after.Pages[p].WaiterModes)}): message queued, thread waits",
        UffdKernel.FaultOutcome.Sigbus => before.Pages[p].Ctx == 0 ? "handle_userfault() without a context: SIGBUS" : "handle_userfault(): SIGBUS",
        _ => "?",
    };

    private static string FeatureText(ulong f) => f == 0 ? "0" : string.Join("|",
        new[] { (UffdFeatureSigbus, "SIGBUS"), (UffdFeatureEventFork, "EVENT_FORK"), (UffdFeatureEventRemap, "EVENT_REMAP") }
            .Where(x => (f & x.Item1) != 0).Select(x => "UFFD_FEATURE_" + x.Item2));

    private static string ReasonText(byte modes) => ModeText(modes).Replace("MODE_", "VM_UFFD_", StringComparison.Ordinal);

    public void Render(in UffdState s, List<TraceVar> into)
    {
        // One variable per VMA: maximal runs of pages with equal type, flags and context.
        for (int p = 0; p < UffdBounds.Pages;)
        {
            int q = p + 1;
            while (q < UffdBounds.Pages && SameVma(s.Pages[p], s.Pages[q])) q++;
            var pg = s.Pages[p];
            into.Add(new($"vma[{Hex((ulong)p * PageSize)}-{Hex((ulong)q * PageSize)})", TraceValue.Record(
                ("type", TraceValue.Of(MemTypes.Name(pg.Type))),
                ("vm_flags", TraceValue.Of(FlagText(pg.VmFlags))),
                ("ctx", TraceValue.Of(pg.Ctx == 0 ? "NULL" : $"uffd{pg.Ctx}")))));
            p = q;
        }
        for (int p = 0; p < UffdBounds.Pages; p++)
        {
            var pg = s.Pages[p];
            into.Add(new($"page{p}", TraceValue.Record(
                ("pte", TraceValue.Of(pg.Pte switch { UffdPage.PtePresent => "present", UffdPage.PteUffdWp => "present, uffd-wp", _ => "none" })),
                ("page_cache", TraceValue.Of(pg.Cached != 0)),
                ("waiter", TraceValue.Of(pg.Waiter == 0 ? "-" : $"{ReasonText(pg.WaiterModes)} on uffd{pg.WaiterCtx}")),
                ("mlocked_by_user", TraceValue.Of(pg.UserLocked != 0)))));
        }
        for (int c = 0; c < Bounds.Contexts; c++)
            into.Add(new($"uffd{c + 1}", TraceValue.Of(s.Ctxs[c].State switch
            {
                UffdCtx.Open => "open (no UFFDIO_API yet)",
                UffdCtx.Ready => s.Ctxs[c].Features == 0 ? "ready" : "ready, " + FeatureText(
                    ((s.Ctxs[c].Features & UffdCtx.Sigbus) != 0 ? UffdFeatureSigbus : 0) |
                    ((s.Ctxs[c].Features & UffdCtx.EventFork) != 0 ? UffdFeatureEventFork : 0) |
                    ((s.Ctxs[c].Features & UffdCtx.EventRemap) != 0 ? UffdFeatureEventRemap : 0)),
                _ => "closed",
            })));
    }

    private static bool SameVma(in UffdPage a, in UffdPage b) => a.Type == b.Type && a.VmFlags == b.VmFlags && a.Ctx == b.Ctx;

    /// <summary>vm_flags as a number and the bits that matter here by name (a shared bit shows both names).</summary>
    private string FlagText(ulong f)
    {
        var names = new List<string>();
        if ((f & VmUffdMissing) != 0) names.Add("VM_UFFD_MISSING");
        if ((f & VmUffdWp) != 0) names.Add("VM_UFFD_WP");
        if ((f & Design.VmUffdMinor) != 0) names.Add("VM_UFFD_MINOR");
        if ((f & VmLocked) != 0) names.Add("VM_LOCKED");
        if ((f & VmShared) != 0) names.Add("VM_SHARED");
        if ((f & VmHugetlb) != 0) names.Add("VM_HUGETLB");
        return "0x" + f.ToString("x", CultureInfo.InvariantCulture) + (names.Count > 0 ? " (" + string.Join("|", names) + ")" : "");
    }
}
