using System.Buffers.Binary;
using static Multikernel.Impl.Restore.RestoreFormat;

namespace Multikernel.Impl.Restore;

/// <summary>
/// restore: reads an image into an address space, atomically. The whole image is read and checked
/// into a staging address space first; only a good image replaces the target, in one step, and a
/// bad one leaves it exactly as it was. Every field is checked before it is used, every length and
/// count is bounded before anything is allocated (the pages allocated are the pages read), every
/// read error is reported with its record and byte offset, none swallowed.
/// </summary>
public static class Restore
{
    /// <summary>Restores <paramref name="image"/> into <paramref name="target"/>; throws <see cref="RestoreException"/> and changes nothing on a bad image.</summary>
    public static void Run(Stream image, AddressSpace target, FileTable files)
    {
        var r = new Reader(image);
        var (bounds, mapCount) = ReadMm(r);
        var vmas = new List<VmaInfo>((int)Math.Min(mapCount, 1024));
        var pages = new Dictionary<ulong, byte[]>();
        for (uint n = 0; n < mapCount; n++) vmas.Add(ReadVma(r, vmas, pages, files));
        var ldt = ReadContext(r);
        if (r.ReadByteOrEnd() is not null) throw new RestoreException("the image", r.Offset - 1, "bytes follow the mm context: the image ends there");
        target.ReplaceWith(bounds, vmas, pages, ldt); // the only write to the target
    }

    /// <summary>A stream with the offset of every byte read, and reads that never run past the end unnoticed.</summary>
    private sealed class Reader(Stream s)
    {
        public long Offset { get; private set; }
        public uint Records { get; private set; }
        private readonly byte[] _head = new byte[HeaderSize];

        public void Exact(Span<byte> into, string record, string what)
        {
            int got = 0, n;
            while (got < into.Length && (n = s.Read(into[got..])) > 0) got += n;
            if (got < into.Length) throw new RestoreException(record, Offset + got, $"the image ends inside {what} ({got} of {into.Length} bytes)");
            Offset += into.Length;
        }

        public int? ReadByteOrEnd()
        {
            int b = s.ReadByte();
            if (b < 0) return null;
            Offset++;
            return b;
        }

        /// <summary>The next record's header, which must be of <paramref name="type"/> with <paramref name="parent"/>; returns its length.</summary>
        public (uint Id, uint Len, long At) Header(ushort type, uint parent, string where)
        {
            long at = Offset;
            string rec = $"record {Records + 1} ({TypeName(type)} expected, {where})";
            Exact(_head, rec, "the object header");
            Records++;
            ushort t = BinaryPrimitives.ReadUInt16LittleEndian(_head);
            ushort reserved = BinaryPrimitives.ReadUInt16LittleEndian(_head.AsSpan(2));
            uint len = BinaryPrimitives.ReadUInt32LittleEndian(_head.AsSpan(4));
            uint par = BinaryPrimitives.ReadUInt32LittleEndian(_head.AsSpan(8));
            rec = $"record {Records} ({TypeName(t)})";
            if (t != type) throw new RestoreException(rec, at, $"type {t} where {TypeName(type)} ({type}) belongs ({where})");
            if (reserved != 0) throw new RestoreException(rec, at + 2, $"reserved field is {reserved}, not 0");
            if (par != parent) throw new RestoreException(rec, at + 8, $"parent {par}, expected {parent}");
            return (Records, len, at);
        }

        public static string Name(uint id, ushort type) => $"record {id} ({TypeName(type)})";
    }

