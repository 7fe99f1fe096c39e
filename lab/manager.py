"""The one thing the lab adds inside the server: a log line with each kernel's exit status.

jupyter-server never tells anyone how a kernel process ended; only its kernel
manager holds the process. The lab's server runs with
``--AsyncMappingKernelManager.kernel_manager_class=lab.manager.ExitStatusKernelManager``,
which behaves as jupyter-server's own kernel manager and, after each shutdown or restart,
logs ``lab: kernel process PID ended with exit status N``. The lab keeps these
lines apart from the server's own log lines in its records.
"""

from __future__ import annotations

from typing import Any

from jupyter_server.services.kernels.kernelmanager import ServerKernelManager

MARK = "lab: kernel process"


class ExitStatusKernelManager(ServerKernelManager):
    def _process(self) -> Any:
        return getattr(self.provisioner, "process", None)

    def _tell(self, process: Any) -> None:
        if process is not None:
            returncode = process.poll()
            self.log.info("%s %s ended with exit status %s", MARK, process.pid, returncode)

    async def shutdown_kernel(self, now: bool = False, restart: bool = False) -> None:
        process = self._process()
        await super().shutdown_kernel(now=now, restart=restart)
        self._tell(process)

    async def restart_kernel(self, now: bool = False, newports: bool = False, **kw: Any) -> None:
        process = self._process()
        await super().restart_kernel(now=now, newports=newports, **kw)
        self._tell(process)
