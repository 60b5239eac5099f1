using System.Text;
using Multikernel.Model.Checking;

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
/// A failed write becomes <see cref="OutputBrokenException"/>, which the program ends on with one
/// line and exit 2, never a stack trace.
/// </summary>
internal sealed class TerminalWriter(TextWriter inner, string name) : TextWriter
{
    public override Encoding Encoding => inner.Encoding;
    public override IFormatProvider FormatProvider => inner.FormatProvider;
    public override string NewLine
    {
        get => inner.NewLine;
#pragma warning disable CS8765 // the base setter's nullability
        set => inner.NewLine = value;
#pragma warning restore CS8765
    }

    public override void Write(char value)
    {
        // A surrogate half alone is one half of a pair written a char at a time: it passes.
        if (char.IsSurrogate(value) || Printable.IsPlain(value.ToString(), keepLines: true)) Guard(() => inner.Write(value));
        else Guard(() => inner.Write(Printable.Text(value.ToString())));
    }

    public override void Write(string? value)
    {
        if (value is null) return;
        string text = Printable.Text(value);
        Guard(() => inner.Write(text));
    }

    public override void Write(char[] buffer, int index, int count) => Write(new string(buffer, index, count));
    public override void WriteLine(string? value) => Write((value ?? "") + inner.NewLine);
    public override void WriteLine() => Guard(inner.WriteLine);
    public override void Flush() => Guard(inner.Flush);

    private void Guard(Action write)
    {
        try { write(); }
        catch (IOException e) { throw new OutputBrokenException(name, e); }
        catch (UnauthorizedAccessException e) when (e.InnerException is IOException io) { throw new OutputBrokenException(name, io); } // a closed descriptor
        catch (ObjectDisposedException e) { throw new OutputBrokenException(name, new IOException(e.Message, e)); }
    }
}