    private static (MmBounds, uint) ReadMm(Reader r)
    {
        var (id, len, at) = r.Header(TypeMm, 0, "the image starts with the mm");
        string rec = Reader.Name(id, TypeMm);
        if (len != MmPayload) throw new RestoreException(rec, at + 4, $"length {len}, a cr_hdr_mm is {MmPayload} bytes");
        Span<byte> p = stackalloc byte[MmPayload];
        r.Exact(p, rec, "cr_hdr_mm");
        Span<ulong> f = stackalloc ulong[11];
        for (int i = 0; i < 11; i++) f[i] = BinaryPrimitives.ReadUInt64LittleEndian(p[(i * 8)..]);
        uint mapCount = BinaryPrimitives.ReadUInt32LittleEndian(p[88..]);
        string[] names = ["start_code", "end_code", "start_data", "end_data", "start_brk", "brk", "start_stack", "arg_start", "arg_end", "env_start", "env_end"];
        for (int i = 0; i < 11; i++)
            if (f[i] >= TaskSize) throw new RestoreException(rec, at + HeaderSize + i * 8, $"{names[i]} 0x{f[i]:x} is not a user address (TASK_SIZE 0x{TaskSize:x})");
        foreach (var (lo, hi) in new[] { (0, 1), (2, 3), (4, 5), (7, 8), (9, 10) })
            if (f[lo] > f[hi]) throw new RestoreException(rec, at + HeaderSize + hi * 8, $"{names[hi]} 0x{f[hi]:x} is below {names[lo]} 0x{f[lo]:x}");
        if (mapCount > MaxMapCount) throw new RestoreException(rec, at + HeaderSize + 88, $"map_count {mapCount} is above the {MaxMapCount} VMAs an mm may have");
        return (new MmBounds(f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10]), mapCount);
    }

    private static VmaInfo ReadVma(Reader r, List<VmaInfo> before, Dictionary<ulong, byte[]> pages, FileTable files)
    {
        var (id, len, at) = r.Header(TypeVma, 1, $"VMA {before.Count + 1} of the mm");
        string rec = Reader.Name(id, TypeVma);
        if (len != VmaPayload) throw new RestoreException(rec, at + 4, $"length {len}, a cr_hdr_vma is {VmaPayload} bytes");
        Span<byte> p = stackalloc byte[VmaPayload];
        r.Exact(p, rec, "cr_hdr_vma");
        ulong start = BinaryPrimitives.ReadUInt64LittleEndian(p), end = BinaryPrimitives.ReadUInt64LittleEndian(p[8..]);
        ulong flags = BinaryPrimitives.ReadUInt64LittleEndian(p[16..]), pgoff = BinaryPrimitives.ReadUInt64LittleEndian(p[24..]);
        uint type = BinaryPrimitives.ReadUInt32LittleEndian(p[32..]), reserved = BinaryPrimitives.ReadUInt32LittleEndian(p[36..]);
        long f0 = at + HeaderSize;
        ulong prevEnd = before.Count > 0 ? before[^1].End : 0;
        switch (RestoreValidation.CheckVma(RestoreCheck.Reference, start, end, flags, pgoff, type, prevEnd))
        {
            case VmaFault.StartUnaligned: throw new RestoreException(rec, f0, $"vm_start 0x{start:x} is not page-aligned");
            case VmaFault.EndUnaligned: throw new RestoreException(rec, f0 + 8, $"vm_end 0x{end:x} is not page-aligned");
            case VmaFault.Reversed or VmaFault.Empty: throw new RestoreException(rec, f0 + 8, $"vm_end 0x{end:x} is not above vm_start 0x{start:x}");
            case VmaFault.PastTaskSize: throw new RestoreException(rec, f0 + 8, $"vm_end 0x{end:x} is past TASK_SIZE 0x{TaskSize:x}");
            case VmaFault.Overlaps: throw new RestoreException(rec, f0, $"vm_start 0x{start:x} is below the previous VMA's end 0x{prevEnd:x}: VMAs must be sorted and must not overlap");
            // vm_flags against VM_* (VM_SHARED | VM_MAYSHARE), never against MAP_SHARED or PROT_*.
            case VmaFault.Shared: throw new RestoreException(rec, f0 + 16, $"vm_flags 0x{flags:x} has VM_SHARED or VM_MAYSHARE: only private mappings are restored");
            case VmaFault.BadType: throw new RestoreException(rec, f0 + 32, $"vma_type {type} is neither anonymous (1) nor file (2)");
            case VmaFault.PgoffOverflow: throw new RestoreException(rec, f0 + 24, $"vm_pgoff 0x{pgoff:x} plus the VMA's {(end - start) / PageSize} pages overflows a file offset");
        }
        if (reserved != 0) throw new RestoreException(rec, f0 + 36, $"reserved field is {reserved}, not 0");
        string? file = type == (uint)VmaKind.File ? ReadFname(r, id, files) : null;
        var vma = new VmaInfo(start, end, flags, pgoff, (VmaKind)type, file);
        ReadPages(r, id, vma, pages);
        return vma;
    }

    private static string ReadFname(Reader r, uint vmaId, FileTable files)
    {
        var (id, len, at) = r.Header(TypeFname, vmaId, "the file name of a file VMA");
        string rec = Reader.Name(id, TypeFname);
        if (len is 0 or > MaxFname) throw new RestoreException(rec, at + 4, $"length {len}: a file name is 1 to {MaxFname} bytes, its NUL included");
        var b = new byte[len];
        r.Exact(b, rec, "the file name");
        int nul = Array.IndexOf(b, (byte)0);
        if (nul != b.Length - 1) throw new RestoreException(rec, at + HeaderSize + (nul < 0 ? len - 1 : nul), nul < 0 ? "the file name is not NUL-terminated" : "the file name has a NUL inside it");
        string name;
        try { name = new System.Text.UTF8Encoding(false, true).GetString(b, 0, b.Length - 1); }
        catch (System.Text.DecoderFallbackException) { throw new RestoreException(rec, at + HeaderSize, "the file name is not UTF-8"); }
        if (name.Length == 0) throw new RestoreException(rec, at + HeaderSize, "the file name is empty");
        if (!files.Exists(name)) throw new RestoreException(rec, at + HeaderSize, $"no such file: {Clip(name)}");
        return name;
    }

    private static string Clip(string s) => s.Length <= 60 ? s : s[..60] + "…";

    private static void ReadPages(Reader r, uint vmaId, VmaInfo vma, Dictionary<ulong, byte[]> pages)
    {
        Span<byte> word = stackalloc byte[8];
        // Page addresses ascend through a VMA's chunks: a repeated page is refused in O(1), and no
        // two VMAs (sorted, disjoint) can name one page.
        ulong next = vma.Start;
        while (true)
        {
            var (id, len, at) = r.Header(TypePgarr, vmaId, $"a page array of the VMA [0x{vma.Start:x}, 0x{vma.End:x})");
            string rec = Reader.Name(id, TypePgarr);
            if (len < PgarrFixed) throw new RestoreException(rec, at + 4, $"length {len} is shorter than nr_pages");
            r.Exact(word, rec, "nr_pages");
            ulong nr = BinaryPrimitives.ReadUInt64LittleEndian(word);
            // Bound the count before any arithmetic on it, and the length by the count: no overflow, no allocation sized by the image.
            switch (RestoreValidation.CheckChunk(RestoreCheck.Reference, nr, vma.Pages, len))
            {
                case ChunkFault.AboveChunk: throw new RestoreException(rec, at + HeaderSize, $"nr_pages {nr} is above the {MaxChunkPages} pages of a chunk");
                case ChunkFault.AboveVma: throw new RestoreException(rec, at + HeaderSize, $"nr_pages {nr} is more than the VMA's {vma.Pages} pages");
                case ChunkFault.BadLength: throw new RestoreException(rec, at + 4, $"length {len}, but {nr} pages take {PgarrFixed + nr * (8 + PageSize)} bytes");
            }
            if (nr == 0) return;
            var addrs = new ulong[nr];
            for (ulong i = 0; i < nr; i++)
            {
                long fieldAt = r.Offset;
                r.Exact(word, rec, $"page address {i}");
                ulong a = BinaryPrimitives.ReadUInt64LittleEndian(word);
                switch (RestoreValidation.CheckPage(RestoreCheck.Reference, a, vma.Start, vma.End, next))
                {
                    case PageFault.Unaligned: throw new RestoreException(rec, fieldAt, $"page address 0x{a:x} is not page-aligned");
                    case PageFault.OutsideVma: throw new RestoreException(rec, fieldAt, $"page address 0x{a:x} is outside its VMA [0x{vma.Start:x}, 0x{vma.End:x}): a page is written only inside a private VMA of the image");
                    case PageFault.NotAscending: throw new RestoreException(rec, fieldAt, $"page address 0x{a:x} does not ascend (the last page was 0x{next - PageSize:x}): a page appears twice or out of order");
                }
                next = a + PageSize;
                addrs[i] = a;
            }
            foreach (ulong a in addrs)
            {
                var page = new byte[PageSize];
                r.Exact(page, rec, $"the contents of page 0x{a:x}");
                pages.Add(a, page);
            }
        }
    }

    private static List<ulong> ReadContext(Reader r)
    {
        var (id, len, at) = r.Header(TypeMmContext, 1, "the mm context after the last VMA");
        string rec = Reader.Name(id, TypeMmContext);
        if (len < ContextFixed) throw new RestoreException(rec, at + 4, $"length {len} is shorter than nldt and ldt_entry_size");
        Span<byte> p = stackalloc byte[ContextFixed];
        r.Exact(p, rec, "nldt and ldt_entry_size");
        uint nldt = BinaryPrimitives.ReadUInt32LittleEndian(p), size = BinaryPrimitives.ReadUInt32LittleEndian(p[4..]);
        if (size != LdtEntrySize) throw new RestoreException(rec, at + HeaderSize + 4, $"ldt_entry_size {size}, not LDT_ENTRY_SIZE ({LdtEntrySize})");
        if (nldt > LdtEntries) throw new RestoreException(rec, at + HeaderSize, $"nldt {nldt} is above LDT_ENTRIES ({LdtEntries})");
        if (len != ContextFixed + (ulong)nldt * LdtEntrySize) throw new RestoreException(rec, at + 4, $"length {len}, but {nldt} entries take {ContextFixed + nldt * LdtEntrySize} bytes");
        var ldt = new List<ulong>((int)nldt);
        for (uint i = 0; i < nldt; i++)
        {
            r.Exact(p, rec, $"LDT entry {i}");
            ldt.Add(BinaryPrimitives.ReadUInt64LittleEndian(p));
        }
        return ldt;
    }
}
