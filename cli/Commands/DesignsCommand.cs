using Multikernel.Cli.CommandLine;
using Multikernel.Cli.Registry;

namespace Multikernel.Cli.Commands;

/// <summary>designs: every mechanism and its designs, with where each comes from.</summary>
internal sealed class DesignsCommand : CliCommand
{
    public override string Name => "designs";
    public override string Summary => "list the mechanisms and their designs (seed, reference, mutant, user)";
    public override IEnumerable<OptionSpec> Options => [AuditCommand.LoadOption];

    public override int Run(Args a, TextWriter o)
    {
        Mechanisms.LoadAll(a);
        foreach (var m in Mechanisms.All)
        {
            o.WriteLine($"{m.Name}: {m.Model.Summary}");
            foreach (var d in m.Model.Designs.All)
                o.WriteLine($"  {m.Model.Qualified(d),-28} {m.Model.Designs.OriginOf(d).ToString().ToLowerInvariant(),-9} {d.Summary}");
        }
        return 0;
    }
}
