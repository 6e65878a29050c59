// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using Hcs.Schema;

namespace Hcs.ComputeCore.Tests;

/// <summary>
/// The headers in <c>include/</c> (computecore.h, computedefs.h, the windows.h/winerror.h and WIL subsets): they compile
/// warning-free as C and C++ alone, together and in any order, declare exactly the C API, agree with the C# HRESULTs,
/// the WIL subset behaves like WIL, and Microsoft's seed sample compiles unchanged. None of this needs the library:
/// programs that link are linked against a generated stub (or define the functions themselves).
/// </summary>
public sealed partial class HeaderTests
{
    /// <summary>The 60 functions of the C API, in computecore.h's order.</summary>
    private static readonly string[] s_functions =
    [
        "HcsCreateOperation", "HcsCreateOperationWithNotifications", "HcsCloseOperation", "HcsGetOperationContext",
        "HcsSetOperationContext", "HcsGetComputeSystemFromOperation", "HcsGetProcessFromOperation", "HcsGetOperationType",
        "HcsGetOperationId", "HcsGetOperationResult", "HcsGetOperationResultAndProcessInfo", "HcsAddResourceToOperation",
        "HcsGetProcessorCompatibilityFromSavedState", "HcsWaitForOperationResult", "HcsWaitForOperationResultAndProcessInfo",
        "HcsSetOperationCallback", "HcsCancelOperation", "HcsGetOperationProperties", "HcsEnumerateComputeSystems",
        "HcsEnumerateComputeSystemsInNamespace",
        "HcsCreateComputeSystem", "HcsCreateComputeSystemInNamespace", "HcsOpenComputeSystem", "HcsOpenComputeSystemInNamespace",
        "HcsCloseComputeSystem", "HcsStartComputeSystem", "HcsShutDownComputeSystem", "HcsTerminateComputeSystem",
        "HcsCrashComputeSystem", "HcsPauseComputeSystem", "HcsResumeComputeSystem", "HcsSaveComputeSystem",
        "HcsGetComputeSystemProperties", "HcsModifyComputeSystem", "HcsWaitForComputeSystemExit", "HcsSetComputeSystemCallback",
        "HcsInitializeLiveMigrationOnSource", "HcsStartLiveMigrationOnSource", "HcsStartLiveMigrationTransfer",
        "HcsFinalizeLiveMigration", "HcsCancelLiveMigration",
        "HcsCreateProcess", "HcsOpenProcess", "HcsCloseProcess", "HcsTerminateProcess", "HcsSignalProcess", "HcsGetProcessInfo",
        "HcsGetProcessProperties", "HcsModifyProcess", "HcsSetProcessCallback", "HcsWaitForProcessExit",
        "HcsGetServiceProperties", "HcsModifyServiceSettings", "HcsSubmitWerReport",
        "HcsCreateEmptyGuestStateFile", "HcsCreateEmptyRuntimeStateFile", "HcsGrantVmAccess", "HcsRevokeVmAccess",
        "HcsGrantVmGroupAccess", "HcsRevokeVmGroupAccess",
    ];

    /// <summary>The Win32 compatibility functions the library exports (declared in windows.h).</summary>
    private static readonly string[] s_win32 =
        ["LocalFree", "CloseHandle", "CreateEventW", "SetEvent", "ResetEvent", "WaitForSingleObject", "Sleep", "GetLastError"];

    private static readonly string[] s_cHeaders =
        ["windows.h", "winerror.h", "computedefs.h", "computecore.h", "computenetwork.h", "computestorage.h"];

    private static readonly string[] s_wilHeaders = ["wil/resource.h", "wil/result.h", "wil\\resource.h", "wil\\result.h"];

    private static readonly string[] s_warnings = ["-Wall", "-Wextra", "-Werror", "-pedantic"];

    /// <summary>Every header alone, twice in a row (the include guard), in each language it supports.</summary>
    public static TheoryData<string, string> EachHeader()
    {
        var data = new TheoryData<string, string>();
        foreach (var header in s_cHeaders)
        {
            data.Add(header, "c11");
            data.Add(header, "c++17");
        }

        foreach (var header in s_wilHeaders)
        {
            data.Add(header, "c++17");
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(EachHeader))]
    public async Task Header_compiles_alone_without_warnings(string header, string standard)
    {
        RequireCompilers();
        var source = WriteSource(standard, $"#include <{header}>\n#include <{header}>\nint main(void) {{ return 0; }}\n");
        await CompileAsync(source, standard, "-fsyntax-only");
    }

