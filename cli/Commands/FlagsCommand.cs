using System.Text.RegularExpressions;
using Multikernel.Model.Checking;
using Multikernel.Proofs.Headers;
using Multikernel.Proofs.Z3;

namespace Multikernel.Cli.Commands;

/// <summary>
/// flags FILE: the VM_* flags of a C header under a configuration, every pair that shares a
/// bit (proved with Z3), every line it cannot evaluate. Exit 1 on an overlap, 3 when a flag
/// line could not be evaluated (no verdict), 2 for a file it cannot read.
/// </summary>
internal static partial class FlagsCommand
{
    [GeneratedRegex("^(CONFIG_[A-Za-z0-9_]+)=(y|m|n)$")]
    private static partial Regex ConfigOption();

    public static int Run(IEnumerable<string> argv, TextWriter o)
    {
        var a = new Args("flags", argv, ["--bits"], [], ["--config"]);
        a.NoMorePositionals(1);
        string file = a.Positionals.FirstOrDefault() ?? throw new UsageException("flags: which header? (e.g. include/linux/mm.h)");
        int bits = a.Int("--bits", 64, 32, 64);
        if (bits is not (32 or 64)) throw new UsageException("flags: --bits must be 32 or 64");
        var config = new List<string>();
        foreach (var c in a.Values("--config"))
        {
            var m = ConfigOption().Match(c);
            if (!m.Success) throw new UsageException($"flags: --config '{c}' is not CONFIG_NAME=y (or =m, =n)");
            if (m.Groups[2].Value != "n") config.Add(m.Groups[1].Value);
        }
        if (Z3Context.Unavailable() is { } why) throw new UsageException(why);

        string text;
        try
        {
            var info = new FileInfo(file);
            if (!info.Exists) throw new UsageException($"flags: {file}: no such file");
            if (info.Length > CHeader.MaxBytes) throw new UsageException($"flags: {file}: larger than {CHeader.MaxBytes >> 20} MiB");
            text = File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        { throw new UsageException($"flags: {file}: {e.Message}"); }

        CHeader header;
        try { header = CHeader.Read(text, config, bits); }
        catch (HeaderException e) { throw new UsageException($"flags: {file}: {e.Message}"); }
        var r = FlagAudit.Run(header);

        o.WriteLine($"flags {file} ({bits}-bit{(config.Count > 0 ? ", " + string.Join(" ", config.Select(c => c + "=y")) : ", no CONFIG_ options set")})");
        o.WriteLine($"  {r.Flags.Count} single-bit VM_* flags ({r.Flags.Count(f => f.IsAlias)} aliases), {r.Masks.Count} masks; {r.PairsChecked} pairs of distinct flags checked with Z3");
        foreach (var ov in r.Overlaps)
            o.WriteLine($"  OVERLAP {ov.A.Name} (line {ov.A.Line}, 0x{ov.A.Value:x}) and {ov.B.Name} (line {ov.B.Line}, 0x{ov.B.Value:x}) share bit {System.Numerics.BitOperations.TrailingZeroCount(ov.Witness)} (0x{ov.Witness:x})");
        foreach (var (line, what, reason) in r.Unevaluable)
            o.WriteLine($"  cannot evaluate line {line}: {what}: {reason}");
        if (r.Overlaps.Count > 0) { o.WriteLine($"{r.Overlaps.Count} overlapping pair(s)"); return (int)ExitCode.Violated; }
        if (r.Unevaluable.Count > 0) { o.WriteLine("no overlap among the flags evaluated, but not every flag line could be evaluated: no verdict"); return (int)ExitCode.NoVerdict; }
        o.WriteLine("no two distinct flags share a bit");
        return (int)ExitCode.Holds;
    }
}
