namespace Multikernel.Model.Kernel;

/// <summary>The errno values the modelled kernel code returns (include/uapi/asm-generic/errno-base.h).</summary>
public static class Errno
{
    public const int ENOMEM = 12;
    public const int EBUSY = 16;
    public const int EEXIST = 17;
    public const int ENODEV = 19;
    public const int EINVAL = 22;
    public const int ENOSPC = 28;

    public static string Name(int rc) => rc switch
    {
        0 => "0",
        -ENOMEM => "-ENOMEM",
        -EBUSY => "-EBUSY",
        -EEXIST => "-EEXIST",
        -ENODEV => "-ENODEV",
        -EINVAL => "-EINVAL",
        -ENOSPC => "-ENOSPC",
        _ => rc.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
