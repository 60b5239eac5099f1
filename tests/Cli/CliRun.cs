using Xunit;

namespace Multikernel.Tests.Cli;

/// <summary>Runs the command-line program in-process, as a user would from a shell.</summary>
internal static class CliRun
{
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = Multikernel.Cli.Program.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    /// <summary>A refused input: exit 2, nothing on stdout, one line on stderr that starts "multikernel: " and says <paramref name="mentions"/>.</summary>
    public static void OneLineError(int code, string o, string e, string mentions)
    {
        Assert.Equal(2, code);
        Assert.Empty(o);
        Assert.Single(e.TrimEnd('\n').Split('\n'));
        Assert.StartsWith("multikernel: ", e);
        Assert.Contains(mentions, e);
    }
}
