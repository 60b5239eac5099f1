using System.Buffers.Binary;
using System.Collections.Immutable;
using Multikernel.Model.Checking;
using Multikernel.Model.Ipi.Designs;
using Multikernel.Model.Kernel;

namespace Multikernel.Model.Ipi;

/// <summary>One message as a handler's callback sees it: who, which type, which bytes (hex).</summary>
public readonly record struct IpiDelivery(int Handle, int SenderCpu, ulong Type, string Data)
{
    public override string ToString() => $"handler {Handle} <- cpu {SenderCpu}, type 0x{Type:x}, {Data.Length / 2} bytes {Abbrev(Data)}";
    private static string Abbrev(string hex) => hex.Length <= 16 ? hex : hex[..16] + "…";
}

/// <summary>What a send wrote into a slot: its sender, type and bytes (hex), and the call that wrote it.</summary>
public readonly record struct IpiQueued(int SenderCpu, ulong Type, string Data, int Owner);

/// <summary>
/// The specification's reference design (<see cref="RingDesign"/>) executed one API call at a time:
/// what the implementation is compared with (directly, and as the witness order of a concurrent
/// history). Each instance holds the specification's own state (<see cref="IpiState"/>: head, tail,
/// the slots' states, the senders' claims), and every call runs the design's steps on it: a send is
/// the design's send program on a sending CPU (lookup, claim, fill, publish, IPI), split after its
/// claim (<see cref="Claim"/>, <see cref="Publish"/>: a ring is not linearizable with an atomic send);
/// a drain is the design's drain step (<see cref="TakeOne"/>), which takes the slot at tail if it is
/// READY. So a defect planted in the design (a <see cref="RingDesign.Defect"/>) is a defect of this
/// model, and the implementation check catches it.
/// Beyond the specification's state the model keeps what the specification abstracts: the bytes each
/// slot holds (the spec's catalogue messages stand for them), several instances, and the handler list
/// with any 64-bit types and handles (the spec explores handler h of type h + 1); a drain calls every
/// handler of the copy's exact type, in registration order, as the design's dispatch does.
/// Immutable: every call returns a new model.
/// </summary>
public sealed record IpiApiModel
{
    /// <summary>Sending CPUs the specification gives one instance: at most this many claims pending at once.</summary>
    public const int MaxPendingClaims = IpiBounds.MaxSenders;

    private readonly Spec _spec;

    public int RingSize { get; }
    public RingDesign Design => _spec.Design;
    /// <summary>mk_instance_ipi_map[]: instances with an IPI area.</summary>
    public ImmutableSortedDictionary<int, IpiInstance> Instances { get; private init; }
    /// <summary>mk_handlers, in registration order: (handle, type).</summary>
    public ImmutableList<(int Handle, ulong Type)> Handlers { get; private init; }
    public int LastHandle { get; private init; }

    /// <param name="ringSize">1, 2 or 4 (the specification's ring sizes).</param>
    /// <param name="design">The reference design (default) or one of its mutants: exactly a <see cref="RingDesign"/>.</param>
    public IpiApiModel(int ringSize, RingDesign? design = null)
    {
        design ??= (RingDesign)IpiDesigns.Reference;
        ApiModels.RequireReferenceOrMutant(design, typeof(RingDesign), "ipi");
        var bounds = new IpiBounds { Senders = MaxPendingClaims, Messages = 1, Ring = ringSize, Handlers = 1, Receivers = 1 };
        if (bounds.Validate() is { } problem) throw new ArgumentOutOfRangeException(nameof(ringSize), problem);
        RingSize = ringSize;
        _spec = new Spec(design, bounds);
        Instances = ImmutableSortedDictionary<int, IpiInstance>.Empty;
        Handlers = [];
    }

    private static bool BadId(int id) => (uint)id >= IpiConstants.MkMaxInstances;

    /// <summary>mk_instance_ipi_create(): the specification's initial state.</summary>
    public (int Rc, IpiApiModel Next) CreateInstance(int id) =>
        BadId(id) ? (-Errno.EINVAL, this)
        : Instances.ContainsKey(id) ? (-Errno.EEXIST, this)
        : (0, this with { Instances = Instances.Add(id, _spec.NewInstance()) });

    /// <summary>
    /// Whether mk_instance_ipi_destroy() can complete now: the design's destroy steps are enabled
    /// (synchronize_rcu() waits while a send holds the area, between its lookup and its return).
    /// </summary>
    public bool CanDestroy(int id) => BadId(id) || !Instances.TryGetValue(id, out var inst) || _spec.DestroyEnabled(inst);

