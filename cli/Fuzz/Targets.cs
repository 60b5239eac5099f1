using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using Multikernel.Cli.Commands;

namespace Multikernel.Cli.Fuzz;

/// <summary>C headers for <c>flags</c>: the preprocessor lines and expressions kernel headers use, nested, chained and corrupted.</summary>
internal sealed class HeaderFuzz : FuzzTarget
{
    public override string Name => "headers";
    public override string Summary => "C headers (flags): #define / #if nesting, macro chains, doubling, huge literals, deep parentheses, truncation";

    private static readonly string[] Names = ["VM_A", "VM_B", "VM_C", "VM_LOCKED", "VM_UFFD_MINOR", "C0", "C1", "C2", "CONFIG_X", "CONFIG_64BIT", "F", "G"];

    private static Gen<string> Literal =>
        Gen.OneOf(
            from n in Gen.Choose(0, 70) select n.ToString(CultureInfo.InvariantCulture),
            from digits in Gen.Choose(1, 26) from d in Gen.Elements('1', '7', 'f', '0') select "0x" + new string(d, digits),
            from digits in Gen.Choose(1, 26) from d in Gen.Elements('1', '7', '0') select "0" + new string(d, digits),
            from digits in Gen.Choose(1, 26) select new string('9', digits))
        .SelectMany(l => Gen.Elements("", "U", "UL", "ULL", "L", "LL", "u"), (l, s) => l + s);

    private static Gen<string> Expr(int depth) => depth <= 0
        ? Gen.OneOf(Literal, Gen.Elements(Names))
        : Gen.Frequency(
            (3, Literal),
            (3, Gen.Elements(Names)),
            (2, Expr(depth - 1).Select(e => $"BIT({e})")),
            (1, Expr(depth - 1).Select(e => $"BIT_ULL({e})")),
            (2, Expr(depth - 1).Select(e => $"({e})")),
            (2, from op in Gen.Elements("!", "~", "-", "+") from e in Expr(depth - 1) select op + e),
            (3, from a in Expr(depth / 2) from op in Gen.Elements("|", "&", "<<", ">>", "+", "-", "*", "/", "%", "==", "&&", "||", "?")
                from b in Expr(depth / 2) select op == "?" ? $"{a} ? {b} : {a}" : $"{a} {op} {b}"),
            (1, Expr(depth - 1).Select(e => $"F({e})")),
            (1, from n in Gen.Choose(50, 400) select new string('(', n) + "1" + new string(')', n)),
            (1, from n in Gen.Choose(50, 400) from op in Gen.Elements("-", "!", "~") select string.Concat(Enumerable.Repeat(op, n)) + "1"),
            (1, from n in Gen.Choose(50, 400) select string.Concat(Enumerable.Repeat("BIT(", n)) + "0" + new string(')', n)));

    private static Gen<string> Good =>
        Gen.Sized(size => Gen.Frequency(
            (6, from n in Gen.Elements(Names) from e in Expr(Math.Min(size, 6)) select $"#define {n} {e}"),
            (2, from e in Expr(3) select $"#define F(x) ((x) | {e})"),
            (1, Gen.Elements("#define G(x, y) ((x) ## y)", "#define VM_G G(1, 2)", "#define VM_H F(F(1))")),
            (2, from n in Gen.Elements(Names) select $"#undef {n}"),
            (1, from n in Gen.Elements(Names) from k in Gen.Elements("ifdef", "ifndef") select $"#{k} {n}\n#define VM_E 0x8\n#endif"),
            (1, Gen.Elements("/* a comment */", "// a comment", "struct vm_unmapped_area_info {", "};", "#define VM_X 1 \\", "", "#  define VM_Y\t0x2")),
            (1, from n in Gen.Choose(2, 300) select string.Concat(Enumerable.Repeat("#if 1\n", n)) + "#define VM_D 0x4\n" + string.Concat(Enumerable.Repeat("#endif\n", n))),
            // The enum form: DECLARE_VMA_BIT with ## pasting, aliases, implicit increments, #if inside, INIT_VM_FLAG.
            (2, from n in Gen.Choose(1, 70) from k in Gen.Choose(0, 70) from implicitCount in Gen.Choose(0, 300)
                select "#define DECLARE_VMA_BIT(name, bitnum) VMA_ ## name ## _BIT = ((__force vma_flag_t)bitnum)\n" +
                       "#define DECLARE_VMA_BIT_ALIAS(name, aliased) VMA_ ## name ## _BIT = VMA_ ## aliased ## _BIT\n" +
                       $"enum {{\n DECLARE_VMA_BIT(A, {n}),\n#ifdef CONFIG_X\n DECLARE_VMA_BIT(B, {k}),\n#endif\n" +
                       string.Concat(Enumerable.Range(0, implicitCount).Select(i => $" VMA_I{i}_BIT,\n")) + " DECLARE_VMA_BIT_ALIAS(C, A),\n};\n" +
                       "#define INIT_VM_FLAG(name) BIT((__force int) VMA_ ## name ## _BIT)\n#define VM_A INIT_VM_FLAG(A)\n#define VM_B INIT_VM_FLAG(B)\n#define VM_C INIT_VM_FLAG(C)"),
            (1, Gen.Elements("struct vm_unmapped_area_info {\n#define VM_UNMAPPED_AREA_TOPDOWN 1\n unsigned long flags;\n};", "enum { X = \"}\", Y };", "enum {", "};", "struct s { int a; char c = '{'; };")),
            (1, from n in Gen.Choose(2, 30) select "#define VM_L0 0x1\n" + string.Concat(Enumerable.Range(1, n).Select(i => $"#define VM_L{i} (VM_L{i - 1}|VM_L{i - 1})\n"))),
            (1, from n in Gen.Choose(2, 400) select "#define K0 1\n" + string.Concat(Enumerable.Range(1, n).Select(i => $"#define K{i} K{i - 1}\n")) + $"#define VM_K K{n}")));

