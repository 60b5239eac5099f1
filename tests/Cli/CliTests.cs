using static Multikernel.Tests.Cli.CliRun;
using Multikernel.Model.Ipi;
using Multikernel.Properties.Explorer;
using Multikernel.Properties.Traces;
using Xunit;

namespace Multikernel.Tests.Cli;

public class CliTests
{
    [Fact]
    public void Audit_of_uffd_v5_finds_the_collision_and_its_trace_replays()
    {
        string dir = Directory.CreateTempSubdirectory("mk-uffd").FullName;
        var (code, o, _) = Run("audit", "uffd-v5", "--json", Path.Combine(dir, "v5.itf.json"));
        Assert.Equal(1, code);
        foreach (var name in new[] { "no-kernel-bug", "ctx-iff-uffd-bit", "uffd-bits-disjoint", "mlock-survives" })
            Assert.Contains($"VIOLATED {name} (uffd/uffd-v5)", o);
        Assert.DoesNotContain("VIOLATED registered-fault", o); // mlock never locks hugetlbfs
        var (rc, replayed, err) = Run("replay", Path.Combine(dir, "v5.no-kernel-bug.itf.json"));
        Assert.Equal(1, rc);
        Assert.Empty(err);
        Assert.Contains("userfaultfd_release(): BUG_ON(!!ctx ^ !!(vm_flags & __VM_UFFD_FLAGS))", replayed);
        Assert.Equal(0, Run("audit", "uffd/reference").Code);
    }

    [Fact]
    public void Prove_proves_the_reference_and_refutes_a_mutant_with_values()
    {
        var (ok, o, _) = Run("prove");
        Assert.Equal(0, ok);
        Assert.DoesNotContain("REFUTED", o);
        int obligations = Multikernel.Cli.Registry.Mechanisms.All.Sum(m => (m as Multikernel.Cli.Registry.IProved)?.Proofs(m.Model.Designs.Reference)?.Count ?? 0);
        Assert.Equal(obligations, o.Split('\n').Count(l => l.Contains(" proved ")));
        var (ambiguous, _, err) = Run("prove", "--design", "reference"); // both mechanisms have one
        Assert.Equal(2, ambiguous);
        Assert.Contains("'reference' is ambiguous: ipi/reference or uffd/reference", err);
        var (refOk, oRef, _) = Run("prove", "--design", "ipi/reference");
        Assert.Equal(0, refOk);
        Assert.Contains("obligations of ipi/reference", oRef);
        Assert.DoesNotContain("uffd.", oRef);
        var (bad, o2, _) = Run("prove", "--design", "ref-no-full-check");
        Assert.Equal(1, bad);
        Assert.Matches(@"ring\.claim-inductive +REFUTED[^\n]*\n +counterexample: ring = \d+, head = \S+, tail = \S+", o2);
        var (v5, o3, _) = Run("prove", "--design", "uffd-v5");
        Assert.Equal(1, v5);
        Assert.Contains("counterexample: vm_flags = 0x2000 (VM_LOCKED), mem_type = ", o3);
        Assert.DoesNotContain("ring.", o3);
    }

    [Fact]
    public void Audit_of_a_seed_exits_1_and_prints_every_trace()
    {
        var (code, o, _) = Run("audit", "ipi-v2");
        Assert.Equal(1, code);
        foreach (var name in new[] { "no-overwrite", "no-silent-drop", "handler-type", "intact" })
            Assert.Contains($"VIOLATED {name} (ipi/ipi-v2)", o);
        Assert.DoesNotContain("VIOLATED no-coalesced-work (ipi/ipi-v2)", o); // one receiving CPU per instance: nothing lost beyond no-overwrite
        Assert.Contains("0. initial state", o);
    }

    [Theory]
    [InlineData("frobnicate")]
    [InlineData("audit")]
    [InlineData("audit", "ipi-v9")]
    [InlineData("check", "--senders", "7")]
    [InlineData("check", "--senders", "two")]
    [InlineData("check", "--bogus")]
    [InlineData("check", "--max-states")]
    [InlineData("explore", "tla")]
    [InlineData("replay", "/nonexistent/trace.json")]
    [InlineData("prove", "--design", "reference")]
    [InlineData("audit", "reference")]
    [InlineData("audit", "uffd/v9")]
    [InlineData("explore", "uffd", "--contexts", "3")]
    [InlineData("audit", "uffd-v5", "--senders", "2")]
    [InlineData("prove", "--timeout", "0")]
    [InlineData("check", "--seed", "-1")]
    public void Bad_arguments_get_one_line_and_exit_2(params string[] args)
    {
        var (code, o, e) = Run(args);
        Assert.Equal(2, code);
        Assert.Empty(o);
        Assert.Single(e.TrimEnd('\n').Split('\n'));
        Assert.StartsWith("multikernel: ", e);
    }

