using Multikernel.Model.Checking;

namespace Multikernel.Model.Ipi;

/// <summary>A message the model's senders send: its full 64-bit type and its size.</summary>
public readonly record struct IpiMessage(ulong Type, int Size);

/// <summary>
/// The configuration explored: how many sender CPUs, messages each, ring slots,
/// handler types, receiving CPUs, and whether an unregister and an instance destroy race
/// with them. Handler h is registered for type h+1. Sender s's k-th message goes to
/// receiving CPU k mod receivers (in a design that addresses CPUs, like RFC v1). Sender s's k-th message is
/// <see cref="Catalogue"/>[(2s+k) mod 6]: a type above 2^32 whose low half equals
/// handler 0's type, handler types, a zero-length and a full-size payload.
/// </summary>
public sealed record IpiBounds : IBounds
{
    public const int MaxSenders = 3, MaxMessages = 3, MaxSlots = 4, MaxHandlers = 3, MaxReceivers = 2;

    public static readonly IpiMessage[] Catalogue =
    [
        new(0x1_0000_0001UL, 16),
        new(1, 8),
        new(2, 0),
        new(1, IpiConstants.MkMaxDataSize),
        new(2, 32),
        new(0x1_0000_0002UL, 1),
    ];

    public int Senders { get; init; } = 2;
    public int Messages { get; init; } = 2;
    public int Ring { get; init; } = 2;
    public int Handlers { get; init; } = 2;
    /// <summary>Receiving CPUs of the target kernel. Only a design that lets several CPUs receive uses more than one (<see cref="IpiDesign.Receivers"/>).</summary>
    public int Receivers { get; init; } = 2;
    public bool Unregister { get; init; } = true;
    public bool Destroy { get; init; } = true;
    /// <summary>
    /// A peer kernel that writes the shared region out of protocol: once, while a send is in
    /// flight, it sets slot0's data_size above MK_MAX_DATA_SIZE. Off by default: a conforming
    /// peer never does this (the seeds' findings that need it name this bound).
    /// </summary>
    public bool HostilePeer { get; init; }
    /// <summary>The memory model explored: sc (the default, <see cref="IpiSpec"/>), tso or lkmm (<see cref="IpiWeakSpec"/>).</summary>
    public IpiMemoryModel MemoryModel { get; init; }

    public static IpiBounds Default { get; } = new();

    /// <summary>Null when the bounds are usable, else what is wrong.</summary>
    public string? Validate()
    {
        if (Senders is < 1 or > MaxSenders) return $"senders must be 1..{MaxSenders} (got {Senders})";
        if (Messages is < 1 or > MaxMessages) return $"messages must be 1..{MaxMessages} (got {Messages})";
        if (Ring is not (1 or 2 or 4)) return $"ring must be 1, 2 or 4 (got {Ring})";
        if (Handlers is < 1 or > MaxHandlers) return $"handlers must be 1..{MaxHandlers} (got {Handlers})";
        if (Receivers is < 1 or > MaxReceivers) return $"receivers must be 1..{MaxReceivers} (got {Receivers})";
        return null;
    }

    public int MessageCount => Senders * Messages;

    /// <summary>Message ids are 1..<see cref="MessageCount"/>; id 0 means "none".</summary>
    public IpiMessage Message(int id) => Catalogue[(2 * SenderOf(id) + (id - 1) % Messages) % Catalogue.Length];
    public int SenderOf(int id) => (id - 1) / Messages;
    public int MessageId(int sender, int k) => sender * Messages + k + 1;
    /// <summary>The receiving CPU message <paramref name="id"/> is sent to, among <paramref name="receivers"/>: its sender's k-th message goes to CPU k mod receivers.</summary>
    public int Target(int id, int receivers) => (id - 1) % Messages % receivers;
    public static ulong HandlerType(int h) => (ulong)h + 1;

    /// <summary>The handler registered for the message's full type, or -1.</summary>
    public int Intended(int id)
    {
        ulong type = Message(id).Type;
        for (int h = 0; h < Handlers; h++) if (HandlerType(h) == type) return h;
        return -1;
    }

    /// <summary>The bounds as options: --senders N, …, --no-unregister, --no-destroy.</summary>
    public static readonly IReadOnlyList<BoundOption> Options =
    [
        new("senders", $"sender CPUs, 1..{MaxSenders}"),
        new("messages", $"messages each sender sends, 1..{MaxMessages}"),
        new("ring", "slots of the ring: 1, 2 or 4"),
        new("handlers", $"registered handler types, 1..{MaxHandlers}"),
        new("receivers", $"receiving CPUs of the target, 1..{MaxReceivers} (RFC v1 addresses CPUs; designs with one receiving CPU per target use 1)"),
        new("unregister", "an unregister of handler0 races with the sends", "--no-unregister", "no"),
        new("destroy", "a destroy of the target instance races with the sends", "--no-destroy", "no"),
        new("hostile-peer", "a peer kernel writes slot0's data_size out of protocol (off by default)", "--hostile-peer", "yes"),
        new("memory-model", "sc (default), tso (x86-64 store buffers) or lkmm (the kernel memory model, approximated): each step's stores buffered as its design orders them"),
    ];

    /// <summary>Reads what <see cref="ToString"/> writes; keys left out keep their defaults. Throws <see cref="BoundsException"/>.</summary>
    public static IpiBounds Parse(string text)
    {
        var b = new IpiBounds();
        foreach (var (key, value) in BoundsText.Pairs(text))
        {
            b = key switch
            {
                "senders" => b with { Senders = BoundsText.Int(key, value, 1, MaxSenders) },
                "messages" => b with { Messages = BoundsText.Int(key, value, 1, MaxMessages) },
                "ring" => b with { Ring = BoundsText.Int(key, value, 1, MaxSlots) },
                "handlers" => b with { Handlers = BoundsText.Int(key, value, 1, MaxHandlers) },
                "receivers" => b with { Receivers = BoundsText.Int(key, value, 1, MaxReceivers) },
                "unregister" => b with { Unregister = BoundsText.YesNo(key, value) },
                "destroy" => b with { Destroy = BoundsText.YesNo(key, value) },
                "hostile-peer" => b with { HostilePeer = BoundsText.YesNo(key, value) },
                "memory-model" => b with { MemoryModel = ParseModel(value) },
                _ => throw BoundsText.Unknown(key, Options),
            };
        }
        if (b.Validate() is { } problem) throw new BoundsException(problem);
        return b;
    }

    private static IpiMemoryModel ParseModel(string value) => value switch
    {
        "sc" => IpiMemoryModel.Sc,
        "tso" => IpiMemoryModel.Tso,
        "lkmm" => IpiMemoryModel.Lkmm,
        _ => throw new BoundsException($"memory-model must be sc, tso or lkmm (got '{BoundsText.Clip(value)}')"),
    };

    /// <summary>The memory model's name as the bounds text and the report write it.</summary>
    public static string ModelName(IpiMemoryModel m) => m switch { IpiMemoryModel.Tso => "tso", IpiMemoryModel.Lkmm => "lkmm", _ => "sc" };

    public override string ToString() =>
        $"senders={Senders} messages={Messages} ring={Ring} handlers={Handlers} receivers={Receivers} unregister={(Unregister ? "yes" : "no")} destroy={(Destroy ? "yes" : "no")}{(HostilePeer ? " hostile-peer=yes" : "")}{(MemoryModel != IpiMemoryModel.Sc ? " memory-model=" + ModelName(MemoryModel) : "")}";
}