    /// <summary>An unbalanced or malformed line: the header is an input error, and must say so in one line.</summary>
    private static Gen<string> Stray =>
        Gen.OneOf(
            from e in Expr(2) from d in Gen.Elements("#if {0}", "#elif {0}", "#else", "#endif") select string.Format(CultureInfo.InvariantCulture, d, e),
            Gen.Elements("#define H(x (x)", "#define (x) 1", "#define", "/* never ends"));

    private static Gen<string> Line => Gen.Frequency((60, Good), (1, Stray));

    /// <summary>Mostly balanced: #if blocks with #elif / #else arms around lines; stray directives come from <see cref="Line"/>.</summary>
    private static Gen<string> Block(int depth) => depth <= 0 || depth > 4
        ? Line
        : Gen.Frequency(
            (4, Line),
            (2, from c in Expr(3) from body in Block(depth - 1).ListOf().Select(l => l.Take(6))
                from arm in Gen.Elements("", "#else\n", "#elif 0\n") from other in Block(depth - 1)
                select $"#if {c}\n{string.Join('\n', body)}\n{arm}{(arm.Length > 0 ? other + "\n" : "")}#endif"));

    public override Gen<string> Inputs => FuzzShrink.Corrupt(Gen.Sized(n => Block(Math.Min(n, 4)).ListOf().Select(ls => string.Join('\n', ls.Take(40)) + "\n")));

    protected override int Execute(string input, TextWriter o) =>
        FlagsCommand.Check(input, "fuzz.h", [KeyValuePair.Create("CONFIG_X", "1")], ["CONFIG_X=y"], 64, o);
}

/// <summary>ITF trace files for <c>replay</c>: a real trace, its fields replaced, its numbers made huge, its text cut and flipped.</summary>
internal sealed class TraceFuzz : FuzzTarget
{
    public override string Name => "traces";
    public override string Summary => "ITF trace files (replay): a real trace with fields removed or replaced, huge numbers, deep nesting, truncation";

    private static readonly Lazy<string> Base = new(() =>
    {
        var spec = new Model.Ipi.IpiSpec(Model.Ipi.IpiDesigns.Find("ipi-v2")!);
        var r = Properties.Explorer.Explorer.Run(spec, new Properties.Explorer.ExploreOptions { StopWhenAllViolated = true });
        var t = r.Outcomes.First(o => o.Property.Name == "no-silent-drop").Trace!;
        return Properties.Traces.Itf.Write(t, "ipi-v2", spec.Bounds.ToString());
    });

    private static Gen<string> Replace(string json) =>
        Gen.OneOf(
            from key in Gen.Elements("\"choices\"", "\"initial\"", "\"bounds\"", "\"design\"", "\"source\"", "\"property\"", "\"states\"", "\"steps\"", "\"loop\"", "\"#meta\"")
            from value in Gen.Elements("99999999999999999999", "-1", "1e309", "null", "\"\"", "[]", "{}", "\"senders=9 senders=2\"", "\"unregister=maybe\"",
                "\"uffd/reference\"", "\"reference\"", "\"ipi/ref-no-mask\"", "\"no-crash\"", "[" + new string('[', 100) + new string(']', 100) + "]",
                "[" + string.Join(',', Enumerable.Repeat("0", 20_000)) + "]", "\"" + new string('a', 50_000) + "\"")
            select ReplaceValue(json, key, value),
            from n in Gen.Choose(0, 9) select json.Replace("\"choices\": [", "\"choices\": [" + string.Concat(Enumerable.Repeat("0, ", n * 1000)), StringComparison.Ordinal),
            Gen.Constant(json));

