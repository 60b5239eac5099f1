using System.Globalization;
using Multikernel.Cli.CommandLine;
using Multikernel.Impl.Restore;

namespace Multikernel.Cli.Restore;

/// <summary>restore IMAGE [--files A,B]: an image into a fresh simulated address space; a bad image is one line, exit 2.</summary>
internal sealed class RestoreCommand : CliCommand
{
    /// <summary>An image larger than this is refused before it is read whole.</summary>
    public const long MaxImageBytes = 1L << 30;

    public override string Name => "restore";
    public override string Summary => "restore a checkpoint image into a fresh simulated address space; a bad image: one line, exit 2";
    public override IReadOnlyList<ArgumentSpec> Arguments => [new("IMAGE", "the image file")];
    public override IEnumerable<OptionSpec> Options => [new("--files", "the files a file mapping may name, comma-separated", ValueName: "A,B")];

    public override int Run(Args a, TextWriter o)
    {
        string file = a.Positionals.FirstOrDefault() ?? throw new UsageException("restore: which image?");
        var files = new FileTable((a.Value("--files") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries));
        var mm = new AddressSpace();
        try
        {
            using var s = InputFile.Open(file, MaxImageBytes, "restore");
            Impl.Restore.Restore.Run(s, mm, files);
        }
        catch (RestoreException e) { throw new UsageException($"restore: {Model.Checking.Printable.Line(file)}: {e.Message}"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        { throw new UsageException($"restore: {Model.Checking.Printable.Line(file)}: {e.Message}"); }
        o.WriteLine($"restored {Model.Checking.Printable.Line(file)}: {mm.Vmas.Count} VMAs, {mm.Pages.Count} pages, {mm.Ldt.Count} LDT entries");
        // Pages written per VMA from the sorted page addresses: two binary searches a VMA, not a pass over every page.
        var written = mm.Pages.Keys.ToArray();
        Array.Sort(written);
        foreach (var v in mm.Vmas)
        {
            int first = LowerBound(written, v.Start), end = LowerBound(written, v.End);
            o.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {v.Start:x12}-{v.End:x12} vm_flags 0x{v.VmFlags:x} {(v.Kind == VmaKind.File ? $"file {v.File} pgoff 0x{v.PgOff:x}" : "anonymous")}, {end - first} of {v.Pages} pages written"));
        }
        return 0;
    }

    private static int LowerBound(ulong[] sorted, ulong value)
    {
        int i = Array.BinarySearch(sorted, value);
        return i >= 0 ? i : ~i;
    }

}
