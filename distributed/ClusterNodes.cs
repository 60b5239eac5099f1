using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Runtime;

namespace Multikernel.Distributed;

/// <summary>
/// The nodes of a run, as the coordinator sees them: the silos (node k is <see cref="Silos"/>[k]), a grain
/// factory, and a watch that completes, naming the node, when one leaves the cluster — by the membership's
/// heartbeats (Orleans' probes), or at once when a node process this machine started exits.
/// </summary>
public sealed class ClusterNodes : IDisposable
{
    private readonly IClusterMembershipService _membership;
    private readonly TaskCompletionSource<string> _lost = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private readonly Func<int, string> _describe;

    public IGrainFactory Grains { get; }
    public IReadOnlyList<SiloAddress> Silos { get; }
    /// <summary>Completes with "node k (…) …" when a node leaves; never otherwise.</summary>
    public Task<string> Lost => _lost.Task;
    /// <summary>How long a dead node may take to be declared so (probe timeout × missed probes, and a margin).</summary>
    public TimeSpan DeathDetection { get; } = NodeSilo.DeathDetection;
    /// <summary>A line per finished level (stderr on the command line).</summary>
    public Action<string>? Log { get; init; }

    public ClusterNodes(IServiceProvider silo, IReadOnlyList<SiloAddress> silos, Func<int, string>? describe = null)
    {
        Grains = silo.GetRequiredService<IGrainFactory>();
        _membership = silo.GetRequiredService<IClusterMembershipService>();
        Silos = silos;
        _describe = describe ?? (k => Silos[k].ToString());
        _ = Watch();
    }

    public string Describe(int node) => _describe(node);

    /// <summary>Declares node <paramref name="k"/> gone (its process exited), with why.</summary>
    public void Gone(int k, string why) => _lost.TrySetResult($"node {k} ({Describe(k)}) {why}");

    private async Task Watch()
    {
        while (!_stop.IsCancellationRequested)
        {
            var snapshot = _membership.CurrentSnapshot;
            for (int k = 0; k < Silos.Count; k++)
            {
                var status = snapshot.GetSiloStatus(Silos[k]);
                if (status != SiloStatus.Active)
                {
                    _lost.TrySetResult($"node {k} ({Describe(k)}) left the cluster ({status.ToString().ToLowerInvariant()})");
                    return;
                }
            }
            try { await Task.Delay(100, _stop.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _stop.Dispose();
    }
}

/// <summary>How every silo of a run is set up: the node grains' placement, the spec source, and the failure detector's timing.</summary>
public static class NodeSilo
{
    /// <summary>A node is declared dead after this many missed probes of <see cref="ProbeTimeout"/> each (heartbeats, not the run's length).</summary>
    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(2);
    public const int MissedProbes = 3;
    public static TimeSpan DeathDetection => ProbeTimeout * (MissedProbes + 2);

    public static void Configure(ISiloBuilder silo, ISpecSource specs)
    {
        silo.Services.AddSingleton(specs);
        silo.Services.AddPlacementDirector<NodePlacement>(_ => new NodePlacementDirector());
        silo.Configure<ClusterMembershipOptions>(o =>
        {
            o.ProbeTimeout = ProbeTimeout;
            o.NumMissedProbesLimit = MissedProbes;
            o.NumVotesForDeathDeclaration = 1;
            o.DefunctSiloExpiration = TimeSpan.FromMinutes(1);
        });
        // A level of a large run is one call that works for minutes: a node's death is found by the
        // membership's probes, so the call itself waits as long as the work does.
        silo.Configure<SiloMessagingOptions>(o =>
        {
            o.ResponseTimeout = TimeSpan.FromDays(1);
            o.SystemResponseTimeout = TimeSpan.FromDays(1);
        });
        silo.Configure<GrainCollectionOptions>(o => o.CollectionAge = TimeSpan.FromDays(1));
    }

    /// <summary>A TCP port free on the loopback now.</summary>
    public static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    /// <summary>
    /// A silo host: the primary (<paramref name="join"/> null, the coordinator) or a node joining it. On the loopback
    /// (<paramref name="advertise"/> null or loopback) Orleans' localhost clustering; otherwise the silo listens on every
    /// address and advertises <paramref name="advertise"/>, the membership kept by the primary (development clustering).
    /// </summary>
    public static IHost Host(ISpecSource specs, IPEndPoint? join, int siloPort, int gatewayPort, IPAddress? advertise = null)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder([]);
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));
        builder.UseOrleans(silo =>
        {
            if (advertise is null || IPAddress.IsLoopback(advertise)) silo.UseLocalhostClustering(siloPort, gatewayPort, join, "multikernel", "multikernel");
            else
            {
                silo.UseDevelopmentClustering(join ?? new IPEndPoint(advertise, siloPort));
                silo.ConfigureEndpoints(advertise, siloPort, gatewayPort, listenOnAnyHostAddress: true);
                silo.Configure<ClusterOptions>(o => { o.ClusterId = "multikernel"; o.ServiceId = "multikernel"; });
            }
            Configure(silo, specs);
        });
        return builder.Build();
    }
}