    /// <summary>Replaces what follows "key": up to the next comma or closing bracket at its level (text-level: may break the JSON, which is the point).</summary>
    private static string ReplaceValue(string json, string key, string value)
    {
        int k = json.IndexOf(key, StringComparison.Ordinal);
        if (k < 0) return json;
        int start = json.IndexOf(':', k) + 1, depth = 0, i = start;
        for (; i < json.Length; i++)
        {
            char c = json[i];
            if (c is '[' or '{') depth++;
            else if (c is ']' or '}') { if (depth == 0) break; depth--; }
            else if (c == ',' && depth == 0) break;
        }
        return json[..start] + " " + value + json[i..];
    }

    public override Gen<string> Inputs => FuzzShrink.Corrupt(Gen.Constant(0).SelectMany(_ => Replace(Base.Value)));

    public override IEnumerable<string> Shrink(string input) => [];

    protected override int Execute(string input, TextWriter o) => ReplayCommand.Judge(input, "fuzz.itf.json", o);
}

/// <summary>
/// Command lines for the System.CommandLine parser, from its grammar: each command with the options
/// it declares, mistyped ones (a letter lost, doubled or swapped), --name=value and --name:value,
/// values that are option names, bound keys smuggled into a value, @response files, --help, the
/// [suggest] directive and "--"; values huge, negative, empty, devices, directories.
/// </summary>
internal sealed partial class ArgsFuzz(string scratch) : FuzzTarget
{
    public override string Name => "args";
    public override string Summary => "command lines: each command's options, mistyped, inline, repeated; values huge, negative, empty, injected; devices, directories, @response files";

    /// <summary>The commands fuzzed: every one that answers at once on small inputs (not check, bench, soak, differ, fuzz).</summary>
    private static readonly string[] Cheap = ["audit", "explore", "prove", "replay", "flags", "designs", "restore", "checkpoint", "help"];

    private static readonly string[] Stray = ["frobnicate", "", "--help", "-h", "--bogus", "--", "[suggest]", "[suggest:5]", "--version"];

    private static IReadOnlyList<CommandLine.CliCommand> Declared => Program.AllCommands();

    private static Gen<string> OptionOf(string command)
    {
        var names = Declared.FirstOrDefault(c => c.Name == command)?.Options.Select(o => o.Name).ToArray() is { Length: > 0 } n ? n : ["--bogus"];
        return Gen.Frequency(
            (6, Gen.Elements(names)),
            (2, from name in Gen.Elements(names) from at in Gen.Choose(2, Math.Max(2, name.Length - 1)) from how in Gen.Choose(0, 2)
                select how switch
                {
                    0 => name.Remove(at, 1),                                          // a letter lost: --sender
                    1 => name.Insert(at, name[at - 1].ToString()),                    // doubled: --seenders
                    _ => at + 1 < name.Length ? name[..at] + name[at + 1] + name[at] + name[(at + 2)..] : name, // swapped
                }),
            (2, from name in Gen.Elements(names) from sep in Gen.Elements("=", ":") from v in Gen.Elements("", "2", "x", "1 senders=3") select name + sep + v),
            (1, Gen.Elements("-h", "--help", "--", "--bogus")));
    }

    private Gen<string> Value => Gen.Elements(
        "", "0", "1", "2", "3", "-1", "99999999999999999999", "1e9", "two", "ε", new string('9', 5000), "/dev/zero", "/nonexistent/x",
        scratch, Path.Combine(scratch, "out.json"), Path.Combine(scratch, "mm.h"), "ipi", "uffd", "ipi/ipi-v2", "ipi/reference", "reference",
        "uffd-v5", "ref-no-mask", "uffd/reference", "CONFIG_X=y", "CONFIG_X=m", "CONFIG_X=5", "CONFIG_X", "32", "64",
        "restore/restore-v6", "balloon/balloon-rfc", Path.Combine(scratch, "a.img"),
        // bound keys smuggled into a value, and values that are options
        "1 senders=3", "2 --first", "senders=2", "--senders", "\n", "a\nb",
        // response files: one that exists, one that does not, one that names itself
        "@" + Path.Combine(scratch, "args.rsp"), "@" + Path.Combine(scratch, "missing.rsp"), "@" + Path.Combine(scratch, "self.rsp"), "@",
        // --vmas: good, unaligned, reversed, overlapping, huge, past TASK_SIZE, malformed, a file mapping
        "0x400000-0x402000:anon", "0x400000-0x402000:file=/bin/sh,0x600000-0x601000:anon", "0x400001-0x402000:anon", "0x402000-0x400000:anon",
        "0x400000-0x402000:anon,0x401000-0x403000:anon", "0x0-0x4000000:anon", "0x0-0xfffffffffffff000:anon", "0x800000000000-0x800000001000:anon",
        "0x400000-0x402000", "0x400000:anon", "zz-0x1000:anon", "0x1000-0x2000:shared", "0x1000-0x2000:file=", ",,,");

