using Multikernel.Model.Restore;
using Multikernel.Properties.Explorer;
using Multikernel.Properties.Restore;

namespace Multikernel.Cli.Restore;

/// <summary>audit restore/… --image FILE: the shortest bad image a trace describes, written as a real image that restore refuses.</summary>
internal static class RestoreImages
{
    public static byte[] FromTrace(RestoreSpec spec, Trace t)
    {
        var init = new List<RestoreState>();
        spec.Initial(init);
        var s = init[t.InitialIndex];
        Span<RestoreAction> actions = stackalloc RestoreAction[Model.Checking.SpecLimits.MaxEnabled];
        var image = new ImageOfRecords();
        foreach (int c in t.Choices)
        {
            spec.Enabled(s, actions);
            if (!image.Append(actions[c])) break;
            s = spec.Next(s, actions[c]);
        }
        return image.Bytes;
    }
}
