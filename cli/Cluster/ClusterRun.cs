using System.Diagnostics;
using Multikernel.Cli.CommandLine;
using Multikernel.Cli.Commands;
using Multikernel.Cli.Registry;
using Multikernel.Distributed;
using Multikernel.Model.Checking;
using Multikernel.Properties.Explorer;

namespace Multikernel.Cli.Cluster;

/// <summary>
/// explore and audit with --nodes N: the search on an Orleans cluster of N nodes on this machine — this
/// process (the coordinator, node 0) and N - 1 node processes of this program (`node --join`).
/// </summary>
internal static class ClusterRun
{
    public const int MaxNodes = 64;

    public static readonly IReadOnlyList<OptionSpec> Options =
    [
        new("--nodes", $"run the search on N nodes of an Orleans cluster on this machine (this process and N - 1 node processes; the report is the same as one process's; at most {MaxNodes})"),
        new("--checkpoint", "with --nodes: write each finished level into DIR (each node's states, the parent links), so that --resume can continue it", ValueName: "DIR"),
        new("--listen", "with --nodes: the coordinator's silo listens on HOST:PORT, for nodes of other machines (default: a free port of the loopback)", ValueName: "HOST:PORT"),
        new("--local-nodes", "with --nodes N: start K of the other nodes on this machine (default N - 1); the rest join with `node --join HOST:PORT` from other machines", ValueName: "K"),
        new("--resume", "with --nodes: continue the run checkpointed in DIR from its last complete level, on any number of nodes (and keep checkpointing there)", ValueName: "DIR"),
    ];

    /// <summary>The number of nodes asked for; 0 for a one-process run.</summary>
    public static int Nodes(Args a)
    {
        int nodes = a.Value("--nodes") is null ? 0 : a.Int("--nodes", 0, 1, MaxNodes);
        foreach (var o in new[] { "--checkpoint", "--resume", "--listen", "--local-nodes" })
            if (nodes == 0 && a.Given(o)) throw new UsageException($"{a.Command}: {o} is for a cluster run: give --nodes N (1 for this process alone)");
        if (a.Given("--checkpoint") && a.Given("--resume")) throw new UsageException($"{a.Command}: --resume DIR keeps checkpointing into DIR: leave --checkpoint out");
        return nodes;
    }

