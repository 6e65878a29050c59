// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Hcs.TestKit;

/// <summary>
/// A read-only busybox root file system layer, built once per test run from the host's static <c>/bin/busybox</c>
/// (no network): <c>/bin/busybox</c> and a symbolic link per applet, the usual directories, <c>/.hcs/init</c> (an empty
/// file, the init's mount point), <c>/etc/passwd</c> (root, tester 1000, nobody), <c>/etc/group</c>, <c>/etc/hostname</c>.
/// It lives in <c>/tmp/hcs-busybox-layer-HASH</c> (HASH of busybox's size and modification time) and is reused by
/// later runs when complete (a <c>.complete</c> marker beside it, written last).
/// </summary>
public static class BusyboxLayer
{
    public const string Passwd = "root:x:0:0:root:/root:/bin/sh\ntester:x:1000:1000::/home/tester:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n";

    public const string Group = "root:x:0:\ntester:x:1000:\nnogroup:x:65534:\n";

    private static readonly Lazy<string> s_layer = new(Build, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The layer directory (built on first use); skips the test when there is no static busybox to build it from.</summary>
    public static string Path
    {
        get
        {
            Requires.Busybox();
            return s_layer.Value;
        }
    }

    /// <summary>Makes a layer directory under <paramref name="root"/> holding <paramref name="files"/> (relative path → content).</summary>
    public static string NewLayer(string root, IReadOnlyDictionary<string, string> files)
    {
        var layer = System.IO.Path.Combine(root, "layer-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(layer);
        foreach (var (relative, content) in files)
        {
            var file = System.IO.Path.Combine(layer, relative.TrimStart('/'));
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(file)!);
            File.WriteAllText(file, content);
        }

        return layer;
    }

    private static string Build()
    {
        const string busybox = "/bin/busybox";
        var info = new FileInfo(busybox);
        if (!info.Exists)
        {
            throw new InvalidOperationException("/bin/busybox is required to build the test layer");
        }

        var key = string.Create(CultureInfo.InvariantCulture, $"{info.Length}:{info.LastWriteTimeUtc.Ticks}");
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..16];
        var final = $"/tmp/hcs-busybox-layer-{hash}";
        if (File.Exists(final + ".complete") && File.Exists(System.IO.Path.Combine(final, "bin", "busybox")))
        {
            return final;
        }

        var staging = $"{final}.{Environment.ProcessId}.tmp";
        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }

        foreach (var dir in new[] { "bin", "proc", "sys", "dev", "tmp", "etc", "root", "home/tester", ".hcs" })
        {
            Directory.CreateDirectory(System.IO.Path.Combine(staging, dir));
        }

        File.Copy(busybox, System.IO.Path.Combine(staging, "bin", "busybox"));
        foreach (var applet in Applets(busybox))
        {
            var link = System.IO.Path.Combine(staging, "bin", applet);
            if (applet != "busybox" && !File.Exists(link))
            {
                File.CreateSymbolicLink(link, "busybox");
            }
        }

        File.WriteAllText(System.IO.Path.Combine(staging, ".hcs", "init"), "");
        File.WriteAllText(System.IO.Path.Combine(staging, "etc", "passwd"), Passwd);
        File.WriteAllText(System.IO.Path.Combine(staging, "etc", "group"), Group);
        File.WriteAllText(System.IO.Path.Combine(staging, "etc", "hostname"), "busybox\n");
        File.SetUnixFileMode(System.IO.Path.Combine(staging, "tmp"), (UnixFileMode)Convert.ToInt32("1777", 8));

        if (Directory.Exists(final))
        {
            Directory.Delete(final, recursive: true);
        }

        Directory.Move(staging, final);
        File.WriteAllText(final + ".complete", key);
        return final;
    }

    private static string[] Applets(string busybox)
    {
        var start = new ProcessStartInfo(busybox, "--list") { RedirectStandardOutput = true, UseShellExecute = false };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(a => a.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '['))
            .ToArray();
    }
}
