using System.Net;
using Multikernel.Cli.CommandLine;
using Multikernel.Cli.Commands;
using Multikernel.Cli.Registry;
using Multikernel.Model.Checking;
using Multikernel.Properties.Explorer;
using static Multikernel.Cli.Commands.ExplorationText;

namespace Multikernel.Cli.Web;

/// <summary>
/// serve DESIGN: the design's state space in the browser, on the loopback interface unless told otherwise.
/// The audit runs first (its counterexamples are the pages' "jump to" links); then every page is drawn
/// from the URL alone, by re-executing the specification.
/// </summary>
internal sealed class ServeCommand : CliCommand
{
    public const int DefaultPort = 8024;
    /// <summary>The loopback interface: the design is not shown to other machines unless --listen says so.</summary>
    public const string DefaultListen = "127.0.0.1";

    public override string Name => "serve";
    public override string Summary => "explore a design's states in the browser: step through enabled actions, jump to each counterexample, share a position as a URL (localhost only by default)";
    public override IReadOnlyList<ArgumentSpec> Arguments =>
        [new("DESIGN", "mechanism/name (ipi/ipi-v2, uffd/uffd-v5), or a name only one mechanism has", AuditCommand.DesignNames)];

    public override IEnumerable<OptionSpec> Options =>
    [
        new("--port", $"the TCP port (default {DefaultPort}; 0: any free port, printed)"),
        new("--listen", "the address to listen on (default 127.0.0.1, the loopback interface only; anything else lets other machines see the design)", ValueName: "ADDRESS"),
        .. Limits.BoundOptions(),
        .. Limits.Options,
        AuditCommand.LoadOption,
    ];

    public override int Run(Args a, TextWriter o)
    {
        Mechanisms.LoadAll(a);
        string name = a.Positionals.FirstOrDefault() ?? throw new UsageException("serve: which design? e.g. serve ipi/ipi-v2 (see 'multikernel designs')");
        var (m, design) = Mechanisms.Resolve(name, "serve");
        var bounds = Limits.Bounds(a, m.Model);
        int port = a.Int("--port", DefaultPort, 0, 65535);
        string listen = a.Value("--listen") ?? DefaultListen;
        if (!IPAddress.TryParse(listen, out var address))
            throw new UsageException($"serve: --listen '{BoundsText.Clip(listen)}' is not an IP address (127.0.0.1, ::1, 0.0.0.0)");
        var options = Limits.Explore(a, stopWhenAllDecided: true);
        var spec = Spec(m, design, bounds, "serve");
        var report = Explorer.Run(spec, options);
        ProgressLine.Done();
        var served = new Served(spec, m.Model.Qualified(design), BoundsText.Show(bounds), report);

        Microsoft.AspNetCore.Builder.WebApplication app;
        Uri url;
        try { (app, url) = ExplorerSite.StartAsync(served, address, port).GetAwaiter().GetResult(); }
        catch (IOException e) { throw new UsageException($"serve: cannot listen on {listen} port {port}: {e.Message}"); }
        catch (System.Net.Sockets.SocketException e) { throw new UsageException($"serve: cannot listen on {listen} port {port}: {e.Message}"); }
        o.WriteLine($"multikernel serve {served.Design} ({served.Bounds}): {Statistics(report)}");
        if (!IPAddress.IsLoopback(address)) o.WriteLine($"  warning: listening on {listen}, not only the loopback interface: other machines can reach it");
        o.WriteLine($"  open {url} (Ctrl-C stops)");
        o.Flush();
        using var stop = new ManualResetEventSlim();
        using var sigint = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, c => { c.Cancel = true; stop.Set(); });
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Set(); });
        stop.Wait();
        app.StopAsync().GetAwaiter().GetResult();
        ((IDisposable)app).Dispose();
        return (int)ExitCode.Holds;
    }
}