    [Theory]
    [InlineData("c11", false)]
    [InlineData("c11", true)]
    [InlineData("c++17", false)]
    [InlineData("c++17", true)]
    public async Task All_headers_compile_together_in_either_order(string standard, bool reversed)
    {
        RequireCompilers();
        IEnumerable<string> headers = standard.StartsWith("c++", StringComparison.Ordinal) ? [.. s_cHeaders, .. s_wilHeaders] : s_cHeaders;
        if (reversed)
        {
            headers = headers.Reverse();
        }

        var text = string.Concat(headers.Select(h => $"#include <{h}>\n")) + "int main(void) { return 0; }\n";
        await CompileAsync(WriteSource(standard, text), standard, "-fsyntax-only");
    }

    [Theory]
    [InlineData("c99")]
    [InlineData("c11")]
    [InlineData("c17")]
    [InlineData("c2x")]
    public async Task A_C_program_compiles_under_every_C_standard_with_pedantic_warnings(string standard)
    {
        RequireCompilers();
        await CompileAsync(TestSource("c_program.c"), standard, "-c", "-o", Output("c_program_" + standard + ".o"));
    }

    [Theory]
    [InlineData("c++14")]
    [InlineData("c++17")]
    [InlineData("c++20")]
    public async Task A_program_written_like_the_Microsoft_samples_compiles(string standard)
    {
        // Backslash include paths, WIL before computecore.h, the program's own identical unique_hcs_* aliases.
        RequireCompilers();
        await CompileAsync(TestSource("sample_style.cpp"), standard, "-c", "-o", Output("sample_style_" + standard + ".o"));
    }

