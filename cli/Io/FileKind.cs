using System.Runtime.InteropServices;

namespace Multikernel.Cli;

/// <summary>What a path names, asked of the kernel without opening it (opening a FIFO blocks until a writer comes).</summary>
internal enum FileKind { Missing, Regular, Directory, Fifo, Socket, CharDevice, BlockDevice, Other }

internal static partial class FileKinds
{
    /// <summary>The kind of <paramref name="path"/>, following symbolic links (as open would). Off Linux: regular or directory by .NET's own test.</summary>
    public static FileKind Of(string path)
    {
        if (!OperatingSystem.IsLinux())
            return Directory.Exists(path) ? FileKind.Directory : File.Exists(path) ? FileKind.Regular : FileKind.Missing;
        Span<byte> buf = stackalloc byte[256];
        // statx(AT_FDCWD, path, 0 (follow links), STATX_TYPE): its layout is the same on every architecture.
        if (Statx(-100, path, 0, 1, ref MemoryMarshal.GetReference(buf)) != 0) return FileKind.Missing;
        int mode = BitConverter.ToUInt16(buf[28..30]) & 0xF000;
        return mode switch
        {
            0x8000 => FileKind.Regular,
            0x4000 => FileKind.Directory,
            0x1000 => FileKind.Fifo,
            0xC000 => FileKind.Socket,
            0x2000 => FileKind.CharDevice,
            0x6000 => FileKind.BlockDevice,
            _ => FileKind.Other,
        };
    }

    /// <summary>"a FIFO", "a character device": for the one-line refusal.</summary>
    public static string Describe(FileKind k) => k switch
    {
        FileKind.Fifo => "a FIFO",
        FileKind.Socket => "a socket",
        FileKind.CharDevice => "a character device",
        FileKind.BlockDevice => "a block device",
        FileKind.Directory => "a directory",
        FileKind.Missing => "missing",
        FileKind.Regular => "a regular file",
        _ => "not a regular file",
    };

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int dirfd, string path, int flags, uint mask, ref byte buffer);
}
