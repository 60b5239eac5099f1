using Multikernel.Impl.Restore;
using Multikernel.Model.Restore;

namespace Multikernel.Properties.Restore;

/// <summary>
/// The specification's image records as a real image, record by record: what audit --image writes
/// and what the machine test feeds the implementation. A read error cannot be put in a file: the
/// contents then end early instead.
/// </summary>
public sealed class ImageOfRecords
{
    private readonly ImageBuilder _b = new();
    private uint _mm, _vma;
    private ulong _next = 0x10000000, _first, _last, _pages;
    private bool _cut, _ended;

    public byte[] Bytes => _cut ? _b.ToArray()[..^((int)RestoreFormat.PageSize / 2)] : _b.ToArray();

    /// <summary>Appends a record; false once the image has ended (a truncation or a read error).</summary>
    public bool Append(RestoreAction a)
    {
        if (_cut || _ended) return false;
        const ulong Flags = 0x73; // VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC
        ulong two = 2 * RestoreFormat.PageSize;
        switch (a.Record)
        {
            case ImageRecord.Mm: _mm = _b.Mm(a.Arg); break;
            case ImageRecord.Vma: _pages = 0; if (_first == 0) _first = _next; _last = _next; _vma = _b.Vma(_mm, _next, _next + two, Flags); _next += 0x100000; break;
            case ImageRecord.MmapFails: _b.Record(RestoreFormat.TypeFname, _b.Vma(_mm, _next, _next + two, Flags, VmaKind.File), "/no/such/file\0"u8); break; // filp_open() fails
            case ImageRecord.VmaUnalignedEnd: _b.Vma(_mm, _next, _next + two - 1, Flags); break;
            case ImageRecord.VmaOverlapping: _pages = 0; _vma = _b.Vma(_mm, _last, _last + two, Flags); break;
            case ImageRecord.VmaShared: _pages = 0; _last = _next; _vma = _b.Vma(_mm, _next, _next + two, Flags | RestoreFormat.SharedVmFlags); _next += 0x100000; break;
            case ImageRecord.VmaUnaligned: _b.Vma(_mm, _next + 1, _next + two, Flags); break;
            case ImageRecord.VmaEmpty: _b.Vma(_mm, _next, _next, Flags); break;
            case ImageRecord.PagesInside: _b.Pages(_vma, [_last + _pages++ * RestoreFormat.PageSize]); break;
            case ImageRecord.PagesRepeated: _b.Pages(_vma, [_last + (_pages - 1) * RestoreFormat.PageSize]); break;
            case ImageRecord.PagesInEarlierVma: _b.Pages(_vma, [_first]); break;
            case ImageRecord.PagesOutside: _b.Pages(_vma, [0x7f0000000000]); break;
            case ImageRecord.PagesHugeCount: _b.Pages(_vma, [], claimedCount: 1UL << 40); break;
            case ImageRecord.PagesEnd: _b.Pages(_vma, []); break;
            case ImageRecord.Context: _b.Context(_mm); break;
            case ImageRecord.Truncated: _ended = true; return false;
            case ImageRecord.HeaderGarbage or ImageRecord.HeaderInPageData: _ended = true; return false;
            case ImageRecord.ReadError: _b.Pages(_vma, [_last + (_pages < 2 ? _pages : 0) * RestoreFormat.PageSize]); _cut = true; return false;
        }
        return true;
    }
}
