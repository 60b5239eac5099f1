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

/// <summary>A message waiting in an instance's ring.</summary>
public readonly record struct IpiQueued(int SenderCpu, ulong Type, string Data);

/// <summary>
/// The reference design seen one API call at a time: what every call returns and which
/// callbacks a drain makes, when nothing runs concurrently. The explorer shows the
/// design's steps are safe under every interleaving; this is the sequential meaning
/// those steps implement, and what the implementation is compared with (directly, and
/// as the witness order of a concurrent history). Immutable: every call returns a new model.
/// </summary>
public sealed record IpiApiModel
{
    public int RingSize { get; }
    /// <summary>mk_instance_ipi_map[]: instances with an IPI area, each with its ring in order.</summary>
    public ImmutableSortedDictionary<int, ImmutableQueue<IpiQueued>> Instances { get; private init; }
    /// <summary>mk_handlers, in registration order: (handle, type).</summary>
    public ImmutableList<(int Handle, ulong Type)> Handlers { get; private init; }
    public int LastHandle { get; private init; }

    public IpiApiModel(int ringSize)
    {
        if (ringSize < 1 || ringSize > IpiConstants.MkIpiRingMax || (ringSize & (ringSize - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(ringSize));
        RingSize = ringSize;
        Instances = ImmutableSortedDictionary<int, ImmutableQueue<IpiQueued>>.Empty;
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

    /// <summary>multikernel_send_ipi_data(): the checks in the reference design's order, then the ring.</summary>
    public (int Rc, IpiApiModel Next) SendIpiData(int id, ReadOnlySpan<byte> data, ulong type, int senderCpu)
    {
        if (BadId(id) || data.Length > IpiConstants.MkMaxDataSize) return (-Errno.EINVAL, this);
        if (!Instances.TryGetValue(id, out var ring)) return (-Errno.ENODEV, this);
        if (Count(ring) >= RingSize) return (-Errno.ENOSPC, this);
        var m = new IpiQueued(senderCpu, type, Convert.ToHexString(data));
        return (0, this with { Instances = Instances.SetItem(id, ring.Enqueue(m)) });
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

    /// <summary>
    /// The instance's interrupt: drain the ring in order; each message goes to every handler
    /// of its exact 64-bit type, in registration order. Rc is the number of messages taken.
    /// </summary>
    public (int Rc, ImmutableArray<IpiDelivery> Deliveries, IpiApiModel Next) Interrupt(int id)
    {
        if (BadId(id)) return (-Errno.EINVAL, [], this);
        if (!Instances.TryGetValue(id, out var ring)) return (-Errno.ENODEV, [], this);
        var calls = ImmutableArray.CreateBuilder<IpiDelivery>();
        int taken = 0;
        foreach (var m in ring)
        {
            taken++;
            foreach (var (handle, type) in Handlers)
                if (type == m.Type) calls.Add(new IpiDelivery(handle, m.SenderCpu, m.Type, m.Data));
        }
        return (taken, calls.ToImmutable(), this with { Instances = Instances.SetItem(id, []) });
    }

    private static int Count(ImmutableQueue<IpiQueued> q)
    {
        int n = 0;
        foreach (var _ in q) n++;
        return n;
    }
}
