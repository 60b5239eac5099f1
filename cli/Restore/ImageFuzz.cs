using FsCheck;
using FsCheck.Fluent;
using Multikernel.Cli.Fuzz;

namespace Multikernel.Cli.Restore;

/// <summary>Checkpoint images for <c>restore</c>: valid images of random address spaces, with fields set to hostile values, truncated, flipped.</summary>
internal sealed partial class ImageFuzz : FuzzTarget
{
    public override string Name => "images";
    public override string Summary => "checkpoint images (restore): huge counts and lengths, overlapping or unaligned VMAs, pages outside, shared flags, bad names, truncation";

    // A byte per character (Latin-1), so the generators and the shrinker work on text.
    public override Gen<string> Inputs =>
        Properties.Restore.RestoreProperties.Corrupt(Properties.Restore.RestoreProperties.Spaces).Select(b => System.Text.Encoding.Latin1.GetString(b));

    public override IEnumerable<string> Shrink(string input) => input.Length < 2 ? [] : [input[..(input.Length / 2)]];

    protected override int Execute(string input, TextWriter o)
    {
        // The target holds an address space already: a refused image must leave every part of it as it was.
        var target = Before();
        ulong fingerprint = target.Fingerprint();
        try
        {
            Impl.Restore.Restore.Run(new MemoryStream(System.Text.Encoding.Latin1.GetBytes(input)), target,
                new Impl.Restore.FileTable(Properties.Restore.RestoreProperties.Files));
            return 0;
        }
        catch (Impl.Restore.RestoreException e)
        {
            if (target.Fingerprint() != fingerprint) throw new PartialEffectException($"{e.Message}, yet the address space changed");
            o.WriteLine(e.Message);
            return 2;
        }
    }

    private static Impl.Restore.AddressSpace Before()
    {
        var space = new Impl.Restore.AddressSpace();
        var page = new byte[Impl.Restore.RestoreFormat.PageSize];
        page[0] = 0x5a;
        space.Set(new Impl.Restore.MmBounds(0x400000, 0x401000, 0x600000, 0x601000, 0x602000, 0x603000, 0x7ff000, 0x7fe000, 0x7fe100, 0x7fe100, 0x7fe200),
            [new Impl.Restore.VmaInfo(0x400000, 0x402000, 0x5, 0, Impl.Restore.VmaKind.Anon, null)], new() { [0x400000] = page }, [0x1234]);
        return space;
    }

    /// <summary>"record 3 (cr_hdr_vma) at byte 120: vm_start 0x400001 is not page-aligned" -> "cr_hdr_vma: vm_start N is not page-aligned".</summary>
    protected override string? ErrorKind(string output)
    {
        string line = output.TrimEnd();
        int colon = line.IndexOf(": ", StringComparison.Ordinal);
        if (colon < 0) return null;
        string head = line[..colon];
        int open = head.IndexOf('('), close = head.IndexOf(')');
        string record = open >= 0 && close > open ? head[(open + 1)..close] : head[..Math.Max(0, head.IndexOf(" at byte", StringComparison.Ordinal))];
        string what = line[(colon + 2)..];
        int cut = what.IndexOf(':');
        return Numbers().Replace($"{record.Replace(" expected, ", " expected (", StringComparison.Ordinal)}: {(cut > 0 ? what[..cut] : what)}", m => m.Value[0] switch { '(' => "(…)", '[' => "[…)", _ => "N" });
    }

    /// <summary>Numbers, and the parenthesised or bracketed details that carry them: what differs between two errors of one kind.</summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"0x[0-9a-f]+|\d[\d,]*|\[[^\]]*\)|\([^)]*\)")]
    private static partial System.Text.RegularExpressions.Regex Numbers();
}
