using System;
using System.IO;
using System.Runtime.InteropServices;

namespace GenNets.IO;

/// <summary>What a path names, as far as reading and writing weight files cares.</summary>
internal enum FileType
{
    /// <summary>Nothing exists at the path.</summary>
    Missing,
    /// <summary>A regular file.</summary>
    Regular,
    /// <summary>A directory.</summary>
    Directory,
    /// <summary>A character device such as /dev/null or /dev/zero.</summary>
    CharacterDevice,
    /// <summary>A block device such as a disk.</summary>
    BlockDevice,
    /// <summary>A named pipe.</summary>
    Fifo,
    /// <summary>A Unix domain socket.</summary>
    Socket,
    /// <summary>A symbolic link (only when links are not followed).</summary>
    SymbolicLink,
    /// <summary>Something exists, but its type could not be determined (an empty file or a special file).</summary>
    Unknown,
    /// <summary>The type could not be read for another reason (such as permissions); opening the path reports why.</summary>
    Inaccessible,
}

/// <summary>
/// Finds the type of a file without opening it (opening a named pipe would block). .NET 10 has no public API for
/// this, so on Linux it asks <c>statx</c>, whose layout is the same on every architecture; elsewhere, or if that call
/// is unavailable, it falls back to what <see cref="FileInfo"/> tells: a directory, or an existing non-empty file
/// (regular for certain), or an existing empty one (<see cref="FileType.Unknown"/>, since devices and pipes report size 0).
/// </summary>
internal static unsafe partial class FileTypes
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxType = 0x1;
    private const int ModeOffset = 28; // u16 stx_mode in struct statx
    private static bool _statxUnavailable;

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int directory, string path, int flags, uint mask, byte* buffer);

    /// <summary>The type of what <paramref name="path"/> names, following symbolic links unless <paramref name="followLinks"/> is false.</summary>
    public static FileType Of(string path, bool followLinks = true)
    {
        if (OperatingSystem.IsLinux() && !_statxUnavailable)
        {
            try
            {
                byte* buffer = stackalloc byte[256];
                if (Statx(AtFdCwd, path, followLinks ? 0 : AtSymlinkNoFollow, StatxType, buffer) == 0)
                {
                    int mode = *(ushort*)(buffer + ModeOffset);
                    return (mode & 0xF000) switch
                    {
                        0x8000 => FileType.Regular,
                        0x4000 => FileType.Directory,
                        0x2000 => FileType.CharacterDevice,
                        0x6000 => FileType.BlockDevice,
                        0x1000 => FileType.Fifo,
                        0xC000 => FileType.Socket,
                        0xA000 => FileType.SymbolicLink,
                        _ => FileType.Unknown,
                    };
                }
                int errno = Marshal.GetLastPInvokeError();
                if (errno is 2 or 20) return FileType.Missing;   // ENOENT, ENOTDIR
                if (errno != 38) return FileType.Inaccessible;      // not ENOSYS: e.g. EACCES; opening reports it
                _statxUnavailable = true;
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                _statxUnavailable = true;
            }
        }
        return Fallback(path);
    }

    private static FileType Fallback(string path)
    {
        if (Directory.Exists(path)) return FileType.Directory;
        var info = new FileInfo(path);
        if (!info.Exists) return FileType.Missing;
        if (OperatingSystem.IsWindows()) return FileType.Regular;
        return info.Length > 0 ? FileType.Regular : FileType.Unknown;
    }

    /// <summary>"a directory", "a character device", … for messages.</summary>
    public static string Describe(FileType type) => type switch
    {
        FileType.Regular => "a regular file",
        FileType.Directory => "a directory",
        FileType.CharacterDevice => "a character device",
        FileType.BlockDevice => "a block device",
        FileType.Fifo => "a named pipe",
        FileType.Socket => "a socket",
        FileType.SymbolicLink => "a symbolic link",
        FileType.Missing => "missing",
        _ => "a file of unknown type",
    };
}
