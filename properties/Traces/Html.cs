using System.Globalization;
using System.Net;
using System.Text;
using Multikernel.Model.Checking;
using Multikernel.Properties.Explorer;

namespace Multikernel.Properties.Traces;

/// <summary>What a trace page says above the trace: design, bounds and the memory model the run assumed, and the findings the design declares for it.</summary>
public sealed record TracePageInfo(string Design, string Bounds, string MemoryModel, IReadOnlyList<Finding> Findings);

/// <summary>
/// A counterexample as one self-contained HTML page: a lane per actor with each step in its lane, the
/// state after each step with the variables that changed highlighted, the finding's seed line and the
/// closing "because" line, the lasso drawn as a loop, and keyboard navigation. No network, no external
/// asset (its Content-Security-Policy forbids both); every text from a design or a trace is HTML-escaped.
/// </summary>
public static class Html
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>HTML-escapes text from a design or a trace (element content and quoted attribute values).</summary>
    public static string E(string? s) => WebUtility.HtmlEncode(s ?? "");

    /// <summary>The page head: title, a policy that allows no request of any kind, and the style sheet.</summary>
    public static void Head(StringBuilder sb, string title, bool allowForms = false)
    {
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        sb.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        // Nothing is fetched: no script, style, font or image from anywhere, not even this page's own origin.
        sb.Append(C, $"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:{(allowForms ? "; form-action 'self'" : "")}\">\n");
        sb.Append(C, $"<title>{E(title)}</title>\n<style>{Css}</style>\n</head>\n");
    }

    public const string Css = """
        body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1d1d1f;background:#fafafa}
        header{padding:12px 20px;background:#fff;border-bottom:1px solid #ddd}
        h1{font-size:18px;margin:0 0 4px}h2{font-size:15px;margin:0 0 6px}
        .verdict{color:#b00020}.ok{color:#17702c}
        dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:8px 0 0}
        dl.meta dt{color:#666}dl.meta dd{margin:0}
        code,.mono,td.act,table.vars{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12.5px}
        main{display:grid;grid-template-columns:minmax(0,3fr) minmax(280px,2fr);gap:16px;padding:16px 20px}
        section,aside{background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px;min-width:0}
        aside{position:sticky;top:8px;align-self:start;max-height:calc(100vh - 24px);overflow:auto}
        .scroll{overflow:auto}
        table.lanes{border-collapse:collapse;width:100%}
        table.lanes th{position:sticky;top:0;background:#f0f0f3;text-align:left;padding:4px 6px;border-bottom:1px solid #ccc;white-space:nowrap}
        table.lanes td{padding:3px 6px;border-bottom:1px solid #eee;vertical-align:top}
        table.lanes td.n{color:#888;text-align:right;width:2em}
        table.lanes td.act{background:#eef4ff;border-left:3px solid #4a7bd0}
        tr.step{cursor:pointer}tr.step.current td{background:#ffe9a8}tr.step.current td.act{background:#ffd866}
        tr.loop td.n{border-left:4px solid #c0392b}
        tr.back td{color:#c0392b;font-style:italic}
        table.vars{border-collapse:collapse;width:100%}
        table.vars th{text-align:left;padding:2px 8px 2px 0;color:#555;font-weight:normal;vertical-align:top;white-space:nowrap}
        table.vars td{padding:2px 0;word-break:break-word}
        table.vars tr.changed th,table.vars tr.changed td{background:#fff1a8;font-weight:bold}
        .because{margin:10px 0 0;padding:8px;border-left:4px solid #b00020;background:#fff4f4}
        svg .node circle{fill:#fff;stroke:#4a7bd0;stroke-width:2}svg .node text{font:11px sans-serif;text-anchor:middle;dominant-baseline:central}
        svg .node{cursor:pointer}svg .node.current circle{fill:#ffd866}svg .node.last circle{stroke:#b00020}
        svg .edge{stroke:#888;stroke-width:1.5;fill:none}svg .cycle{stroke:#c0392b;stroke-width:2;fill:none}
        svg .label{font:11px sans-serif;fill:#c0392b}svg .step{font:10px sans-serif;fill:#555}
        footer{padding:0 20px 16px;color:#666}kbd{border:1px solid #bbb;border-radius:3px;padding:0 4px;background:#fff}
        a{color:#1a56b5}ul.plain{list-style:none;padding:0;margin:0}ul.plain li{margin:2px 0}
        .error{margin:40px auto;max-width:720px;background:#fff;border:1px solid #e0b4b4;border-radius:6px;padding:16px 20px}
        """;

    /// <summary>The page of one counterexample; <paramref name="lanes"/> names who took each step (<see cref="Walk.LanesOf"/>).</summary>
    public static string Write(Trace t, IReadOnlyList<string> lanes, TracePageInfo info)
    {
        var sb = new StringBuilder();
        var p = t.Property;
        Head(sb, $"VIOLATED {p.Name} ({t.Spec})");
        int? loop = t.LoopIndex is int l && l < t.Length ? l : null;
        sb.Append(C, $"<body data-last=\"{t.Length}\" data-loop=\"{loop ?? -1}\">\n<header>\n");
        sb.Append(C, $"<h1><span class=\"verdict\">VIOLATED</span> <span id=\"property\">{E(p.Name)}</span> ({E(t.Spec)})</h1>\n");
        sb.Append(C, $"<div class=\"statement\">{E(p.Statement)}</div>\n<dl class=\"meta\">\n");
        sb.Append(C, $"<dt>design</dt><dd>{E(info.Design)}</dd>\n<dt>bounds</dt><dd class=\"mono\">{E(info.Bounds)}</dd>\n<dt>memory model</dt><dd>{E(info.MemoryModel)}</dd>\n");
        foreach (var f in info.Findings)
        {
            sb.Append(C, $"<dt>seed</dt><dd class=\"seed\"><code>{E(f.Function)}: {E(f.Line)}</code></dd>\n");
            sb.Append(C, $"<dt>consequence</dt><dd>{E(Finding.Show(f.Consequence))}: {E(f.Effect)}</dd>\n");
            sb.Append(C, $"<dt>needs</dt><dd>{(f.Needs.Length == 0 ? "nothing beyond a real machine, a conforming peer and the callers as posted" : E(string.Join("; ", f.Needs.Select(n => $"{n.Name} ({n.Meaning})"))))}</dd>\n");
        }
        if (info.Findings.Count == 0) sb.Append("<dt>consequence</dt><dd>unclassified (the design declares no finding for this violation)</dd>\n");
        sb.Append(C, $"<dt>from</dt><dd>{E(p.Source)}</dd>\n");
        string shape = loop is int li ? $", then a cycle back to state {li}" : "";
        string steps = t.Length == 1 ? "1 step" : $"{t.Length} steps";
        sb.Append(C, $"<dt>trace</dt><dd>{(t.Shortest ? "shortest counterexample" : "counterexample")}: {steps}{shape}</dd>\n</dl>\n</header>\n");

        sb.Append("<main>\n<section id=\"trace\">\n");
        LassoSvg(sb, t, loop);
        Lanes(sb, t, lanes, loop);
        sb.Append(C, $"<div class=\"because\" id=\"because\">{Conclusion(t, loop)}</div>\n");
        sb.Append("</section>\n<aside id=\"states\">\n");
        States(sb, t, lanes);
        sb.Append("</aside>\n</main>\n");
        sb.Append("<footer><kbd>↓</kbd>/<kbd>j</kbd> next step, <kbd>↑</kbd>/<kbd>k</kbd> previous, <kbd>Home</kbd> initial state, <kbd>End</kbd> last step");
        if (loop is not null) sb.Append(", <kbd>l</kbd> where the cycle starts");
        sb.Append("; click a step or a state. Step 0 is the whole initial state; each later state shows every variable, the ones the step changed highlighted.</footer>\n");
        sb.Append(C, $"<script>{Script}</script>\n</body>\n</html>\n");
        return sb.ToString();
    }

    /// <summary>The end of the trace in words, as the text trace ends: what fails, then why in values.</summary>
    private static string Conclusion(Trace t, int? loop)
    {
        var p = t.Property;
        string end = t.Crashed ? $"→ {E(t.Why)}"
            : p.Kind == PropertyKind.Eventually
                ? loop is int l
                    ? $"→ back to state {l}: the cycle repeats forever with the obligation pending" +
                      (t.FairTo is { Count: > 0 } fair ? $"<br>(a fair cycle: {E(string.Join(", ", fair))} each take a step in it or are disabled on it)" : "")
                    : "→ no step is enabled: the obligation stays pending forever"
                : $"→ {E(p.Name)} is false in state {t.Length}";
        if (!t.Crashed && t.Why is { } why) end += $"<br>because {E(why)}";
        return end;
    }

    /// <summary>The shape of the trace: a path of states, the last one back to where the cycle starts.</summary>
    private static void LassoSvg(StringBuilder sb, Trace t, int? loop)
    {
        int n = t.Length;
        int dx = n <= 30 ? 34 : n <= 80 ? 22 : 14, r = dx <= 14 ? 6 : 11, y = loop is null ? 22 : 64, height = y + 32;
        int w = 30 + n * dx + 30;
        sb.Append(C, $"<svg id=\"lasso\" role=\"img\" aria-label=\"{(loop is int l0 ? $"a lasso: states 0 to {n}, then back to state {l0}" : $"a path: states 0 to {n}")}\" viewBox=\"0 0 {w} {height}\" width=\"100%\" style=\"max-width:{w}px\">\n");
        sb.Append("<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#c0392b\"/></marker></defs>\n");
        int X(int i) => 30 + i * dx;
        for (int i = 1; i <= n; i++) sb.Append(C, $"<line class=\"edge\" x1=\"{X(i - 1) + r}\" y1=\"{y}\" x2=\"{X(i) - r}\" y2=\"{y}\"/>\n");
        if (loop is int l)
        {
            int top = Math.Max(8, y - 40 - Math.Min(10, (n - l)) * 1);
            sb.Append(C, $"<path id=\"cycle\" class=\"cycle\" marker-end=\"url(#arrow)\" d=\"M{X(n)},{y - r} C{X(n)},{top} {X(l)},{top} {X(l)},{y - r - 1}\"/>\n");
            sb.Append(C, $"<text class=\"label\" x=\"{(X(n) + X(l)) / 2}\" y=\"{top + 6}\" text-anchor=\"middle\">cycle: back to state {l}</text>\n");
        }
        else if (t.Property.Kind == PropertyKind.Eventually && !t.Crashed)
            sb.Append(C, $"<text class=\"label\" x=\"{X(n)}\" y=\"{y + r + 14}\" text-anchor=\"end\">no step enabled</text>\n");
        for (int i = 0; i <= n; i++)
        {
            string cls = i == n ? "node last" : "node";
            sb.Append(C, $"<g class=\"{cls}\" data-step=\"{i}\"><title>state {i}{(i == 0 ? ": initial" : ": " + E(t.States[i].Step))}</title><circle cx=\"{X(i)}\" cy=\"{y}\" r=\"{r}\"/>");
            if (r > 6) sb.Append(C, $"<text x=\"{X(i)}\" y=\"{y}\">{i}</text>");
            sb.Append("</g>\n");
        }
        sb.Append("</svg>\n");
    }

    /// <summary>One column per actor, one row per step, the step's text in its actor's column.</summary>
    /// <summary>The lanes table's opening and header row, a column per actor; returns the span of a cell across them all.</summary>
    public static int LanesHead(StringBuilder sb, List<string> columns)
    {
        sb.Append("<div class=\"scroll\"><table class=\"lanes\" id=\"lanes\">\n<thead><tr><th>#</th>");
        foreach (var c in columns) sb.Append(C, $"<th class=\"lane\">{E(c)}</th>");
        if (columns.Count == 0) sb.Append("<th></th>");
        sb.Append("</tr></thead>\n<tbody>\n");
        return Math.Max(1, columns.Count);
    }

    private static void Lanes(StringBuilder sb, Trace t, IReadOnlyList<string> lanes, int? loop)
    {
        var columns = new List<string>();
        foreach (var lane in lanes) if (!columns.Contains(lane)) columns.Add(lane);
        int span = LanesHead(sb, columns);
        sb.Append(C, $"<tr class=\"step current{(loop == 0 ? " loop" : "")}\" id=\"step-0\" data-step=\"0\"><td class=\"n\">0</td><td colspan=\"{span}\"><em>initial state</em></td></tr>\n");
        for (int i = 1; i <= t.Length; i++)
        {
            string lane = i - 1 < lanes.Count ? lanes[i - 1] : "environment";
            sb.Append(C, $"<tr class=\"step{(loop is int l && i >= l ? " loop" : "")}\" id=\"step-{i}\" data-step=\"{i}\" data-lane=\"{E(lane)}\"><td class=\"n\">{i}</td>");
            foreach (var c in columns)
                sb.Append(c == lane ? $"<td class=\"act\">{E(t.States[i].Step)}</td>" : "<td></td>");
            sb.Append("</tr>\n");
        }
        if (loop is int back)
            sb.Append(C, $"<tr class=\"back\"><td class=\"n\">↺</td><td colspan=\"{span}\">back to state {back}: the cycle repeats forever</td></tr>\n");
        sb.Append("</tbody></table></div>\n");
    }

    /// <summary>Each state whole, the variables its step changed highlighted; only the current one is shown.</summary>
    private static void States(StringBuilder sb, Trace t, IReadOnlyList<string> lanes)
    {
        for (int i = 0; i < t.States.Count; i++)
        {
            var changed = i == 0 ? new HashSet<string>() : TraceText.Changes(t.States[i - 1].Vars, t.States[i].Vars).Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
            sb.Append(C, $"<div class=\"state\" id=\"state-{i}\"{(i == 0 ? "" : " hidden")}>\n");
            sb.Append(C, $"<h2>state {i} <span class=\"position\">of {t.Length}</span></h2>\n");
            if (i == 0) sb.Append("<p>the initial state</p>\n");
            else
            {
                string lane = i - 1 < lanes.Count ? lanes[i - 1] : "environment";
                sb.Append(C, $"<p>after step {i} by <b class=\"who\">{E(lane)}</b>: <code class=\"stepText\">{E(t.States[i].Step)}</code></p>\n");
                sb.Append(C, $"<p class=\"changes\">{(changed.Count == 0 ? "nothing changed" : $"changed: {E(string.Join(", ", changed))}")}</p>\n");
            }
            sb.Append("<table class=\"vars\">\n");
            foreach (var v in t.States[i].Vars)
                sb.Append(C, $"<tr{(changed.Contains(v.Name) ? " class=\"changed\"" : "")}><th>{E(v.Name)}</th><td>{E(v.Value.ToString())}</td></tr>\n");
            sb.Append("</table>\n</div>\n");
        }
    }

    private const string Script = """
        (function () {
          var rows = Array.prototype.slice.call(document.querySelectorAll('tr.step'));
          var states = Array.prototype.slice.call(document.querySelectorAll('.state'));
          var nodes = Array.prototype.slice.call(document.querySelectorAll('#lasso .node'));
          var last = rows.length - 1, loop = +document.body.getAttribute('data-loop'), cur = 0;
          function show(i, quiet) {
            cur = Math.max(0, Math.min(last, i));
            rows.forEach(function (r, k) { r.classList.toggle('current', k === cur); if (k === cur) r.setAttribute('aria-current', 'step'); else r.removeAttribute('aria-current'); });
            states.forEach(function (s, k) { s.hidden = k !== cur; });
            nodes.forEach(function (n, k) { n.classList.toggle('current', k === cur); });
            if (!quiet) rows[cur].scrollIntoView({ block: 'nearest' });
            try { history.replaceState(null, '', '#step-' + cur); } catch (e) { }
          }
          document.addEventListener('keydown', function (e) {
            if (e.altKey || e.ctrlKey || e.metaKey) return;
            switch (e.key) {
              case 'ArrowDown': case 'ArrowRight': case 'j': show(cur + 1); break;
              case 'ArrowUp': case 'ArrowLeft': case 'k': show(cur - 1); break;
              case 'Home': case 'g': show(0); break;
              case 'End': case 'G': show(last); break;
              case 'l': if (loop >= 0) show(loop); else return; break;
              default: return;
            }
            e.preventDefault();
          });
          rows.forEach(function (r, k) { r.addEventListener('click', function () { show(k); }); });
          nodes.forEach(function (n, k) { n.addEventListener('click', function () { show(k); }); });
          var m = /^#step-(\d+)$/.exec(location.hash);
          show(m ? +m[1] : 0, !m);
        })();
        """;
}