    /// <summary>--checkpoint DIR (created if missing) or --resume DIR (which must hold a checkpoint); null for neither.</summary>
    private static CheckpointPlan? Checkpoint(Args a)
    {
        if (a.Value("--resume") is { } resume)
        {
            if (!Directory.Exists(resume)) throw new UsageException($"{a.Command}: --resume '{BoundsText.Clip(resume)}': no such directory");
            return new(Path.GetFullPath(resume), Write(a.Command, "--resume"), Resume: true) { NotRegular = NotRegular };
        }
        if (a.Value("--checkpoint") is not { } dir) return null;
        try { Directory.CreateDirectory(dir); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        { throw new UsageException($"{a.Command}: --checkpoint '{BoundsText.Clip(dir)}': {e.Message}"); }
        return new(Path.GetFullPath(dir), Write(a.Command, "--checkpoint"), Resume: false);
    }

    /// <summary>Why a checkpoint file is not one to open ("a FIFO": opening it would block), or null (a regular file, or none).</summary>
    internal static string? NotRegular(string path) => FileKinds.Of(path) is var k && k is FileKind.Regular or FileKind.Missing ? null : FileKinds.Describe(k);

    /// <summary>A checkpoint file, written whole or not at all; one that cannot be written ends the run (exit 2).</summary>
    private static Action<string, byte[]> Write(string command, string option) => (path, bytes) =>
    {
        try { OutputFile.Write(path, bytes); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        { throw new UsageException($"{command}: {option}: cannot write '{BoundsText.Clip(path)}': {e.Message}"); }
    };

    /// <summary>The name every node resolves to the same specification: "mechanism/design bounds".</summary>
    public static string SpecName(MechanismEntry m, IDesign design, IBounds bounds) => $"{m.Model.Qualified(design)} {bounds}";

    /// <summary>How a node builds a run's specification from its name, through the registry (and the --load assemblies it was given).</summary>
    public static readonly ISpecSource Specs = new SpecSource(name =>
    {
        int space = name.IndexOf(' ', StringComparison.Ordinal);
        string designName = space < 0 ? name : name[..space];
        var (m, design) = Mechanisms.Resolve(designName, "node");
        IBounds bounds;
        try { bounds = m.Model.ParseBounds(space < 0 ? "" : name[(space + 1)..]); }
        catch (BoundsException e) { throw new UsageException($"node: {e.Message}"); }
        return ExplorationText.Spec(m, design, bounds, "node");
    });

    /// <summary>Explores <paramref name="spec"/> on a local cluster of <paramref name="nodes"/>; a node lost is exit 3 (<see cref="NodeLostException"/>).</summary>
    public static (ExploreReport Report, ClusterStats Stats) Explore(Args a, int nodes, ISpecHandle spec, string specName, ExploreOptions options)
    {
        if (options.Liveness == Liveness.Graph) throw new UsageException($"{a.Command}: --graph keeps every edge in one process; with --nodes the cycles are searched over the pending states (leave --graph out)");
        if (options.BitstateBytes > 0 && (a.Given("--checkpoint") || a.Given("--resume")))
            throw new UsageException($"{a.Command}: --bitstate with --nodes is a swarm of whole searches: there is no level to checkpoint");
        var loads = a.Values("--load");
        var checkpoint = Checkpoint(a);
        var listen = a.Value("--listen") is { } l ? Endpoint(a.Command, "--listen", l) : null;
        int? local = a.Value("--local-nodes") is null ? null : a.Int("--local-nodes", 0, 0, nodes - 1);
        var log = new Action<string>(line => { lock (Console.Error) Console.Error.WriteLine($"{a.Command} --nodes {nodes}: {line}"); });
        return Task.Run(async () =>
        {
            await using var cluster = await LocalCluster.Start(nodes, Specs, join => Child(join, loads), log, listen, local).ConfigureAwait(false);
            if (options.BitstateBytes > 0)
            {
                var (report, stats, members) = DistributedExplorer.RunSwarm(spec, specName, options, cluster.Nodes);
                for (int k = 0; k < members.Count; k++)
                    log(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                        $"swarm search {k} (seed {Swarm.SeedOf(k):x}): {members[k].States:N0} states, depth {members[k].Depth}, miss probability {members[k].MissProbability:G3}"));
                return (report, stats);
            }
            try { return DistributedExplorer.Run(spec, specName, options with { Progress = null }, cluster.Nodes, checkpoint); }
            catch (CheckpointException e) { throw new UsageException($"{a.Command}: --resume '{BoundsText.Clip(checkpoint!.Directory)}': {e.Message}"); }
        }).GetAwaiter().GetResult();
    }

    /// <summary>HOST:PORT as an endpoint (an IP address and a port), or one line and exit 2.</summary>
    internal static System.Net.IPEndPoint Endpoint(string command, string option, string text) =>
        System.Net.IPEndPoint.TryParse(text, out var e) && e.Port != 0 ? e
            : throw new UsageException($"{command}: {option} '{BoundsText.Clip(text)}' is not an IP address and port (127.0.0.1:11111)");

    /// <summary>The command of a node process: this program, `node --join ADDRESS`, with the same --load assemblies.</summary>
    internal static ProcessStartInfo Child(string join, IReadOnlyList<string> loads)
    {
        string dll = typeof(Program).Assembly.Location;
        string host = Environment.ProcessPath ?? "dotnet";
        var info = new ProcessStartInfo { RedirectStandardInput = true, RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        // Run as `dotnet multikernel.dll` (or under a test host): start the dll with the dotnet host; as the apphost: itself.
        string name = Path.GetFileNameWithoutExtension(host);
        if (name == "multikernel") info.FileName = host;
        else
        {
            info.FileName = name == "dotnet" ? host : Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
            info.ArgumentList.Add(dll);
        }
        info.ArgumentList.Add("node");
        info.ArgumentList.Add("--join");
        info.ArgumentList.Add(join);
        foreach (var l in loads) { info.ArgumentList.Add("--load"); info.ArgumentList.Add(Path.GetFullPath(l)); }
        return info;
    }

    /// <summary>The line the command prints about the cluster: nodes, bytes sent per state, each node's peak RSS.</summary>
    public static string Line(ClusterStats s, long states) => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"  cluster: {s.Nodes} nodes (Orleans), {s.BytesPerState(states):F1} bytes sent per state, peak RSS per node: {string.Join(", ", s.PeakRss.Select(r => $"{r / 1e6:F0} MB"))}")
        + (s.Hit is { } hit ? $"\n  bound: {hit}" : "");
}

/// <summary>node --join ADDRESS: a node of a cluster, serving its partitions until its standard input closes.</summary>
internal sealed class NodeCommand : CliCommand
{
    public override string Name => "node";
    public override string Summary => "a node of an exploring cluster: joins the coordinator (explore/audit --nodes) at ADDRESS and serves until its input closes";
    public override IReadOnlyList<ArgumentSpec> Arguments => [];

    public override IEnumerable<OptionSpec> Options =>
    [
        new("--join", "the coordinator's silo endpoint", ValueName: "HOST:PORT"),
        new("--address", "this machine's IP address the other nodes reach (default: the loopback, for a node of a cluster on one machine)", ValueName: "IP"),
        new("--port", "this node's silo port (default: a free one)"),
        AuditCommand.LoadOption,
    ];

    public override int Run(Args a, TextWriter o)
    {
        Mechanisms.LoadAll(a);
        string join = a.Value("--join") ?? throw new UsageException("node: --join HOST:PORT is required");
        var endpoint = ClusterRun.Endpoint("node", "--join", join);
        System.Net.IPAddress? address = null;
        if (a.Value("--address") is { } text && !System.Net.IPAddress.TryParse(text, out address))
            throw new UsageException($"node: --address '{BoundsText.Clip(text)}' is not an IP address");
        int port = a.Int("--port", 0, 1, 65535);
        return NodeProcess.Run(endpoint, ClusterRun.Specs, Console.In, address, port).GetAwaiter().GetResult();
    }
}
