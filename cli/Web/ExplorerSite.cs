using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Multikernel.Model.Checking;
using Multikernel.Properties.Explorer;
using Multikernel.Properties.Traces;
using static Multikernel.Properties.Traces.Html;

namespace Multikernel.Cli.Web;

/// <summary>One design's state space, as <c>serve</c> shows it: the spec, its bounds and the audit's counterexamples.</summary>
internal sealed record Served(ISpecHandle Spec, string Design, string Bounds, ExploreReport Report);

/// <summary>A page and its HTTP status.</summary>
internal readonly record struct Page(int Status, string Html);

/// <summary>
/// The explorer's web pages. A position is a URL: <c>?path=3.1.0</c> (each step's place in the enabled list,
/// as a trace records it), <c>init=K</c> for another initial state, and <c>at=N</c> for a position inside the
/// path (back and forward move it; the steps past it are the forward history). Every page is built by
/// re-executing the specification along the path; a path that does not replay is HTTP 400 with the reason.
/// </summary>
internal static class ExplorerSite
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;
    /// <summary>The longest path a URL may name: as long as the longest trace replay accepts.</summary>
    public const int MaxSteps = Commands.ReplayCommand.MaxSteps;

    /// <summary>Starts the site on <paramref name="address"/>:<paramref name="port"/> (0: any free port); returns it and the URL it answers on.</summary>
    public static async Task<(WebApplication App, Uri Url)> StartAsync(Served served, IPAddress address, int port)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = Environments.Production, ApplicationName = "multikernel" });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(address, port));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        var app = builder.Build();
        app.Run(context => Answer(served, context));
        await app.StartAsync().ConfigureAwait(false);
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, new Uri(bound.Replace("[::]", "localhost", StringComparison.Ordinal).TrimEnd('/') + "/"));
    }

    private static async Task Answer(Served served, HttpContext context)
    {
        Page page;
        if (context.Request.Method is not ("GET" or "HEAD"))
            page = Error(405, "only GET: the explorer changes nothing on the server, a position is its URL");
        else if (context.Request.Path.Value is not ("/" or ""))
            page = Error(404, $"no page '{Printable.Line(context.Request.Path.Value ?? "", 80)}': the explorer is at /");
        else
        {
            try { page = Render(served, context.Request.Query.ToDictionary(q => q.Key, q => q.Value.ToString(), StringComparer.Ordinal)); }
            // A design's own code can throw while a page is drawn: one line, never a stack trace.
            catch (Exception e) when (e is not OutOfMemoryException) { page = Error(500, $"the page could not be drawn: {UserCode.Describe(e)}"); }
        }
        context.Response.StatusCode = page.Status;
        context.Response.ContentType = "text/html; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers["X-Content-Type-Options"] = "nosniff";
        await context.Response.WriteAsync(page.Html).ConfigureAwait(false);
    }

    /// <summary>An error page: what is wrong, in one line, and the way back.</summary>
    public static Page Error(int status, string message)
    {
        var sb = new StringBuilder();
        Head(sb, $"{status}: {message}");
        sb.Append(C, $"<body><div class=\"error\"><h1>{status} {E(ReasonPhrases(status))}</h1><p id=\"message\">{E(message)}</p><p><a href=\"/\">the initial state</a></p></div></body></html>\n");
        return new Page(status, sb.ToString());
    }

    private static string ReasonPhrases(int status) => status switch
    {
        400 => "Bad Request", 404 => "Not Found", 405 => "Method Not Allowed", _ => "Internal Server Error",
    };

    /// <summary>The page for a query (its keys and values); 400 for a position that does not exist.</summary>
    public static Page Render(Served s, IReadOnlyDictionary<string, string> query)
    {
        foreach (var key in query.Keys)
            if (key is not ("path" or "init" or "at")) return Error(400, $"unknown parameter '{Printable.Line(key, 40)}': a position is path=, init= and at=");
        if (!ParsePath(query.GetValueOrDefault("path") ?? "", out var path, out string? bad)) return Error(400, bad!);
        int init = 0, at = path.Count;
        if (query.TryGetValue("init", out var initText) && !ParseIndex(initText, out init)) return Error(400, $"init: '{Printable.Line(initText, 40)}' is not an initial state's number");
        if (query.TryGetValue("at", out var atText) && (!ParseIndex(atText, out at) || at > path.Count))
            return Error(400, $"at: '{Printable.Line(atText, 40)}' is not a position on the path (0 to {path.Count})");

        var (trace, judgement) = Explorer.ReplayAndJudge(s.Spec, Explorer.NoCrash.Name, init, path, null);
        if (trace is null) return Error(400, $"path: {judgement.Reason} in {s.Spec.Name}");
        if (trace.Length < path.Count) return Error(400, $"path: step {trace.Length} throws, and the path goes on past it");
        Walk walk;
        try { walk = Walk.To(s.Spec, init, path.Take(at).ToList()); }
        catch (TraceMismatchException e) { return Error(400, $"path: {e.Message}"); }
        var lanes = Walk.LanesOf(s.Spec, trace);
        return new Page(200, Position(s, trace, lanes, walk, init, path, at));
    }

    /// <summary>Dot-separated non-negative numbers, each a place in an enabled list; empty: the initial state.</summary>
    private static bool ParsePath(string text, out List<int> path, out string? error)
    {
        path = new List<int>();
        error = null;
        if (text.Length == 0) return true;
        if (text.Length > MaxSteps * 4) { error = $"path: longer than {MaxSteps:N0} steps"; return false; }
        var parts = text.Split('.');
        if (parts.Length > MaxSteps) { error = $"path: {parts.Length:N0} steps, more than {MaxSteps:N0}"; return false; }
        for (int i = 0; i < parts.Length; i++)
        {
            if (!ParseIndex(parts[i], out int c) || c >= SpecLimits.MaxEnabled)
            {
                error = $"path: step {i + 1}: '{Printable.Line(parts[i], 20)}' is not a step's number (0 to {SpecLimits.MaxEnabled - 1}, dot-separated: path=3.1.0)";
                return false;
            }
            path.Add(c);
        }
        return true;
    }

    private static bool ParseIndex(string text, out int value) =>
        int.TryParse(text, NumberStyles.None, C, out value) && text.Length <= 9;

    private static string Href(int init, IReadOnlyList<int> path, int at)
    {
        var sb = new StringBuilder("?path=");
        sb.AppendJoin('.', path);
        if (init != 0) sb.Append(C, $"&init={init}");
        if (at != path.Count) sb.Append(C, $"&at={at}");
        return sb.ToString();
    }

    private static string Position(Served s, Trace trace, IReadOnlyList<string> lanes, Walk walk, int init, List<int> path, int at)
    {
        var sb = new StringBuilder();
        Head(sb, $"{s.Design}: state {at} of the path");
        sb.Append(C, $"<body data-at=\"{at}\" data-length=\"{path.Count}\">\n<header>\n<h1>multikernel serve: {E(s.Design)}</h1>\n");
        sb.Append(C, $"<dl class=\"meta\"><dt>bounds</dt><dd class=\"mono\">{E(s.Bounds)}</dd><dt>memory model</dt><dd>{E(Commands.ExplorationText.MemoryModelOf(s.Spec))}</dd><dt>explored</dt><dd>{s.Report.States:N0} distinct states, {s.Report.Transitions:N0} transitions, depth {s.Report.Depth}{(s.Report.Bound != Bound.None ? $", BOUND HIT: {s.Report.Bound.ToString().ToLowerInvariant()} (verdicts below are partial)" : "")}</dd>\n");
        sb.Append("<dt>properties</dt><dd><ul class=\"plain\" id=\"properties\">");
        foreach (var o in s.Report.Outcomes)
        {
            string verdict = o.Verdict switch
            {
                Verdict.Violated when o.Trace is { } t => $"<span class=\"verdict\">VIOLATED</span>: <a class=\"cex\" data-property=\"{E(o.Property.Name)}\" href=\"{E(Href(t.InitialIndex, t.Choices, t.Choices.Count))}\">its counterexample ({(t.Length == 1 ? "1 step" : $"{t.Length} steps")}{(t.LoopIndex is int l && l < t.Length ? $", a cycle back to state {l}" : "")})</a>",
                Verdict.Violated => $"<span class=\"verdict\">VIOLATED</span>: {E(o.Reason)}",
                Verdict.Holds => $"<span class=\"ok\">{(o.Property.Kind == PropertyKind.Sometimes ? E(o.Reason) : "holds")}</span>",
                _ => $"unknown: {E(o.Reason)}",
            };
            sb.Append(C, $"<li><code>{E(o.Property.Name)}</code> {verdict}</li>");
        }
        sb.Append("</ul></dd></dl>\n</header>\n<main>\n<section id=\"position\">\n");

        // Where we are: back, forward, the initial state and the URL that names this position.
        string here = Href(init, path, at);
        sb.Append("<nav>");
        sb.Append(at > 0 ? $"<a id=\"back\" href=\"{E(Href(init, path, at - 1))}\">◀ back</a>" : "<span id=\"back\">◀ back</span>");
        sb.Append(" · ");
        sb.Append(at < path.Count ? $"<a id=\"forward\" href=\"{E(Href(init, path, at + 1))}\">forward ▶</a>" : "<span id=\"forward\">forward ▶</span>");
        sb.Append(" · <a id=\"home\" href=\"?path=\">initial state</a>");
        sb.Append(C, $" · <a id=\"share\" href=\"{E(here)}\">link to this position</a> <code id=\"url\">{E(here)}</code></nav>\n");
        if (walk.InitialCount > 1 && at == 0)
        {
            sb.Append("<p>initial states: ");
            for (int i = 0; i < walk.InitialCount && i < 32; i++) sb.Append(i == init ? $"<b>{i}</b> " : $"<a href=\"{E(Href(i, [], 0))}\">{i}</a> ");
            sb.Append("</p>\n");
        }

        // The counterexample this path is, if it is one: its end and why.
        foreach (var o in s.Report.Outcomes)
            if (o.Trace is { } t && t.InitialIndex == init && t.Choices.SequenceEqual(path))
            {
                sb.Append(C, $"<div class=\"because\" id=\"counterexample\">the counterexample of <code>{E(o.Property.Name)}</code>: {E(o.Property.Statement)}");
                if (t.LoopIndex is int l && l < t.Length) sb.Append(C, $"<br>→ after step {t.Length}, back to state {l}: the cycle repeats forever with the obligation pending");
                else if (o.Property.Kind == PropertyKind.Eventually) sb.Append("<br>→ no step is enabled in the last state: the obligation stays pending forever");
                else sb.Append(C, $"<br>→ {E(o.Property.Name)} is false in state {t.Length}");
                if (t.Why is { } why) sb.Append(C, $"<br>because {E(why)}");
                sb.Append("</div>\n");
                break;
            }

        // The path: each step in its actor's lane; the ones past this position are the forward history.
        sb.Append("<h2>the path</h2>\n");
        var columns = lanes.Distinct(StringComparer.Ordinal).ToList();
        int span = LanesHead(sb, columns);
        sb.Append(C, $"<tr class=\"step{(at == 0 ? " current" : "")}\" data-step=\"0\"><td class=\"n\">0</td><td colspan=\"{span}\"><a href=\"{E(Href(init, path, 0))}\"><em>initial state {init}</em></a></td></tr>\n");
        for (int i = 1; i <= path.Count; i++)
        {
            sb.Append(C, $"<tr class=\"step{(i == at ? " current" : "")}{(i > at ? " ahead" : "")}\" data-step=\"{i}\"><td class=\"n\">{i}</td>");
            foreach (var c in columns)
                sb.Append(c == lanes[i - 1] ? $"<td class=\"act\"><a href=\"{E(Href(init, path, i))}\">{E(trace.States[i].Step)}</a></td>" : "<td></td>");
            sb.Append("</tr>\n");
        }
        sb.Append("</tbody></table></div>\n");

        // The steps enabled here, and the neighbourhood as a graph.
        sb.Append(C, $"<h2>enabled here: {walk.Next.Count}</h2>\n");
        if (walk.Next.Count == 0) sb.Append("<p id=\"terminal\">no step is enabled: a terminal state</p>\n");
        sb.Append("<ol class=\"enabled\" id=\"enabled\" start=\"0\">\n");
        var prefix = path.Take(at).ToList();
        foreach (var n in walk.Next)
        {
            var to = prefix.Append(n.Choice).ToList();
            sb.Append(C, $"<li><a class=\"choose\" data-choice=\"{n.Choice}\" href=\"{E(Href(init, to, to.Count))}\"><b>{E(n.Lane)}</b>: {E(n.Step)}</a>");
            if (n.Threw is not null) sb.Append(C, $" <span class=\"verdict\">throws {E(n.Threw)}</span>");
            if (n.Violates.Count > 0) sb.Append(C, $" <span class=\"verdict\">→ violates {E(string.Join(", ", n.Violates))}</span>");
            if (n.SameAs is int same) sb.Append(C, $" <span class=\"label\">→ back to state {same} of the path</span>");
            sb.Append("</li>\n");
        }
        sb.Append("</ol>\n");
        Neighbourhood(sb, walk, init, path, at);
        sb.Append("</section>\n<aside id=\"state\">\n");

        // The state here, whole, with what its step changed highlighted, and the properties judged in it.
        var changed = at == 0 ? new HashSet<string>() : TraceText.Changes(trace.States[at - 1].Vars, trace.States[at].Vars).Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        sb.Append(C, $"<h2>state {at}</h2>\n");
        sb.Append(at == 0 ? $"<p>initial state {init}</p>\n" : $"<p>after step {at} by <b class=\"who\">{E(lanes[at - 1])}</b>: <code class=\"stepText\">{E(trace.States[at].Step)}</code></p>\n");
        if (walk.Violated.Count > 0) sb.Append(C, $"<p class=\"verdict\" id=\"violated\">violated here: {E(string.Join(", ", walk.Violated))}</p>\n");
        if (walk.Pending.Count > 0) sb.Append(C, $"<p id=\"pending\">still owed here: {E(string.Join(", ", walk.Pending))}</p>\n");
        if (walk.Reached.Count > 0) sb.Append(C, $"<p class=\"ok\" id=\"reached\">reached here: {E(string.Join(", ", walk.Reached))}</p>\n");
        sb.Append("<table class=\"vars\">\n");
        foreach (var v in trace.States[at].Vars)
            sb.Append(C, $"<tr{(changed.Contains(v.Name) ? " class=\"changed\"" : "")}><th>{E(v.Name)}</th><td>{E(v.Value.ToString())}</td></tr>\n");
        sb.Append("</table>\n</aside>\n</main>\n");
        sb.Append("<footer><kbd>←</kbd>/<kbd>h</kbd> back, <kbd>→</kbd>/<kbd>l</kbd> forward, <kbd>Home</kbd> initial state, <kbd>0</kbd>–<kbd>9</kbd> take that enabled step. A position is its URL: share it.</footer>\n");
        sb.Append(C, $"<script>{Keys}</script>\n</body>\n</html>\n");
        return sb.ToString();
    }

    /// <summary>The state, the one before it on the path, and every state one step on, as a small graph; each node is a link.</summary>
    private static void Neighbourhood(StringBuilder sb, Walk walk, int init, List<int> path, int at)
    {
        int n = walk.Next.Count, rowH = 22, h = Math.Max(90, n * rowH + 20), cy = h / 2;
        const int px = 40, cx = 170, sx = 330, w = 560;
        sb.Append(C, $"<h2>neighbourhood</h2>\n<svg id=\"neighbourhood\" role=\"img\" aria-label=\"state {at}, its predecessor and its {n} successors\" viewBox=\"0 0 {w} {h}\" width=\"100%\" style=\"max-width:{w}px\">\n");
        sb.Append("<defs><marker id=\"arr\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"6\" markerHeight=\"6\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#888\"/></marker></defs>\n");
        if (at > 0)
        {
            sb.Append(C, $"<line class=\"edge\" x1=\"{px + 14}\" y1=\"{cy}\" x2=\"{cx - 16}\" y2=\"{cy}\" marker-end=\"url(#arr)\"/>\n");
            sb.Append(C, $"<a href=\"{E(Href(init, path, at - 1))}\"><g class=\"node\" id=\"previous\"><title>state {at - 1}: back</title><circle cx=\"{px}\" cy=\"{cy}\" r=\"13\"/><text x=\"{px}\" y=\"{cy}\">{at - 1}</text></g></a>\n");
        }
        var prefix = path.Take(at).ToList();
        for (int k = 0; k < n; k++)
        {
            var s = walk.Next[k];
            int y = 10 + rowH / 2 + k * rowH;
            string cls = s.Threw is not null || s.Violates.Count > 0 ? "node last" : "node";
            sb.Append(C, $"<line class=\"edge\" x1=\"{cx + 14}\" y1=\"{cy}\" x2=\"{sx - 10}\" y2=\"{y}\" marker-end=\"url(#arr)\"/>\n");
            var to = prefix.Append(s.Choice).ToList();
            string label = s.SameAs is int same ? $"= state {same}" : s.Threw is not null ? "throws" : s.Violates.Count > 0 ? "violates " + string.Join(", ", s.Violates) : "";
            sb.Append(C, $"<a href=\"{E(Href(init, to, to.Count))}\"><g class=\"{cls}\" data-choice=\"{s.Choice}\"><title>{E(s.Lane)}: {E(s.Step)}</title><circle cx=\"{sx}\" cy=\"{y}\" r=\"9\"/><text x=\"{sx}\" y=\"{y}\">{s.Choice}</text></g></a>");
            sb.Append(C, $"<text class=\"step\" x=\"{sx + 14}\" y=\"{y + 4}\">{E(Printable.Line(s.Lane, 28))}{(label.Length > 0 ? " " + E(Printable.Line(label, 40)) : "")}</text>\n");
        }
        sb.Append(C, $"<g class=\"node current\" id=\"here\"><title>state {at}: here</title><circle cx=\"{cx}\" cy=\"{cy}\" r=\"15\"/><text x=\"{cx}\" y=\"{cy}\">{at}</text></g>\n");
        sb.Append("</svg>\n");
    }

    private const string Keys = """
        (function () {
          function go(id) { var a = document.getElementById(id); if (a && a.href) location.href = a.href; }
          document.addEventListener('keydown', function (e) {
            if (e.altKey || e.ctrlKey || e.metaKey) return;
            if (e.key === 'ArrowLeft' || e.key === 'h') go('back');
            else if (e.key === 'ArrowRight' || e.key === 'l') go('forward');
            else if (e.key === 'Home') go('home');
            else if (/^[0-9]$/.test(e.key)) { var a = document.querySelector('a.choose[data-choice="' + e.key + '"]'); if (a) location.href = a.href; else return; }
            else return;
            e.preventDefault();
          });
        })();
        """;
}
