using System.Text;
using Multikernel.Model.Checking;
using Spectre.Console;

namespace Multikernel.Cli;

/// <summary>Standard output or error could not be written (a full disk behind "> file", a closed descriptor).</summary>
internal sealed class OutputBrokenException(string stream, IOException inner) : Exception($"cannot write to {stream}: {inner.Message}", inner)
{
    public string Stream { get; } = stream;
}

/// <summary>
/// The program's stdout and stderr. It is the last line of defence for text from users' files:
/// whatever a command prints, a control character in it (ESC, CR, BEL, C1, a bidirectional
/// override) reaches the terminal escaped (<see cref="Printable.Text"/>); newlines and tabs pass.
/// It also lays the text out for where it goes: with a <see cref="Width"/> each line is wrapped at
/// spaces to fit (a continuation indented under the line's text; a word longer than the width, a
/// path or a value, stays whole on a line of its own), and <see cref="Paint"/>'s marks become colour
/// (Spectre.Console's) when <see cref="Color"/> is on, else nothing. Before anything is written the
/// live progress display is erased, so a result never lands on it. A failed write becomes
/// <see cref="OutputBrokenException"/>, which the program ends on with one line and exit 2, never a
/// stack trace.
/// </summary>
internal sealed class TerminalWriter(TextWriter inner, string name) : TextWriter
{
    private readonly StringBuilder _line = new();
    private IAnsiConsole? _ansi;

    /// <summary>The columns a line may take; 0: no wrapping (a pipe without COLUMNS).</summary>
    public int Width { get; set; }

    /// <summary>Paint's marks as colour (a terminal without NO_COLOR or --plain); off: the marks are dropped.</summary>
    public bool Color { get; set; }

    /// <summary>Called before anything reaches the stream: erases the live progress display.</summary>
    public Action? BeforeWrite { get; set; }

    public override Encoding Encoding => inner.Encoding;
    public override IFormatProvider FormatProvider => inner.FormatProvider;
    public override string NewLine
    {
        get => inner.NewLine;
#pragma warning disable CS8765 // the base setter's nullability
        set => inner.NewLine = value;
#pragma warning restore CS8765
    }

    private bool LaysOut => Width > 0 || Color;

    public override void Write(char value)
    {
        if (LaysOut) { Write(value.ToString()); return; }
        // A surrogate half alone is one half of a pair written a char at a time: it passes.
        if (char.IsSurrogate(value) || Printable.IsPlain(value.ToString(), keepLines: true)) Guard(() => inner.Write(Paint.Strip(value.ToString())));
        else Guard(() => inner.Write(Printable.Text(value.ToString())));
    }

    public override void Write(string? value)
    {
        if (string.IsNullOrEmpty(value)) return;
        if (!LaysOut)
        {
            string text = Paint.Strip(Printable.Text(value));
            Guard(() => inner.Write(text));
            return;
        }
        // Whole lines are laid out; a partial line waits for its end (or Flush).
        int start = 0;
        for (int nl = value.IndexOf('\n'); nl >= 0; start = nl + 1, nl = value.IndexOf('\n', start))
        {
            _line.Append(value, start, nl - start);
            EmitLine(_line.ToString(), newline: true);
            _line.Clear();
        }
        _line.Append(value, start, value.Length - start);
    }

    public override void Write(char[] buffer, int index, int count) => Write(new string(buffer, index, count));
    public override void WriteLine(string? value) => Write((value ?? "") + "\n");
    public override void WriteLine() => Write("\n");

    public override void Flush()
    {
        if (_line.Length > 0)
        {
            EmitLine(_line.ToString(), newline: false);
            _line.Clear();
        }
        Guard(inner.Flush);
    }

    private void EmitLine(string raw, bool newline)
    {
        string text = Printable.Text(raw.TrimEnd('\r'));
        var lines = Wrap(text, Width);
        Guard(() =>
        {
            for (int i = 0; i < lines.Count; i++)
            {
                if (Color) Colour(lines[i]);
                else inner.Write(Paint.Strip(lines[i]));
                if (i < lines.Count - 1 || newline) inner.Write(inner.NewLine);
            }
        });
    }