    /// <summary>Often a positional the command accepts first, so that its options are read and not only its name refused.</summary>
    private static Gen<string> Lead(string command) => command switch
    {
        "audit" => Gen.Elements("ipi/ipi-v2", "ipi/reference", "uffd/reference", "balloon/reference", "restore/reference", "ref-no-mask"),
        "explore" => Gen.Elements("ipi", "uffd", "balloon", "restore"),
        _ => Gen.Constant(""),
    };

    /// <summary>A bound of the design's own mechanism whose value carries another bound: it must be refused, never read as two.</summary>
    private static Gen<string> Injection =>
        from m in Gen.Elements(Registry.Mechanisms.All.Where(m => m.Model.BoundOptions.Any(b => b.Flag is null)).ToArray())
        from bound in Gen.Elements(m.Model.BoundOptions.Where(b => b.Flag is null).ToArray())
        from other in Gen.Elements(m.Model.BoundOptions.ToArray())
        from sep in Gen.Elements(" ", "\t", "=", " --")
        from explore in Gen.Elements(true, false)
        select string.Join('\n', explore ? "explore" : "audit", explore ? m.Name : m.Model.Qualified(m.Model.Designs.Reference),
            bound.Cli, $"1{sep}{other.Key}=1");

    public override Gen<string> Inputs => Gen.Frequency((20, Commands), (1, Injection));

    private Gen<string> Commands =>
        Gen.Frequency((12, Gen.Elements(Cheap)), (1, Gen.Elements(Stray))).SelectMany(command =>
            from lead in Gen.Frequency((1, Gen.Constant("")), (2, Lead(command)))
            from parts in Gen.Frequency((3, OptionOf(command)), (3, Value)).ListOf()
            select string.Join('\n', new[] { command, lead }.Where(x => x.Length > 0).Concat(parts.Take(12))));

    private static readonly string[] Writes = ["--out", "--json", "--dot", "--junit", "--image", "--litmus"];

    protected override int Execute(string input, TextWriter o)
    {
        var args = input.Split('\n').ToList();
        // Whatever the case names as an output, it is written inside the scratch directory, never the current one.
        for (int i = 0; i < args.Count; i++)
        {
            int cut = args[i].IndexOfAny(['=', ':']);
            string name = cut > 0 ? args[i][..cut] : args[i];
            if (!Writes.Contains(name)) continue;
            if (cut > 0 && args[i].Length > cut + 1) args[i] = name + args[i][cut] + Inside(args[i][(cut + 1)..]);
            else if (i + 1 < args.Count && args[i + 1].Length > 0) { args[i + 1] = Inside(args[i + 1]); i++; } // "--out x", and "--out: x" (the parser reads it so)
        }
        // Explorations stay small: a fuzz case checks that arguments are handled, not how big a state space is.
        if (args[0] is "audit" or "explore" && !args.Any(a => a.StartsWith("--max-states", StringComparison.Ordinal))) args.AddRange(["--max-states", "3000"]);
        if (args[0] is "prove" && !args.Contains("--design")) args.AddRange(["--design", "ipi/ipi-v1"]); // refused at once: no encoding
        return Program.Run([.. args], o, o);
    }

    private string Inside(string path) => Path.IsPathRooted(path) ? path : Path.Combine(scratch, path);

    /// <summary>
    /// "multikernel: audit: unknown option '--sendrs' (did you mean --senders?)" -> "unknown option (did you mean)":
    /// the error without its command, quoted text, paths and numbers, so the harness shows which parts of
    /// the grammar it reached (suggestions, response files, values refused, options repeated).
    /// </summary>
    protected override string? ErrorKind(string output)
    {
        string line = output.TrimEnd().Split('\n')[^1];
        if (line.StartsWith("multikernel: ", StringComparison.Ordinal)) line = line["multikernel: ".Length..];
        int colon = line.IndexOf(": ", StringComparison.Ordinal);
        if (colon > 0 && colon < 16 && !line[..colon].Contains(' ', StringComparison.Ordinal)) line = line[(colon + 2)..]; // the command
        return Detail().Replace(line, "#");
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"'[^']*'|/\S*|--[a-z-]+|\d[\d,_]*")]
    private static partial System.Text.RegularExpressions.Regex Detail();

    public static void Prepare(string scratch)
    {
        Directory.CreateDirectory(scratch);
        File.WriteAllText(Path.Combine(scratch, "mm.h"), "#define VM_READ 0x1\n#define VM_LOCKED 0x2000\n");
        File.WriteAllText(Path.Combine(scratch, "args.rsp"), "ipi/ipi-v2\n--max-states 2000\n# a comment\n--first\n");
        File.WriteAllText(Path.Combine(scratch, "self.rsp"), "@" + Path.Combine(scratch, "self.rsp") + "\n");
    }
}
