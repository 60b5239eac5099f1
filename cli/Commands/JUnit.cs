using System.Globalization;
using System.Xml.Linq;
using Multikernel.Model.Checking;
using Multikernel.Properties.Checking;
using Multikernel.Properties.Explorer;
using Multikernel.Properties.Traces;
using Multikernel.Proofs.Obligations;

namespace Multikernel.Cli.Commands;

/// <summary>
/// check --junit FILE: one test case per property, implementation check and proof, so a CI
/// system shows which invariant broke. A violation is a &lt;failure&gt; whose text is the
/// counterexample; no verdict (a bound hit, an undecided proof) is an &lt;error&gt;.
/// </summary>
internal sealed class JUnit
{
    private readonly string _path;
    private readonly List<XElement> _suites = new();

    private readonly string _command;

    private JUnit(string path, string command) { _path = path; _command = command; }

    /// <summary>Checks the path before any work, so a bad one never costs a verdict.</summary>
    public static JUnit Open(string file, string command = "check", OutputPlan? outputs = null) =>
        new((outputs ?? new OutputPlan(command)).Add("--junit", file, $"multikernel-{command}.xml"), command);

    private static string Seconds(double s) => s.ToString("F3", CultureInfo.InvariantCulture);

    /// <summary>One exploration's properties; for an audit, each violation carries the design's findings (seed line, consequence, preconditions) under its bounds text.</summary>
    public void Exploration(string spec, string bounds, ExploreReport r, (IDesign Design, string Bounds)? audit = null)
    {
        var cases = r.Outcomes.Select(o =>
        {
            var tc = Case($"{o.Property.Name}", $"specification.{spec}", r.Seconds / r.Outcomes.Count);
            var findings = audit is not { } au || o.Verdict != Verdict.Violated ? [] : Findings.Of(au.Design, o.Property.Name, au.Bounds);
            if (o.Verdict == Verdict.Violated)
                tc.Add(new XElement("failure", new XAttribute("message", o.Trace is null ? $"{o.Property.Name}: {o.Reason}" : $"{o.Property.Name} violated in {o.Trace.Length} steps{(o.Trace.Why is { } w ? ": " + w : "")}"),
                    new XAttribute("type", "violation"),
                    o.Trace is null ? o.Property.Statement : TraceText.Format(o.Trace, $"bounds: {bounds}")));
            if (audit is not null && o.Verdict == Verdict.Violated)
                tc.Add(new XElement("properties", findings.Count == 0
                    ? [Prop("consequence", "unclassified")]
                    : findings.SelectMany(f => new[]
                    {
                        Prop("seed", $"{f.Function}: {f.Line}"),
                        Prop("consequence", Finding.Show(f.Consequence)),
                        Prop("effect", f.Effect),
                        Prop("needs", f.NeedsText),
                    })));
            else if (o.Verdict == Verdict.Unknown)
                tc.Add(new XElement("error", new XAttribute("message", $"no verdict: {o.Reason}"), new XAttribute("type", "no-verdict")));
            tc.Add(new XElement("system-out", $"{o.Property.Statement}\nfrom: {o.Property.Source}"));
            return tc;
        });
        Suite($"specification.{spec}", cases, r.Seconds, new XElement("properties",
            Prop("bounds", bounds), Prop("states", r.States.ToString(CultureInfo.InvariantCulture))));
    }

    public void Check(string mechanism, CheckResult c)
    {
        var tc = Case(c.Name, $"implementation.{mechanism}", c.Time.TotalSeconds);
        if (c.Skipped is { } why) tc.Add(new XElement("skipped", new XAttribute("message", why)));
        else if (c.Exit == ExitCode.Violated) tc.Add(new XElement("failure", new XAttribute("message", FirstLine(c.Detail)), new XAttribute("type", "violation"), $"{c.Detail}\nseed {c.Seed}"));
        else if (c.Exit == ExitCode.NoVerdict) tc.Add(new XElement("error", new XAttribute("message", $"no verdict: {FirstLine(c.Detail)}"), new XAttribute("type", "no-verdict")));
        tc.Add(new XElement("system-out", $"{c.Detail}\nseed {c.Seed} (replay with --seed {c.Seed})"));
        Suite($"implementation.{mechanism}.{c.Name}", [tc], c.Time.TotalSeconds, null);
    }

    public void Proofs(string mechanism, IReadOnlyList<ProofResult> results)
    {
        var cases = results.Select(p =>
        {
            var tc = Case(p.Obligation.Name, $"proof.{mechanism}", p.Time.TotalSeconds);
            if (p.Verdict == ProofVerdict.Refuted)
                tc.Add(new XElement("failure", new XAttribute("message", $"refuted: {p.Detail}"), new XAttribute("type", "refuted"), $"{p.Obligation.Statement}\ncounterexample: {p.Detail}\nfrom: {p.Obligation.Source}"));
            else if (p.Verdict == ProofVerdict.Unknown)
                tc.Add(new XElement("error", new XAttribute("message", $"unknown: {p.Detail}"), new XAttribute("type", "no-verdict")));
            return tc;
        });
        Suite($"proof.{mechanism}", cases, results.Sum(r => r.Time.TotalSeconds), null);
    }

    private static XElement Case(string name, string classname, double seconds) =>
        new("testcase", new XAttribute("name", name), new XAttribute("classname", classname), new XAttribute("time", Seconds(seconds)));

    private static XElement Prop(string name, string value) => new("property", new XAttribute("name", name), new XAttribute("value", value));

    private void Suite(string name, IEnumerable<XElement> cases, double seconds, XElement? properties)
    {
        var list = cases.ToList();
        _suites.Add(new XElement("testsuite",
            new XAttribute("name", name),
            new XAttribute("tests", list.Count),
            new XAttribute("failures", list.Count(c => c.Element("failure") is not null)),
            new XAttribute("errors", list.Count(c => c.Element("error") is not null)),
            new XAttribute("skipped", 0),
            new XAttribute("time", Seconds(seconds)),
            properties, list));
    }

    public string Save()
    {
        var root = new XElement("testsuites",
            new XAttribute("name", $"multikernel {_command}"),
            new XAttribute("tests", _suites.Sum(s => (int)s.Attribute("tests")!)),
            new XAttribute("failures", _suites.Sum(s => (int)s.Attribute("failures")!)),
            new XAttribute("errors", _suites.Sum(s => (int)s.Attribute("errors")!)),
            _suites);
        // Names, summaries and messages come from designs (a user's too): a control character is not even legal XML 1.0.
        foreach (var t in root.DescendantNodes().OfType<XText>()) t.Value = Printable.Text(t.Value);
        foreach (var at in root.DescendantsAndSelf().Attributes()) at.Value = Printable.Text(at.Value);
        try
        {
            using var ms = new MemoryStream();
            new XDocument(new XDeclaration("1.0", "utf-8", null), root).Save(ms);
            OutputFile.Write(_path, ms.GetBuffer().AsSpan(0, (int)ms.Length));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        { throw new UsageException($"{_command}: --junit: cannot write '{_path}': {e.Message}"); }
        return _path;
    }

    private static string FirstLine(string s) => s.Split('\n')[0].Trim();
}
