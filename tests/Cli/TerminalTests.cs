using System.Diagnostics;
using System.Text;
using Xunit;

namespace Multikernel.Tests.Cli;

/// <summary>A pseudo-terminal from util-linux's script(1); where it is missing the terminal tests say so and skip.</summary>
public sealed class PtyTheoryAttribute : TheoryAttribute
{
    public PtyTheoryAttribute()
    {
        if (!File.Exists("/usr/bin/script")) Skip = "no /usr/bin/script (util-linux) here: the pseudo-terminal tests are skipped";
    }
}

/// <summary>
/// The program's own output, as a terminal shows it and as a pipe gets it, at 80 and 120 columns:
/// no line wider than the screen except a single long value, no progress left behind, and no escape
/// code at all in a pipe (colour and the live display only at a terminal).
/// </summary>
public sealed class TerminalTests
{
    private static string Cli => Path.Combine(AppContext.BaseDirectory, "multikernel.dll");
    private static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    private static (int Code, string Out, string Err) Start(string file, IEnumerable<string> args, IDictionary<string, string?> env)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, StandardOutputEncoding = Encoding.UTF8 };
        psi.Environment.Remove("NO_COLOR");
        psi.Environment.Remove("COLUMNS");
        foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string o = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, o, err.Result);
    }

    /// <summary>A line over the width is allowed only when it is one word after its indent (a path, a long value).</summary>
    private static void Fits(IEnumerable<string> lines, int columns)
    {
        foreach (var l in lines)
            if (l.Length > columns) Assert.True(!l.Trim().Contains(' ', StringComparison.Ordinal), $"over {columns} columns: {l}");
    }

    [Theory]
    [InlineData(80)]
    [InlineData(120)]
    public void A_pipe_gets_plain_text_laid_out_to_COLUMNS(int columns)
    {
        var (code, o, e) = Start(Dotnet, [Cli, "audit", "balloon/balloon-rfc"], new Dictionary<string, string?> { ["COLUMNS"] = $"{columns}" });
        Assert.Equal(1, code);
        Assert.DoesNotContain('\u001b', o + e);
        Assert.DoesNotContain('\r', o + e);
        Assert.DoesNotContain(o, c => c is >= '\uE000' and <= '\uE004'); // no colour marks left
        Fits(o.Split('\n'), columns);
        Assert.Contains("verdict: 4 VIOLATED", o);
        Assert.Contains("shortest counterexample: 1 step\n", o); // not "1 steps"
        // The same words as without a width: wrapping only moves line breaks.
        var (_, whole, _) = Start(Dotnet, [Cli, "audit", "balloon/balloon-rfc"], new Dictionary<string, string?>());
        static int Words(string s) => s.Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries).Length;
        Assert.Equal(Words(whole), Words(o));
    }

    [Fact]
    public void NO_COLOR_and_plain_keep_escape_codes_off_a_terminal_s_stdout_too()
    {
        // In a pipe stdout is never coloured; --plain and NO_COLOR are what keep it plain at a terminal (below).
        var (code, o, _) = Start(Dotnet, [Cli, "audit", "ipi/reference", "--plain"], new Dictionary<string, string?> { ["NO_COLOR"] = "1" });
        Assert.Equal(0, code);
        Assert.DoesNotContain('\u001b', o);
        Assert.Contains("verdict: all 14 hold", o);
    }

    [PtyTheory]
    [InlineData(80, "")]
    [InlineData(120, "")]
    [InlineData(80, "--plain")]
    public void A_terminal_shows_colour_and_live_progress_and_nothing_stale_is_left(int columns, string plain)
    {
        // audit uffd/reference explores 1.1 M states: several seconds, so the live display runs and must be erased.
        string command = $"stty cols {columns} rows 60; exec {Dotnet} {Cli} audit uffd/reference {plain}";
        var (code, raw, _) = Start("/usr/bin/script", ["-qfec", command, "/dev/null"], new Dictionary<string, string?> { ["TERM"] = "xterm" });
        Assert.Equal(0, code);
        var screen = new Screen(columns);
        screen.Feed(raw);
        string shown = string.Join('\n', screen.Lines);
        Assert.Contains("verdict: all 13 hold", shown);
        Assert.DoesNotContain(screen.Overflows, l => l.Trim().Contains(' ', StringComparison.Ordinal));
        if (plain == "")
        {
            Assert.DoesNotContain("states/s, depth", shown); // the live progress, erased
            Assert.Contains("\u001b[32m", raw, StringComparison.Ordinal); // holds in green
            Assert.True(screen.ProgressShown, "the live progress never appeared: " + raw[..Math.Min(400, raw.Length)]);
        }
        else
        {
            // --plain: progress is a line of its own every five seconds, never rewritten, never glued to a result.
            Assert.All(screen.Lines.Where(l => l.Contains("states/s, depth", StringComparison.Ordinal)), l => Assert.StartsWith("audit: ", l, StringComparison.Ordinal));
            int at = raw.IndexOf("\u001b[3", StringComparison.Ordinal); // no colour
            Assert.True(at < 0, "colour with --plain: " + raw[Math.Max(0, at - 200)..Math.Min(raw.Length, at + 50)].Replace("\u001b", "ESC", StringComparison.Ordinal));
        }
        Fits(screen.Lines, columns);
    }

    /// <summary>
    /// Just enough of a VT100 to read back what a terminal shows: text with autowrap at the width, CR, LF,
    /// cursor up, erase line; colours and modes are ignored. A line the terminal had to wrap is an overflow.
    /// </summary>
    private sealed class Screen(int width)
    {
        private readonly List<StringBuilder> _rows = [new()];
        private int _row, _col;
        public List<string> Overflows { get; } = [];
        public bool ProgressShown { get; private set; }
        public IEnumerable<string> Lines => _rows.Select(r => r.ToString().TrimEnd());

        public void Feed(string s)
        {
            for (int i = 0; i < s.Length; i++)
            {
                char c = s[i];
                if (c == '\u001b')
                {
                    i = Escape(s, i);
                    continue;
                }
                switch (c)
                {
                    case '\r': _col = 0; break;
                    case '\n': Down(); break;
                    case '\a' or '\b' or '\u000f' or '\u000e': break;
                    default:
                        if (_col >= width) { Overflows.Add(_rows[_row].ToString()); Down(); _col = 0; }
                        var r = _rows[_row];
                        while (r.Length <= _col) r.Append(' ');
                        r[_col++] = c;
                        if (r.ToString().Contains("states/s, depth", StringComparison.Ordinal)) ProgressShown = true;
                        break;
                }
            }
        }

        private void Down()
        {
            _row++;
            if (_row == _rows.Count) _rows.Add(new());
        }

        private int Escape(string s, int i)
        {
            if (i + 1 >= s.Length) return i;
            if (s[i + 1] != '[') return i + 1; // ESC =, ESC >, ESC 7 …
            int j = i + 2;
            while (j < s.Length && !(s[j] >= '@' && s[j] <= '~')) j++;
            if (j >= s.Length) return j;
            string arg = s[(i + 2)..j];
            int n = int.TryParse(arg, out int v) ? v : 1;
            switch (s[j])
            {
                case 'A': _row = Math.Max(0, _row - n); break;
                case 'B': for (int k = 0; k < n; k++) Down(); break;
                case 'K' when arg is "" or "0": if (_rows[_row].Length > _col) _rows[_row].Length = _col; break;
                case 'K': _rows[_row].Clear(); break; // 2K: the whole line (1K as well, near enough here)
                case 'G': _col = Math.Max(0, n - 1); break;
            }
            return j;
        }
    }
}
