using System;
using System.IO;
using System.Security.Cryptography;
using System.Text;

namespace GenNets.IO;

/// <summary>
/// Replaces a file safely: the new content goes to a temporary file in the same directory, is flushed to disk, and is then
/// renamed over the target, so that a failed or killed save never destroys an earlier file. <see cref="SafeTensors.Write"/>,
/// <see cref="Data.Idx.Write"/> and the ONNX export all save through it.
/// </summary>
/// <remarks>
/// <para>A symbolic link is followed: the file it points to is replaced and the link stays a link. An existing file keeps
/// its Unix permissions. Anything at the path that is not a regular file (a directory, a device such as /dev/null, a pipe,
/// a socket) is refused before anything is written.</para>
/// <para>The temporary file is named <c>.{h}.{r}.gntmp</c>, where <c>h</c> is the first 12 hex digits of the SHA-256 of
/// the target's file name (UTF-8) and <c>r</c> 8 random hex digits: 28 bytes whatever the target's name, so any name the
/// directory can hold works. It is removed when the save fails. A save killed outright leaves it behind; the next save
/// to the same target removes such files once they are older than 10 minutes and no process holds them open exclusively
/// (a save in progress holds its temporary file so, and keeps writing to it), so two processes saving the same file at
/// once never delete each other's temporary file.</para>
/// <para>Every error message names the path the caller gave, never the temporary file.</para>
/// </remarks>
public static class SafeFile
{
    /// <summary>Ending of the temporary files <see cref="Replace"/> creates beside its target.</summary>
    internal const string TemporarySuffix = ".gntmp";

    /// <summary>A temporary file of a save still older than this, and not held open by its writer, is left over by a killed save.</summary>
    internal static readonly TimeSpan StaleAfter = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Replaces the file at <paramref name="path"/> (or creates it) with what <paramref name="write"/> writes to the stream it
    /// is given, through a temporary file renamed over it (see the remarks of <see cref="SafeFile"/>).
    /// </summary>
    /// <param name="path">The file to replace or create.</param>
    /// <param name="write">Writes the whole content to the stream it is given (the temporary file, positioned at its start).
    /// It must leave the stream open: a compressing wrapper around it needs <c>leaveOpen: true</c>. The stream is flushed
    /// to disk after it returns.</param>
    /// <param name="what">What is being saved, for error messages: "Cannot save <paramref name="what"/> to '<paramref name="path"/>': …".</param>
    /// <exception cref="ArgumentNullException"><paramref name="path"/>, <paramref name="write"/> or <paramref name="what"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or not a valid path.</exception>
    /// <exception cref="IOException">The path names something other than a regular file, a symbolic link at it cannot be
    /// followed, or creating, writing (including an <see cref="IOException"/> from <paramref name="write"/>) or renaming
    /// failed (for example <see cref="DirectoryNotFoundException"/>, <see cref="PathTooLongException"/>, a full disk); the
    /// message names <paramref name="path"/>, and any earlier file there is unchanged.</exception>
    /// <exception cref="UnauthorizedAccessException">The directory does not allow creating the temporary file or renaming it
    /// over the target; any earlier file is unchanged.</exception>
    /// <exception cref="InvalidOperationException"><paramref name="write"/> closed the stream; nothing was changed.</exception>
    /// <remarks>Any other exception <paramref name="write"/> throws passes through unchanged, after the temporary file is
    /// removed; the earlier file is then unchanged too.</remarks>
    public static void Replace(string path, Action<Stream> write, string what = "the file")
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        ArgumentNullException.ThrowIfNull(what);

