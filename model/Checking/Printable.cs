using System.Globalization;
using System.Text;

namespace Multikernel.Model.Checking;

/// <summary>
/// Text that came from a user's file (an image's file name, a trace's design field, a loaded
/// design's summary) made safe to print: it is data, never terminal control. Control characters
/// (C0, DEL, C1), the bidirectional overrides that reorder what a reader sees, and unpaired
/// surrogates are written as escapes (<c>\n</c>, <c>\x1b</c>, <c>\u202e</c>), and long text is clipped,
/// so an ESC ] 0; … BEL cannot retitle the terminal, ESC [2J cannot clear it, CR cannot
/// overwrite a line and a newline cannot split a one-line error.
/// </summary>
public static class Printable
{
    /// <summary>The most characters of one user value a message shows.</summary>
    public const int DefaultMax = 120;

    /// <summary>One line: every control character escaped, newlines and tabs included; clipped to <paramref name="max"/> characters with "…".</summary>
    public static string Line(string? s, int max = DefaultMax) => Escape(s ?? "", max, keepLines: false);

    /// <summary>Several lines: as <see cref="Line"/> but newlines and tabs are kept; no clipping. For the last line of defence at the terminal.</summary>
    public static string Text(string? s) => Escape(s ?? "", int.MaxValue, keepLines: true);

    /// <summary>Whether <paramref name="s"/> prints as it is (nothing <see cref="Line"/> would escape).</summary>
    public static bool IsPlain(string s, bool keepLines = false)
    {
        for (int i = 0; i < s.Length; i++)
            if (NeedsEscape(s, i, keepLines)) return false;
        return true;
    }

    private static string Escape(string s, int max, bool keepLines)
    {
        if (s.Length <= max && IsPlain(s, keepLines)) return s;
        var sb = new StringBuilder(Math.Min(s.Length, max) + 16);
        for (int i = 0; i < s.Length; i++)
        {
            if (sb.Length >= max) { sb.Append('…'); break; }
            char c = s[i];
            if (!NeedsEscape(s, i, keepLines)) { sb.Append(c); continue; }
            sb.Append(c switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                < '\u0100' => "\\x" + ((int)c).ToString("x2", CultureInfo.InvariantCulture),
                _ => "\\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture),
            });
        }
        return sb.ToString();
    }

    private static bool NeedsEscape(string s, int i, bool keepLines)
    {
        char c = s[i];
        if (c is '\n' or '\t') return !keepLines;
        if (c < ' ' || c is >= '\u007f' and <= '\u009f') return true;
        // Bidirectional embeddings, overrides and isolates reorder the characters a reader sees.
        if (c is >= '\u202a' and <= '\u202e' or >= '\u2066' and <= '\u2069' or '\u200e' or '\u200f' or '\u061c') return true;
        // Line and paragraph separators break lines in some terminals.
        if (c is '\u2028' or '\u2029') return true;
        if (char.IsHighSurrogate(c)) return i + 1 >= s.Length || !char.IsLowSurrogate(s[i + 1]);
        if (char.IsLowSurrogate(c)) return i == 0 || !char.IsHighSurrogate(s[i - 1]);
        return false;
    }
}
