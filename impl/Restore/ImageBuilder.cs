using System.Buffers.Binary;
using static Multikernel.Impl.Restore.RestoreFormat;

namespace Multikernel.Impl.Restore;

/// <summary>
/// Writes an image record by record, any field any value: for images a test or an audit wants
/// exactly so (the shortest bad image the explorer found), well-formed or not. Object ids are
/// assigned in order, as the reader assigns them.
/// </summary>
public sealed class ImageBuilder
{
    private readonly List<byte> _out = new();
    private uint _id;

    public uint Record(ushort type, uint parent, ReadOnlySpan<byte> payload, uint? claimedLength = null)
    {
        Span<byte> h = stackalloc byte[HeaderSize];
        Header(h, type, claimedLength ?? (uint)payload.Length, parent);
        foreach (byte x in h) _out.Add(x);
        foreach (byte x in payload) _out.Add(x);
        return ++_id;
    }

    public uint Mm(uint mapCount)
    {
        var p = new byte[MmPayload];
        ulong[] b = [0x400000, 0x401000, 0x600000, 0x601000, 0x602000, 0x603000, 0x7ffd000, 0x7ffe000, 0x7ffe100, 0x7ffe100, 0x7ffe200];
        for (int i = 0; i < b.Length; i++) BinaryPrimitives.WriteUInt64LittleEndian(p.AsSpan(i * 8), b[i]);
        BinaryPrimitives.WriteUInt32LittleEndian(p.AsSpan(88), mapCount);
        return Record(TypeMm, 0, p);
    }

    public uint Vma(uint mm, ulong start, ulong end, ulong vmFlags, VmaKind kind = VmaKind.Anon, ulong pgoff = 0)
    {
        var p = new byte[VmaPayload];
        BinaryPrimitives.WriteUInt64LittleEndian(p, start);
        BinaryPrimitives.WriteUInt64LittleEndian(p.AsSpan(8), end);
        BinaryPrimitives.WriteUInt64LittleEndian(p.AsSpan(16), vmFlags);
        BinaryPrimitives.WriteUInt64LittleEndian(p.AsSpan(24), pgoff);
        BinaryPrimitives.WriteUInt32LittleEndian(p.AsSpan(32), (uint)kind);
        return Record(TypeVma, mm, p);
    }

    /// <summary>A page-array chunk with these pages (contents a pattern of their address), or a bare count that claims more.</summary>
    public uint Pages(uint vma, ReadOnlySpan<ulong> addrs, ulong? claimedCount = null)
    {
        ulong nr = claimedCount ?? (ulong)addrs.Length;
        var p = new byte[PgarrFixed + addrs.Length * (8 + (int)PageSize)];
        BinaryPrimitives.WriteUInt64LittleEndian(p, nr);
        for (int i = 0; i < addrs.Length; i++) BinaryPrimitives.WriteUInt64LittleEndian(p.AsSpan(8 + i * 8), addrs[i]);
        for (int i = 0; i < addrs.Length; i++) p.AsSpan(8 + addrs.Length * 8 + i * (int)PageSize, (int)PageSize).Fill((byte)(addrs[i] >> 12));
        uint len = claimedCount is { } c ? (uint)Math.Min(uint.MaxValue, PgarrFixed + c * (8 + PageSize)) : (uint)p.Length;
        return Record(TypePgarr, vma, p, len);
    }

    public uint Context(uint mm)
    {
        var p = new byte[ContextFixed];
        BinaryPrimitives.WriteUInt32LittleEndian(p.AsSpan(4), LdtEntrySize);
        return Record(TypeMmContext, mm, p);
    }

    public byte[] ToArray() => _out.ToArray();
}
