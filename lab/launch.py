"""Start a kernel the way an experiment needs, then become it (``exec``: same process).

``python -m lab.launch [--cgroup PROCS] [--nproc N] [--user NAME] [--stderr FILE] -- ARGV``
joins a cgroup (writes its own pid into PROCS), lowers RLIMIT_NPROC, drops to
another user (handing it the connection file named by ``-f``), sends its standard
error to FILE, and execs ARGV (through ``setpriv`` when the user changes). The
kernel keeps this process id, so the server that started it sees the kernel's own
exit status.
"""

from __future__ import annotations

import argparse
import os
import pwd
import resource
import sys


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m lab.launch")
    parser.add_argument("--cgroup", metavar="PROCS", help="the cgroup.procs file to join")
    parser.add_argument("--nproc", type=int, help="RLIMIT_NPROC, soft and hard")
    parser.add_argument("--user", help="the user to run the kernel as")
    parser.add_argument("--stderr", metavar="FILE", help="append standard error to FILE")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command to run")
    if args.stderr:
        descriptor = os.open(args.stderr, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(descriptor, 2)
        os.close(descriptor)
    if args.cgroup:
        with open(args.cgroup, "w") as procs:
            procs.write(str(os.getpid()))
    if args.nproc is not None:  # counted against the user the kernel runs as
        resource.setrlimit(resource.RLIMIT_NPROC, (args.nproc, args.nproc))
    if args.user:
        user = pwd.getpwnam(args.user)
        if "-f" in command:  # the connection file the server wrote, readable by root only
            os.chown(command[command.index("-f") + 1], user.pw_uid, user.pw_gid)
        if args.stderr:
            os.chown(args.stderr, user.pw_uid, user.pw_gid)
        # setpriv changes the user and execs. The interpreter may live where only root may
        # look (a pyenv under /root): the ambient CAP_DAC_READ_SEARCH lets the kernel read
        # it. That capability has no bearing on RLIMIT_NPROC.
        command = [
            "setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups",
            "--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search", "--", *command,
        ]  # fmt: skip
    sys.stderr.flush()
    os.execvp(command[0], command)


if __name__ == "__main__":
    main()
