using System.Net;
using Microsoft.Playwright;
using Multikernel.Cli.Registry;
using Multikernel.Cli.Web;
using Multikernel.Model.Checking;
using Multikernel.Properties.Explorer;
using Multikernel.Tests.Cli;
using Xunit;

namespace Multikernel.Tests.Web;

/// <summary>Debian's chromium, which the test project's build installs where it can (tests/Web/ensure-chromium.sh).</summary>
internal static class Chromium
{
    /// <summary>Debian's chromium, or the browser MULTIKERNEL_CHROMIUM names.</summary>
    public static string Path => Environment.GetEnvironmentVariable("MULTIKERNEL_CHROMIUM") is { Length: > 0 } other ? other : "/usr/bin/chromium";

    /// <summary>Why the browser tests cannot run here, or null.</summary>
    public static string? Missing => File.Exists(Path) ? null
        : $"chromium is not installed here ({Path}): the test project's build installs it with apt-get where it can (root or password-less sudo); install it with 'sudo apt-get install chromium'. The browser tests are skipped";
}

/// <summary>A test in a real browser: skipped, saying why, where chromium is missing.</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute()
    {
        if (Chromium.Missing is { } why) Skip = why;
    }
}

/// <summary>One headless chromium for the browser tests, driven by Playwright, launched only where chromium is installed.</summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    private IPlaywright? _playwright;
    public IBrowser? Browser { get; private set; }

    public async Task InitializeAsync()
    {
        if (Chromium.Missing is not null) return;
        _playwright = await Playwright.CreateAsync();
        // Playwright's own browser download cannot reach the network here: the system's chromium.
        Browser = await _playwright.Chromium.LaunchAsync(new() { ExecutablePath = Chromium.Path, Headless = true });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        _playwright?.Dispose();
    }
}

/// <summary>
/// The trace pages (audit --html) and the explorer (serve) in chromium: a counterexample stepped through
/// with the keyboard and the mouse, and what the page shows checked at each step. Screenshots go to the
/// test output's screenshots/ and, when MULTIKERNEL_SCREENSHOTS names a directory (docs/), there too.
/// </summary>
public sealed class BrowserTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>
{
    private IBrowser Browser => fixture.Browser!;

    private async Task<(IPage Page, List<string> Requests, List<string> Errors)> Open(string url)
    {
        var page = await Browser.NewPageAsync(new() { ViewportSize = new() { Width = 1400, Height = 900 } });
        var requests = new List<string>();
        var errors = new List<string>();
        page.Request += (_, r) => requests.Add(r.Url);
        page.Console += (_, m) => { if (m.Type == "error") errors.Add(m.Text); };
        page.PageError += (_, m) => errors.Add(m);
        await page.GotoAsync(url);
        return (page, requests, errors);
    }

    private static async Task Screenshot(IPage page, string name)
    {
        string dir = System.IO.Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(dir);
        await page.ScreenshotAsync(new() { Path = System.IO.Path.Combine(dir, name) });
        if (Environment.GetEnvironmentVariable("MULTIKERNEL_SCREENSHOTS") is { Length: > 0 } docs)
            await page.ScreenshotAsync(new() { Path = System.IO.Path.Combine(docs, name) });
    }

    /// <summary>Clicks a link and waits until the page it names has loaded.</summary>
    private static async Task Follow(IPage page, string selector)
    {
        string href = await page.GetAttributeAsync(selector, "href") ?? throw new InvalidOperationException($"{selector} is not a link");
        await page.ClickAsync(selector);
        await Arrived(page, new Uri(new Uri(page.Url), href).AbsoluteUri, selector);
    }

    /// <summary>Presses a key that navigates, and waits until the page it leads to has loaded.</summary>
    private static async Task Press(IPage page, string key, string to)
    {
        await page.Keyboard.PressAsync(key);
        await Arrived(page, to, key);
    }

    /// <summary>
    /// Waits until the page shows <paramref name="to"/>, parsed to its end. The DOM is polled, not the browser's load
    /// events: with Debian's chromium, a wait for the load (or commit) of a navigation sometimes never returned
    /// although the page was there.
    /// </summary>
    private static async Task Arrived(IPage page, string to, string what)
    {
        var within = new PageAssertionsToHaveURLOptions { Timeout = 20_000 };
        try
        {
            await Assertions.Expect(page).ToHaveURLAsync(to, within);
            await Assertions.Expect(page.Locator("footer")).ToBeAttachedAsync(new() { Timeout = 20_000 });
        }
        catch (PlaywrightException e) { Assert.Fail($"{what} did not lead to {to}: the page is at {page.Url}: {e.Message}"); }
    }

    /// <summary>The rows of a state's variable table: name, value, highlighted as changed.</summary>
    private static async Task<List<(string Name, string Value, bool Changed)>> Vars(IPage page, string state)
    {
        var rows = new List<(string, string, bool)>();
        foreach (var row in await page.Locator($"{state} table.vars tr").AllAsync())
            rows.Add((await row.Locator("th").TextContentAsync() ?? "", await row.Locator("td").TextContentAsync() ?? "",
                (await row.GetAttributeAsync("class") ?? "").Contains("changed", StringComparison.Ordinal)));
        return rows;
    }

