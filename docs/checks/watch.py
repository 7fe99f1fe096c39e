# Memory after every cell (run once in the notebook; standard library, Linux): the kernel's
# memory now and at its peak, and what its worker processes hold.
from IPython import get_ipython


def memory_after_each_cell(result=None):
    import os
    from pathlib import Path

    def status(pid, key):
        try:
            lines = Path(f"/proc/{pid}/status").read_text().splitlines()
        except OSError:
            return 0
        return next((int(line.split()[1]) * 1024 for line in lines if line.startswith(key)), 0)

    def children(pid):
        try:
            direct = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return []
        return [grandchild for child in direct for grandchild in [child, *children(child)]]

    me = os.getpid()
    if not Path(f"/proc/{me}/status").exists():
        print("[memory] no /proc here: watch Task Manager (Windows) or Activity Monitor (macOS)")
        return
    workers = children(me)
    held = sum(status(pid, "VmRSS") for pid in workers)
    print(
        f"[memory] kernel {status(me, 'VmRSS') / 2**30:.2f} GiB now, peak "
        f"{status(me, 'VmHWM') / 2**30:.2f} GiB; {len(workers)} worker processes "
        f"{held / 2**30:.2f} GiB"
    )


get_ipython().events.register("post_run_cell", memory_after_each_cell)