    /// <summary>One laid-out line with its marks as Spectre.Console styles; a run cut by a wrap is closed and reopened.</summary>
    private void Colour(string line)
    {
        _ansi ??= Console(inner);
        var style = Style.Plain;
        int run = 0;
        for (int i = 0; i <= line.Length; i++)
        {
            if (i < line.Length && !Paint.IsMark(line[i])) continue;
            if (i > run) _ansi.Write(new Text(line[run..i], style));
            if (i < line.Length) style = StyleOf(line[i]);
            run = i + 1;
        }
    }

    private static Style StyleOf(char mark) => mark switch
    {
        Paint.BadMark => new Style(Spectre.Console.Color.Red, decoration: Decoration.Bold),
        Paint.GoodMark => new Style(Spectre.Console.Color.Green),
        Paint.WarnMark => new Style(Spectre.Console.Color.Yellow),
        Paint.StrongMark => new Style(decoration: Decoration.Bold),
        _ => Style.Plain,
    };

    /// <summary>A Spectre console over <paramref name="w"/> that colours and never wraps (the lines come laid out).</summary>
    internal static IAnsiConsole Console(TextWriter w)
    {
        var c = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.Yes,
            ColorSystem = ColorSystemSupport.Standard,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(w),
        });
        c.Profile.Width = 1 << 16;
        return c;
    }

    /// <summary>
    /// A line cut at spaces to <paramref name="width"/> visible columns (marks count none); a continuation is
    /// indented four past the line's own indent, and a word that fits no line stays whole on its own.
    /// </summary>
    internal static List<string> Wrap(string line, int width)
    {
        var result = new List<string>();
        if (width <= 0 || Visible(line, 0, line.Length) <= width) { result.Add(line); return result; }
        int indent = 0;
        while (indent < line.Length && (line[indent] == ' ' || Paint.IsMark(line[indent]))) indent++;
        int hang = Math.Min(Visible(line, 0, indent) + 4, width / 2);
        var cur = new StringBuilder(line[..indent]);
        int curWidth = Visible(line, 0, indent), pos = indent;
        bool empty = true;
        char open = '\0'; // the style a wrapped run continues in
        while (pos < line.Length)
        {
            int end = line.IndexOf(' ', pos);
            if (end < 0) end = line.Length;
            int spaces = 0;
            while (end + spaces < line.Length && line[end + spaces] == ' ') spaces++;
            string word = line[pos..end];
            int w = Visible(word, 0, word.Length);
            if (!empty && curWidth + w > width)
            {
                if (open != '\0') cur.Append(Paint.End);
                result.Add(cur.ToString().TrimEnd(' '));
                cur.Clear().Append(' ', hang);
                if (open != '\0') cur.Append(open);
                curWidth = hang;
                empty = true;
            }
            cur.Append(word);
            foreach (char c in word)
                if (Paint.IsMark(c)) open = c == Paint.End ? '\0' : c;
            curWidth += w;
            empty = false;
            if (curWidth + spaces <= width) { cur.Append(' ', spaces); curWidth += spaces; }
            else curWidth = width; // the spaces end the line: the next word starts the next one
            pos = end + spaces;
        }
        result.Add(cur.ToString().TrimEnd(' '));
        return result;
    }

    private static int Visible(string s, int from, int to)
    {
        int n = 0;
        for (int i = from; i < to; i++)
            if (!Paint.IsMark(s[i]) && !char.IsLowSurrogate(s[i])) n++;
        return n;
    }

    private void Guard(Action write)
    {
        try
        {
            BeforeWrite?.Invoke();
            write();
        }
        catch (IOException e) { throw new OutputBrokenException(name, e); }
        catch (UnauthorizedAccessException e) when (e.InnerException is IOException io) { throw new OutputBrokenException(name, io); } // a closed descriptor
        catch (ObjectDisposedException e) { throw new OutputBrokenException(name, new IOException(e.Message, e)); }
    }
}
