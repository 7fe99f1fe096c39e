# Thread check for a notebook cell (standard library): the caps on threads and processes,
# and how many threads this kernel runs. The caps exist on Linux; macOS has only the first.
def thread_check():
    import os
    import sys
    from pathlib import Path

    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_NPROC)[0]
        print("per user (ulimit -u):", "no limit" if soft == resource.RLIM_INFINITY else soft)
    except (ImportError, AttributeError):
        print("per user: Windows has no such cap")
    if sys.platform.startswith("linux"):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            number, names, path = line.split(":", 2)
            if "pids" in names.split(","):
                folder = Path("/sys/fs/cgroup/pids" + path)
            elif number == "0" and names == "":
                folder = Path("/sys/fs/cgroup" + path)
            else:
                continue
            if (folder / "pids.max").exists():
                cap = (folder / "pids.max").read_text().strip().replace("max", "no limit")
                used = (folder / "pids.current").read_text().strip()
                print(f"cgroup {folder}: pids.max {cap}, {used} in use")
        status = Path("/proc/self/status").read_text()
        print("threads of this kernel:", status.split("Threads:")[1].split()[0])
    print("processor cores the libraries see:", os.cpu_count())


thread_check()