    [Theory]
    [InlineData("wil/resource.h")]
    [InlineData("wil/result.h")]
    public async Task Wil_headers_refuse_C_with_a_clear_error(string header)
    {
        RequireCompilers();
        var source = WriteSource("c11", $"#include <{header}>\n");
        var run = await NativeToolchain.RunAsync("/usr/bin/gcc", ["-std=c11", "-fsyntax-only", "-I", NativeToolchain.Include, source]);
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("is C++ only", run.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("c++17", "")]
    [InlineData("c++14", "")]
    [InlineData("c++17", "-fsanitize=address,undefined")]
    public async Task The_WIL_subset_behaves_like_WIL(string standard, string sanitizers)
    {
        // Formatting (%ws/%ls/%S as UTF-8 in the "C" locale), exceptions, RETURN_*, unique_any, unique_event, scope_exit.
        RequireCompilers();
        string[] extra = sanitizers.Length > 0 ? [sanitizers, "-fno-sanitize-recover=all", "-g"] : [];
        var program = Output($"wil_behaviour_{standard}{(sanitizers.Length > 0 ? "_san" : "")}");
        await CompileAsync(TestSource("wil_behaviour.cpp"), standard, [.. extra, "-o", program]);

        var run = await NativeToolchain.RunAsync(program, environment: new Dictionary<string, string?> { ["LC_ALL"] = "C", ["LANG"] = null });

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("wil: ok\n", run.Out);
        Assert.Equal("", run.Error); // LOG_* print nothing
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task WI_ASSERT_is_compiled_out_unless_RESULT_DEBUG(bool resultDebug)
    {
        RequireCompilers();
        var program = Output("wil_assert_" + (resultDebug ? "debug" : "release"));
        string[] define = resultDebug ? ["-DRESULT_DEBUG"] : [];
        await CompileAsync(TestSource("wil_behaviour.cpp"), "c++17", [.. define, "-o", program]);

        var run = await NativeToolchain.RunAsync(program, ["assert"]);

        if (resultDebug)
        {
            Assert.NotEqual(0, run.ExitCode);
            Assert.Contains("Assertion", run.Error, StringComparison.Ordinal);
        }
        else
        {
            Assert.True(run.ExitCode == 0, run.ToString());
        }
    }

    [Fact]
    public async Task A_2_byte_wchar_t_build_fails_with_a_clear_message()
    {
        // -fshort-wchar would make PCWSTR UTF-16 in the program and UTF-32 in the library: refused at compile time.
        RequireCompilers();
        var source = WriteSource("c11", "#include <computecore.h>\n");
        var run = await NativeToolchain.RunAsync("/usr/bin/gcc", ["-std=c11", "-fshort-wchar", "-fsyntax-only", "-I", NativeToolchain.Include, source]);
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("WCHAR is the native 4-byte wchar_t", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Computecore_h_declares_the_60_functions_and_a_Present_query_for_each()
    {
        var declared = DeclaredFunctions("computecore.h");

        Assert.Equal(s_functions, declared.Where(n => !n.StartsWith("Is", StringComparison.Ordinal)));
        Assert.Equal(s_functions.Select(n => $"Is{n}Present"), declared.Where(n => n.StartsWith("Is", StringComparison.Ordinal)));
        Assert.Equal(s_win32, DeclaredFunctions("windows.h"));
    }

    [Fact]
    public async Task Winerror_h_HRESULTs_equal_the_CSharp_constants()
    {
        RequireCompilers();
        var constants = typeof(HResults).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(int))
            .ToDictionary(f => f.Name, f => (int)f.GetRawConstantValue()!);
        var header = File.ReadAllText(Path.Combine(NativeToolchain.Include, "winerror.h"));
        var defined = DefineRegex().Matches(header).Select(m => m.Groups[1].Value).ToHashSet();

        // Every C# constant has its Windows name in winerror.h, and every HCS_E_ there is one of the C# constants.
        var notInHeader = constants.Keys.Where(n => !defined.Contains(n)).Order().ToList();
        Assert.True(notInHeader.Count == 0, "C# constants missing from winerror.h: " + string.Join(", ", notInHeader));
        var notInCSharp = defined.Where(n => n.StartsWith("HCS_E_", StringComparison.Ordinal) && !constants.ContainsKey(n)).Order().ToList();
        Assert.True(notInCSharp.Count == 0, "winerror.h HCS_E_ values missing from Hcs.Schema.HResults: " + string.Join(", ", notInCSharp));

        // The compiler evaluates each macro. A C# ERROR_* constant is the HRESULT_FROM_WIN32 spelling of the Win32 code.
        var program = new StringBuilder("#include <winerror.h>\n#include <stdio.h>\nint main(void)\n{\n");
        foreach (var (name, value) in constants)
        {
            var expression = name.StartsWith("ERROR_", StringComparison.Ordinal) && (uint)value >> 16 == 0x8007 ? $"HRESULT_FROM_WIN32({name})" : name;
            program.Append(CultureInfo.InvariantCulture, $"    printf(\"%s %d\\n\", \"{name}\", (int)({expression}));\n");
        }

        program.Append("    return 0;\n}\n");
        var executable = Output("hresults");
        await CompileAsync(WriteSource("c11", program.ToString()), "c11", "-o", executable);
        var run = await NativeToolchain.RunAsync(executable);
        Assert.True(run.ExitCode == 0, run.ToString());

        var fromHeader = run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' '))
            .ToDictionary(p => p[0], p => int.Parse(p[1], CultureInfo.InvariantCulture));
        Assert.Equal(constants.Count, fromHeader.Count);
        foreach (var (name, value) in constants)
        {
            Assert.True(fromHeader[name] == value, $"{name}: winerror.h 0x{fromHeader[name]:X8}, C# 0x{value:X8}");
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("-DRESULT_DEBUG")]
    public async Task The_seed_sample_compiles_unchanged_and_links_against_the_C_API(string define)
    {
        RequireCompilers();
        var directory = SeedSample.ExtractCode(NativeToolchain.OutputDirectory);

        var stub = await StubLibraryAsync();
        string[] defines = define.Length > 0 ? [define] : [];
        await CompileAsync(SeedSample.Wrapper, "c++17",
            [.. defines, "-I", directory, "-o", Path.Combine(directory, "seed"), "-L", stub, "-lcomputecore"]);
    }

    [Fact]
    public async Task The_pkg_config_template_points_at_the_headers_and_the_library()
    {
        RequireCompilers();
        Requires.Check(File.Exists("/usr/bin/pkg-config"), "pkg-config (apt-get install pkg-config)");
        var directory = Directory.CreateDirectory(Output("pkgconfig")).FullName;
        var template = File.ReadAllText(Path.Combine(NativeToolchain.Include, "computecore.pc.in"));
        var version = File.ReadAllText(Repository.Path("VERSION")).Trim();
        File.WriteAllText(Path.Combine(directory, "computecore.pc"), template
            .Replace("@prefix@", "/opt/hcs", StringComparison.Ordinal).Replace("@version@", version, StringComparison.Ordinal));
        var environment = new Dictionary<string, string?> { ["PKG_CONFIG_PATH"] = directory, ["PKG_CONFIG_LIBDIR"] = directory };

        var run = await NativeToolchain.RunAsync("/usr/bin/pkg-config", ["--cflags", "--libs", "--", "computecore"], environment);
        var modversion = await NativeToolchain.RunAsync("/usr/bin/pkg-config", ["--modversion", "--", "computecore"], environment);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("-I/opt/hcs/include/hcs -L/opt/hcs/lib -lcomputecore", run.Out.Trim());
        Assert.True(modversion.ExitCode == 0, modversion.ToString());
        Assert.Equal(version, modversion.Out.Trim());
    }

    [Fact]
    public async Task Library_exports_every_function_the_headers_declare()
    {
        NativeToolchain.RequireLibrary();
        var nm = await NativeToolchain.RunAsync("nm", ["-D", "--defined-only", "--", NativeToolchain.Library]);
        Assert.Equal(0, nm.ExitCode);
        var symbols = nm.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[^1].Split('@')[0]).ToHashSet();

        var missing = DeclaredFunctions("computecore.h").Concat(DeclaredFunctions("windows.h")).Where(n => !symbols.Contains(n)).ToList();
        Assert.True(missing.Count == 0, $"{NativeToolchain.Library} does not export: {string.Join(", ", missing)}");
    }

    [Fact]
    public void Every_library_export_matches_its_header_declaration()
    {
        // The C# [UnmanagedCallersOnly] exports (in the library's assembly) against computecore.h/windows.h: every
        // export is declared, with as many parameters, each of the same size class (pointer, 8, 32 or 64 bits).
        var declarations = Declarations("computecore.h").Concat(Declarations("windows.h")).ToDictionary(d => d.Name);
        var exports = Assembly.Load("libcomputecore").GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic))
            .Select(m => (Method: m, Attribute: m.GetCustomAttribute<System.Runtime.InteropServices.UnmanagedCallersOnlyAttribute>()))
            .Where(e => e.Attribute?.EntryPoint is not null)
            .ToList();
        Assert.NotEmpty(exports);

