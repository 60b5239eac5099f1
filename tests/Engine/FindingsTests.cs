using Multikernel.Cli.Commands;
using Multikernel.Cli.Registry;
using Multikernel.Model.Checking;
using Multikernel.Properties.Explorer;
using Xunit;

namespace Multikernel.Tests.Engine;

/// <summary>
/// A seed's audit is read by a kernel developer deciding what to fix, so every violation it prints
/// must be a finding the design declares (seed function and line, consequence, preconditions), and
/// every finding it declares must be reproduced: at the default bounds, and with each precondition's
/// bound turned on. A violation nobody declared, or a declared finding the model no longer reaches,
/// fails here.
/// </summary>
public class FindingsTests(Xunit.Abstractions.ITestOutputHelper output)
{
    public static TheoryData<string, string> SeedRuns()
    {
        var data = new TheoryData<string, string>();
        foreach (var m in Mechanisms.All)
        {
            foreach (var d in m.Model.Designs.Of(DesignOrigin.Seed))
            {
                data.Add(m.Model.Qualified(d), "");
                foreach (var bound in d.Findings.SelectMany(f => f.Needs).Select(n => n.Bound).OfType<string>().Distinct().Order(StringComparer.Ordinal))
                {
                    data.Add(m.Model.Qualified(d), $"{bound}=yes");
                    data.Add(m.Model.Qualified(d), $"{bound}=no");
                }
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(SeedRuns))]
    public void A_seed_audit_violates_exactly_the_properties_of_its_findings(string design, string bounds)
    {
        var (m, d) = Mechanisms.Resolve(design, "test");
        var b = m.Model.ParseBounds(bounds);
        string text = b.ToString()!;
        var r = Explorer.Run(m.Model.Specification(d, b)!, new ExploreOptions());
        Assert.Equal(Bound.None, r.Bound);
        var violated = r.Outcomes.Where(o => o.Verdict == Verdict.Violated).Select(o => o.Property.Name).Order(StringComparer.Ordinal).ToArray();
        var declared = d.Findings.Where(f => f.Applies(text)).Select(f => f.Property).Distinct().Order(StringComparer.Ordinal).ToArray();
        Assert.True(violated.SequenceEqual(declared),
            $"{design} ({text}): violated [{string.Join(", ", violated)}] but the findings that apply are [{string.Join(", ", declared)}]");
        Assert.DoesNotContain("unclassified", ExplorationText.FindingsSection(r, d, text), StringComparison.Ordinal);
    }

    [Fact]
    public void Every_finding_names_its_seed_function_line_effect_and_a_property_of_its_mechanism()
    {
        foreach (var m in Mechanisms.All)
            foreach (var d in m.Model.Designs.All)
            {
                var origin = m.Model.Designs.OriginOf(d);
                // The reference and the mutants declare none; a user's design (other tests load some) may declare its own.
                if (origin == DesignOrigin.User) continue;
                if (origin != DesignOrigin.Seed) { Assert.Empty(d.Findings); continue; }
                Assert.NotEmpty(d.Findings);
                // A property may be in the table only with its bound on (size-checked with the hostile peer).
                var names = new HashSet<string>(StringComparer.Ordinal);
                foreach (string b in d.Findings.SelectMany(f => f.Needs).Select(n => n.Bound).OfType<string>().Select(b => b + "=yes").Append(""))
                    names.UnionWith(m.Model.Specification(d, m.Model.ParseBounds(b))!.Properties.Select(p => p.Name));
                foreach (var f in d.Findings)
                {
                    string where = $"{m.Model.Qualified(d)} {f.Property}";
                    Assert.True(names.Contains(f.Property), $"{where}: no such property");
                    Assert.Matches(@"^00[0-4] ([A-Za-z_][A-Za-z0-9_]*\(\)|[A-Za-z0-9_/.-]+\.[ch]\b)", f.Function); // a function, or the header of a #define
                    Assert.False(string.IsNullOrWhiteSpace(f.Line), $"{where}: no seed line");
                    Assert.False(string.IsNullOrWhiteSpace(f.Effect), $"{where}: no effect");
                    foreach (var n in f.Needs)
                    {
                        Assert.Matches("^[a-z0-9][a-z0-9_-]*$", n.Name);
                        Assert.False(string.IsNullOrWhiteSpace(n.Meaning), $"{where}: {n.Name} says nothing");
                        if (n.Bound is { } bound)
                        {
                            // The bound gates the model's steps: yes turns it on, no off (an environment outside the
                            // protocol is off by default; a caller the series lacks may be on, and is still a need).
                            Assert.False(n.EnabledBy(m.Model.ParseBounds($"{bound}=no").ToString()!), $"{where}: {bound}=no does not turn it off");
                            if (n.Environment) Assert.False(n.EnabledBy(m.Model.ParseBounds("").ToString()!), $"{where}: {bound} is outside the protocol and must be off by default");
                            Assert.True(n.EnabledBy(m.Model.ParseBounds($"{bound}=yes").ToString()!), $"{where}: {bound}=yes does not turn it on");
                        }
                    }
                }
            }
    }

    /// <summary>
    /// Each finding's quoted line (its pieces between "…") is in its seed, whitespace aside. The seeds are
    /// the project's input documents beside the checkout (../shared/seeds), not part of it: where they are
    /// not there the test says so in its output and checks nothing more. Seed 001 is quoted-printable
    /// with its newlines lost, so its quotes are matched after decoding soft breaks and =XX escapes.
    /// </summary>
    [Fact]
    public void Each_finding_quotes_a_line_of_its_seed()
    {
        var failures = new List<string>();
        var dir = SeedDirectory();
        if (dir is null) { output.WriteLine("../shared/seeds not found above the test binaries: the quotes are not checked here"); return; }
        int checkedQuotes = 0;
        foreach (var m in Mechanisms.All)
            foreach (var d in m.Model.Designs.Of(DesignOrigin.Seed))
                foreach (var f in d.Findings)
                {
                    string number = f.Function[..3];
                    string file = Directory.GetFiles(dir, number + "_*.txt").Single();
                    string flat = Squash(Comments().Replace(Decode(File.ReadAllText(file)), " "));
                    // The project's own words in a quote, "(no reference held)", and "A vs B" joins are not the seed's.
                    string quote = WithoutCommentary(Comments().Replace(f.Line, "…")).Replace(" vs ", "…", StringComparison.Ordinal);
                    foreach (var piece in quote.Split('…').Select(p => Label().Replace(Squash(p), "")).Where(p => p.Length >= 8))
                    {
                        if (!flat.Contains(piece, StringComparison.Ordinal)) failures.Add($"{m.Model.Qualified(d)} {f.Property}: '{piece}' is not in seed {number}");
                        checkedQuotes++;
                    }
                }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        output.WriteLine($"{checkedQuotes} quoted pieces found in their seeds");
        Assert.True(checkedQuotes > 20);
    }

    private static System.Text.RegularExpressions.Regex Comments() => new(@"/\*.*?\*/", System.Text.RegularExpressions.RegexOptions.Singleline);
    private static System.Text.RegularExpressions.Regex Label() => new(@"^[A-Za-z_]\w*\(\): ");
    private static readonly System.Text.RegularExpressions.Regex Prose = new("[a-z]{2,},? [a-z]{2,}");

    /// <summary>Drops each parenthesised group (nesting kept) whose text reads as prose: the project's remarks inside a quote.</summary>
    private static string WithoutCommentary(string q)
    {
        var sb = new System.Text.StringBuilder();
        for (int i = 0; i < q.Length; i++)
        {
            if (q[i] != '(') { sb.Append(q[i]); continue; }
            int depth = 0, j = i;
            for (; j < q.Length; j++) { if (q[j] == '(') depth++; else if (q[j] == ')' && --depth == 0) break; }
            string group = q[i..Math.Min(j + 1, q.Length)];
            bool prose = Prose.IsMatch(group) || group.Contains(": ", StringComparison.Ordinal);
            if (prose) { sb.Append('…'); i = j; }
            else sb.Append('(');
        }
        return sb.ToString();
    }

    private static string Squash(string x) =>
        string.Join(' ', x.Split((char[])[' ', '\t', '\n', '\r', '+', '>'], StringSplitOptions.RemoveEmptyEntries)).Replace("( ", "(", StringComparison.Ordinal).Replace(" )", ")", StringComparison.Ordinal);

    /// <summary>Quoted-printable: soft line breaks go, =XX becomes its byte (the seeds are ASCII there).</summary>
    private static string Decode(string s) =>
        System.Text.RegularExpressions.Regex.Replace(s.Replace("=\n", "", StringComparison.Ordinal), "=([0-9A-F]{2})",
            x => ((char)Convert.ToInt32(x.Groups[1].Value, 16)).ToString());

    private static string? SeedDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            var p = Path.Combine(dir.FullName, "..", "shared", "seeds");
            if (Directory.Exists(p)) return p;
        }
        return null;
    }

    [Fact]
    public void The_findings_section_puts_what_breaks_a_real_machine_first_and_shows_the_undeclared()
    {
        var needsHost = new Precondition("hostile-host", "the host answers what no conforming host does", "hostile");
        var design = new Declared([
            new Finding("b", "002 f()", "x = y;", Consequence.Leak, "the page is never freed", needsHost),
            new Finding("a", "002 g()", "z = 0;", Consequence.KernelBug, "BUG_ON fires"),
        ]);
        var outcomes = new[] { "a", "b", "c" }.Select(n => new PropertyOutcome(new Property(n, PropertyKind.Always, "", ""), Verdict.Violated, null, "r")).ToList();
        var r = new ExploreReport("x", outcomes, 1, 0, 0, 0, 0, 0, false, Bound.None, false);
        string text = ExplorationText.FindingsSection(r, design, "hostile=yes");
        int real = text.IndexOf("on a real machine", StringComparison.Ordinal);
        int host = text.IndexOf("needs hostile-host", StringComparison.Ordinal);
        int none = text.IndexOf("unclassified", StringComparison.Ordinal);
        Assert.True(real >= 0 && real < host && host < none, text);
        Assert.Contains("BUG", text, StringComparison.Ordinal);
        // Without its bound, the host's finding does not explain b: b is unclassified.
        Assert.Matches(@"unclassified[^\n]*\n\s+b\s+\?\n\s+c\s+\?", ExplorationText.FindingsSection(r, design, "hostile=no"));
    }

    [Fact]
    public void The_audit_text_its_json_and_its_junit_carry_each_finding()
    {
        string dir = Directory.CreateTempSubdirectory("mk-findings-").FullName;
        try
        {
            var design = Mechanisms.Resolve("restore/restore-v6", "test").Design;
            var f = design.Findings[0];
            var (code, text, _) = Cli.CliRun.Run("audit", "restore/restore-v6", "--json", dir, "--junit", Path.Combine(dir, "audit.xml"));
            Assert.Equal(1, code);
            Assert.Contains("findings: ", text, StringComparison.Ordinal);
            Assert.Contains($"  seed:  {f.Function}: {f.Line}", text, StringComparison.Ordinal);
            Assert.Contains($"  consequence: {Finding.Show(f.Consequence)}: {f.Effect}", text, StringComparison.Ordinal);
            string json = File.ReadAllText(Path.Combine(dir, $"trace.{f.Property}.itf.json"));
            using (var doc = System.Text.Json.JsonDocument.Parse(json))
            {
                var j = doc.RootElement.GetProperty("#meta").GetProperty("findings")[0];
                Assert.Equal(f.Function, j.GetProperty("function").GetString());
                Assert.Equal(Finding.Show(f.Consequence), j.GetProperty("consequence").GetString());
                Assert.Equal(f.Needs.Length, j.GetProperty("needs").GetArrayLength());
            }
            var xml = System.Xml.Linq.XDocument.Load(Path.Combine(dir, "audit.xml"));
            var tc = xml.Descendants("testcase").Single(t => (string?)t.Attribute("name") == f.Property);
            Assert.NotNull(tc.Element("failure"));
            Assert.Contains(tc.Descendants("property"), p => (string?)p.Attribute("name") == "consequence" && (string?)p.Attribute("value") == Finding.Show(f.Consequence));
            Assert.Contains(tc.Descendants("property"), p => (string?)p.Attribute("name") == "needs" && (string?)p.Attribute("value") == f.NeedsText);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    private sealed class Declared(IReadOnlyList<Finding> findings) : IDesign
    {
        public string Name => "declared";
        public string Summary => "";
        public IReadOnlyList<Finding> Findings => findings;
    }
}