    [ChromiumFact]
    public async Task Html_trace_steps_through_a_counterexample_with_the_keyboard()
    {
        var dir = Directory.CreateTempSubdirectory("mk-html-");
        try
        {
            var (code, o, _) = CliRun.Run("audit", "ipi/ipi-v2", "--html", System.IO.Path.Combine(dir.FullName, "trace.html"));
            Assert.Equal(1, code);
            string file = System.IO.Path.Combine(dir.FullName, "trace.no-overwrite.html");
            Assert.Contains($"wrote {file}", o);
            var (page, requests, errors) = await Open(new Uri(file).AbsoluteUri);

            Assert.Equal("no-overwrite", await page.TextContentAsync("#property"));
            Assert.Contains("multikernel_send_ipi_data()", await page.TextContentAsync("dd.seed"));
            var lanes = await page.Locator("table.lanes th.lane").AllTextContentsAsync();
            Assert.Equal(["sender CPU1", "sender CPU2"], lanes.Order(StringComparer.Ordinal));
            int last = int.Parse(await page.GetAttributeAsync("body", "data-last") ?? "", System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(last >= 3);
            Assert.True(await page.IsVisibleAsync("#state-0"));
            Assert.False(await page.IsVisibleAsync("#state-1"));

            // Each step: its row is current, its state alone is shown, and exactly the variables whose value
            // differs from the state before are highlighted.
            var before = await Vars(page, "#state-0");
            Assert.DoesNotContain(before, v => v.Changed);
            for (int i = 1; i <= last; i++)
            {
                await page.Keyboard.PressAsync(i % 2 == 0 ? "ArrowDown" : "j");
                Assert.True(await page.IsVisibleAsync($"#state-{i}"), $"state {i} shown");
                Assert.False(await page.IsVisibleAsync($"#state-{i - 1}"));
                Assert.Contains("current", await page.GetAttributeAsync($"#step-{i}", "class") ?? "");
                Assert.EndsWith($"#step-{i}", page.Url);
                var now = await Vars(page, $"#state-{i}");
                Assert.Equal(before.Select(v => v.Name), now.Select(v => v.Name));
                for (int k = 0; k < now.Count; k++)
                    Assert.Equal(now[k].Value != before[k].Value, now[k].Changed);
                Assert.Contains(now, v => v.Changed);
                // The step sits in the column of its lane.
                string lane = await page.GetAttributeAsync($"#step-{i}", "data-lane") ?? "";
                int column = lanes.ToList().IndexOf(lane);
                Assert.True(column >= 0, $"step {i}'s lane '{lane}' is a column");
                Assert.Equal(await page.TextContentAsync($"#state-{i} .stepText"), await page.Locator($"#step-{i} td").Nth(column + 1).TextContentAsync());
                if (i == 3) await Screenshot(page, "trace-html.png");
                before = now;
            }
            Assert.Contains($"no-overwrite is false in state {last}", await page.TextContentAsync("#because"));
            Assert.Contains("because CPU", await page.TextContentAsync("#because"));

            await page.Keyboard.PressAsync("Home");
            Assert.True(await page.IsVisibleAsync("#state-0"));
            await page.Keyboard.PressAsync("End");
            Assert.True(await page.IsVisibleAsync($"#state-{last}"));
            await page.Keyboard.PressAsync("ArrowDown");
            Assert.True(await page.IsVisibleAsync($"#state-{last}"), "past the last step stays on it");
            await page.ClickAsync("#lasso .node[data-step='2']");
            Assert.True(await page.IsVisibleAsync("#state-2"));

            // Nothing was fetched but the file itself, and no script failed.
            Assert.All(requests, r => Assert.StartsWith("file://", r));
            Assert.Empty(errors);
        }
        finally { dir.Delete(recursive: true); }
    }

    [ChromiumFact]
    public async Task Html_trace_draws_a_lasso_as_a_loop()
    {
        var dir = Directory.CreateTempSubdirectory("mk-html-");
        try
        {
            // Without fairness the balloon's reaches-target fails on a cycle (with it, it holds).
            var (code, _, _) = CliRun.Run("audit", "balloon/balloon-rfc", "--unfair", "--html", System.IO.Path.Combine(dir.FullName, "b.html"));
            Assert.Equal(1, code);
            var (page, requests, errors) = await Open(new Uri(System.IO.Path.Combine(dir.FullName, "b.reaches-target.html")).AbsoluteUri);
            int loop = int.Parse(await page.GetAttributeAsync("body", "data-loop") ?? "", System.Globalization.CultureInfo.InvariantCulture);
            int last = int.Parse(await page.GetAttributeAsync("body", "data-last") ?? "", System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(loop, 0, last - 1);
            Assert.True(await page.IsVisibleAsync("#cycle"), "the loop is drawn");
            Assert.Contains($"back to state {loop}", await page.TextContentAsync("#lasso"));
            Assert.Contains($"back to state {loop}", await page.TextContentAsync("tr.back"));
            Assert.Contains("the cycle repeats forever", await page.TextContentAsync("#because"));
            Assert.Equal(last - loop + 1, await page.Locator("tr.step.loop").CountAsync());
            Assert.Contains("hypervisor", await page.Locator("table.lanes th.lane").AllTextContentsAsync());
            await page.Keyboard.PressAsync("End");
            await page.Keyboard.PressAsync("l");
            Assert.True(await page.IsVisibleAsync($"#state-{loop}"), "l goes to where the cycle starts");
            await page.EvaluateAsync("window.scrollTo(0, 0)");
            await Screenshot(page, "trace-html-lasso.png");
            Assert.All(requests, r => Assert.StartsWith("file://", r));
            Assert.Empty(errors);
        }
        finally { dir.Delete(recursive: true); }
    }

    [ChromiumFact]
    public async Task Serve_steps_jumps_to_a_counterexample_and_shares_positions()
    {
        var (m, design) = Mechanisms.Resolve("ipi/ipi-v2", "test");
        var bounds = m.Model.ParseBounds("");
        var spec = m.Model.Specification(design, bounds);
        var report = Explorer.Run(spec, new ExploreOptions { StopWhenAllViolated = true });
        var (app, url) = await ExplorerSite.StartAsync(new Served(spec, "ipi/ipi-v2", BoundsText.Show(bounds), report), IPAddress.Loopback, 0);
        try
        {
            Assert.True(IPAddress.IsLoopback(IPAddress.Parse(url.Host)));
            var (page, requests, errors) = await Open(url.AbsoluteUri);
            Assert.Contains("ipi/ipi-v2", await page.TextContentAsync("h1"));
            Assert.Equal("state 0", await page.TextContentAsync("#state h2"));
            int enabled = await page.Locator("#enabled a.choose").CountAsync();
            Assert.True(enabled >= 2);
            Assert.Equal(enabled + 1, await page.Locator("#neighbourhood .node").CountAsync());

            // Choose the second enabled step: the state after it, its lane, and the path in the URL.
            string second = await page.Locator("#enabled a.choose").Nth(1).TextContentAsync() ?? "";
            await Follow(page, "#enabled a.choose >> nth=1");
            Assert.EndsWith("?path=1", page.Url);
            Assert.Equal("state 1", await page.TextContentAsync("#state h2"));
            Assert.Contains(await page.TextContentAsync("#state .stepText") ?? "-", second);
            Assert.Contains(await page.TextContentAsync("#state .who") ?? "-", second);
            // Take the first step enabled there with the keyboard, then go back and forward.
            await Press(page, "0", url.AbsoluteUri + "?path=1.0");
            Assert.Equal("state 2", await page.TextContentAsync("#state h2"));
            await Press(page, "ArrowLeft", url.AbsoluteUri + "?path=1.0&at=1");
            Assert.Equal("state 1", await page.TextContentAsync("#state h2"));
            await Follow(page, "#forward");
            Assert.EndsWith("?path=1.0", page.Url);
            Assert.Equal("state 2", await page.TextContentAsync("#state h2"));

            // Jump to no-overwrite's counterexample: it ends where the property is false, and says why.
            await Follow(page, "a.cex[data-property='no-overwrite']");
            var cex = report.Outcomes.Single(o => o.Property.Name == "no-overwrite").Trace!;
            Assert.EndsWith("?path=" + string.Join('.', cex.Choices), page.Url);
            Assert.Contains("no-overwrite", await page.TextContentAsync("#violated"));
            Assert.Contains("because " + cex.Why, await page.TextContentAsync("#counterexample"));
            Assert.Equal(cex.Length, await page.Locator("#lanes tr.step").CountAsync() - 1);
            await Screenshot(page, "serve.png");
            // Step back through it: each state is the trace's.
            for (int i = cex.Length - 1; i >= 0; i--)
            {
                await Follow(page, "#back");
                Assert.Equal($"state {i}", await page.TextContentAsync("#state h2"));
                var shown = await Vars(page, "#state");
                Assert.Equal(cex.States[i].Vars.Select(v => (v.Name, v.Value.ToString())), shown.Select(v => (v.Name, v.Value)));
            }

            // A position is its URL: another page opened on it shows the same state.
            await Follow(page, "#forward");
            await Follow(page, "#forward");
            string shared = page.Url;
            var (other, _, _) = await Open(shared);
            Assert.Equal("state 2", await other.TextContentAsync("#state h2"));
            Assert.Equal(await Vars(page, "#state"), await Vars(other, "#state"));

            // A bad position is a 400 page that says what is wrong, never a stack trace.
            var bad = await other.GotoAsync(url.AbsoluteUri + "?path=0.99");
            Assert.Equal(400, bad!.Status);
            Assert.Contains("step 2: choice 99 is not enabled", await other.TextContentAsync("#message"));
            Assert.DoesNotContain("Exception", await other.ContentAsync());

            Assert.All(requests, r => Assert.StartsWith(url.AbsoluteUri, r));
            Assert.Empty(errors);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
