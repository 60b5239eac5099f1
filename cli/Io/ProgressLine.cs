using System.Globalization;
using Multikernel.Properties.Explorer;
using Spectre.Console;

namespace Multikernel.Cli;

/// <summary>
/// The progress of a long exploration on stderr: states, states/s, depth, frontier, memory,
/// elapsed. At a terminal it is a live display (Spectre.Console's status line, cut to the width so
/// it never wraps), erased when the exploration ends and before anything else is printed
/// (<see cref="TerminalWriter.BeforeWrite"/> calls <see cref="Done"/>); elsewhere (a pipe, CI,
/// --plain) a plain line every five seconds. Only the program's own stderr gets it (never a test's writer).
/// </summary>
internal static class ProgressLine
{
    private static readonly Lock s_lock = new();
    private static TextWriter? s_err;
    private static bool s_live;
    private static Func<int> s_width = () => 80;
    private static bool s_color;
    private static TimeSpan s_lastPrinted;
    private static Display? s_display;

    /// <summary>Progress to <paramref name="err"/>: live when it is a terminal that may take escape codes, else plain lines.</summary>
    public static void Enable(TextWriter err, bool live, bool color, Func<int> width)
    {
        s_color = color;
        s_err = err;
        s_live = live;
        s_width = width;
    }

    /// <summary>No live display: plain lines (--plain).</summary>
    public static void Plain()
    {
        Done();
        s_live = false;
    }

    /// <summary>No progress lines (the fuzz harness runs thousands of commands: their progress is noise).</summary>
    public static void Disable()
    {
        Done();
        s_err = null;
    }

    /// <summary>The callback for an exploration, or null when progress is off.</summary>
    public static Action<ExploreProgress>? Reporter(string what)
    {
        if (s_err is null) return null;
        s_lastPrinted = TimeSpan.Zero;
        what = Model.Checking.Printable.Line(what);
        return p =>
        {
            string line = string.Format(CultureInfo.InvariantCulture,
                "{0}: {1:N0} states, {2:N0} states/s, depth {3}, frontier {4:N0}, {5:N0} MB, {6:F0} s",
                what, p.States, p.States / Math.Max(p.Elapsed.TotalSeconds, 1e-9), p.Depth, p.Frontier, p.Bytes / 1e6, p.Elapsed.TotalSeconds);
            lock (s_lock)
            {
                if (s_err is not { } err) return;
                if (s_live)
                {
                    int room = Math.Max(20, s_width() - 3); // the spinner and a space; never the last column
                    if (line.Length > room) line = line[..(room - 1)] + "…";
                    if (s_display is null) s_display = new Display(err, line, s_color);
                    else s_display.Show(line);
                    return;
                }
                if (p.Elapsed - s_lastPrinted < TimeSpan.FromSeconds(5)) return;
                s_lastPrinted = p.Elapsed;
                if (s_width() is > 20 and var w && line.Length >= w) line = line[..(w - 2)] + "…";
                try { err.WriteLine(line); }
                catch (IOException) { s_err = null; } // progress is best effort: a stderr that fails loses it, not the verdict
            }
        };
    }

    /// <summary>Erases the live display (a no-op when none is shown): before a result is printed, and at the end.</summary>
    public static void Done()
    {
        Display? d;
        lock (s_lock) { d = s_display; s_display = null; }
        d?.Stop();
    }

    /// <summary>Spectre.Console's status display, run on a thread of its own until <see cref="Stop"/>; it erases itself.</summary>
    private sealed class Display : IDisposable
    {
        private readonly ManualResetEventSlim _stop = new();
        private readonly Thread _thread;
        private volatile string _text = "";

        public Display(TextWriter err, string text, bool color)
        {
            var console = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Ansi = AnsiSupport.Yes,
                ColorSystem = color ? ColorSystemSupport.Standard : ColorSystemSupport.NoColors,
                Interactive = InteractionSupport.Yes,
                Out = new AnsiConsoleOutput(err),
            });
            _text = text;
            _thread = new Thread(() =>
            {
                try
                {
                    console.Status().Spinner(Spinner.Known.Line).Start(Markup.Escape(text), ctx =>
                    {
                        while (!_stop.Wait(100)) ctx.Status(Markup.Escape(_text));
                    });
                }
                catch (IOException) { } // best effort, as the plain lines
            }) { IsBackground = true, Name = "progress" };
            _thread.Start();
        }

        public void Show(string text) => _text = text;

        public void Stop()
        {
            _stop.Set();
            _thread.Join();
            Dispose();
        }

        public void Dispose() => _stop.Dispose();
    }
}
