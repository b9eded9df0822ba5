"""Which device a job runs on, decided once for training and evaluation (torch is imported only when
the answer is not plainly ``cpu``)."""

from .errors import VbpipeError

ACCELERATORS = ("auto", "cpu", "gpu")


class DeviceError(VbpipeError, ValueError):
    """An accelerator that is unknown, or a GPU asked for where torch sees none."""


def resolve_device(accelerator: str = "cpu") -> str:
    """``cpu`` -> ``"cpu"``; ``auto`` -> ``"cuda"`` when torch sees a GPU, else ``"cpu"``; ``gpu``
    (or ``cuda``, ``cuda:N``) -> that device, a :class:`DeviceError` without one."""
    choice = str(accelerator).lower()
    if choice == "cpu":
        return "cpu"
    if choice not in ("auto", "gpu", "cuda") and not choice.startswith("cuda:"):
        raise DeviceError(
            f"accelerator must be one of {', '.join(ACCELERATORS)}; got {accelerator!r}"
        )
    import torch

    if choice == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if not torch.cuda.is_available():
        raise DeviceError(
            f"accelerator {accelerator!r} requested but torch sees no CUDA device "
            f"(torch {torch.__version__}); use accelerator cpu or auto"
        )
    return "cuda" if choice in ("gpu", "cuda") else choice
