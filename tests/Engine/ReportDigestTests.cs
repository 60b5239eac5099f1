using System.Security.Cryptography;
using System.Text;
using Multikernel.Cli.Registry;
using Multikernel.Model.Checking;
using Multikernel.Properties.Explorer;
using Xunit;

namespace Multikernel.Tests.Engine;

/// <summary>
/// What the search keeps, and how (packed buffers, the set's table and how it grows), changes no
/// report: on every design and mutant at small bounds, the report (states, transitions, depth,
/// bound, each verdict, reason and counterexample) at 1 and 2 threads, with the set grown as it goes
/// and sized up front, digests to what the explorer gave before its buffers were packed
/// (Fixtures/report-digests.txt, recorded at 2023ab6 with de38ff5's explorer, whose frontier held whole states, and the trace wording of 6262d45).
/// A design whose report changes fails here, naming it; a new design must be recorded.
/// </summary>
public class ReportDigestTests
{
    private const long Cap = 60_000;

    public static TheoryData<string> Designs() => ReportText.Designs();

    private static ISpecHandle Spec(string qualified) => ReportText.Spec(qualified);

    private static string Summary(ExploreReport r) => ReportText.Summary(r);

    private static string Digest(ExploreReport r) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(Summary(r))))[..16];

    private static readonly Dictionary<string, string> Recorded = Read();

    private static Dictionary<string, string> Read()
    {
        var map = new Dictionary<string, string>();
        foreach (var line in File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Fixtures", "report-digests.txt")))
        {
            if (line.Length == 0 || line[0] == '#') continue;
            var parts = line.Split(' ');
            map[parts[0] + " " + parts[1]] = parts[2];
        }
        return map;
    }

    private static readonly (string Name, ExploreOptions Options)[] Runs =
    [
        ("safety", new() { StopWhenAllViolated = false, MaxStates = Cap, Liveness = Liveness.None }),
        ("search", new() { StopWhenAllViolated = false, MaxStates = Cap }),
        ("first", new() { StopAtFirstViolation = true, MaxStates = Cap }),
    ];

    [Theory]
    [MemberData(nameof(Designs))]
    public void Every_design_reports_as_before_at_1_and_2_threads_grown_or_sized(string design)
    {
        var spec = Spec(design);
        foreach (var (name, options) in Runs)
        {
            string key = design + " " + name;
            if (Environment.GetEnvironmentVariable("MK_RECORD_DIGESTS") is { } file)
            {
                File.AppendAllText(file, $"{key} {Digest(Explorer.Run(spec, options with { Threads = 1 }))}\n");
                continue;
            }
            Assert.True(Recorded.TryGetValue(key, out var recorded), $"{key}: no recorded digest");
            foreach (int threads in new[] { 1, 2 })
                foreach (long? sized in new long?[] { null, Cap })
                    Assert.True(recorded == Digest(Explorer.Run(spec, options with { Threads = threads, ExpectedStates = sized })),
                        $"{key}: the report at {threads} threads{(sized is null ? "" : ", sized up front")} is not the recorded one");
        }
    }

    /// <summary>The comparison can fail: a report one state short does not digest as recorded.</summary>
    [Fact]
    public void A_report_that_differs_does_not_digest_as_recorded()
    {
        string key = Recorded.Keys.First(k => k.EndsWith(" safety", StringComparison.Ordinal));
        var r = Explorer.Run(Spec(key[..key.IndexOf(' ', StringComparison.Ordinal)]), Runs[0].Options with { Threads = 1 });
        Assert.Equal(Recorded[key], Digest(r));
        Assert.NotEqual(Recorded[key], Digest(r with { States = r.States - 1 }));
    }
}
