using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Text;
using GenNets.IO;
using Xunit;

namespace GenNets.Tests.IO;

/// <summary>
/// Seeded mutations of a valid file (truncations, bit flips in the length and the header, byte edits, insertions and
/// deletions): Load must either succeed or throw <see cref="InvalidDataException"/> naming the file, must leave the weights
/// bit for bit unchanged when it throws, and must load exactly the original weights when the data section is untouched.
/// </summary>
public sealed class MutationFuzzTests : IDisposable
{
    private const int Seed = 20240613;
    private const int RandomMutations = 2000;

    // Thousands of small files: in memory where the system offers it (writing each to a disk costs milliseconds).
    private readonly string _dir = Directory.Exists("/dev/shm")
        ? Directory.CreateDirectory(Path.Combine("/dev/shm", "gennets-fuzz-" + Guid.NewGuid().ToString("N"))).FullName
        : Directory.CreateTempSubdirectory("gennets-fuzz-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly byte[] Interesting = [.. Encoding.ASCII.GetBytes("{}[]\",:- 0123456789eE.\\u\0"), 0xFF, 0xC3, 0x80, 0xED, 0xA0];

    [Fact]
    public void MutatedFiles_FailOnlyWithInvalidData_AndKeepWeights()
    {
        float[] source = TinyWeights.Parameters(seed: 11);
        string original = Path.Combine(_dir, "original.safetensors");
        Weights.Save(original, source, TinyWeights.Layout, new Dictionary<string, string> { ["format"] = "pt", ["note"] = "fuzz é" });
        byte[] valid = File.ReadAllBytes(original);
        int headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(valid);
        int dataStart = 8 + headerLength;
        byte[] data = valid[dataStart..];

        var mutations = new List<(string What, byte[] Bytes)>();
        // The layout's tensors fill exactly 52 bytes, so a file whose length prefix leaves a data section of another size can never load.
        bool MustReject(byte[] bytes) => bytes.Length < 8 || BinaryPrimitives.ReadUInt64LittleEndian(bytes) != (ulong)(bytes.Length - 8 - TinyWeights.DataLength);
        for (int keep = 0; keep < valid.Length; keep++) mutations.Add(($"truncated to {keep} bytes", valid[..keep]));
        for (int bit = 0; bit < 64; bit++) mutations.Add(($"length prefix bit {bit} flipped", Flip(valid, bit)));
        for (int delta = -9; delta <= 9; delta++)
            if (delta != 0) mutations.Add(($"header length {delta:+#;-#}", WithLength(valid, headerLength + delta)));
        for (int bit = 64; bit < 8 * dataStart; bit += 3) mutations.Add(($"header bit {bit} flipped", Flip(valid, bit)));

        var random = new Random(Seed);
        for (int i = 0; i < RandomMutations; i++) mutations.Add(RandomMutation(random, valid, headerLength, i));

        string path = Path.Combine(_dir, "mutated.safetensors");
        float[] parameters = TinyWeights.Parameters(seed: 99);
        float[] before = (float[])parameters.Clone();
        int rejected = 0;
        foreach (var (what, bytes) in mutations)
        {
            File.WriteAllBytes(path, bytes);
            string? failure = null;
            try
            {
                Weights.Load(path, parameters, TinyWeights.Layout);
                bool dataIntact = bytes.Length >= 8 && BinaryPrimitives.ReadUInt64LittleEndian(bytes) is var n && n <= (ulong)bytes.Length - 8
                                  && bytes.AsSpan(8 + (int)n).SequenceEqual(data);
                if (MustReject(bytes))
                    failure = "loaded a file whose data section is not the 52 bytes its tensors fill";
                else if (dataIntact && !TinyWeights.BitEqual(source, parameters))
                    failure = "loaded, but with other weights than the file's data holds";
                parameters = (float[])before.Clone();
            }
            catch (InvalidDataException e)
            {
                rejected++;
                if (!e.Message.Contains(path, StringComparison.Ordinal)) failure = $"message does not name the file: {e.Message}";
                else if (!TinyWeights.BitEqual(before, parameters)) failure = "the weights changed";
            }
            catch (Exception e)
            {
                failure = $"threw {e.GetType().Name}: {e.Message}";
            }
            Assert.True(failure is null, $"seed {Seed}, mutation '{what}': {failure}");
        }
        // The mutations must mostly hit the header; a run where nearly everything loaded would test nothing.
        Assert.True(rejected > mutations.Count * 3 / 4, $"only {rejected} of {mutations.Count} mutations were rejected");
        Assert.True(mutations.Count >= 1000);
    }

    private static (string, byte[]) RandomMutation(Random random, byte[] valid, int headerLength, int index)
    {
        int headerStart = 8, headerEnd = 8 + headerLength;
        switch (random.Next(7))
        {
            case 0:
            {
                var bytes = (byte[])valid.Clone();
                int flips = 1 + random.Next(3);
                var bits = new List<int>();
                for (int f = 0; f < flips; f++)
                {
                    int bit = 8 * headerStart + random.Next(8 * headerLength);
                    bytes[bit / 8] ^= (byte)(1 << (bit % 8));
                    bits.Add(bit);
                }
                return ($"#{index}: header bits {string.Join(",", bits)} flipped", bytes);
            }
            case 1:
            {
                var bytes = (byte[])valid.Clone();
                int at = random.Next(headerStart, headerEnd);
                byte value = Interesting[random.Next(Interesting.Length)];
                bytes[at] = value;
                return ($"#{index}: byte {at} set to 0x{value:X2}", bytes);
            }
            case 2:
            {
                int at = random.Next(headerStart, headerEnd + 1);
                byte value = Interesting[random.Next(Interesting.Length)];
                bool adjust = random.Next(2) == 0;
                byte[] bytes = [.. valid[..at], value, .. valid[at..]];
                if (adjust) BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)headerLength + 1);
                return ($"#{index}: 0x{value:X2} inserted at {at}{(adjust ? ", length adjusted" : "")}", bytes);
            }
            case 3:
            {
                int at = random.Next(headerStart, headerEnd);
                int count = 1 + random.Next(Math.Min(8, headerEnd - at));
                bool adjust = random.Next(2) == 0;
                byte[] bytes = [.. valid[..at], .. valid[(at + count)..]];
                if (adjust) BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)(headerLength - count));
                return ($"#{index}: {count} bytes deleted at {at}{(adjust ? ", length adjusted" : "")}", bytes);
            }
            case 4:
            {
                // Copy a slice of the header over another place: duplicates keys, numbers and structure.
                var bytes = (byte[])valid.Clone();
                int length = 1 + random.Next(40);
                int from = random.Next(headerStart, headerEnd - length);
                int to = random.Next(headerStart, headerEnd - length);
                Array.Copy(valid, from, bytes, to, length);
                return ($"#{index}: header bytes [{from}, {from + length}) copied to {to}", bytes);
            }
            case 5:
            {
                var bytes = (byte[])valid.Clone();
                int at = random.Next(8);
                bytes[at] = (byte)random.Next(256);
                return ($"#{index}: length byte {at} set to 0x{bytes[at]:X2}", bytes);
            }
            default:
            {
                // Trailing or missing data bytes, or a data bit flipped (which may load, with other weights).
                int change = random.Next(-6, 7);
                byte[] bytes = change >= 0 ? [.. valid, .. new byte[change]] : valid[..(valid.Length + change)];
                if (change == 0) bytes[headerEnd + random.Next(valid.Length - headerEnd)] ^= (byte)(1 << random.Next(8));
                return ($"#{index}: data {(change == 0 ? "bit flipped" : $"length changed by {change}")}", bytes);
            }
        }
    }

    private static byte[] Flip(byte[] bytes, int bit)
    {
        var copy = (byte[])bytes.Clone();
        copy[bit / 8] ^= (byte)(1 << (bit % 8));
        return copy;
    }

    private static byte[] WithLength(byte[] bytes, long length)
    {
        var copy = (byte[])bytes.Clone();
        BinaryPrimitives.WriteUInt64LittleEndian(copy, (ulong)length);
        return copy;
    }
}
