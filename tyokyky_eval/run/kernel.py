"""The environment's own Jupyter kernel, so papermill and nbval never pick a foreign one."""
from __future__ import annotations

import sys

KERNEL_NAME = "tyokyky-eval"


def ensure_kernel() -> str:
    """Install the kernel spec ``tyokyky-eval`` into this environment (sys.prefix) if it is missing
    or points at another Python; returns the kernel name."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(KERNEL_NAME)
        if spec.argv and spec.argv[0] == sys.executable:
            return KERNEL_NAME
    except NoSuchKernel:
        pass
    from ipykernel.kernelspec import install

    install(kernel_name=KERNEL_NAME, display_name="Python (tyokyky-eval)", prefix=sys.prefix)
    return KERNEL_NAME
