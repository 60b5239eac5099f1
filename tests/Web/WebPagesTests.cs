using Process = System.Diagnostics.Process;
using ProcessStartInfo = System.Diagnostics.ProcessStartInfo;
using System.Net;
using Multikernel.Cli.Registry;
using Multikernel.Cli.Web;
using Multikernel.Model.Checking;
using Multikernel.Properties.Explorer;
using Multikernel.Properties.Traces;
using Multikernel.Tests.Cli;
using Xunit;

namespace Multikernel.Tests.Web;

/// <summary>The pages' text without a browser: self-contained, escaped, and a bad position refused with a reason.</summary>
public sealed class WebPagesTests
{
    private static readonly Lazy<Served> IpiV2 = new(() =>
    {
        var (m, design) = Mechanisms.Resolve("ipi/ipi-v2", "test");
        var bounds = m.Model.ParseBounds("");
        var spec = m.Model.Specification(design, bounds);
        return new Served(spec, "ipi/ipi-v2", BoundsText.Show(bounds), Explorer.Run(spec, new ExploreOptions { StopWhenAllViolated = true }));
    });

    private static Page Render(string query) =>
        ExplorerSite.Render(IpiV2.Value, System.Web.HttpUtility.ParseQueryString(query).AllKeys
            .ToDictionary(k => k ?? "", k => System.Web.HttpUtility.ParseQueryString(query)[k] ?? "", StringComparer.Ordinal));

    [Fact]
    public void Audit_html_writes_one_self_contained_page_per_counterexample()
    {
        var dir = Directory.CreateTempSubdirectory("mk-html-");
        try
        {
            var (code, o, _) = CliRun.Run("audit", "ipi/ipi-v2", "--html", dir.FullName);
            Assert.Equal(1, code);
            var files = Directory.GetFiles(dir.FullName, "*.html").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
            Assert.Equal(["trace.delivered.html", "trace.handler-type.html", "trace.intact.html", "trace.no-duplicate.html",
                "trace.no-overwrite.html", "trace.no-silent-drop.html", "trace.no-use-after-free.html"], files);
            foreach (var f in Directory.GetFiles(dir.FullName, "*.html"))
            {
                string html = File.ReadAllText(f);
                Assert.Contains("default-src 'none'", html);
                // No asset from anywhere: no URL, no src= or href= to another file, no link element.
                Assert.DoesNotContain("http:", html);
                Assert.DoesNotContain("https:", html);
                Assert.DoesNotContain(" src=", html);
                Assert.DoesNotContain("<link", html);
                Assert.DoesNotContain("href=", html);
                Assert.Equal(1, html.Split("<script").Length - 1);
                Assert.Contains("because ", html);
                Assert.Contains("<dt>memory model</dt><dd>sc: sequential consistency", html); // the run says what it assumed
            }
        }
        finally { dir.Delete(recursive: true); }
    }

    /// <summary>Each mechanism names who takes a step, so a page has a lane per actor and not one lane for everything.</summary>
    [Theory]
    [InlineData("ipi/ipi-v1", "sender CPU2|sender CPU3|CPU0's interrupt|CPU1's interrupt|irq_work 0|irq_work 1|the unregistering CPU")]
    [InlineData("uffd/uffd-v5", "uffd1|the process|faulting thread|the monitor")]
    [InlineData("balloon/balloon-rfc", "module init and probe|the timer|the guest thread|hypervisor")]
    [InlineData("restore/restore-v6", "image|kernel")]
    public void Every_mechanism_names_the_lanes_of_its_steps(string name, string allowed)
    {
        var (m, design) = Mechanisms.Resolve(name, "test");
        var spec = m.Model.Specification(design, m.Model.ParseBounds(""));
        var r = Explorer.Run(spec, new ExploreOptions { StopWhenAllViolated = true, Threads = 1 });
        var lanes = r.Outcomes.Where(o => o.Trace is not null).SelectMany(o => Walk.LanesOf(spec, o.Trace!)).Distinct().ToList();
        Assert.NotEmpty(lanes);
        Assert.All(lanes, l => Assert.Contains(l, allowed.Split('|')));
        if (name != "restore/restore-v6") Assert.True(lanes.Count >= 2, $"{name}: more than one lane ({string.Join(", ", lanes)})");
    }

    [Fact]
    public void Audit_html_refuses_an_unwritable_path_before_any_work()
    {
        var (code, o, e) = CliRun.Run("audit", "ipi/ipi-v2", "--html", "/nonexistent-dir/x.html");
        CliRun.OneLineError(code, o, e, "--html");
    }

    [Fact]
    public void Text_from_a_design_is_escaped()
    {
        var p = new Property("p<b>", PropertyKind.Always, "x & <i>y</i>", "src \"q\"");
        var vars0 = new List<TraceVar> { new("v<script>", TraceValue.Of("</script><script>alert(1)</script>")) };
        var vars1 = new List<TraceVar> { new("v<script>", TraceValue.Of("<img src=x onerror=alert(1)>")) };
        var t = new Trace("m/d<x>", p, 0, [0], [new(null, vars0), new("<b>step</b> & 'more'", vars1)], null) { Why = "<because>" };
        string html = Html.Write(t, ["<lane>"], new TracePageInfo("m/d<x>", "a=<1>", "sc <y>", []));
        foreach (var raw in new[] { "<b>", "<i>", "<img", "</script><script>", "<lane>", "<because>", "<x>", "<1>", "<y>", "v<script>" })
            Assert.DoesNotContain(raw, html);
        Assert.Contains("&lt;img src=x onerror=alert(1)&gt;", html);
        Assert.Contains("&lt;b&gt;step&lt;/b&gt; &amp; &#39;more&#39;", html);
        Assert.Equal(1, html.Split("<script>").Length - 1);
    }

