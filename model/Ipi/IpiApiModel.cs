using System.Buffers.Binary;
using System.Collections.Immutable;
using Multikernel.Model.Kernel;

namespace Multikernel.Model.Ipi;

/// <summary>One message as a handler's callback sees it: who, which type, which bytes (hex).</summary>
public readonly record struct IpiDelivery(int Handle, int SenderCpu, ulong Type, string Data)
{
    public override string ToString() => $"handler {Handle} <- cpu {SenderCpu}, type 0x{Type:x}, {Data.Length / 2} bytes {Abbrev(Data)}";
    private static string Abbrev(string hex) => hex.Length <= 16 ? hex : hex[..16] + "…";
}

/// <summary>A message in an instance's ring: claimed by <paramref name="Owner"/>, visible to the receiver once published.</summary>
public readonly record struct IpiQueued(int SenderCpu, ulong Type, string Data, bool Published, int Owner);

/// <summary>
/// The reference design seen one API call at a time: what every call returns and which
/// callbacks a drain makes, when nothing runs concurrently. The explorer shows the
/// design's steps are safe under every interleaving; this is the sequential meaning
/// those steps implement, and what the implementation is compared with (directly, and
/// as the witness order of a concurrent history). Immutable: every call returns a new model.
/// A send is two steps of the reference design, <see cref="Claim"/> then <see cref="Publish"/>,
/// and a drain is <see cref="TakeOne"/> until the oldest claim is unpublished: a ring is not
/// linearizable with an atomic send and drain (a drain stops at a claim still being filled).
/// </summary>
public sealed record IpiApiModel
{
    public int RingSize { get; }
    /// <summary>mk_instance_ipi_map[]: instances with an IPI area, each with its ring in order.</summary>
    public ImmutableSortedDictionary<int, ImmutableList<IpiQueued>> Instances { get; private init; }
    /// <summary>mk_handlers, in registration order: (handle, type).</summary>
    public ImmutableList<(int Handle, ulong Type)> Handlers { get; private init; }
    public int LastHandle { get; private init; }

    public IpiApiModel(int ringSize)
    {
        if (ringSize < 1 || ringSize > IpiConstants.MkIpiRingMax || (ringSize & (ringSize - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(ringSize));
        RingSize = ringSize;
        Instances = ImmutableSortedDictionary<int, ImmutableList<IpiQueued>>.Empty;
        Handlers = [];
    }

    private static bool BadId(int id) => (uint)id >= IpiConstants.MkMaxInstances;

    /// <summary>mk_instance_ipi_create().</summary>
    public (int Rc, IpiApiModel Next) CreateInstance(int id) =>
        BadId(id) ? (-Errno.EINVAL, this)
        : Instances.ContainsKey(id) ? (-Errno.EEXIST, this)
        : (0, this with { Instances = Instances.Add(id, []) });

    /// <summary>mk_instance_ipi_destroy(): undrained messages go with the area.</summary>
    public (int Rc, IpiApiModel Next) DestroyInstance(int id) =>
        BadId(id) ? (-Errno.EINVAL, this)
        : !Instances.ContainsKey(id) ? (-Errno.ENODEV, this)
        : (0, this with { Instances = Instances.Remove(id) });

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
        return rc == 0 ? (0, next.Publish(id, owner: 0)) : (rc, next);
    }

    /// <summary>The send up to its claim, with the checks in the reference design's order: bad id or size, no area, full ring.</summary>
    public (int Rc, IpiApiModel Next) Claim(int id, ReadOnlySpan<byte> data, ulong type, int senderCpu, int owner)
    {
        if (BadId(id) || data.Length > IpiConstants.MkMaxDataSize) return (-Errno.EINVAL, this);
        if (!Instances.TryGetValue(id, out var ring)) return (-Errno.ENODEV, this);
        if (ring.Count >= RingSize) return (-Errno.ENOSPC, this);
        var m = new IpiQueued(senderCpu, type, Convert.ToHexString(data), Published: false, owner);
        return (0, this with { Instances = Instances.SetItem(id, ring.Add(m)) });
    }

    /// <summary>smp_store_release(&amp;slot->state, READY) for the claim of <paramref name="owner"/>; nothing if the area is gone.</summary>
    public IpiApiModel Publish(int id, int owner)
    {
        if (BadId(id) || !Instances.TryGetValue(id, out var ring)) return this;
        int at = ring.FindIndex(m => !m.Published && m.Owner == owner);
        return at < 0 ? this : this with { Instances = Instances.SetItem(id, ring.SetItem(at, ring[at] with { Published = true })) };
    }

    /// <summary>
    /// One step of the drain: if the oldest claim is published, take it and call every handler
    /// of its exact 64-bit type, in registration order. False when the drain would stop here.
    /// </summary>
    public (bool Taken, ImmutableArray<IpiDelivery> Deliveries, IpiApiModel Next) TakeOne(int id)
    {
        if (BadId(id) || !Instances.TryGetValue(id, out var ring) || ring.Count == 0 || !ring[0].Published)
            return (false, [], this);
        var m = ring[0];
        var calls = ImmutableArray.CreateBuilder<IpiDelivery>();
        foreach (var (handle, type) in Handlers)
            if (type == m.Type) calls.Add(new IpiDelivery(handle, m.SenderCpu, m.Type, m.Data));
        return (true, calls.ToImmutable(), this with { Instances = Instances.SetItem(id, ring.RemoveAt(0)) });
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

    /// <summary>The instance's interrupt: <see cref="TakeOne"/> until it stops. Rc is the number of messages taken.</summary>
    public (int Rc, ImmutableArray<IpiDelivery> Deliveries, IpiApiModel Next) Interrupt(int id)
    {
        if (BadId(id)) return (-Errno.EINVAL, [], this);
        if (!Instances.ContainsKey(id)) return (-Errno.ENODEV, [], this);
        var calls = ImmutableArray.CreateBuilder<IpiDelivery>();
        var model = this;
        int taken = 0;
        while (true)
        {
            var (more, d, next) = model.TakeOne(id);
            if (!more) return (taken, calls.ToImmutable(), model);
            taken++;
            calls.AddRange(d);
            model = next;
        }
    }

    /// <summary>A key that identifies the model's state, for memoising searches.</summary>
    public string Key()
    {
        var sb = new System.Text.StringBuilder();
        foreach (var (id, ring) in Instances)
        {
            sb.Append(id).Append('[');
            foreach (var m in ring) sb.Append(m.Owner).Append(m.Published ? '+' : '-').Append(',');
            sb.Append(']');
        }
        sb.Append('|');
        foreach (var (h, _) in Handlers) sb.Append(h).Append(',');
        return sb.ToString();
    }
}