    [Fact]
    public void Prove_on_a_design_the_proofs_do_not_encode_is_not_proved_and_exits_3()
    {
        var (code, o, _) = Run("prove", "--design", "ipi-v1");
        Assert.Equal(3, code);
        Assert.Contains("obligations of ipi/ipi-v1: no encoding: not proved", o);
        Assert.DoesNotContain("ring.", o);
    }

    [Fact]
    public void Junit_failures_carry_the_counterexample()
    {
        // check runs the references only; a violation's text is exercised through the writer directly.
        var r = Explorer.Run(new IpiSpec(IpiDesigns.Find("ipi-v2")!), new() { StopWhenAllViolated = true });
        string file = Path.Combine(Directory.CreateTempSubdirectory("mk-junit").FullName, "v2.xml");
        var j = Multikernel.Cli.Commands.JUnit.Open(file);
        j.Exploration("ipi/ipi-v2", "senders=2", r);
        j.Save();
        var doc = System.Xml.Linq.XDocument.Load(file);
        var failure = doc.Descendants("testcase").Single(c => c.Attribute("name")!.Value == "handler-type").Element("failure")!;
        Assert.Contains("handler-type violated in", failure.Attribute("message")!.Value);
        Assert.Contains("0. initial state", failure.Value);
        Assert.Equal(r.Outcomes.Count(o => o.Verdict == Verdict.Violated).ToString(System.Globalization.CultureInfo.InvariantCulture), doc.Root!.Attribute("failures")!.Value);
    }

    [Fact]
    public void First_stops_at_the_first_violation_which_is_still_a_shortest_one()
    {
        var first = Explorer.Run(new IpiSpec(IpiDesigns.Find("ref-no-full-check")!), new() { StopAtFirstViolation = true, StopWhenAllViolated = false });
        Assert.True(first.StoppedAtFirst);
        var violated = first.Outcomes.Single(o => o.Verdict == Verdict.Violated);
        Assert.All(first.Outcomes.Where(o => o != violated && o.Property.Kind != Model.Checking.PropertyKind.Sometimes),
            o => Assert.Equal("not decided: stopped at the first violation (--first)", o.Reason));
        var full = Explorer.Run(new IpiSpec(IpiDesigns.Find("ref-no-full-check")!), new() { StopWhenAllViolated = true });
        Assert.Equal(full.Outcomes.Single(o => o.Property.Name == violated.Property.Name).Trace!.Length, violated.Trace!.Length);
        Assert.True(first.States < full.States);
        var (code, o, _) = Run("audit", "ipi/ref-no-full-check", "--first");
        Assert.Equal(1, code);
        Assert.Contains("stopped at the first violation (--first)", o);
    }

    [Fact]
    public void Bitstate_is_lossy_and_says_probably_holds_never_holds_but_its_violations_are_real()
    {
        var (code, o, _) = Run("explore", "ipi", "--design", "reference", "--bitstate", "1");
        Assert.Equal(3, code);
        Assert.Contains("bitstate, lossy: miss probability", o);
        Assert.Contains("probably holds", o);
        Assert.DoesNotContain(" holds\n", o.Replace("probably holds", "", StringComparison.Ordinal));
        var (bad, o2, _) = Run("explore", "ipi", "--design", "ref-no-clear", "--bitstate", "1");
        Assert.Equal(1, bad);
        Assert.Contains("VIOLATED", o2);
    }

    [Fact]
    public void Threads_change_nothing_but_the_timing_and_the_liveness_modes_say_what_they_keep()
    {
        static string Verdicts(string output) => string.Join('\n', output.Split('\n').Where(l => !l.Contains("distinct states", StringComparison.Ordinal)));
        var (one, o1, _) = Run("audit", "ipi/ipi-v2", "--threads", "1");
        var (three, o3, _) = Run("audit", "ipi/ipi-v2", "--threads", "3");
        Assert.Equal(1, one);
        Assert.Equal(one, three);
        Assert.Equal(Verdicts(o1), Verdicts(o3));
        Assert.Contains("on 3 threads", o3);
        var (search, os, _) = Run("explore", "ipi", "--design", "reference");
        Assert.Equal(0, search);
        Assert.Contains("incl. cycle-search entries", os);
        var (graph, og, _) = Run("explore", "ipi", "--design", "reference", "--graph");
        Assert.Equal(0, graph);
        Assert.Contains("incl. graph", og);
        var (safety, oSafety, _) = Run("explore", "ipi", "--design", "reference", "--safety-only");
        Assert.Equal(3, safety);
        Assert.Contains("cycles not checked (--safety-only)", oSafety);
        var (both, _, err) = Run("explore", "ipi", "--graph", "--safety-only");
        Assert.Equal(2, both);
        Assert.Contains("--safety-only and --graph contradict each other", err);
    }

