using System.Buffers.Binary;
using FsCheck;
using FsCheck.Fluent;
using Multikernel.Impl.Ipi;

namespace Multikernel.Properties.Ipi;

/// <summary>One write of the other kernel into the shared region: a u32 at a ring index or slot header field.</summary>
public readonly record struct Scribble(int Offset, uint Value)
{
    public override string ToString() => $"region[{Offset}] = 0x{Value:x}";
}

/// <summary>
/// The other kernel writes garbage into the region's indices and slot headers between
/// operations. While it does, the implementation must never throw or touch memory outside
/// the region (what a handler then receives is whatever the peer forged, at most
/// MK_MAX_DATA_SIZE bytes: the peer owns that memory). Once the writes stop, the receiver
/// must recover by itself: every message accepted from then on arrives exactly once, intact,
/// and nothing else arrives.
/// </summary>
public static class HostilePeer
{
    private const int Ring = 4;
    private const ulong Type = 5;

    private static readonly int[] Fields = [MkIpiLayout.SlotState, MkIpiLayout.SlotSeq, MkIpiLayout.SlotSenderCpu, MkIpiLayout.SlotDataSize, MkIpiLayout.SlotType];

    public static Gen<Scribble> Scribbles =>
        from spot in Gen.Choose(0, 1 + Ring * Fields.Length)
        from value in Gen.OneOf(Gen.Elements(0u, 1u, 2u, 3u, 255u, 256u, 257u, 0x7fffffffu, 0x80000000u, uint.MaxValue),
                                Gen.Choose(int.MinValue, int.MaxValue).Select(v => (uint)v))
        select new Scribble(spot switch
        {
            0 => MkIpiLayout.Head,
            1 => MkIpiLayout.Tail,
            _ => MkIpiLayout.SlotOffset((uint)((spot - 2) / Fields.Length)) + Fields[(spot - 2) % Fields.Length],
        }, value);

    /// <summary>Rounds of (some sends, some scribbles, an interrupt), then clean rounds that must all be delivered.</summary>
    public static Property Property(MkIpiDefects defects = MkIpiDefects.None) =>
        Prop.ForAll(Arb.From(Scribbles.ArrayOf()), scribbles =>
        {
            string? why = Run(scribbles, defects);
            return why == null ? true.ToProperty() : false.Label(why);
        });

    public static string? Run(Scribble[] scribbles, MkIpiDefects defects)
    {
        using var ipi = new MkIpi(Ring, cpuThreads: false, defects);
        ipi.CreateInstance(0);
        var sent = new Dictionary<string, int>();   // hex of each accepted message -> deliveries owed
        string? error = null;
        bool peerWriting = true;
        ipi.RegisterHandler((in MkIpiMessage m, object? _) =>
        {
            if (peerWriting) return;
            string key = $"{m.SenderCpu}:{Convert.ToHexString(m.Data)}";
            if (m.Type != Type || !sent.TryGetValue(key, out int owed)) error ??= $"a handler got a message nobody sent: cpu {m.SenderCpu}, type 0x{m.Type:x}, {m.Data.Length} bytes";
            else if (owed == 0) error ??= $"a message was delivered twice: {key}";
            else sent[key] = owed - 1;
        }, null, Type);

        int serial = 0;
        try
        {
            for (int i = 0; i <= scribbles.Length; i++)
            {
                for (int k = 0; k < 2; k++) Send(ipi, sent, serial++);
                if (i < scribbles.Length)
                {
                    var s = scribbles[i];
                    BinaryPrimitives.WriteUInt32LittleEndian(ipi.SharedMemory(0)[s.Offset..], s.Value);
                }
                ipi.HandleInterrupt(0);
            }
            // The peer has stopped: what is accepted from now on must all arrive, and nothing else.
            ipi.HandleInterrupt(0);
            peerWriting = false;
            sent.Clear();
            for (int round = 0; round < 3; round++)
            {
                for (int k = 0; k < Ring; k++) Send(ipi, sent, serial++);
                ipi.HandleInterrupt(0);
            }
        }
        catch (Exception e)
        {
            return $"threw {e.GetType().Name}: {e.Message}";
        }
        if (error != null) return error;
        foreach (var (key, owed) in sent) if (owed != 0) return $"after the peer stopped, an accepted message never arrived: {key}";
        return null;
    }

    /// <summary>Serial numbers make every message distinct, so a duplicate or a stale slot is recognised.</summary>
    private static void Send(MkIpi ipi, Dictionary<string, int> sent, int serial)
    {
        var data = IpiHarness.Payload(8 + serial % 24, (byte)serial);
        BinaryPrimitives.WriteInt32LittleEndian(data, serial);
        if (ipi.SendIpiData(0, data, Type) == 0) sent[$"{MkIpi.SmpProcessorId}:{Convert.ToHexString(data)}"] = 1;
    }
}