    /// <summary>mk_instance_ipi_destroy(): the design's destroy steps; undrained messages go with the area. Call it only when <see cref="CanDestroy"/>.</summary>
    public (int Rc, IpiApiModel Next) DestroyInstance(int id)
    {
        if (BadId(id)) return (-Errno.EINVAL, this);
        if (!Instances.TryGetValue(id, out var inst)) return (-Errno.ENODEV, this);
        if (!_spec.DestroyEnabled(inst)) throw new InvalidOperationException($"instance {id}: destroy waits for a send in flight");
        return (0, this with { Instances = Instances.Remove(id) });
    }

    /// <summary>multikernel_register_handler(): handles count up from 1.</summary>
    public (int Rc, IpiApiModel Next) RegisterHandler(bool hasCallback, ulong type) =>
        !hasCallback ? (-Errno.EINVAL, this)
        : (LastHandle + 1, this with { LastHandle = LastHandle + 1, Handlers = Handlers.Add((LastHandle + 1, type)) });

    /// <summary>multikernel_unregister_handler().</summary>
    public (int Rc, IpiApiModel Next) UnregisterHandler(int handle)
    {
        int at = Handlers.FindIndex(h => h.Handle == handle);
        return at < 0 ? (-Errno.EINVAL, this) : (0, this with { Handlers = Handlers.RemoveAt(at) });
    }

    /// <summary>multikernel_send_ipi_data(), sequentially: <see cref="Claim"/> then <see cref="Publish"/>.</summary>
    public (int Rc, IpiApiModel Next) SendIpiData(int id, ReadOnlySpan<byte> data, ulong type, int senderCpu)
    {
        var (rc, next) = Claim(id, data, type, senderCpu, owner: 0);
        return rc == 0 ? next.Publish(id, owner: 0) : (rc, next);
    }

    /// <summary>
    /// The send up to its claim: the argument checks (a bad id or more than MK_MAX_DATA_SIZE bytes is
    /// -EINVAL), then the design's send program on a free sending CPU up to and including its claim
    /// step (-ENODEV at the lookup, -ENOSPC at the claim, when the design returns there).
    /// </summary>
    public (int Rc, IpiApiModel Next) Claim(int id, ReadOnlySpan<byte> data, ulong type, int senderCpu, int owner)
    {
        if (BadId(id) || data.Length > IpiConstants.MkMaxDataSize) return (-Errno.EINVAL, this);
        if (!Instances.TryGetValue(id, out var inst)) return (-Errno.ENODEV, this);
        var (rc, next) = _spec.Claim(inst, new IpiQueued(senderCpu, type, Convert.ToHexString(data), owner));
        return (rc, this with { Instances = Instances.SetItem(id, next) });
    }

    /// <summary>The rest of <paramref name="owner"/>'s send: the design's steps after its claim (fill, publish, IPI). Its result: 0 unless the design returned otherwise.</summary>
    public (int Rc, IpiApiModel Next) Publish(int id, int owner)
    {
        if (BadId(id) || !Instances.TryGetValue(id, out var inst)) return (0, this); // the area is gone (a design without synchronize_rcu)
        var (rc, next) = _spec.Finish(inst, owner);
        return (rc, this with { Instances = Instances.SetItem(id, next) });
    }

    /// <summary>
    /// One step of the drain, the design's: if the slot at tail is READY, take it into the private copy,
    /// free it and advance tail, and call every handler of the copy's exact 64-bit type, in registration
    /// order. False when the drain would stop here.
    /// </summary>
    public (bool Taken, ImmutableArray<IpiDelivery> Deliveries, IpiApiModel Next) TakeOne(int id)
    {
        if (BadId(id) || !Instances.TryGetValue(id, out var inst)) return (false, [], this);
        var (taken, copy, next) = _spec.Drain(inst);
        var model = this with { Instances = Instances.SetItem(id, next) };
        if (!taken) return (false, [], model);
        var calls = ImmutableArray.CreateBuilder<IpiDelivery>();
        if (copy is { } m)
            foreach (var (handle, type) in Handlers)
                if (type == m.Type) calls.Add(new IpiDelivery(handle, m.SenderCpu, m.Type, m.Data));
        return (true, calls.ToImmutable(), model);
    }

