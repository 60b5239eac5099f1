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
}