        string full;
        try
        {
            full = Path.GetFullPath(path);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            throw new ArgumentException($"'{path}' is not a valid path: {e.Message}", nameof(path), e);
        }
        string target = ResolveTarget(full, path, what);
        var type = FileTypes.Of(target);
        if (type is not (FileType.Missing or FileType.Regular or FileType.Inaccessible or FileType.Unknown))
        {
            string it = target == full ? "it" : $"it links to '{target}', which";
            throw new IOException($"Cannot save {what} to '{path}': {it} is {FileTypes.Describe(type)}, not a regular file; nothing was written.");
        }
        UnixFileMode? mode = null;
        if (type == FileType.Regular && !OperatingSystem.IsWindows())
        {
            try { mode = File.GetUnixFileMode(target); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }

        string directory = Path.GetDirectoryName(target) ?? throw new IOException($"Cannot save {what} to '{path}': it names a root, not a file.");
        string prefix = TemporaryPrefix(Path.GetFileName(target));
        RemoveStaleTemporaries(directory, prefix);

        string? temporary = null;
        string step = "a temporary file could not be created in '" + directory + "'";
        bool moved = false;
        try
        {
            using (var stream = CreateTemporary(directory, prefix, mode, out temporary))
            {
                step = "writing failed";
                write(stream);
                if (!stream.CanWrite)
                    throw new InvalidOperationException($"Cannot save {what} to '{path}': the write callback closed the stream, so it could not be flushed to disk; nothing was changed. Wrap it with leaveOpen: true.");
                stream.Flush(flushToDisk: true);
            }
            step = target == full ? "the written file could not be renamed over it" : $"the written file could not be renamed over '{target}'";
            File.Move(temporary, target, overwrite: true);
            moved = true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Rephrase(e, path, what, directory, temporary, step);
        }
        finally
        {
            if (!moved && temporary is not null)
            {
                try { File.Delete(temporary); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
            }
        }
    }

    /// <summary>The file a save to <paramref name="full"/> replaces: the final target of a symbolic link, else the path itself.</summary>
    private static string ResolveTarget(string full, string path, string what)
    {
        try
        {
            if (new FileInfo(full).LinkTarget is null) return full;
            var final = File.ResolveLinkTarget(full, returnFinalTarget: true);
            return final is null ? full : Path.GetFullPath(final.FullName);
        }
        catch (IOException e)
        {
            throw new IOException($"Cannot save {what} to '{path}': its symbolic link cannot be followed ({e.Message}); nothing was written.", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new UnauthorizedAccessException($"Cannot save {what} to '{path}': its symbolic link cannot be followed ({e.Message}); nothing was written.", e);
        }
    }

    /// <summary>The start of the name of every temporary file a save to a file named <paramref name="fileName"/> creates.</summary>
    internal static string TemporaryPrefix(string fileName)
        => "." + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(fileName)), 0, 6) + ".";

    private static FileStream CreateTemporary(string directory, string prefix, UnixFileMode? mode, out string temporary)
    {
        for (int attempt = 0; ; attempt++)
        {
            temporary = Path.Combine(directory, prefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)) + TemporarySuffix);
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (mode is { } m && !OperatingSystem.IsWindows()) options.UnixCreateMode = m;
            FileStream stream;
            try
            {
                stream = new FileStream(temporary, options);
            }
            catch (IOException) when (attempt < 8 && File.Exists(temporary))
            {
                continue;   // that random name is taken
            }
            if (mode is { } exact && !OperatingSystem.IsWindows())
            {
                try { File.SetUnixFileMode(stream.SafeFileHandle, exact); }   // exactly, whatever the umask
                catch { stream.Dispose(); throw; }
            }
            return stream;
        }
    }

    /// <summary>
    /// Removes temporary files that killed saves to the same target left behind: named with <paramref name="prefix"/>, not
    /// written to for <see cref="StaleAfter"/>, and not held open by a save in progress (which opens its file exclusively;
    /// the probe opens it exclusively too, and deletes it on close). Best effort: anything in the way leaves the file.
    /// </summary>
    private static void RemoveStaleTemporaries(string directory, string prefix)
    {
        try
        {
            foreach (string candidate in Directory.EnumerateFiles(directory, prefix + "*" + TemporarySuffix))
            {
                string name = Path.GetFileName(candidate);
                if (name.Length != prefix.Length + 8 + TemporarySuffix.Length || !name.StartsWith(prefix, StringComparison.Ordinal)) continue;
                try
                {
                    if (FileTypes.Of(candidate, followLinks: false) != FileType.Regular) continue;
                    if (DateTime.UtcNow - File.GetLastWriteTimeUtc(candidate) < StaleAfter) continue;
                    using var probe = new FileStream(candidate, FileMode.Open, FileAccess.Read, FileShare.None, 1, FileOptions.DeleteOnClose);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    private static Exception Rephrase(Exception e, string path, string what, string directory, string? temporary, string step)
    {
        string reason = e.Message;
        if (temporary is not null)
            reason = reason.Replace($" : '{temporary}'", "", StringComparison.Ordinal).Replace($" '{temporary}'", "", StringComparison.Ordinal).Replace(temporary, "the temporary file", StringComparison.Ordinal);
        string message = $"Cannot save {what} to '{path}': {step} ({reason.TrimEnd('.')}); nothing was changed.";
        return e switch
        {
            UnauthorizedAccessException => new UnauthorizedAccessException(message + $" The save writes a temporary file in '{directory}' and renames it over the file, so that directory must allow both.", e),
            DirectoryNotFoundException => new DirectoryNotFoundException($"Cannot save {what} to '{path}': the directory '{directory}' does not exist; nothing was changed.", e),
            PathTooLongException => new PathTooLongException($"Cannot save {what} to '{path}': the path or the file name is too long for the file system; nothing was changed.", e),
            _ => new IOException(message, e),
        };
    }
}
