using System.Collections.Immutable;
using System.Numerics;
using Multikernel.Model.Checking;
using static Multikernel.Model.Balloon.BalloonConstants;

namespace Multikernel.Model.Balloon;

/// <summary>
/// The specification's reference design (<see cref="BalloonDesign"/>) executed one API call at a
/// time, with its hypervisor: what impl/Balloon is compared with (FsCheck Machine). The model holds
/// the specification's own state (<see cref="BalloonState"/>) and every call is a sequence of the
/// specification's steps (<see cref="BalloonSpec.Next"/>), each one enabled there
/// (<see cref="BalloonSpec.Enabled"/>): a work item is the poll timer's steps (the reset if one is
/// pending: pop, START, GUEST_ID; then GET_TARGET) and then the balloon thread's until it is idle or
/// its inflation cycle ends (or a deflation unlocks nothing); a host call is the specification's host step. So a defect planted in
/// the design (a <see cref="BalloonDesign.Defect"/>) is a defect of this model, and the
/// implementation check catches it.
/// What the model decides beside the specification (each is the environment's or a scheduler's
/// choice, never a step): when the host injects its faults (a RESET at a chosen command, a refusal
/// of the next LOCK's first page: the host's budget is given just for that step); that mainline's
/// work asks for the target every time (the specification's timer polls only while the target may
/// be stale, so the model marks it stale before each work item); and which pages a deflation takes
/// (the specification takes the lowest; the kernel's page list gives back the most recently
/// ballooned first: the model keeps that list). Pages are allocated in page order, as the
/// specification's requests take them (the implementation's memory is given that order).
/// Immutable: every call returns a new model.
/// </summary>
public sealed record BalloonApiModel
{
    /// <summary>Steps one work item may take before the model calls it a hang of the design.</summary>
    public const int MaxWorkSteps = 256;

    private readonly BalloonSpec _spec;

    private BalloonApiModel(BalloonSpec spec, BalloonState s)
    {
        _spec = spec;
        State = s;
    }

    /// <param name="pages">Guest pages (page i's PFN is the specification's <see cref="BalloonBounds.Pfn"/>).</param>
    /// <param name="highPfn">Page 0's PFN is ≥ 2^32 (the specification's high-pfn).</param>
    /// <param name="batching">Requests go as BATCHED_LOCK / UNLOCK of up to two pages (the specification's batch), else one LOCK / UNLOCK per page.</param>
    /// <param name="design">The reference design (default) or one of its mutants: exactly a <see cref="BalloonDesign"/>.</param>
    public static BalloonApiModel Start(int pages, bool highPfn, bool batching, BalloonDesign? design = null)
    {
        design ??= BalloonDesigns.Reference;
        ApiModels.RequireReferenceOrMutant(design, typeof(BalloonDesign), "balloon");
        var bounds = new BalloonBounds { Pages = pages, Target = 0, Resets = 0, Refusals = 0, Changes = 0, HighPfn = highPfn, HugeTarget = true, Batch = batching };
        var spec = new BalloonSpec(design, bounds);
        var init = new List<BalloonState>();
        spec.Initial(init);
        var m = new BalloonApiModel(spec, init[0]) { Frames = [.. Enumerable.Range(0, pages).Select(bounds.Pfn)] };
        // Module init registers the device and probe succeeds (find_vqs(), then the driver runs).
        return m.Step(new BalloonAction(BalloonActor.Init, Arg: 0)).Step(new BalloonAction(BalloonActor.Init, Arg: 2));
    }

    public BalloonDesign Design => _spec.Design;
    /// <summary>The specification's state after the last call.</summary>
    public BalloonState State { get; private init; }
    /// <summary>Page i's PFN.</summary>
    public required ImmutableArray<ulong> Frames { get; init; }
    /// <summary>The ballooned pages in the order they were locked (the kernel's page list; deflation takes from its end).</summary>
    public ImmutableList<int> Order { get; private init; } = [];

    // The hypervisor's schedule of faults.
    public long Commands { get; private init; }
    public long ResetAtCommand { get; private init; } = -1;
    /// <summary>LOCK commands still to come whose first page the host refuses.</summary>
    public int RefuseLocks { get; private init; }

    public int Size => State.Size;
    /// <summary>b->target: config.num_pages.</summary>
    public uint Target => (uint)BalloonBounds.TargetValue(State.NumPages);
    public bool ResetRequired => State.Has(BalloonState.ResetPending);
    public IEnumerable<ulong> Ballooned => Pfns(State.Ballooned);

    /// <summary>The properties the specification's own steps broke on the way here (null: none): the model is then no oracle.</summary>
    public string? Broken
    {
        get
        {
            ulong v = _spec.Violated(State);
            if (v == 0) return null;
            var names = new List<string>();
            for (int i = 0; i < _spec.Properties.Count; i++) if ((v & (1UL << i)) != 0) names.Add(_spec.Properties[i].Name);
            return string.Join(", ", names);
        }
    }
    public IEnumerable<ulong> HostLocked => Pfns(State.HostLocked);

    private IEnumerable<ulong> Pfns(byte pages)
    {
        for (int p = 0; p < Frames.Length; p++) if ((pages & (1 << p)) != 0) yield return Frames[p];
        if ((pages & BalloonState.Alien) != 0) yield return ulong.MaxValue; // a PFN of no guest page
    }

