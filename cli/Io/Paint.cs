namespace Multikernel.Cli;

/// <summary>
/// Colour as marks in the text a command prints: a verdict is written <c>Paint.Bad("VIOLATED")</c>, and
/// <see cref="TerminalWriter"/> turns the marks into colour at a terminal and drops them everywhere else
/// (a pipe, <c>NO_COLOR</c>, <c>--plain</c>, a test's writer through <see cref="Strip"/>). The marks are
/// private-use characters, so a command keeps building plain strings and a width counts none of them.
/// </summary>
internal static class Paint
{
    public const char End = '\uE000';
    public const char BadMark = '\uE001';
    public const char GoodMark = '\uE002';
    public const char WarnMark = '\uE003';
    public const char StrongMark = '\uE004';

    /// <summary>A violation: red at a terminal.</summary>
    public static string Bad(string s) => BadMark + s + End;

    /// <summary>Holds, proved: green at a terminal.</summary>
    public static string Good(string s) => GoodMark + s + End;

    /// <summary>A bound hit, no verdict, skipped: yellow at a terminal.</summary>
    public static string Warn(string s) => WarnMark + s + End;

    /// <summary>A heading: bold at a terminal.</summary>
    public static string Strong(string s) => StrongMark + s + End;

    public static bool IsMark(char c) => c is >= End and <= StrongMark;

    /// <summary>The text without its marks (what a pipe gets).</summary>
    public static string Strip(string s)
    {
        if (s.AsSpan().IndexOfAnyInRange(End, StrongMark) < 0) return s;
        var sb = new System.Text.StringBuilder(s.Length);
        foreach (char c in s)
            if (!IsMark(c)) sb.Append(c);
        return sb.ToString();
    }
}