    /// <summary>mk_send_pfn().</summary>
    public (int Rc, IpiApiModel Next) SendPfn(int id, ulong pfn, int senderCpu)
    {
        Span<byte> bytes = stackalloc byte[sizeof(ulong)];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, pfn);
        return SendIpiData(id, bytes, IpiConstants.MkPfnIpiType, senderCpu);
    }

    /// <summary>mk_receive_pfn(): -EINVAL unless the type is MK_PFN_IPI_TYPE and the size one unsigned long.</summary>
    public static (int Rc, ulong Pfn) ReceivePfn(ulong type, ReadOnlySpan<byte> data) =>
        type != IpiConstants.MkPfnIpiType || data.Length != sizeof(ulong) ? (-Errno.EINVAL, 0UL)
        : (0, BinaryPrimitives.ReadUInt64LittleEndian(data));

    /// <summary>The instance's interrupt (the design's): <see cref="TakeOne"/> until it stops. Rc is the number of messages taken.</summary>
    public (int Rc, ImmutableArray<IpiDelivery> Deliveries, IpiApiModel Next) Interrupt(int id)
    {
        if (BadId(id)) return (-Errno.EINVAL, [], this);
        if (!Instances.TryGetValue(id, out var inst)) return (-Errno.ENODEV, [], this);
        var calls = ImmutableArray.CreateBuilder<IpiDelivery>();
        var model = this with { Instances = Instances.SetItem(id, _spec.Interrupt(inst)) };
        int taken = 0;
        while (true)
        {
            var (more, d, next) = model.TakeOne(id);
            if (!more) return (taken, calls.ToImmutable(), model);
            taken++;
            calls.AddRange(d);
            model = next;
            // At most a ring's worth is pending when the interrupt runs (sends do not interleave with it
            // here). A design that takes more is taking a slot again (one it never freed: ref-no-clear
            // goes round the ring for ever); one take past the ring shows the duplicate, and the call ends.
            if (taken > RingSize) return (taken, calls.ToImmutable(), model);
        }
    }

    /// <summary>A key that identifies the model's state, for memoising searches.</summary>
    public string Key()
    {
        var sb = new System.Text.StringBuilder();
        foreach (var (id, inst) in Instances) sb.Append(id).Append(inst.Key()).Append(';');
        sb.Append('|');
        foreach (var (h, _) in Handlers) sb.Append(h).Append(',');
        return sb.ToString();
    }

    /// <summary>The design and the specification's kernel operations, run on one instance's state.</summary>
    private sealed class Spec
    {
        private readonly IpiSpec _ipi;
        private readonly IpiKernel _k;
        private readonly Slots _slots;
        private readonly int _claimStep, _fillStep;

        public Spec(RingDesign design, IpiBounds bounds)
        {
            Design = design;
            Bounds = bounds;
            _ipi = new IpiSpec(design, bounds);
            _k = new IpiKernel(bounds, design);
            _slots = new Slots(design.Defects);
            var steps = design.SendSteps;
            _claimStep = IndexOf(steps, Slots.ClaimLine);
            _fillStep = IndexOf(steps, Slots.FillLine);
        }

        private static int IndexOf(IReadOnlyList<string> steps, string line)
        {
            for (int i = 0; i < steps.Count; i++) if (steps[i] == line) return i;
            throw new InvalidOperationException($"the design's send program has no step '{line}'");
        }

        public RingDesign Design { get; }
        public IpiBounds Bounds { get; }

        public IpiInstance NewInstance()
        {
            var init = new List<IpiState>();
            _ipi.Initial(init);
            var s = init[0];
            for (int c = 0; c < MaxPendingClaims; c++) s.Senders[c] = default; // idle CPUs: each send starts one
            return new IpiInstance(s, new IpiQueued?[Bounds.Ring].ToImmutableArray(), new IpiQueued?[MaxPendingClaims].ToImmutableArray());
        }

        public (int Rc, IpiInstance Next) Claim(IpiInstance inst, IpiQueued message)
        {
            int c = inst.Sending.IndexOf(null);
            if (c < 0) throw new InvalidOperationException($"more than {MaxPendingClaims} sends in flight on one instance");
            var s = inst.State;
            s.Senders[c] = default;
            var slots = inst.Slots;
            var (returned, rc) = Run(ref s, c, message, ref slots, stopAfter: _claimStep);
            var next = new IpiInstance(s, slots, returned ? inst.Sending : inst.Sending.SetItem(c, message));
            return (rc, returned ? Idle(next, c) : next);
        }

        public (int Rc, IpiInstance Next) Finish(IpiInstance inst, int owner)
        {
            int c = -1;
            for (int i = 0; i < MaxPendingClaims; i++) if (inst.Sending[i] is { } m && m.Owner == owner) c = i;
            if (c < 0) throw new InvalidOperationException($"no claim of call {owner} to publish");
            var s = inst.State;
            var slots = inst.Slots;
            var (_, rc) = Run(ref s, c, inst.Sending[c]!.Value, ref slots, stopAfter: int.MaxValue);
            return (rc, Idle(new IpiInstance(s, slots, inst.Sending), c));
        }

        /// <summary>Runs CPU <paramref name="c"/>'s send steps until it returns or has run step <paramref name="stopAfter"/>; the fill step also writes the message's bytes into the slot it fills.</summary>
        private (bool Returned, int Rc) Run(ref IpiState s, int c, IpiQueued message, ref ImmutableArray<IpiQueued?> slots, int stopAfter)
        {
            while (true)
            {
                int pc = s.Senders[c].Pc;
                if (pc == _fillStep && _slots.Index(Bounds, s.Senders[c].Slot) is int at && (uint)at < (uint)slots.Length)
                    slots = slots.SetItem(at, message);
                Design.SendIpiData(ref s, c, _k);
                if (s.Senders[c].K != 0) // the design returned from the send
                {
                    bool accepted = (s.Accepted & (1 << c)) != 0;
                    return (true, accepted ? 0 : pc == _claimStep ? -Errno.ENOSPC : -Errno.ENODEV);
                }
                if (pc == stopAfter) return (false, 0);
            }
        }

        /// <summary>CPU <paramref name="c"/> is idle again (and the ghost of its send forgotten: the model compares results, not ghosts).</summary>
        private static IpiInstance Idle(IpiInstance inst, int c)
        {
            var s = inst.State;
            s.Senders[c] = default;
            s.Accepted = s.Rejected = 0;
            s.Broken = 0;
            return inst with { State = s, Sending = inst.Sending.SetItem(c, null) };
        }

        public bool DestroyEnabled(IpiInstance inst)
        {
            var s = inst.State;
            if (!Design.DestroyEnabled(s, _k)) return false;
            Design.Destroy(ref s, _k); // rcu_assign_pointer(…, NULL)
            return Design.DestroyEnabled(s, _k); // synchronize_rcu(): no send holds the area
        }

        public IpiInstance Interrupt(IpiInstance inst)
        {
            var s = inst.State;
            Design.Interrupt(ref s, _k);
            return inst with { State = s };
        }

        /// <summary>The design's drain step on the slot at tail: whether it took one, and what that slot held (null when the copy is dropped or the slot never held a message).</summary>
        public (bool Taken, IpiQueued? Copy, IpiInstance Next) Drain(IpiInstance inst)
        {
            var s = inst.State;
            int? at = _slots.Index(Bounds, s.Tail);
            byte tail = s.Tail;
            if (s.RingWork == 0) s.RingWork = 1;
            Design.RunWork(ref s, 0, _k);
            bool taken = s.Tail != tail;
            IpiQueued? copy = taken && s.Copy.DataSize <= IpiConstants.MkMaxDataSize && at is int i && (uint)i < (uint)inst.Slots.Length ? inst.Slots[i] : null;
            // The model dispatches to its own handler list; the work is idle between calls.
            s.Targets = 0;
            s.RingWork = 0;
            s.Copy = default;
            s.Broken = 0;
            return (taken, copy, inst with { State = s });
        }
    }

    /// <summary>The design's slot index of a ring counter and its step lines, as <see cref="RingDesign"/> defines them (a view, not a second design: no step is run on it).</summary>
    private sealed class Slots(RingDesign.Defect defects) : RingDesign("api-view", defects)
    {
        public static string ClaimLine => Claim;
        public static string FillLine => Fill;
        public int Index(IpiBounds b, int counter) => SlotIndex(b, counter);
    }
}

