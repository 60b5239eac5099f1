using Multikernel.Model.Ipi;
using Multikernel.Model.Memory;
using Multikernel.Tests.Memory;
using Xunit;
using static Multikernel.Tests.Cli.CliRun;

namespace Multikernel.Tests.Ipi;

/// <summary>
/// The IPI ring's orderings under sc, tso and lkmm (IpiOrdering): the reference and its correct
/// variants hold under all three; each ordering mutant is caught under lkmm, with a witness that
/// names the store not yet visible (or made visible early), and passes under sc and tso, which
/// order what the mutant drops.
/// </summary>
public class IpiWeakMemoryTests
{
    public static TheoryData<string> CorrectDesigns() => [.. IpiOrdering.Correct.Select(d => d.Name)];

    [Theory]
    [MemberData(nameof(CorrectDesigns))]
    public void The_reference_orderings_hold_under_every_model(string design)
    {
        var (code, o, _) = Run("litmus", "--ipi", design);
        Assert.Equal(0, code);
        Assert.DoesNotContain("VIOLATED", o);
        Assert.DoesNotContain("cannot express", o);
        Assert.Equal(6, o.Split('\n').Count(l => l.Contains(" holds ", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("ref-publish-once", "payload-visible", "reads 0 (P0's payload=1 not yet visible to P1)")]
    [InlineData("ref-drain-once", "payload-visible", "reads 0 (P0's payload=1 not yet visible to P1)")]
    [InlineData("ref-barriers-no-wmb", "payload-visible", "reads 0 (P0's payload=1 not yet visible to P1)")]
    [InlineData("ref-tail-once", "slot-reuse", "P1: WRITE_ONCE(*tail, 1) (ahead of 'r0 = READ_ONCE(*payload)'")]
    public void Each_ordering_mutant_is_caught_under_lkmm_only(string design, string property, string witness)
    {
        var d = IpiOrdering.Find(design)!;
        Assert.Contains(d, IpiOrdering.Mutants);
        foreach (var p in d.Tests())
        {
            var t = LitmusParser.Parse(p.Litmus);
            foreach (var m in MemoryModel.All)
            {
                var v = LitmusCheck.Judge(t, m, LitmusCheck.DefaultMaxStates);
                Assert.Null(v.CannotExpress);
                bool caught = m is LkmmModel && p.Name == property;
                Assert.True((caught ? "Sometimes" : "Never") == v.Word, $"{design} {p.Name} under {m.Name}: {v.Word}");
            }
        }
        var (code, o, _) = Run("litmus", "--ipi", design);
        Assert.Equal(1, code);
        Assert.Contains(witness, o);
        Assert.Equal(1, o.Split('\n').Count(l => l.Contains("VIOLATED", StringComparison.Ordinal)));
    }

    [Fact]
    public void Every_mutant_is_tested()
    {
        Assert.Equal(4, IpiOrdering.Mutants.Count);
        Assert.Equal(IpiOrdering.All.Count(), IpiOrdering.All.Select(d => d.Name).Distinct().Count());
    }

    [Fact]
    public void Export_writes_the_tests_whole_and_they_read_back()
    {
        string dir = Directory.CreateTempSubdirectory("mk-ipi-litmus").FullName;
        try
        {
            var (code, o, _) = Run("litmus", "--ipi", "reference", "--export", dir);
            Assert.Equal(0, code);
            Assert.Contains("written: ", o);
            var files = Directory.GetFiles(dir, "*.litmus").Order(StringComparer.Ordinal).ToList();
            Assert.Equal(2, files.Count);
            foreach (var f in files)
            {
                var (c2, o2, _) = Run("litmus", f);
                Assert.Equal(0, c2);
                Assert.DoesNotContain("Sometimes", o2);
            }
            (code, _, var e) = Run("litmus", "--ipi", "reference", "--export", Path.Combine(dir, "missing"));
            Assert.Equal(2, code);
            Assert.Contains("no such directory", e);
            (code, _, e) = Run("litmus", "--ipi", "ipi-v9");
            Assert.Equal(2, code);
            Assert.Contains("is not one of reference", e);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Bench_reports_each_models_cost()
    {
        var (code, o, _) = Run("litmus", "--bench", "--runs", "1");
        Assert.Equal(0, code);
        foreach (var m in MemoryModel.All) Assert.Contains($"  {m.Name,-5} ", o);
        Assert.Contains("states/s", o);
        (code, o, _) = Run("litmus", "--bench", "--runs", "1", "--max-states", "5");
        Assert.Equal(3, code);
        Assert.Contains("bound: --max-states 5 reached", o);
    }

    [LitmusCalibration.HerdFact]
    public void Herd7_agrees_on_every_ipi_ordering()
    {
        string dir = Directory.CreateTempSubdirectory("mk-ipi-herd").FullName;
        try
        {
            foreach (var d in IpiOrdering.All)
                foreach (var p in d.Tests())
                {
                    string file = Path.Combine(dir, $"{d.Name}-{p.Name}.litmus");
                    File.WriteAllText(file, p.Litmus);
                    var mine = LitmusCheck.Judge(LitmusParser.Parse(p.Litmus), new LkmmModel(), LitmusCheck.DefaultMaxStates);
                    Assert.Equal(LitmusCalibration.HerdObservationOf(file), mine.Word);
                }
        }
        finally { Directory.Delete(dir, true); }
    }
}
