using FsCheck;
using FsCheck.Fluent;
using Multikernel.Cli.Commands;
using Multikernel.Model.Memory;

namespace Multikernel.Cli.Fuzz;

/// <summary>C litmus tests for <c>litmus</c>: processes of the kernel's primitives, if/else, init blocks and exists clauses, then corrupted.</summary>
internal sealed class LitmusFuzz : FuzzTarget
{
    public override string Name => "litmus";
    public override string Summary => "C litmus tests (litmus): primitives, if/else nesting, init and exists clauses, huge literals, deep parentheses, truncation";

    private static readonly string[] Locs = ["x", "y", "z"];
    private static readonly string[] Regs = ["r0", "r1", "r2"];

    private static Gen<string> Value =>
        Gen.Frequency((40, Gen.Choose(0, 3).Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture))),
            (1, Gen.Elements("99999999999999999999", "0x7fffffff", "-1", "2147483647")),
            (4, Gen.Elements(Regs)),
            (1, from n in Gen.Choose(50, 300) select new string('(', n) + "1" + new string(')', n)),
            (1, from n in Gen.Choose(10, 200) select string.Join(" + ", Enumerable.Repeat("1", n))));

    private static Gen<string> Access =>
        from l in Gen.Elements(Locs)
        from r in Gen.Elements(Regs)
        from v in Value
        from k in Gen.Frequency((60, Gen.Choose(0, 18)), (1, Gen.Constant(19)))
        select k switch
        {
            0 => $"WRITE_ONCE(*{l}, {v});",
            1 => $"smp_store_release({l}, {v});",
            2 => $"{r} = READ_ONCE(*{l});",
            3 => $"int {r} = smp_load_acquire({l});",
            4 => "smp_mb();",
            5 => "smp_wmb();",
            6 => "smp_rmb();",
            7 => $"{r} = xchg{Suffix(v)}({l}, {v});",
            8 => $"{r} = cmpxchg({l}, 0, {v});",
            9 => $"atomic_inc({l});",
            10 => $"{r} = atomic_fetch_add_acquire({v}, {l});",
            11 => $"*{l} = {v};",
            12 => $"spin_lock({l});",
            13 => $"{r} = {v};",
            14 => $"{r} = atomic_add_return(1, {l});",
            15 => "smp_mb__before_atomic();",
            16 => $"{r} = cmpxchg_relaxed({l}, 1, 2);",
            17 => $"int {r};",
            18 => $"{r} = READ_ONCE({l});",
            _ => $"{r} = bogus_op({l});",
        };

    private static string Suffix(string seed) => (seed.Length % 4) switch { 0 => "", 1 => "_relaxed", 2 => "_acquire", _ => "_release" };

    private static Gen<string> Body(int depth) => depth <= 0
        ? Access
        : Gen.Frequency((30, Access),
            (1, from r in Gen.Elements(Regs) from a in Body(depth - 1) from b in Body(depth - 1) from e in Gen.Elements("", " else ")
                select e.Length == 0 ? $"if ({r} == 1) {{ {a} }}" : $"if ({r}) {{ {a} }}{e}{{ {b} }}"),
            (1, from n in Gen.Choose(30, 100) select new string('{', n) + "smp_mb();" + new string('}', n)));

    private static Gen<string> Process(int id) =>
        from n in Gen.Choose(1, 4)
        from lines in Body(2).ListOf().Select(l => l.Take(n))
        select $"P{id}(int *x, int *y, int *z)\n{{\n  int r0; int r1; int r2;\n  {string.Join("\n  ", lines)}\n}}";

    private static Gen<string> Exists =>
        from a in Gen.Elements("0:r0=1", "1:r1=0", "x=2", "0:r1=1", "y=1", "~0:r1=1", "true", "1:r0=1", "0:r9=1")
        from b in Gen.Elements("1:r0=0", "x=1", "(0:r1=1 \\/ 1:r2=0)", "z=0")
        from op in Gen.Elements(" /\\ ", " \\/ ")
        from neg in Gen.Elements("exists", "exists", "exists", "exists", "exists", "~exists", "~exists", "forall")
        select $"{neg} ({a}{op}{b})";

    private static Gen<string> Test =>
        from threads in Gen.Choose(1, 3)
        from p0 in Process(0)
        from p1 in Process(1)
        from p2 in Process(2)
        let procs = new[] { p0, p1, p2 }.Take(threads)
        from init in Gen.Frequency((12, Gen.Elements("{ x=0; y=0; }", "{}", "{ int x = 1; atomic_t z = ATOMIC_INIT(2); 0:r0=1; }", "")),
            (1, Gen.Elements("{ x=y; }", "{ x=99999999999999999999; }")))
        from ex in Exists
        from head in Gen.Frequency((12, Gen.Elements("C fuzz+test", "C MP+x\n(* comment *)", "C t \"doc\"")), (1, Gen.Elements("C", "CX y")))
        select $"{head}\n\n{init}\n\n{string.Join("\n\n", procs)}\n\n{ex}\n";

    public override Gen<string> Inputs => FuzzShrink.Corrupt(Test);

    // Small tests explore in a few thousand states; the bound keeps a fuzz case's cost fixed.
    protected override int Execute(string input, TextWriter o) => LitmusCommand.Check(input, "fuzz.litmus", MemoryModel.All, 20_000, o);

    /// <summary>"litmus: fuzz.litmus:3:7: expected ';', found 'x'" -> "expected '…'" (the tokens differ between two errors of one kind).</summary>
    protected override string? ErrorKind(string output)
    {
        string line = output.TrimEnd();
        int at = line.IndexOf(": ", line.IndexOf("fuzz.litmus:", StringComparison.Ordinal) + 1, StringComparison.Ordinal);
        if (at < 0) return null;
        string what = line[(at + 2)..];
        int quote = what.IndexOf('\'');
        return quote > 0 ? what[..quote] + "'…'" : what;
    }
}
