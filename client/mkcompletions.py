#!/usr/bin/python3
"""client/mkcompletions.py: writes connreq's zsh and fish completions.

    client/mkcompletions.py CONNREQ           writes client/_connreq and
                                              client/connreq.fish
    client/mkcompletions.py --check CONNREQ   exits 1 (saying which) when
                                              they are not what it writes

CONNREQ is the built connreq. The commands, their arguments, options and
the values an option takes come from `connreq help` and `connreq help
COMMAND`, that is from the command entries in client/cmd-*.c, so the two
files cannot drift from the command table: tests/completion_files.sh runs
--check. (client/connreq.bash-completion reads `connreq help` itself, at
completion time, and asks the daemon for ids and members as well.)
"""
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Values of options whose usage names them by a placeholder.
STATES = ["pending", "accepted", "ignored", "withdrawn", "expired"]
PRIORITIES = ["high", "medium", "low"]
NAMED_VALUES = {"--state": STATES, "--priority": PRIORITIES}
FLAGS = {"--all", "--tell", "--asked", "--json", "--yes"}


def run(bin_, *args):
    return subprocess.run([bin_, *args], check=True, capture_output=True,
                          text=True).stdout


def commands(bin_):
    """[(name, usage, summary)] in the order of `connreq help`."""
    out = run(bin_, "help")
    usages, on = [], False
    for line in out.splitlines():
        if line == "Commands:":
            on = True
            continue
        if not on:
            continue
        if not line:
            break
        if re.match(r"^  [a-z]", line):
            usages.append(line.strip())
        else:
            usages[-1] += " " + line.strip()
    cmds = []
    for usage in usages:
        name = usage.split()[0]
        text = run(bin_, "help", name)
        para = " ".join(text.split("\n\n", 1)[1].split())
        summary = re.split(r"[.;](\s|$)", para)[0]
        if len(summary) > 60:
            summary = summary[:57].rsplit(" ", 1)[0] + "..."
        cmds.append((name, usage, summary))
    return cmds


def options(usage):
    """[(option, placeholder or None, [values])] of a usage line."""
    opts, seen = [], set()
    for m in re.finditer(r"(--[a-z-]+)(?: ([A-Za-z_|]+))?", usage):
        opt, arg = m.group(1), m.group(2)
        if opt in seen:
            continue
        seen.add(opt)
        if opt in FLAGS:
            opts.append((opt, None, []))
            continue
        if arg is None:
            # "MEMBER|--all": a flag named in an alternative.
            opts.append((opt, None, []))
            continue
        values = NAMED_VALUES.get(opt, [])
        if "|" in arg:
            values = [v for v in arg.split("|") if v == v.lower()]
            arg = "|".join(arg.split("|"))
        opts.append((opt, arg, values))
    return opts


def positional(name, usage):
    """The fixed words of a command's first argument, if any."""
    if name == "clock":
        return ["advance"]
    return []


