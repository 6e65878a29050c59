// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Ctl;

/// <summary>The verbs of hcsctl, in the order <c>hcsctl --help</c> lists them.</summary>
internal static partial class Verbs
{
    private static readonly OptionSpec s_json = new("json", null, null, "print the service's JSON instead of a table");

    public static IReadOnlyList<Verb> All { get; } =
    [
        new("create", "Create a system from a ComputeSystem document (a file, or - for standard input)",
            ["ID", "FILE|-"],
            [
                new("start", null, null, "start the system once it is created"),
                new("wait", null, null, "then wait until it exits and print its SystemExitStatus (for --embedded)"),
            ],
            CreateAsync,
            "Prints nothing on success. Without hcsd (--embedded) the system lives inside this hcsctl process and ends\n" +
            "when hcsctl exits: hcsctl then validates and creates it and, with --start --wait, runs it in the foreground.",
            ["hcsctl create vm1 vm.json --start", "cat ct.json | hcsctl create ct1 -", "hcsctl --embedded create vm1 vm.json --start --wait"]),
        new("start", "Start created systems (Created → Running)", ["ID..."], [], StartAsync,
            Examples: ["hcsctl start vm1 vm2"]),
        new("shutdown", "Ask systems' guests to shut down, and wait until they have stopped", ["ID..."],
            [
                new("timeout", 't', "DURATION", "stop waiting after DURATION (seconds, or 500ms, 30s, 2m)"),
                new("force", 'f', null, "terminate a system that has not stopped within --timeout"),
            ],
            ShutdownAsync,
            "A system that stops while no client holds it open goes away; one still held open stays listed as Stopped.",
            ["hcsctl shutdown vm1", "hcsctl shutdown --timeout 30s --force vm1"]),
        new("terminate", "Forcibly stop systems", ["ID..."], [], TerminateAsync, Examples: ["hcsctl terminate vm1"]),
        new("pause", "Pause running systems (Running → Paused)", ["ID..."], [], PauseAsync, Examples: ["hcsctl pause vm1"]),
        new("resume", "Resume paused systems (Paused → Running)", ["ID..."], [], ResumeAsync, Examples: ["hcsctl resume vm1"]),
        new("save", "Save a system's state to a file (a running system is paused first and stays paused)", ["ID", "PATH"], [],
            SaveAsync,
            "PATH is made absolute against hcsctl's working directory; the service writes it.",
            ["hcsctl save vm1 /var/lib/hcs/vm1.state"]),
        new("list", "List systems: ID, TYPE, STATE, OWNER, UPTIME", [],
            [
                s_json,
                new("quiet", 'q', null, "print only the ids"),
                new("type", null, "TYPE", "only systems of TYPE (VirtualMachine or Container)", Repeatable: true),
                new("owner", null, "OWNER", "only systems with this Owner", Repeatable: true),
            ],
            ListAsync,
            Examples: ["hcsctl list", "hcsctl list --type Container -q", "hcsctl list --json"]),
        new("inspect", "Print a system's properties (Properties JSON)", ["ID"],
            [
                new("type", null, "TYPES", "also these property types, comma-separated: Statistics, ProcessList, Memory, GuestConnection, TerminateOnLastHandleClosed, ..."),
                new("query", null, "JSON", "the System_PropertyQuery document to send, verbatim"),
            ],
            InspectAsync,
            Examples: ["hcsctl inspect vm1", "hcsctl inspect ct1 --type Statistics,ProcessList", "hcsctl inspect vm1 --query '{\"PropertyTypes\":[\"Memory\"]}'"]),
        new("modify", "Apply a ModifySettingRequest (a file, or - for standard input)", ["ID", "FILE|-"], [], ModifyAsync,
            Examples: ["echo '{\"ResourcePath\":\"Container/Memory/SizeInMB\",\"RequestType\":\"Update\",\"Settings\":512}' | hcsctl modify ct1 -"]),
        new("exec", "Run a process in a running system with its stdio attached; exits with the process's exit code", ["ID", "COMMAND", "[ARG...]"],
            [
                new("interactive", 'i', null, "forward standard input to the process"),
                new("tty", 't', null, "allocate a console (EmulateConsole); the local terminal goes to raw mode and its size follows"),
                new("env", 'e', "K=V", "set an environment variable (repeatable)", Repeatable: true),
                new("cwd", 'w', "DIR", "working directory in the system"),
                new("user", 'u', "USER", "user to run as (name, uid or uid:gid)"),
            ],
            ExecAsync,
            "Options go before the command; everything from COMMAND on is the process's argv, verbatim (no shell).\n" +
            "Ctrl-C is sent to the process as SIGINT (with -it the console delivers it). Exit code: the process's (125 when\n" +
            "hcsctl could not run it or the system stopped under it).",
            ["hcsctl exec ct1 -- ls -l /", "hcsctl exec -it ct1 sh", "echo hi | hcsctl exec -i ct1 cat", "hcsctl exec -e A=1 -w /tmp -u 1000 ct1 env"])
        {
            CommandAfter = 1,
            HandlesInterrupts = true,
        },
        new("events", "Print systems' events: time, system id, event type, EventData", ["[ID...]"],
            [
                new("follow", 'f', null, "keep watching until Ctrl-C, including systems created later"),
                new("timeout", null, "DURATION", "stop after DURATION"),
                new("json", null, null, "one JSON object per event: Time, SystemId, Type, EventData"),
            ],
            EventsAsync,
            "Without --follow, watches the named systems (or all current ones) until each has exited.\n" +
            "With --follow, keeps watching until Ctrl-C or --timeout and picks up systems that appear later\n" +
            "(all of them, or those named).",
            ["hcsctl events vm1", "hcsctl events --follow", "hcsctl events --follow --json ct1 ct2"]),
        new("rm", "Remove systems: close them so they go away (--force terminates running ones first)", ["ID..."],
            [new("force", 'f', null, "terminate a Running or Paused system first; an id that does not exist is not an error")],
            RemoveAsync,
            "A Created or Stopped system is removed as it is; a Running or Paused one needs --force.\n" +
            "A system another client still holds open goes away when that client closes it.",
            ["hcsctl rm ct1", "hcsctl rm -f vm1 vm2"]),
        new("grant", "Let another user open and list a system (like HcsGrantVmAccess)", ["ID", "UID|USER"], [], GrantAsync,
            Examples: ["hcsctl grant vm1 1000", "hcsctl grant vm1 alice"]),
        new("service", "Print the service's properties (ServiceProperties JSON)", [],
            [
                new("type", null, "TYPES", "property types, comma-separated (Basic, ...)"),
                new("query", null, "JSON", "the Service_PropertyQuery document to send, verbatim"),
            ],
            ServiceAsync,
            Examples: ["hcsctl service"]),
    ];

    public static Verb? Find(string name) => All.FirstOrDefault(v => v.Name == name);
}