    [Theory]
    [InlineData("--max-states", "500", "BOUND HIT: states", "state bound 500 hit")]
    [InlineData("--max-memory", "1", "BOUND HIT: memory", "memory bound 1 MiB hit")]
    public void A_bound_hit_before_a_verdict_exits_3(string option, string value, string statistics, string reason)
    {
        var (code, o, _) = Run("explore", "ipi", "--design", "reference", option, value);
        Assert.Equal(3, code);
        Assert.Contains(statistics, o);
        Assert.Contains(reason, o);
        Assert.Contains("verdict: unknown", o);
    }

    [Fact]
    public void Json_trace_is_itf_and_replays_against_the_specification()
    {
        string dir = Directory.CreateTempSubdirectory("mk-").FullName;
        try
        {
            string json = Path.Combine(dir, "t.itf.json"), dot = Path.Combine(dir, "t.dot");
            var (code, _, _) = Run("audit", "ipi-v2", "--json", json, "--dot", dot);
            Assert.Equal(1, code);
            string file = Path.Combine(dir, "t.intact.itf.json");
            var text = File.ReadAllText(file);
            foreach (var key in new[] { "\"#meta\"", "\"vars\"", "\"states\"", "\"choices\"" }) Assert.Contains(key, text);
            Assert.Contains("digraph trace", File.ReadAllText(Path.Combine(dir, "t.intact.dot")));
            var (rc, o, e) = Run("replay", file);
            Assert.Equal(1, rc);
            Assert.Empty(e);
            Assert.Contains("VIOLATED intact (ipi/ipi-v2)", o);
            Assert.Contains("  counterexample: ", o); // read back from a file: not known to be the shortest
            Assert.DoesNotContain("shortest", o);
            var lasso = Path.Combine(dir, "t.delivered.itf.json");
            Assert.Equal(1, Run("replay", lasso).Code);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void A_trace_of_a_seed_no_longer_violates_once_replayed_on_the_fixed_design()
    {
        // Replay the v2 no-silent-drop trace on the reference: the choices do not fit it.
        var r = Explorer.Run(new IpiSpec(IpiDesigns.Find("ipi-v2")!), new() { StopWhenAllViolated = true });
        var t = r.Outcomes.Single(o => o.Property.Name == "no-silent-drop").Trace!;
        var reference = new IpiSpec(IpiDesigns.Reference);
        var prop = reference.Properties.Single(p => p.Name == "no-silent-drop");
        var (trace, judgement) = Explorer.ReplayAndJudge(reference, prop, t.InitialIndex, t.Choices, null);
        Assert.False(judgement.Holds);
        Assert.NotNull(trace);
    }

    [Theory]
    [InlineData("not json at all")]
    [InlineData("[1,2]")]
    [InlineData("{\"#meta\": {\"source\": \"ipi/ipi-v2\"}}")]
    [InlineData("{\"#meta\": {\"source\": \"ipi/ipi-v2\", \"design\": \"ipi-v2\", \"bounds\": \"senders=2\", \"property\": \"intact\", \"initial\": 0, \"choices\": [99]}, \"states\": [{}, {}]}")]
    [InlineData("{\"#meta\": {\"source\": \"ipi/ipi-v2\", \"design\": \"ipi-v2\", \"bounds\": \"senders=9\", \"property\": \"intact\", \"initial\": 0, \"choices\": []}, \"states\": [{}]}")]
    [InlineData("{\"#meta\": {\"source\": \"ipi/ipi-v2\", \"design\": \"ipi-v2\", \"bounds\": \"senders=2\", \"property\": \"intact\", \"initial\": -1, \"choices\": []}, \"states\": [{}]}")]
    public void A_malformed_trace_file_is_an_input_error(string content)
    {
        string file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, content);
            var (code, o, e) = Run("replay", file);
            Assert.Equal(2, code);
            Assert.Empty(o);
            Assert.Single(e.TrimEnd('\n').Split('\n'));
            Assert.Contains(file, e);
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public void Itf_writes_integers_beyond_2_pow_53_as_bigint()
    {
        var prop = new Model.Checking.Property("p", Model.Checking.PropertyKind.Always, "s", "src");
        var vars = new List<Model.Checking.TraceVar> { new("type", Model.Checking.TraceValue.Of(0x1_0000_0000_0001UL << 8)), new("n", Model.Checking.TraceValue.Of(5L)) };
        var t = new Trace("x/y", prop, 0, [], [new TraceState(null, vars)], null);
        string json = Itf.Write(t, "d", "b");
        Assert.Contains("\"#bigint\": \"72057594037928192\"", json);
        Assert.Contains("\"n\": 5", json);
        Assert.DoesNotContain("\"loop\"", json);
    }

    [Fact]
    public void Itf_reader_reports_where_the_file_is_wrong()
    {
        var ex = Assert.Throws<FormatException>(() => Itf.Read("{\"#meta\": {\"source\": 3}}"));
        Assert.Contains("#meta.source", ex.Message);
    }
}

/// <summary>
/// check as a whole, its kernel lines included: in the kernel collection, so that its differ never runs
/// beside another process's (the docs test's check, the kernel tests) or a loaded parallel phase.
/// </summary>
[Collection("kernel uffd")]
public class CheckCommandTests
{
    [Fact]
    public void Check_passes_on_the_reference_and_fits_one_screen()
    {
        string junit = Path.Combine(Directory.CreateTempSubdirectory("mk-junit").FullName, "check.xml");
        var (code, o, e) = Run("check", "--seed", "42", "--junit", junit);
        Assert.True(code == 0 && e.Length == 0, $"check --seed 42 exited {code}:\n{o}\n{e}");
        // JUnit XML: one test case per property, implementation check and proof, none failing.
        var doc = System.Xml.Linq.XDocument.Load(junit);
        Assert.Equal("testsuites", doc.Root!.Name.LocalName);
        var cases = doc.Descendants("testcase").ToList();
        // Counts from the registry, not pinned: each reference's properties (and no-crash) and obligations.
        int properties = 0, proofs = 0;
        foreach (var m in Multikernel.Cli.Registry.Mechanisms.All)
        {
            var reference = m.Model.Designs.Reference;
            properties += m.Model.Specification(reference, m.Model.ParseBounds("")).Properties.Count + 1;
            proofs += (m as Multikernel.Cli.Registry.IProved)?.Proofs(reference)?.Count ?? 0;
        }
        int checks = cases.Count(c => c.Attribute("classname")!.Value.StartsWith("implementation.", StringComparison.Ordinal));
        Assert.Equal(properties + checks + proofs, cases.Count);
        Assert.Equal((properties + checks + proofs).ToString(System.Globalization.CultureInfo.InvariantCulture), doc.Root.Attribute("tests")!.Value);
        Assert.Equal("0", doc.Root.Attribute("failures")!.Value);
        Assert.Contains(cases, c => c.Attribute("name")!.Value == "no-overwrite" && c.Attribute("classname")!.Value == "specification.ipi/reference");
        Assert.Contains(cases, c => c.Attribute("name")!.Value == "ring.claim-inductive" && c.Attribute("classname")!.Value == "proof.ipi");
        Assert.All(cases, c => Assert.NotNull(c.Attribute("time")));
        Assert.Contains("seed 42; replay with --seed 42", o);
        Assert.Contains($"everything holds: {properties} properties, {checks} implementation checks, {proofs} proofs", o);
        // Each mechanism's line says how many of its properties hold and how many of its obligations are proved, as the registry has them.
        foreach (var m in Multikernel.Cli.Registry.Mechanisms.All)
        {
            var reference = m.Model.Designs.Reference;
            var spec = m.Model.Specification(reference, m.Model.ParseBounds(""));
            // The names as far as 120 columns go ('audit' lists them all).
            Assert.Contains($"all {spec.Properties.Count + 1} hold: {spec.Properties[0].Name}, ", o);
            if ((m as Multikernel.Cli.Registry.IProved)?.Proofs(reference) is { } obligations)
                Assert.Contains($"{m.Model.Qualified(reference)}: all {obligations.Count} proved", o);
        }
        Assert.Contains("restore of hostile images (FsCheck)", o);
        Assert.DoesNotContain("FAILS", o);
        Assert.True(o.Split('\n').Length < 40, o);
        Assert.All(o.Split('\n'), l => Assert.True(l.Length <= Multikernel.Cli.Commands.CheckCommand.Screen, l));
    }
}
