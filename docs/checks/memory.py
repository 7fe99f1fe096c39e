# Memory check for a notebook cell (any Python 3, standard library only). On Linux it reads
# the memory cgroup this kernel runs in; on macOS and Windows it says what exists there instead.
def memory_check():
    import os
    import sys
    from pathlib import Path

    def size(value):
        if value is None:
            return "not recorded"
        if value == "max" or int(value) >= 2**60:
            return "no limit"
        value = int(value)
        return f"{value / 2**30:.1f} GiB" if value >= 2**30 else f"{value / 2**20:.0f} MiB"

    def read(folder, name, key=None):
        """A file's text, or the number after `key` in a file of "key value" lines."""
        try:
            text = (folder / name).read_text()
        except OSError:
            return None
        if key is None:
            return text.strip()
        found = [line.split()[1] for line in text.splitlines() if line.split()[:1] == [key]]
        return found[0] if found else None

    if sys.platform == "win32":
        import ctypes

        class Status(ctypes.Structure):
            _fields_ = [("size", ctypes.c_ulong), ("load", ctypes.c_ulong)] + [
                (name, ctypes.c_ulonglong) for name in ("total", "free", "a", "b", "c", "d", "e")
            ]

        class Counters(ctypes.Structure):
            _fields_ = [("size", ctypes.c_ulong), ("faults", ctypes.c_ulong)] + [
                (name, ctypes.c_size_t) for name in ("peak", "now", "a", "b", "c", "d", "e", "f")
            ]

        machine, mine = Status(), Counters()
        machine.size, mine.size = ctypes.sizeof(Status), ctypes.sizeof(Counters)
        ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(machine))
        process = ctypes.windll.kernel32.GetCurrentProcess()
        ctypes.windll.psapi.GetProcessMemoryInfo(process, ctypes.byref(mine), mine.size)
        print("Windows has no OOM killer and no OOM-kill counter: running out shows as")
        print("MemoryError, “Unable to allocate”, or “The paging file is too small” (WinError")
        free = f"{size(machine.free)} free ({machine.load}% in use)"
        print(f"1455). Machine: {size(machine.total)}, {free}")
        print(f"this kernel: {size(mine.now)} now, peak {size(mine.peak)}")
        return
    if not sys.platform.startswith("linux"):
        import resource

        total = os.popen("sysctl -n hw.memsize").read().strip() or None
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # bytes on macOS
        print("macOS has no cgroup memory limit and no OOM-kill counter: every program shares")
        print(f"the machine's {size(total)}. This kernel's peak so far: {size(peak)}.")
        return

    top = Path("/sys/fs/cgroup")
    lines = [line.split(":", 2) for line in Path("/proc/self/cgroup").read_text().splitlines()]
    v1 = [path for _, names, path in lines if "memory" in names.split(",")]
    v2 = [path for number, names, path in lines if number == "0" and names == ""]
    if v1 and (top / "memory/memory.limit_in_bytes").exists():
        version, folder = 1, top / "memory" / v1[0].lstrip("/")
        if not (folder / "memory.limit_in_bytes").exists():
            folder = top / "memory"
        limit = int(read(folder, "memory.limit_in_bytes"))
        parent = read(folder, "memory.stat", "hierarchical_memory_limit")  # a parent's limit
        limit = min(limit, int(parent)) if parent else limit
        used = read(folder, "memory.usage_in_bytes")
        peak = read(folder, "memory.max_usage_in_bytes")
        programs, cache = read(folder, "memory.stat", "rss"), read(folder, "memory.stat", "cache")
        kills = read(folder, "memory.oom_control", "oom_kill")
    elif (top / "cgroup.controllers").exists():
        version, folder = 2, top / (v2[0] if v2 else "/").lstrip("/")
        if not (folder / "memory.max").exists():
            folder = top
        limit, up = "max", folder
        while (up / "memory.max").exists():  # a parent's limit may be the lower one
            value = read(up, "memory.max")
            if value != "max" and (limit == "max" or int(value) < int(limit)):
                limit = value
            if up == top:
                break
            up = up.parent
        used, peak = read(folder, "memory.current"), read(folder, "memory.peak")
        programs, cache = read(folder, "memory.stat", "anon"), read(folder, "memory.stat", "file")
        kills = read(folder, "memory.events", "oom_kill")
    else:
        total = int(read(Path("/proc"), "meminfo", "MemTotal:")) * 1024
        print(f"No memory cgroup found, so no limit could be read; the machine has {size(total)}.")
        return
    shared = read(folder, "memory.stat", "shmem")
    share = ""
    if peak is not None and limit != "max" and int(limit) < 2**60:
        share = f", {100 * int(peak) / int(limit):.0f}% of the limit"
    print(f"cgroup v{version}: {folder}")
    print(f"limit:      {size(limit)}")
    print(
        f"in use now: {size(used)} (programs {size(programs)}, file cache {size(cache)},"
        f" of which shared memory {size(shared)})"
    )
    print(f"peak:       {size(peak)}{share}")
    print(
        f"OOM kills:  {kills or 'not counted'} (only a rise across the next crash says it ran"
        " out of memory)"
    )


memory_check()