        var mismatches = new List<string>();
        foreach (var (method, attribute) in exports)
        {
            var name = attribute!.EntryPoint!;
            if (!declarations.TryGetValue(name, out var declaration))
            {
                mismatches.Add($"{name}: exported but not declared in the headers");
                continue;
            }

            var exported = method.GetParameters().Select(p => SizeClass(p.ParameterType)).Prepend(SizeClass(method.ReturnType));
            var declared = declaration.Parameters.Prepend(declaration.Return);
            if (!exported.SequenceEqual(declared))
            {
                mismatches.Add($"{name}: C# ({string.Join(", ", exported)}) vs header ({string.Join(", ", declared)})");
            }
        }

        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
    }

    // ---- helpers ----

    private static void RequireCompilers() =>
        Requires.Check(File.Exists("/usr/bin/gcc") && File.Exists("/usr/bin/g++"), "gcc and g++ (apt-get install gcc g++, or ./build.sh setup)");

    /// <summary>A header's function declarations: name, and the size class of the return type and of each parameter.</summary>
    private static IEnumerable<(string Name, string Return, string[] Parameters)> Declarations(string header)
    {
        var text = File.ReadAllText(Path.Combine(NativeToolchain.Include, header));
        foreach (Match m in FullDeclarationRegex().Matches(text))
        {
            var parameters = SalRegex().Replace(m.Groups[3].Value, " ").Split(',', StringSplitOptions.TrimEntries);
            string[] classes = parameters is ["void"] ? [] : [.. parameters.Select(p => CSizeClass(p[..p.LastIndexOfAny([' ', '*'])]))];
            yield return (m.Groups[2].Value, CSizeClass(m.Groups[1].Value), classes);
        }
    }

    /// <summary>The size class of a C type as this library's headers spell it.</summary>
    private static string CSizeClass(string type)
    {
        type = type.Replace("const", "", StringComparison.Ordinal).Trim();
        return type switch
        {
            _ when type.EndsWith('*') => "ptr",
            "void" or "VOID" => "void",
            "BOOLEAN" => "8",
            "UINT64" => "64",
            "HRESULT" or "DWORD" or "BOOL" or "HCS_OPERATION_TYPE" or "HCS_EVENT_OPTIONS" or "HCS_OPERATION_OPTIONS" or "HCS_RESOURCE_TYPE" => "32",
            "HCS_OPERATION" or "HCS_SYSTEM" or "HCS_PROCESS" or "HANDLE" or "HLOCAL" or "PCWSTR" or "PWSTR" or "LPCWSTR"
                or "LPSECURITY_ATTRIBUTES" or "HCS_OPERATION_COMPLETION" or "HCS_EVENT_CALLBACK" => "ptr",
            _ => throw new InvalidOperationException($"HeaderTests does not know the C type '{type}'"),
        };
    }

    /// <summary>The size class of a blittable C# export parameter or return type.</summary>
    private static string SizeClass(Type type) =>
        type.IsPointer || type.IsFunctionPointer || type == typeof(nint) || type == typeof(nuint) ? "ptr"
        : type == typeof(void) ? "void"
        : type.IsEnum ? SizeClass(Enum.GetUnderlyingType(type))
        : type == typeof(byte) || type == typeof(sbyte) ? "8"
        : type == typeof(int) || type == typeof(uint) ? "32"
        : type == typeof(long) || type == typeof(ulong) ? "64"
        : type.Name;

    /// <summary>The functions a header declares (every <c>WINAPI name(</c>), in order.</summary>
    private static List<string> DeclaredFunctions(string header) =>
        DeclarationRegex().Matches(File.ReadAllText(Path.Combine(NativeToolchain.Include, header))).Select(m => m.Groups[1].Value).ToList();

    private static string TestSource(string name) => Repository.Path("test", "Hcs.ComputeCore.Tests", "Headers", name);

    private static string Output(string name) => Path.Combine(NativeToolchain.OutputDirectory, name);

    private static string WriteSource(string standard, string text)
    {
        var path = Output($"{Guid.NewGuid():N}{(standard.StartsWith("c++", StringComparison.Ordinal) ? ".cpp" : ".c")}");
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>Compiles with every warning an error; fails the test with the compiler's output.</summary>
    private static async Task CompileAsync(string source, string standard, params string[] flags)
    {
        var cxx = standard.StartsWith("c++", StringComparison.Ordinal);
        var compiler = cxx ? "/usr/bin/g++" : "/usr/bin/gcc";
        // Sources first: flags may end with libraries (-l), which must follow what uses them.
        string[] args = [$"-std={standard}", .. s_warnings, "-I", NativeToolchain.Include, source, .. flags];
        var run = await NativeToolchain.RunAsync(compiler, args, timeout: TimeSpan.FromMinutes(3));
        Assert.True(run.ExitCode == 0, $"{compiler} {string.Join(' ', args)}\n{run}");
    }

    /// <summary>
    /// A libcomputecore.so that defines every function the headers declare as an empty function: enough to link
    /// (never to run) a program without the real library. Returns its directory.
    /// </summary>
    private static async Task<string> StubLibraryAsync()
    {
        var directory = Directory.CreateDirectory(Output("stub")).FullName;
        var names = DeclaredFunctions("computecore.h").Concat(DeclaredFunctions("windows.h"));
        var source = Path.Combine(directory, "stub.c");
        File.WriteAllText(source, string.Concat(names.Select(n => $"void {n}(void) {{}}\n")));
        var library = Path.Combine(directory, "libcomputecore.so");
        var run = await NativeToolchain.RunAsync("/usr/bin/gcc", ["-shared", "-fPIC", "-o", library, source]);
        Assert.True(run.ExitCode == 0, run.ToString());
        return directory;
    }

    [GeneratedRegex(@"WINAPI\s+(\w+)\s*\(")]
    private static partial Regex DeclarationRegex();

    [GeneratedRegex(@"([\w\*]+(?:\s*\*)?)\s+WINAPI\s+(\w+)\s*\(([^)]*)\)")]
    private static partial Regex FullDeclarationRegex();

    [GeneratedRegex(@"\b_[A-Za-z_]+_\b")]
    private static partial Regex SalRegex();

    [GeneratedRegex(@"^#define\s+([A-Z][A-Z0-9_]*)\s", RegexOptions.Multiline)]
    private static partial Regex DefineRegex();
}
