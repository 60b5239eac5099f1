using System.Diagnostics;
using System.Text.RegularExpressions;
using Xunit;

namespace Multikernel.Tests.Designs;

/// <summary>
/// The README's designs of your own, built as a user builds them: its code blocks (cut from README.md
/// between the user-design markers, so the documentation cannot drift) and its project file, in a
/// directory outside the repository, `dotnet build`, then `multikernel audit --load` in a process of its
/// own. Each example must get the verdict the README gives under it. The build is one `dotnet build` of
/// five small files; the time it takes is not asserted.
/// </summary>
public class ReadmeExamplesTests
{
    private static readonly string Root = FindRoot();

    private static string FindRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Multikernel.Verified.sln"))) return d.FullName;
        throw new InvalidOperationException($"no Multikernel.Verified.sln above {AppContext.BaseDirectory}");
    }

    /// <summary>The command line the README's recipe builds against (its HintPath): cli/bin/Release.</summary>
    private static string CliDir => Path.Combine(Root, "cli", "bin", "Release", "net10.0");

    private static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } p ? p : "dotnet";

    /// <summary>The README's blocks marked &lt;!-- user-design:NAME --&gt;, by name.</summary>
    internal static IReadOnlyDictionary<string, string> Blocks()
    {
        string readme = File.ReadAllText(Path.Combine(Root, "README.md"));
        var blocks = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Match m in Regex.Matches(readme, @"<!-- user-design:(\w+) -->\s*```\w+\n(.*?)```", RegexOptions.Singleline))
            blocks.Add(m.Groups[1].Value, m.Groups[2].Value);
        return blocks;
    }

    private static (int Code, string Out, string Err) Exec(string workDir, params string[] args)
    {
        var psi = new ProcessStartInfo(Dotnet) { WorkingDirectory = workDir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        psi.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string o = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, o, err.Result);
    }

    private static string[] Violated(string audit) =>
        Regex.Matches(audit, @"^  ([a-z-]+) +VIOLATED", RegexOptions.Multiline).Select(m => m.Groups[1].Value).Order().ToArray();

    /// <summary>Classes --load cannot use, beside the README's: each must be named on stderr and skipped, the rest loaded.</summary>
    private const string Unusable = """
        using Multikernel.Model.Checking;
        using Multikernel.Model.Ipi.Designs;

        namespace MyDesigns.Unusable;

        public class OpenRing<T> : RingDesign { public OpenRing() : base("my-open") { } }
        public sealed class ThrowsInConstructor : RingDesign { public ThrowsInConstructor() : base("my-throws") => throw new InvalidOperationException("no ring here"); }
        public sealed class ThrowsInName : RingDesign { public override string Name => throw new NotSupportedException("nameless"); }
        public sealed class ThrowsInSummary : RingDesign { public ThrowsInSummary() : base("my-no-summary") { } public override string Summary => throw new NotSupportedException("unsaid"); }
        public sealed class NoMechanism : IDesign { public string Name => "my-orphan"; public string Summary => "a design of nothing"; }
        public sealed class NoDefaultConstructor : RingDesign { public NoDefaultConstructor(int n) : base($"my-ring-{n}") { } }
        public sealed class NameTaken : RingDesign { public NameTaken() : base("reference") { } }
        public abstract class AbstractBase : RingDesign { }
        """;

    [Fact]
    public void The_readme_examples_build_outside_the_repository_and_get_the_verdicts_it_gives()
    {
        Assert.True(File.Exists(Path.Combine(CliDir, "multikernel.dll")), $"the README's recipe builds against {CliDir}: build the repository with -c Release first");
        var blocks = Blocks();
        Assert.Equal(["balloon", "csproj", "ipi", "restore", "uffd"], blocks.Keys.Order().ToArray());
        string dir = Directory.CreateTempSubdirectory("mk-readme-designs-").FullName;
        try
        {
            Assert.False(dir.StartsWith(Root, StringComparison.Ordinal)); // outside the repository: none of its build props or analyzers apply
            File.WriteAllText(Path.Combine(dir, "MyDesigns.csproj"), blocks["csproj"]);
            foreach (var name in new[] { "ipi", "uffd", "balloon", "restore" }) File.WriteAllText(Path.Combine(dir, name + ".cs"), blocks[name]);
            File.WriteAllText(Path.Combine(dir, "Unusable.cs"), Unusable);
            var (built, bo, be) = Exec(dir, "build", "-c", "Release", $"-p:MultikernelRoot={Root}", "--disable-build-servers", "-nodeReuse:false");
            Assert.True(built == 0, bo + be);
            Assert.DoesNotMatch(@": warning [A-Z]+\d+", bo);
            string dll = Path.Combine(dir, "bin", "Release", "net10.0", "MyDesigns.dll");
            Assert.False(File.Exists(Path.Combine(dir, "bin", "Release", "net10.0", "Multikernel.Model.dll"))); // Private=false: the CLI's own model is used
            string cli = Path.Combine(CliDir, "multikernel.dll");

            // designs --load: the four examples are listed, every unusable class is named once with its reason.
            var (listed, lo, le) = Exec(dir, cli, "designs", "--load", dll);
            Assert.True(listed == 0, le);
            foreach (var d in new[] { "ipi/my-lazy-init", "uffd/my-fork-keeps-ctx", "balloon/my-counts-before-answer", "restore/my-skips-end-alignment" })
                Assert.Matches($@"{d} +user ", lo);
            Assert.DoesNotContain("my-no-summary", lo);
            string[] skipped = le.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(7, skipped.Length);
            Assert.All(skipped, l => Assert.StartsWith("multikernel: designs: --load MyDesigns.dll: skipped MyDesigns.Unusable.", l));
            Assert.Contains(skipped, l => l.Contains("OpenRing`1: an open generic class", StringComparison.Ordinal));
            Assert.Contains(skipped, l => l.Contains("ThrowsInConstructor: new ThrowsInConstructor() threw InvalidOperationException: no ring here", StringComparison.Ordinal));
            Assert.Contains(skipped, l => l.Contains("ThrowsInName: its Name threw NotSupportedException: nameless", StringComparison.Ordinal));
            Assert.Contains(skipped, l => l.Contains("ThrowsInSummary: its Summary threw NotSupportedException: unsaid", StringComparison.Ordinal));
            Assert.Contains(skipped, l => l.Contains("NoMechanism: a design of no known mechanism", StringComparison.Ordinal));
            Assert.Contains(skipped, l => l.Contains("NoDefaultConstructor: no public parameterless constructor", StringComparison.Ordinal));
            Assert.Contains(skipped, l => l.Contains("NameTaken: a design named 'reference' already exists", StringComparison.Ordinal));
            Assert.DoesNotContain("AbstractBase", le);

            // Each example's audit: the verdict the README gives under it.
            foreach (var (design, bound, violated) in new[]
            {
                ("ipi/my-lazy-init", "", "delivered no-duplicate no-overwrite"),
                ("uffd/my-fork-keeps-ctx", "", "ctx-iff-uffd-bit no-kernel-bug"),
                ("balloon/my-counts-before-answer", "", "balloon-consistent lock-once reaches-target size-matches"),
                ("restore/my-skips-end-alignment", "--crafted", "equal-on-success"),
            })
            {
                string[] args = bound.Length > 0 ? [cli, "audit", design, "--load", dll, bound] : [cli, "audit", design, "--load", dll];
                var (code, o, _) = Exec(dir, args);
                Assert.True(code == 1, $"{design}: exit {code}\n{o}");
                Assert.Equal(violated.Split(' ').Order().ToArray(), Violated(o));
                Assert.DoesNotContain("never reached", o);
            }
            var (lazy, lz, _) = Exec(dir, cli, "audit", "ipi/my-lazy-init", "--load", dll);
            Assert.Equal(1, lazy);
            Assert.Matches(@"no-overwrite +VIOLATED \(10 steps\)", lz);
            Assert.Contains("ring_ready = ", lz);
            Assert.Contains("saw_unready: 1", lz);
            Assert.Equal(0, Exec(dir, cli, "audit", "restore/my-skips-end-alignment", "--load", dll).Code); // default bounds: holds
            var (prove, po, _) = Exec(dir, cli, "prove", "--design", "ipi/my-lazy-init", "--load", dll);
            Assert.Equal(3, prove);
            Assert.Contains("no encoding: not proved", po);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
