using System.Globalization;
using Multikernel.Properties.Explorer;

namespace Multikernel.Cli;

/// <summary>
/// The progress of a long exploration on stderr: states, states/s, depth, frontier, memory,
/// elapsed. On a terminal one line is rewritten in place about once a second; otherwise (CI) a
/// line is printed every five seconds. Only the program's own stderr gets it (never a test's writer).
/// </summary>
internal static class ProgressLine
{
    private static TextWriter? s_err;
    private static bool s_terminal;
    private static TimeSpan s_lastPrinted;
    private static bool s_dirty;

    public static void Enable(TextWriter err, bool terminal)
    {
        s_err = err;
        s_terminal = terminal;
    }

    /// <summary>No progress lines (the fuzz harness runs thousands of commands: their progress is noise).</summary>
    public static void Disable() => s_err = null;

    /// <summary>The callback for an exploration, or null when progress is off.</summary>
    public static Action<ExploreProgress>? Reporter(string what)
    {
        if (s_err is null) return null;
        s_lastPrinted = TimeSpan.Zero;
        what = Model.Checking.Printable.Line(what);
        return p =>
        {
            if (s_err is not { } err || (!s_terminal && p.Elapsed - s_lastPrinted < TimeSpan.FromSeconds(5))) return;
            s_lastPrinted = p.Elapsed;
            string line = string.Format(CultureInfo.InvariantCulture,
                "{0}: {1:N0} states, {2:N0} states/s, depth {3}, frontier {4:N0}, {5:N0} MB, {6:F0} s",
                what, p.States, p.States / Math.Max(p.Elapsed.TotalSeconds, 1e-9), p.Depth, p.Frontier, p.Bytes / 1e6, p.Elapsed.TotalSeconds);
            try
            {
                if (s_terminal) { err.Write("\r" + line.PadRight(100)); s_dirty = true; }
                else err.WriteLine(line);
            }
            catch (IOException) { s_err = null; } // progress is best effort: a stderr that fails loses it, not the verdict
        };
    }

    /// <summary>Clears the in-place line before the result is printed.</summary>
    public static void Done()
    {
        if (s_err is not { } err || !s_dirty) return;
        s_dirty = false;
        try { err.Write("\r" + new string(' ', 100) + "\r"); }
        catch (IOException) { s_err = null; }
    }
}
