"""Read the evidence and name the cause"""

from troubleshooter.cgroup import parse_cgroup_v2
from troubleshooter.diagnose import diagnose
from troubleshooter.evidence import parse_kernel_log

# The memory files of a cgroup (v2) after one of its processes was killed.
cgroup_files = {
    "memory.max": "2147483648",  # the limit: 2 GiB
    "memory.current": "1073741824",
    "memory.peak": "2147479552",  # the highest use: the limit, near enough
    "memory.events": "low 0\nhigh 0\nmax 812\noom 1\noom_kill 1\n",
}
cgroup = {"version": 2, "path": "/project", **parse_cgroup_v2(cgroup_files.get)}

# Two lines the Linux kernel logs: an OOM kill, and a crash in compiled code.
log_text = (
    "[86390.1] Memory cgroup out of memory: Killed process 4242 (python)"
    " total-vm:2890564kB, anon-rss:2094768kB, file-rss:0kB\n"
    "[86395.2] python[5151]: segfault at 0 ip 00007f3a sp 00007ffd error 4\n"
)
kernel_log = {"source": "sample", **parse_kernel_log(log_text, uptime=86400)}

cases = {
    "SIGKILL; the cgroup files": diagnose(
        {"cgroup": cgroup}, message="Kernel last terminated by signal SIGKILL."
    ),
    "Exit code 139; the kernel log": diagnose(
        {"kernel_log": kernel_log}, message="Kernel last exited with code 139."
    ),
    "A script run with `troubleshooter run`": diagnose(
        {}, exit_code=-9, run={"returncode": -9, "oom_kills": 1}
    ),
}
for name, verdict in cases.items():
    print(f"{name}\n  {verdict.summary}")
    for line in verdict.evidence:
        print(f"  - {line}")