    [Fact]
    public void Serve_pages_follow_a_path_and_refuse_a_bad_one_with_400()
    {
        var ok = Render("path=0.1");
        Assert.Equal(200, ok.Status);
        Assert.Contains("<h2>state 2</h2>", ok.Html);
        Assert.Contains("id=\"back\" href=\"?path=0.1&amp;at=1\"", ok.Html);

        foreach (var (query, says) in new[]
                 {
                     ("path=0.99", "step 2: choice 99 is not enabled"),
                     ("path=abc", "step 1: &#39;abc&#39; is not a step&#39;s number"),
                     ("path=0..1", "step 2: &#39;&#39; is not a step&#39;s number"),
                     ("path=-1", "is not a step&#39;s number"),
                     ("path=99999999999999999999", "is not a step&#39;s number"),
                     ("path=0.1&at=3", "at: &#39;3&#39; is not a position on the path (0 to 2)"),
                     ("path=0&init=5", "initial state 5 does not exist"),
                     ("path=0&evil=<script>", "unknown parameter &#39;evil&#39;"),
                     ("path=" + string.Join('.', Enumerable.Repeat("0", ExplorerSite.MaxSteps + 1)), "more than 10,000"),
                 })
        {
            var page = Render(query);
            Assert.Equal(400, page.Status);
            Assert.Contains(says, page.Html);
            Assert.DoesNotContain("Exception", page.Html);
            Assert.DoesNotContain("<script>", page.Html);
        }
    }

    [Fact]
    public void Serve_refuses_an_unknown_design_and_a_bad_address_in_one_line()
    {
        var (code, o, e) = CliRun.Run("serve", "ipi/no-such-design");
        CliRun.OneLineError(code, o, e, "no-such-design");
        (code, o, e) = CliRun.Run("serve", "ipi/ipi-v2", "--listen", "example.org");
        CliRun.OneLineError(code, o, e, "--listen");
        (code, o, e) = CliRun.Run("serve", "ipi/ipi-v2", "--port", "70000");
        CliRun.OneLineError(code, o, e, "--port");
    }

    /// <summary>
    /// The command as a user runs it: it prints the URL it listens on (the loopback interface by default),
    /// answers there, and ends with exit 0 on SIGTERM. Bounded by work: a small design, one request.
    /// </summary>
    [Fact]
    public async Task Serve_prints_a_loopback_url_answers_on_it_and_stops_on_sigterm()
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "multikernel.dll");
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var psi = new ProcessStartInfo(dotnet, [dll, "serve", "balloon/balloon-rfc", "--port", "0", "--threads", "1"])
        { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var p = Process.Start(psi)!;
        try
        {
            string? line;
            string? open = null;
            while ((line = await p.StandardOutput.ReadLineAsync()) is not null)
                if (line.TrimStart().StartsWith("open ", StringComparison.Ordinal)) { open = line.Trim()[5..].Split(' ')[0]; break; }
            Assert.NotNull(open);
            var url = new Uri(open!);
            Assert.True(IPAddress.IsLoopback(IPAddress.Parse(url.Host)), $"{url.Host} is the loopback interface");
            using var http = new HttpClient();
            var r = await http.GetAsync(new Uri(url, "?path=0"));
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Contains("balloon/balloon-rfc", await r.Content.ReadAsStringAsync());
            using (var kill = Process.Start("kill", ["-TERM", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!) kill.WaitForExit();
            // A safety net, not a verdict: a serve that ignored SIGTERM fails here instead of hanging the suite.
            using var never = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            await p.WaitForExitAsync(never.Token);
            Assert.Equal(0, p.ExitCode);
        }
        finally
        {
            if (!p.HasExited) p.Kill();
        }
    }

    [Fact]
    public async Task Serve_answers_on_loopback_with_a_clear_error_for_other_urls()
    {
        Assert.True(IPAddress.IsLoopback(IPAddress.Parse(ServeCommand.DefaultListen)));
        var (app, url) = await ExplorerSite.StartAsync(IpiV2.Value, IPAddress.Parse(ServeCommand.DefaultListen), 0);
        try
        {
            using var http = new HttpClient();
            var r = await http.GetAsync(new Uri(url, "?path=0.1"));
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Equal("text/html", r.Content.Headers.ContentType?.MediaType);
            r = await http.GetAsync(new Uri(url, "?path=7.7.7"));
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            Assert.Contains("not enabled", await r.Content.ReadAsStringAsync());
            r = await http.GetAsync(new Uri(url, "/etc/passwd"));
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
            r = await http.PostAsync(url, new StringContent(""));
            Assert.Equal(HttpStatusCode.MethodNotAllowed, r.StatusCode);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