/// <summary>
/// The coordinator's cluster on this machine: its own silo (node 0) and <c>nodes - 1</c> child processes,
/// each started with the command <see cref="Start"/> is given and joining the coordinator's silo.
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly List<Process> _children = new();
    private readonly List<string> _errors = new();
    private readonly ClusterNodes _nodes;

    public ClusterNodes Nodes => _nodes;
    /// <summary>The node processes started here, node 1 first.</summary>
    public IReadOnlyList<Process> Children => _children;

    private LocalCluster(IHost host, ClusterNodes nodes) { _host = host; _nodes = nodes; }

    /// <summary>How long a node process may take to join (a process start and a silo's; bounded so a node that cannot join is an error, not a hang).</summary>
    public static readonly TimeSpan JoinTimeout = TimeSpan.FromSeconds(120);
    /// <summary>How long the coordinator waits for nodes a person starts on other machines.</summary>
    public static readonly TimeSpan RemoteJoinTimeout = TimeSpan.FromMinutes(10);

    /// <param name="listen">Where the coordinator's silo listens for nodes of other machines (null: a free port of the loopback).</param>
    /// <param name="local">How many of the other nodes to start here (default all, <c>nodes - 1</c>); the rest join with `node --join`.</param>
    public static async Task<LocalCluster> Start(int nodes, ISpecSource specs, Func<string, ProcessStartInfo> child, Action<string>? log,
        IPEndPoint? listen = null, int? local = null)
    {
        int siloPort = listen is { Port: > 0 } l ? l.Port : NodeSilo.FreePort(), gatewayPort = NodeSilo.FreePort();
        var host = NodeSilo.Host(specs, null, siloPort, gatewayPort, listen?.Address);
        string joinAt = listen is null || IPAddress.IsLoopback(listen.Address) ? $"127.0.0.1:{siloPort}" : $"{listen.Address}:{siloPort}";
        int spawn = local ?? nodes - 1;
        if (spawn < nodes - 1) log?.Invoke($"waiting for {nodes - 1 - spawn} node(s) to join: multikernel node --join {joinAt}");
        await host.StartAsync().ConfigureAwait(false);
        var sp = host.Services;
        var membership = sp.GetRequiredService<IClusterMembershipService>();
        var self = sp.GetRequiredService<ILocalSiloDetails>().SiloAddress;
        var children = new List<Process>();
        var errors = new List<string>();
        try
        {
            for (int k = 1; k <= spawn; k++)
            {
                var p = Process.Start(child(joinAt)) ?? throw new NodeLostException($"node {k}: its process did not start");
                children.Add(p);
                int node = k;
                p.ErrorDataReceived += (_, e) => { if (e.Data is { } line) lock (errors) errors.Add($"node {node}: {line}"); };
                p.BeginErrorReadLine();
                p.OutputDataReceived += (_, _) => { };
                p.BeginOutputReadLine();
                log?.Invoke($"node {k}: pid {p.Id}");
            }
            // Every node active, or a node gone before it joined, or the join bound.
            var clock = Stopwatch.StartNew();
            List<SiloAddress> silos;
            while (true)
            {
                var active = membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress).ToList();
                if (active.Count >= nodes)
                {
                    silos = [self, .. active.Where(s => !s.Equals(self)).OrderBy(s => s.Endpoint.Port)];
                    break;
                }
                for (int k = 0; k < children.Count; k++)
                    if (children[k].HasExited)
                        throw new NodeLostException($"node {k + 1} (pid {children[k].Id}) exited with {children[k].ExitCode} before it joined{Tail(errors)}");
                if (clock.Elapsed > (spawn < nodes - 1 ? RemoteJoinTimeout : JoinTimeout))
                    throw new NodeLostException($"only {active.Count} of {nodes} nodes joined within {JoinTimeout.TotalSeconds:F0} s{Tail(errors)}");
                await Task.Delay(50).ConfigureAwait(false);
            }
            // Node k is the silo of the k-th child by port order; name them by pid where known.
            var byPort = children.ToDictionary(c => c.Id);
            var cluster = new ClusterNodes(sp, silos, k => k == 0 ? $"the coordinator, pid {Environment.ProcessId}, {silos[0]}" : $"{silos[k]}") { Log = log };
            for (int k = 1; k < silos.Count; k++) log?.Invoke($"node {k}: {silos[k]}");
            var made = new LocalCluster(host, cluster);
            made._children.AddRange(children);
            foreach (var (p, i) in children.Select((p, i) => (p, i)))
            {
                p.EnableRaisingEvents = true;
                p.Exited += (_, _) => cluster.Gone(i + 1, $"pid {p.Id}: the process exited with {SafeExit(p)}");
                if (p.HasExited) cluster.Gone(i + 1, $"pid {p.Id}: the process exited with {SafeExit(p)}");
            }
            lock (errors) made._errors.AddRange(errors);
            return made;
        }
        catch
        {
            foreach (var c in children) Close(c);
            await host.StopAsync().ConfigureAwait(false);
            host.Dispose();
            throw;
        }
    }

    private static string SafeExit(Process p)
    {
        try { return p.ExitCode.ToString(System.Globalization.CultureInfo.InvariantCulture); }
        catch (InvalidOperationException) { return "an unknown code"; }
    }

    private static string Tail(List<string> errors)
    {
        lock (errors) return errors.Count == 0 ? "" : $": {errors[^1]}";
    }

    /// <summary>A node process ends when its standard input closes; one that does not, within the shutdown bound, is killed.</summary>
    private static void Close(Process p)
    {
        try
        {
            if (p.HasExited) return;
            p.StandardInput.Close();
            if (!p.WaitForExit(TimeSpan.FromSeconds(15))) p.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException) { }
        catch (IOException) { }
    }

    public async ValueTask DisposeAsync()
    {
        _nodes.Dispose();
        foreach (var c in _children) Close(c);
        try { await _host.StopAsync().ConfigureAwait(false); }
        catch (OperationCanceledException) { }
        _host.Dispose();
        foreach (var c in _children) c.Dispose();
    }
}

/// <summary>A node process: a silo that joins the coordinator's and serves node grains until its standard input closes.</summary>
public static class NodeProcess
{
    /// <param name="advertise">This machine's address the others reach it at (null: the loopback, for a node of a local cluster).</param>
    public static async Task<int> Run(IPEndPoint join, ISpecSource specs, TextReader stdin, IPAddress? advertise = null, int port = 0)
    {
        var host = NodeSilo.Host(specs, join, port > 0 ? port : NodeSilo.FreePort(), NodeSilo.FreePort(), advertise);
        await host.StartAsync().ConfigureAwait(false);
        await Task.Run(() => { while (stdin.ReadLine() is not null) { } }).ConfigureAwait(false);
        try { await host.StopAsync().ConfigureAwait(false); }
        catch (OperationCanceledException) { }
        host.Dispose();
        return 0;
    }
}