/// <summary>One instance in the API model: the specification's state, the bytes each slot holds, and the message each sending CPU is sending.</summary>
public sealed record IpiInstance(IpiState State, ImmutableArray<IpiQueued?> Slots, ImmutableArray<IpiQueued?> Sending)
{
    /// <summary>Messages claimed and not yet taken, as head - tail counts them.</summary>
    public int Occupancy => (byte)(State.Head - State.Tail);

    // IpiState holds inline arrays, which have no built-in equality: compare its bytes (its identity for the explorer too).
    public bool Equals(IpiInstance? other) =>
        other is not null && Bytes(State).SequenceEqual(Bytes(other.State)) && Slots.SequenceEqual(other.Slots) && Sending.SequenceEqual(other.Sending);

    public override int GetHashCode() => HashCode.Combine(State.Head, State.Tail, Slots.Length);

    private static ReadOnlySpan<byte> Bytes(in IpiState s) =>
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(new ReadOnlySpan<IpiState>(in s));

    internal string Key()
    {
        var sb = new System.Text.StringBuilder();
        sb.Append('[').Append(State.Head).Append(',').Append(State.Tail).Append(':');
        for (int i = 0; i < Slots.Length; i++) sb.Append(State.Slots[i].State).Append(Slots[i]?.Owner ?? 0).Append(' ');
        for (int c = 0; c < Sending.Length; c++) sb.Append(State.Senders[c].Pc).Append(Sending[c]?.Owner ?? 0).Append(' ');
        return sb.Append(']').ToString();
    }
}
