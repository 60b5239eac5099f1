using System.Text.RegularExpressions;
using Multikernel.Cli.CommandLine;
using Multikernel.Proofs.Headers;
using Multikernel.Proofs.Z3;

namespace Multikernel.Cli.Commands;

/// <summary>
/// flags FILE: the VM_* flags of a C header under a configuration, every pair that shares a
/// bit (proved with Z3), every line it cannot evaluate. Exit 1 on an overlap, 3 when a flag
/// line could not be evaluated (no verdict), 2 for a file it cannot read.
/// </summary>
internal sealed partial class FlagsCommand : CliCommand
{
    public override string Name => "flags";
    public override string Summary => "VM_* flags of a C header (e.g. include/linux/mm.h) that share a bit, proved with Z3";
    public override IReadOnlyList<ArgumentSpec> Arguments => [new("FILE", "the header")];
    public override IEnumerable<OptionSpec> Options =>
    [
        new("--config", "a configuration option: =y, =m (CONFIG_X_MODULE), =n or a number; the last value of an option wins", OptionKind.Repeated, "CONFIG_NAME=y|m|n|N"),
        new("--bits", "the word size, 32 or 64 (default 64, or the architecture's)", ValueName: "32|64"),
        new("--arch", $"an architecture preset: {string.Join(", ", BuildPresets.Architectures)}", ValueName: "ARCH"),
        OptionSpec.Flag("--sweep", "every preset at every word size it has, and allyes-style, one line per build"),
    ];

    [GeneratedRegex("^(CONFIG_[A-Za-z0-9_]+)=(y|m|n|[0-9]{1,19}|0x[0-9a-fA-F]{1,16})$")]
    private static partial Regex ConfigOption();

    public override int Run(Args a, TextWriter o)
    {
        string file = a.Positionals.FirstOrDefault() ?? throw new UsageException("flags: which header? (e.g. include/linux/mm.h)");
        int? bitsGiven = a.Value("--bits") is null ? null : a.Int("--bits", 64, 32, 64);
        if (bitsGiven is not (null or 32 or 64)) throw new UsageException("flags: --bits must be 32 or 64");
        string? arch = a.Value("--arch");
        if (arch is not null && !BuildPresets.Architectures.Contains(arch))
            throw new UsageException($"flags: --arch '{Model.Checking.BoundsText.Clip(arch)}' is not one of {string.Join(", ", BuildPresets.Architectures)}");
        if (a.Flag("--sweep") && (arch is not null || bitsGiven is not null || a.Values("--config").Count > 0))
            throw new UsageException("flags: --sweep checks every preset: it takes no --arch, --bits or --config");
        // The last value of an option wins, as in a .config; =m defines CONFIG_X_MODULE (so #ifdef
        // CONFIG_X is false and IS_ENABLED(CONFIG_X) true), a number defines CONFIG_X as that number.
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var c in a.Values("--config"))
        {
            var m = ConfigOption().Match(c);
            if (!m.Success) throw new UsageException($"flags: --config '{Model.Checking.BoundsText.Clip(c)}' is not CONFIG_NAME=y (or =m, =n, =number)");
            options[m.Groups[1].Value] = m.Groups[2].Value;
        }
        if (Z3Context.Unavailable() is { } why) throw new UsageException(why);
        string text = InputFile.ReadText(file, CHeader.MaxBytes, "flags");

        if (a.Flag("--sweep")) return Sweep(text, file, o);

