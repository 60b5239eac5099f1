using System.Globalization;
using Multikernel.Cli.CommandLine;
using Multikernel.Impl.Restore;

namespace Multikernel.Cli.Restore;

/// <summary>checkpoint --vmas START-END:anon|file=NAME,… --out FILE: an image of an address space with those VMAs, every page written.</summary>
internal sealed class CheckpointCommand : CliCommand
{
    private const ulong MaxCheckpointPages = 16384;

    public override string Name => "checkpoint";
    public override string Summary => "write an image of an address space with the VMAs given, every page written";
    public override IEnumerable<OptionSpec> Options =>
    [
        new("--vmas", "the VMAs: page-aligned, increasing, disjoint hex ranges, each anonymous or a file mapping", ValueName: "START-END:anon|file=NAME,…"),
        new("--out", "the image file to write", ValueName: "FILE"),
    ];

    public override int Run(Args a, TextWriter o)
    {
        string spec = a.Value("--vmas") ?? throw new UsageException("checkpoint: --vmas START-END:anon|file=NAME,… is needed");
        string outFile = OutputFile.Check("checkpoint", "--out", a.Value("--out") ?? throw new UsageException("checkpoint: --out FILE is needed"), "checkpoint.img");
        var vmas = new List<VmaInfo>();
        var pages = new Dictionary<ulong, byte[]>();
        foreach (var part in spec.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = part.Split(':', 2);
            var range = kv[0].Split('-');
            if (kv.Length != 2 || range.Length != 2 || !ulong.TryParse(range[0].Replace("0x", "", StringComparison.Ordinal), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong start)
                || !ulong.TryParse(range[1].Replace("0x", "", StringComparison.Ordinal), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong end))
                throw new UsageException($"checkpoint: --vmas '{Model.Checking.BoundsText.Clip(part)}' is not START-END:anon or START-END:file=NAME (hex)");
            if (start % RestoreFormat.PageSize != 0 || end % RestoreFormat.PageSize != 0 || end <= start || end > RestoreFormat.TaskSize || (vmas.Count > 0 && start < vmas[^1].End))
                throw new UsageException($"checkpoint: --vmas '{Model.Checking.BoundsText.Clip(part)}': page-aligned, increasing, disjoint ranges below 0x{RestoreFormat.TaskSize:x}");
            // The pages are built in memory: their number, not the argument's text, sizes the allocation, so it is capped in total.
            if ((end - start) / RestoreFormat.PageSize > MaxCheckpointPages - (ulong)pages.Count)
                throw new UsageException($"checkpoint: --vmas '{Model.Checking.BoundsText.Clip(part)}': at most {MaxCheckpointPages} pages in all ({MaxCheckpointPages * RestoreFormat.PageSize >> 20} MiB)");
            bool file = kv[1].StartsWith("file=", StringComparison.Ordinal);
            if (!file && kv[1] != "anon") throw new UsageException($"checkpoint: --vmas '{Model.Checking.BoundsText.Clip(part)}': anon or file=NAME");
            vmas.Add(new VmaInfo(start, end, 0x73, 0, file ? VmaKind.File : VmaKind.Anon, file ? kv[1][5..] : null));
            for (ulong p = start; p < end; p += RestoreFormat.PageSize)
            {
                var data = new byte[RestoreFormat.PageSize];
                for (int i = 0; i < data.Length; i += 8) System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(i), p + (ulong)i);
                pages[p] = data;
            }
        }
        var mm = new AddressSpace();
        mm.Set(default, vmas, pages, []);
        try
        {
            // Whole or not at all: a full disk or Ctrl-C leaves the previous image, never a truncated one.
            using var image = new MemoryStream();
            Impl.Restore.Checkpoint.Write(mm, image);
            // An image restore would refuse (a file name it cannot take) is refused here, by restore itself.
            image.Position = 0;
            try { Impl.Restore.Restore.Run(image, new AddressSpace(), new FileTable(vmas.Where(v => v.File is not null).Select(v => v.File!))); }
            catch (RestoreException e) { throw new UsageException($"checkpoint: restore would refuse this image: {e.Message}"); }
            OutputFile.Write(outFile, image.GetBuffer().AsSpan(0, (int)image.Length));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        { throw new UsageException($"checkpoint: {Model.Checking.Printable.Line(outFile)}: {e.Message}"); }
        o.WriteLine($"wrote {outFile}: {vmas.Count} VMAs, {pages.Count} pages");
        return 0;
    }
}