    public override string ToString() =>
        $"model: size {Size}, target {Target}{(ResetRequired ? ", reset required" : "")}, host target {BalloonBounds.TargetValue(State.HostTarget)}, host locked {BitOperations.PopCount((uint)State.HostLocked)}, {Commands} commands";

    /// <summary>The host changes its target (the specification's host step): 0..pages, or <see cref="BalloonBounds.HugeTargetValue"/>.</summary>
    public BalloonApiModel SetHostTarget(ulong pages)
    {
        byte arg = pages == BalloonBounds.HugeTargetValue ? BalloonBounds.TargetHuge
            : pages <= (ulong)Frames.Length ? (byte)pages
            : throw new ArgumentOutOfRangeException(nameof(pages), $"the specification's host targets 0..{Frames.Length} pages or {BalloonBounds.HugeTargetValue}");
        return arg == State.HostTarget ? this : Step(new BalloonAction(BalloonActor.Host, Arg: arg));
    }

    public BalloonApiModel ResetIn(long commands) => this with { ResetAtCommand = Commands + commands };
    public BalloonApiModel RefuseNextLock() => this with { RefuseLocks = RefuseLocks + 1 };

    /// <summary>One work item: the timer's poll (the reset if required, then GET_TARGET), then the balloon thread until it is idle or its inflation cycle ended.</summary>
    public BalloonApiModel Work()
    {
        var s = State;
        s.Set(BalloonState.TargetCurrent, false); // mainline's work asks every time
        var m = this with { State = s };
        int steps = 0;
        do m = m.Command(BalloonActor.Timer, ref steps);
        while (m.State.TimerPc != BalloonSpec.TPoll);
        while (m.Enables(BalloonActor.Guest))
        {
            var before = m.State;
            m = m.Command(BalloonActor.Guest, ref steps);
            if (before.GuestPc == BalloonSpec.GIdle && m.State.GuestPc == BalloonSpec.GCommand) m = m.ChoosePages();
            if (before.GuestPc == BalloonSpec.GIdle && before.Refused != 0 && m.State.Refused == 0) break; // vmballoon_release_refused_pages(): the work item ends
            if (before.GuestPc == BalloonSpec.GComplete && before.Req == BalloonState.Deflate && m.State.Size == before.Size) break; // nothing unlocked: the deflation stops
        }
        return m;
    }

    /// <summary>One step of <paramref name="who"/>, with the fault the host's schedule puts in the answer to the command it sends.</summary>
    private BalloonApiModel Command(BalloonActor who, ref int steps)
    {
        if (++steps > MaxWorkSteps) throw new InvalidOperationException($"{Design.Name}: one work item took more than {MaxWorkSteps} steps of the specification");
        uint cmd = _spec.Command(State, who);
        var fault = HostFault.None;
        if (cmd != uint.MaxValue && Commands == ResetAtCommand && (State.HostPhase == 0 || cmd == CmdStart)) fault = HostFault.Reset;
        else if (cmd is CmdLock or CmdBatchedLock && RefuseLocks > 0) fault = HostFault.Refuse;
        var m = Step(new BalloonAction(who, fault), out bool refused);
        return m with { Commands = Commands + (cmd != uint.MaxValue ? 1 : 0), RefuseLocks = RefuseLocks - (refused ? 1 : 0) };
    }

    private bool Enables(BalloonActor who)
    {
        Span<BalloonAction> acts = stackalloc BalloonAction[32];
        int n = _spec.Enabled(State, acts);
        for (int i = 0; i < n; i++) if (acts[i].Actor == who) return true;
        return false;
    }

    /// <summary>The specification's step <paramref name="a"/>, which it must enable here; the host's budget is what this step's fault needs.</summary>
    private BalloonApiModel Step(BalloonAction a) => Step(a, out _);

    private BalloonApiModel Step(BalloonAction a, out bool refused)
    {
        var s = State;
        s.Budget = (byte)((a.Fault == HostFault.Reset ? 1 : 0) | (a.Fault == HostFault.Refuse ? 1 << 2 : 0) | (a.Actor == BalloonActor.Host ? 1 << 4 : 0));
        Span<BalloonAction> acts = stackalloc BalloonAction[32];
        int n = _spec.Enabled(s, acts);
        if (!acts[..n].Contains(a)) throw new InvalidOperationException($"{Design.Name}: the specification does not enable {a} here ({_spec.Describe(s, a)})");
        var next = _spec.Next(s, a);
        var order = Order;
        foreach (int p in Order) if ((next.Ballooned & (1 << p)) == 0) order = order.Remove(p);
        for (int p = 0; p < Frames.Length; p++) if ((next.Ballooned & ~s.Ballooned & (1 << p)) != 0) order = order.Add(p); // a batch locks in page order
        refused = a.Fault == HostFault.Refuse && next.Refusals == 0; // the host refused a page (not a command it answered RESET)
        next.Budget = 0;
        return this with { State = next, Order = order };
    }

    /// <summary>A deflation's pages as the kernel's page list gives them back (as many as the specification's request): the most recently ballooned first.</summary>
    private BalloonApiModel ChoosePages()
    {
        var s = State;
        if (s.Req != BalloonState.Deflate) return this;
        int count = BitOperations.PopCount((uint)s.ReqPages);
        byte pages = 0;
        for (int i = Order.Count - 1; i >= 0 && BitOperations.PopCount((uint)pages) < count; i--) pages |= (byte)(1 << Order[i]);
        s.ReqPages = pages;
        return this with { State = s };
    }
}
