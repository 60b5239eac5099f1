using Multikernel.Impl.Restore;
using Multikernel.Model.Restore;
using Multikernel.Properties.Explorer;

namespace Multikernel.Cli.Commands;

/// <summary>audit restore/… --image FILE: the shortest bad image a trace describes, written as a real image that restore refuses.</summary>
internal static class RestoreImages
{
    public static byte[] FromTrace(RestoreSpec spec, Trace t)
    {
        var init = new List<RestoreState>();
        spec.Initial(init);
        var s = init[t.InitialIndex];
        Span<RestoreAction> actions = stackalloc RestoreAction[Model.Checking.SpecLimits.MaxEnabled];
        var b = new ImageBuilder();
        uint mm = 0, vma = 0;
        ulong nextStart = 0x10000000, lastStart = 0;
        foreach (int c in t.Choices)
        {
            spec.Enabled(s, actions);
            var a = actions[c];
            var bytes = b.ToArray();
            switch (a.Record)
            {
                case ImageRecord.Mm: mm = b.Mm(a.Arg); break;
                case ImageRecord.Vma: lastStart = nextStart; vma = b.Vma(mm, nextStart, nextStart + 2 * RestoreFormat.PageSize, 0x73); nextStart += 0x100000; break;
                case ImageRecord.VmaOverlapping: vma = b.Vma(mm, lastStart, lastStart + 2 * RestoreFormat.PageSize, 0x73); break;
                case ImageRecord.VmaShared: lastStart = nextStart; vma = b.Vma(mm, nextStart, nextStart + 2 * RestoreFormat.PageSize, 0x73 | RestoreFormat.SharedVmFlags); nextStart += 0x100000; break;
                case ImageRecord.VmaUnaligned: b.Vma(mm, nextStart + 1, nextStart + 2 * RestoreFormat.PageSize, 0x73); break;
                case ImageRecord.VmaEmpty: b.Vma(mm, nextStart, nextStart, 0x73); break;
                case ImageRecord.PagesInside: b.Pages(vma, [lastStart]); break;
                case ImageRecord.PagesOutside: b.Pages(vma, [0x7f0000000000]); break;
                case ImageRecord.PagesHugeCount: b.Pages(vma, [], claimedCount: 1UL << 40); break;
                case ImageRecord.PagesEnd: b.Pages(vma, []); break;
                case ImageRecord.Context: b.Context(mm); break;
                case ImageRecord.Truncated: return bytes;
                case ImageRecord.ReadError:
                    // A read error in the contents cannot be put in a file: the contents end early instead.
                    b.Pages(vma, [lastStart]);
                    var all = b.ToArray();
                    return all[..(all.Length - (int)RestoreFormat.PageSize / 2)];
            }
            s = spec.Next(s, a);
        }
        return b.ToArray();
    }
}
