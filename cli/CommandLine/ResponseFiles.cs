using System.Text;

namespace Multikernel.Cli.CommandLine;

/// <summary>
/// @FILE on the command line: the file's words in its place (one or more a line; "quoted words" keep
/// their spaces; a line starting with # is a comment). A file is read like any input a user names
/// (capped, a FIFO or device refused by InputFile), and may name another to a depth of
/// <see cref="MaxDepth"/>, so a file that names itself is an error, not a stack overflow (as
/// System.CommandLine's own expansion is).
/// </summary>
internal static class ResponseFiles
{
    public const int MaxDepth = 8;
    private const long MaxBytes = 1L << 20;

    /// <summary>The replacer System.CommandLine calls for a token that starts with '@'.</summary>
    public static bool TryReplace(string token, out IReadOnlyList<string>? replacement, out string? error)
    {
        try
        {
            var words = new List<string>();
            Expand(token, 0, words);
            replacement = words;
            error = null;
            return true;
        }
        catch (UsageException e)
        {
            replacement = null;
            error = e.Message;
            return false;
        }
    }

    private static void Expand(string file, int depth, List<string> into)
    {
        if (depth >= MaxDepth) throw new UsageException($"@{BoundsTextClip(file)}: response files nested deeper than {MaxDepth}");
        string text = InputFile.ReadText(file, MaxBytes, "response file");
        foreach (var raw in text.Split('\n'))
        {
            string line = raw.Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            foreach (var word in Words(line))
                if (word.Length > 1 && word[0] == '@') Expand(word[1..], depth + 1, into);
                else into.Add(word);
        }
    }

    /// <summary>A line's words: split at white space, except inside double quotes.</summary>
    private static IEnumerable<string> Words(string line)
    {
        var word = new StringBuilder();
        bool quoted = false, any = false;
        foreach (char c in line)
        {
            if (c == '"') { quoted = !quoted; any = true; continue; }
            if (!quoted && char.IsWhiteSpace(c))
            {
                if (any) yield return word.ToString();
                word.Clear();
                any = false;
                continue;
            }
            word.Append(c);
            any = true;
        }
        if (quoted) throw new UsageException($"response file: a quote is not closed in '{BoundsTextClip(line)}'");
        if (any) yield return word.ToString();
    }

    private static string BoundsTextClip(string s) => Model.Checking.BoundsText.Clip(s);
}
