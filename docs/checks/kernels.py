# Kernel list for a notebook cell (standard library only): every Jupyter kernel running now,
# biggest first, with its memory and the notebook it belongs to. Linux reads /proc; macOS asks ps.
def kernel_list():
    import os
    import re
    import subprocess
    import sys
    from pathlib import Path

    marker = re.compile(r"ipykernel|kernel-[\w.-]+\.json")
    found = []  # (bytes, pid, notebook)
    if sys.platform.startswith("linux"):
        for entry in Path("/proc").iterdir():
            try:
                args = (entry / "cmdline").read_bytes().decode("utf-8", "replace")
                status = (entry / "status").read_text()
            except OSError:
                continue
            if not marker.search(args):
                continue
            rss = re.search(r"VmRSS:\s+(\d+) kB", status)
            try:
                env = (entry / "environ").read_bytes().split(b"\0")
            except OSError:
                env = []
            key = b"JPY_SESSION_NAME="
            name = [v[len(key) :].decode("utf-8", "replace") for v in env if v.startswith(key)]
            found.append((int(rss.group(1)) * 1024 if rss else 0, entry.name, (name or ["?"])[0]))
    elif sys.platform == "darwin":
        listing = subprocess.run(["ps", "-axo", "pid=,rss=,command="], capture_output=True)
        for line in listing.stdout.decode("utf-8", "replace").splitlines():
            pid, rss, args = line.split(None, 2)
            if marker.search(args):
                found.append((int(rss) * 1024, pid, "?"))
    else:
        print("On Windows, open Task Manager, tab Details: each python.exe is a kernel or worker.")
        return
    mine = str(os.getpid())
    for size, pid, notebook in sorted(found, reverse=True):
        note = " (this notebook)" if pid == mine else ""
        print(f"pid {pid:<7} {size / 2**30:6.2f} GiB  {notebook}{note}")
    total = sum(size for size, _, _ in found)
    print(f"{len(found)} kernel{'' if len(found) == 1 else 's'}, {total / 2**30:.2f} GiB together")


kernel_list()