        int bits = bitsGiven ?? 64;
        var defines = new List<KeyValuePair<string, string>>();
        if (arch is not null)
        {
            bits = bitsGiven ?? (BuildPresets.For(arch, 64) is null ? 32 : 64);
            var preset = BuildPresets.For(arch, bits) ?? throw new UsageException($"flags: --arch {arch} has no {bits}-bit build");
            foreach (var (k, v) in preset.Options) if (!options.ContainsKey(k)) options[k] = v == "1" ? "y" : v;
        }
        foreach (var (name, value) in options)
        {
            if (value == "y") defines.Add(KeyValuePair.Create(name, "1"));
            else if (value == "m") defines.Add(KeyValuePair.Create(name + "_MODULE", "1"));
            else if (value != "n") defines.Add(KeyValuePair.Create(name, value));
        }
        var config = options.Where(o => o.Value != "n").Select(o => $"{o.Key}={o.Value}").ToList();
        if (!options.ContainsKey("CONFIG_MMU") && text.Contains("CONFIG_MMU", StringComparison.Ordinal))
            o.WriteLine("note: CONFIG_MMU is not set, so this checks a no-MMU build (give --arch, or --config CONFIG_MMU=y)");
        return Check(text, file, defines, config, bits, o);
    }

    /// <summary>--sweep: every preset at every word size it has, and allyes-style, one line per build.</summary>
    private static int Sweep(string text, string file, TextWriter o)
    {
        o.WriteLine($"flags {file}: every architecture preset, defconfig-like and allyes-like");
        var worst = Model.Checking.ExitCode.Holds;
        var legend = new List<string>();
        foreach (var build in BuildPresets.Sweep(text))
        {
            var sink = new StringWriter();
            int code;
            try { code = Check(text, file, build.Options, [], build.Bits, sink); }
            catch (UsageException e) { o.WriteLine($"  {build.Name,-22} input error: {e.Message}"); return (int)Model.Checking.ExitCode.Usage; }
            var lines = sink.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            string verdict = lines[^1].Trim();
            string detail = string.Join("; ", lines.Where(l => l.Contains("OVERLAP", StringComparison.Ordinal) || l.Trim().StartsWith("cannot evaluate", StringComparison.Ordinal)).Take(3).Select(l => l.Trim()));
            int notes = lines.Count(l => l.Trim().StartsWith("note:", StringComparison.Ordinal));
            o.WriteLine($"  {build.Name,-22} exit {code}: {verdict}{(notes > 0 ? $" ({notes} unevaluable mask{(notes == 1 ? "" : "s")} noted)" : "")}{(detail.Length > 0 ? $" — {detail}" : "")}");
            legend.Add($"  {build.Name}: {build.OptionText}");
            worst = Model.Checking.ExitCodes.Worst(worst, (Model.Checking.ExitCode)code);
        }
        o.WriteLine("options each build assumed:");
        foreach (var l in legend) o.WriteLine(l);
        return (int)worst;
    }

    /// <summary>The audit of a header's text (the command's core, which the fuzz harness drives directly).</summary>
    internal static int Check(string text, string file, IReadOnlyList<KeyValuePair<string, string>> defines, IReadOnlyList<string> config, int bits, TextWriter o)
    {
        CHeader header;
        try { header = CHeader.Read(text, defines, bits); }
        catch (HeaderException e) { throw new UsageException($"flags: {file}: {e.Message}"); }
        var r = FlagAudit.Run(header);

        o.WriteLine($"flags {file} ({bits}-bit{(config.Count > 0 ? ", " + string.Join(" ", config) : ", no CONFIG_ options set")})");
        o.WriteLine($"  {r.Flags.Count} single-bit VM_* flags ({r.Flags.Count(f => f.IsAlias)} aliases), {r.Masks.Count} masks; {r.PairsChecked} pairs of distinct flags decided (grouped by bit; each shared bit and the disjointness of the rest proved with Z3)");
        foreach (var ov in r.Overlaps)
        {
            string bit = $"bit {System.Numerics.BitOperations.TrailingZeroCount(ov.Witness)} (0x{ov.Witness:x})";
            if (ov.Flags.Count == 2)
                o.WriteLine($"  OVERLAP {ov.A.Name} (line {ov.A.Line}, 0x{ov.A.Value:x}) and {ov.B.Name} (line {ov.B.Line}, 0x{ov.B.Value:x}) share {bit}");
            else
                o.WriteLine($"  OVERLAP {ov.Flags.Count} flags share {bit}: {string.Join(", ", ov.Flags.Take(12).Select(f => $"{f.Name} (line {f.Line})"))}{(ov.Flags.Count > 12 ? $", and {ov.Flags.Count - 12} more" : "")}");
        }
        foreach (var (line, what, reason) in r.Unevaluable)
            o.WriteLine($"  cannot evaluate line {line}: {(what.Length <= 120 ? what : what[..120] + "…")}: {reason}");
        foreach (var (line, what, reason) in r.Notes)
            o.WriteLine($"  note: line {line} is a mask it cannot evaluate ({(what.Length <= 120 ? what : what[..120] + "…")}: {reason}); a mask cannot decide a bit collision");
        if (r.Overlaps.Count > 0) { o.WriteLine($"{r.Overlaps.Sum(x => x.Pairs)} overlapping pair(s) on {r.Overlaps.Count} bit(s)"); return (int)Model.Checking.ExitCode.Violated; }
        if (r.Unevaluable.Count > 0) { o.WriteLine("no overlap among the flags evaluated, but not every flag line could be evaluated: no verdict"); return (int)Model.Checking.ExitCode.NoVerdict; }
        o.WriteLine("no two distinct flags share a bit");
        return (int)Model.Checking.ExitCode.Holds;
    }
}
