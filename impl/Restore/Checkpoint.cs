using System.Buffers.Binary;
using static Multikernel.Impl.Restore.RestoreFormat;

namespace Multikernel.Impl.Restore;

/// <summary>checkpoint: writes an address space as an image that <see cref="Restore"/> reads back.</summary>
public static class Checkpoint
{
    public static void Write(AddressSpace mm, Stream to)
    {
        uint id = 0;
        var head = new byte[HeaderSize];
        void Record(ushort type, uint len, uint parent)
        {
            Header(head, type, len, parent);
            to.Write(head);
            id++;
        }
        var b = mm.Bounds;
        var p = new byte[MmPayload];
        ulong[] bounds = [b.StartCode, b.EndCode, b.StartData, b.EndData, b.StartBrk, b.Brk, b.StartStack, b.ArgStart, b.ArgEnd, b.EnvStart, b.EnvEnd];
        for (int i = 0; i < bounds.Length; i++) BinaryPrimitives.WriteUInt64LittleEndian(p.AsSpan(i * 8), bounds[i]);
        BinaryPrimitives.WriteUInt32LittleEndian(p.AsSpan(88), (uint)mm.Vmas.Count);
        Record(TypeMm, MmPayload, 0);
        to.Write(p);
        uint mmId = id;
        var vp = new byte[VmaPayload];
        var word = new byte[8];
        var sorted = mm.Pages.Keys.ToArray();
        Array.Sort(sorted);
        int cursor = 0;
        foreach (var v in mm.Vmas)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(vp, v.Start);
            BinaryPrimitives.WriteUInt64LittleEndian(vp.AsSpan(8), v.End);
            BinaryPrimitives.WriteUInt64LittleEndian(vp.AsSpan(16), v.VmFlags);
            BinaryPrimitives.WriteUInt64LittleEndian(vp.AsSpan(24), v.PgOff);
            BinaryPrimitives.WriteUInt32LittleEndian(vp.AsSpan(32), (uint)v.Kind);
            BinaryPrimitives.WriteUInt32LittleEndian(vp.AsSpan(36), 0);
            Record(TypeVma, VmaPayload, mmId);
            to.Write(vp);
            uint vmaId = id;
            if (v.Kind == VmaKind.File)
            {
                var name = System.Text.Encoding.UTF8.GetBytes(v.File! + "\0");
                Record(TypeFname, (uint)name.Length, vmaId);
                to.Write(name);
            }
            // The VMAs are sorted and disjoint: one cursor over the sorted page addresses serves them all.
            while (cursor < sorted.Length && sorted[cursor] < v.Start) cursor++;
            int first = cursor;
            while (cursor < sorted.Length && sorted[cursor] < v.End) cursor++;
            ReadOnlySpan<ulong> addrs = sorted.AsSpan(first, cursor - first);
            for (int at = 0; ; at += (int)MaxChunkPages)
            {
                // Chunks of at most MaxChunkPages pages; the chunk of zero pages ends the VMA's.
                int n = Math.Max(0, Math.Min((int)MaxChunkPages, addrs.Length - at));
                Record(TypePgarr, (uint)(PgarrFixed + n * (8 + (int)PageSize)), vmaId);
                BinaryPrimitives.WriteUInt64LittleEndian(word, (ulong)n);
                to.Write(word);
                for (int i = 0; i < n; i++) { BinaryPrimitives.WriteUInt64LittleEndian(word, addrs[at + i]); to.Write(word); }
                for (int i = 0; i < n; i++) to.Write(mm.Pages[addrs[at + i]]);
                if (n == 0) break;
            }
        }
        var ctx = new byte[ContextFixed + mm.Ldt.Count * (int)LdtEntrySize];
        BinaryPrimitives.WriteUInt32LittleEndian(ctx, (uint)mm.Ldt.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(ctx.AsSpan(4), LdtEntrySize);
        for (int i = 0; i < mm.Ldt.Count; i++) BinaryPrimitives.WriteUInt64LittleEndian(ctx.AsSpan(ContextFixed + i * 8), mm.Ldt[i]);
        Record(TypeMmContext, (uint)ctx.Length, mmId);
        to.Write(ctx);
    }
}
