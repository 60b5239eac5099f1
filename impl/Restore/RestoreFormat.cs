using System.Buffers.Binary;

namespace Multikernel.Impl.Restore;

/// <summary>
/// The checkpoint image, in the shape of the seed's (003) in-kernel checkpoint/restart, little-endian.
/// Every record is an object header (struct cr_hdr: u16 type, u16 reserved = 0, u32 len, u32 parent)
/// and len bytes of payload; a record's object id is its position, from 1. The image is:
/// cr_hdr_mm (parent 0), then per VMA a cr_hdr_vma (parent: the mm), for a file mapping a
/// CR_HDR_FNAME (parent: the VMA), then page-array chunks (parent: the VMA) ending with one of zero
/// pages, and last the mm context (parent: the mm). See the README for every field.
/// </summary>
public static class RestoreFormat
{
    public const ulong PageSize = RestoreConstants.PageSize;
    public const int HeaderSize = 12;
    public const ushort TypeMm = 1, TypeVma = 2, TypeFname = 3, TypePgarr = 4, TypeMmContext = 5;

    public const int MmPayload = 11 * 8 + 8;      // eleven u64 bounds, u32 map_count, u32 reserved
    public const int VmaPayload = 4 * 8 + 8;      // u64 start, end, vm_flags, pgoff; u32 type; u32 reserved
    public const int PgarrFixed = (int)RestoreConstants.PgarrFixed; // u64 nr_pages, then nr u64 addresses, then nr pages
    public const int ContextFixed = 8;            // u32 nldt, u32 ldt_entry_size, then the entries

    public const uint MaxMapCount = RestoreConstants.MaxMapCount;
    public const ulong MaxChunkPages = RestoreConstants.MaxChunkPages;
    /// <summary>PATH_MAX, the terminating NUL included.</summary>
    public const int MaxFname = 4096;
    /// <summary>LDT_ENTRIES and LDT_ENTRY_SIZE of x86.</summary>
    public const uint LdtEntries = 8192, LdtEntrySize = 8;
    public const ulong TaskSize = RestoreConstants.TaskSize;
    public const ulong SharedVmFlags = RestoreConstants.SharedVmFlags;

    public static string TypeName(ushort type) => type switch
    {
        TypeMm => "cr_hdr_mm", TypeVma => "cr_hdr_vma", TypeFname => "CR_HDR_FNAME", TypePgarr => "cr_hdr_pgarr",
        TypeMmContext => "cr_hdr_mm_context", _ => $"type {type}",
    };

    internal static void Header(Span<byte> b, ushort type, uint len, uint parent)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(b, type);
        BinaryPrimitives.WriteUInt16LittleEndian(b[2..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(b[4..], len);
        BinaryPrimitives.WriteUInt32LittleEndian(b[8..], parent);
    }
}

/// <summary>A bad image: which record, at which byte offset, and what is wrong with it.</summary>
public sealed class RestoreException(string record, long offset, string what) : Exception($"{record} at byte {offset}: {what}")
{
    public string Record { get; } = record;
    public long Offset { get; } = offset;
    public string What { get; } = what;
}