def zsh(cmds):
    q = lambda s: s.replace("'", "'\\''")
    esc = lambda s: q(s).replace("[", "\\[").replace("]", "\\]").replace(
        ":", "\\:")
    names = [c[0] for c in cmds]
    out = ["#compdef connreq",
           "# zsh completion for connreq(1): commands, their options and "
           "the values",
           "# an option takes. Written by client/mkcompletions.py from "
           "`connreq help`;",
           "# do not edit. Installed by make install as "
           "$(PREFIX)/share/zsh/vendor-completions/_connreq.",
           "",
           "_connreq() {",
           "\tlocal curcontext=$curcontext state line ret=1",
           "\tlocal -a commands",
           "\tcommands=("]
    for name, usage, summary in cmds:
        out.append("\t\t'%s:%s'" % (name, q(summary.replace(":", "\\:"))))
    out += ["\t)",
            "\t_arguments -C \\",
            "\t\t'(-s --socket)'{-s+,--socket=}'[the socket of connreqd]:socket:_files' \\",
            "\t\t'--json[print the result as JSON]' \\",
            "\t\t'(- *)'{-h,--help}'[list the commands and options]' \\",
            "\t\t'(- *)'{-V,--version}'[print the versions]' \\",
            "\t\t'1:command:->command' \\",
            "\t\t'*::argument:->argument' && ret=0",
            "\tcase $state in",
            "\tcommand)",
            "\t\t_describe -t commands 'connreq command' commands && ret=0",
            "\t\t;;",
            "\targument)",
            "\t\tcase $words[1] in"]
    for name, usage, summary in cmds:
        specs = ["'--json[print the result as JSON]'",
                 "'(- *)--help[explain the command]'"]
        for opt, arg, values in options(usage):
            if opt == "--json":
                continue
            if arg is None:
                specs.append("'%s[%s]'" % (opt, esc(opt[2:])))
            elif values:
                specs.append("'%s=[%s]:%s:(%s)'" % (
                    opt, esc(arg), opt[2:], " ".join(values)))
            elif opt == "--exec":
                specs.append("'%s=[%s]:command:_cmdstring'" % (opt, esc(arg)))
            else:
                specs.append("'%s=[%s]:%s: '" % (opt, esc(arg),
                                                 esc(arg.lower())))
        if name == "help":
            specs.append("'1:command:(%s)'" % " ".join(names))
        elif positional(name, usage):
            specs.append("'1:word:(%s)'" % " ".join(positional(name, usage)))
            specs.append("'*:argument: '")
        else:
            specs.append("'*:argument: '")
        out.append("\t\t%s)" % name)
        out.append("\t\t\t_arguments \\")
        for s in specs:
            out.append("\t\t\t\t%s \\" % s)
        out[-1] = out[-1][:-2] + " && ret=0"
        out.append("\t\t\t;;")
    out += ["\t\tesac",
            "\t\t;;",
            "\tesac",
            "\treturn ret",
            "}",
            "",
            '_connreq "$@"',
            ""]
    return "\n".join(out)


def fish(cmds):
    q = lambda s: "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"
    names = " ".join(c[0] for c in cmds)
    out = ["# fish completion for connreq(1): commands, their options and "
           "the values an",
           "# option takes. Written by client/mkcompletions.py from "
           "`connreq help`; do",
           "# not edit. Installed by make install as",
           "# $(PREFIX)/share/fish/vendor_completions.d/connreq.fish.",
           "",
           "set -l commands %s" % names,
           "complete -c connreq -f",
           "complete -c connreq -n \"not __fish_seen_subcommand_from "
           "$commands\" -s s -l socket -r -F -d \"connreqd's socket\"",
           "complete -c connreq -l json -d 'print the result as JSON'",
           "complete -c connreq -s h -l help -d 'list the commands, or "
           "explain one'",
           "complete -c connreq -n \"not __fish_seen_subcommand_from "
           "$commands\" -s V -l version -d 'print the versions'"]
    for name, usage, summary in cmds:
        out.append("complete -c connreq -n \"not __fish_seen_subcommand_from "
                   "$commands\" -a %s -d %s" % (name, q(summary)))
    for name, usage, summary in cmds:
        cond = "-n '__fish_seen_subcommand_from %s'" % name
        for opt, arg, values in options(usage):
            if opt == "--json":
                continue
            line = "complete -c connreq %s -l %s" % (cond, opt[2:])
            if arg is None:
                pass
            elif values:
                line += " -x -a %s" % q(" ".join(values))
            elif opt == "--exec":
                line += " -x -a '(__fish_complete_command)'"
            else:
                line += " -x"
            line += " -d %s" % q(arg if arg else opt[2:])
            out.append(line)
        if name == "help":
            out.append("complete -c connreq %s -x -a \"$commands\"" % cond)
        for w in positional(name, usage):
            out.append("complete -c connreq %s -x -a %s" % (cond, w))
    out.append("")
    return "\n".join(out)


def main():
    args = sys.argv[1:]
    check = bool(args) and args[0] == "--check"
    if check:
        args = args[1:]
    if len(args) != 1:
        sys.exit(__doc__.split("\n\n")[1])
    cmds = commands(args[0])
    files = {HERE / "_connreq": zsh(cmds), HERE / "connreq.fish": fish(cmds)}
    bad = 0
    for path, text in files.items():
        if check:
            if not path.exists() or path.read_text() != text:
                print("%s is not what %s writes: run it" % (
                    path.relative_to(HERE.parent), sys.argv[0]))
                bad = 1
        else:
            path.write_text(text)
    sys.exit(bad)


if __name__ == "__main__":
    main()
