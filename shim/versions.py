"""The Lightning releases the runtime supports: checked when ``shim`` is imported and when it attaches to a
trainer, so that an unsupported release fails with the range to install instead of deep inside a training run.

The range is the one CI runs the shim against (``scripts/compat.sh``) and pyproject.toml declares.
"""

from __future__ import annotations

import re
from importlib import metadata

LOWEST = (2, 0)  # the first supported minor release
BEYOND = (2, 7)  # the first minor release not yet tested
SUPPORTED = ">=2.0,<2.7"
# The import package of each distribution, and how to install a supported release of it.
DISTRIBUTIONS = {"lightning": "put-migrate[runtime]", "pytorch-lightning": "put-migrate[classic]"}
_PACKAGE_DISTRIBUTION = {"lightning": "lightning", "pytorch_lightning": "pytorch-lightning"}


class UnsupportedLightningError(ImportError):
    """The Lightning installed (or the one a trainer comes from) is outside the supported range."""


def is_supported(version: str) -> bool:
    """Whether a Lightning version string (``2.0.9.post0``, ``2.6.6``) is in the supported range."""
    match = re.match(r"(\d+)\.(\d+)", version)
    return match is not None and LOWEST <= (int(match[1]), int(match[2])) < BEYOND


def installed() -> dict[str, str]:
    """The installed Lightning distributions and their versions (read from package metadata, nothing imported)."""
    found = {}
    for distribution in DISTRIBUTIONS:
        try:
            found[distribution] = metadata.version(distribution)
        except metadata.PackageNotFoundError:
            pass
    return found


def _error(found: dict[str, str]) -> UnsupportedLightningError:
    names = ", ".join(f"{distribution} {version}" for distribution, version in sorted(found.items()))
    installs = " or ".join(f"pip install '{DISTRIBUTIONS[d]}' ('{d}{SUPPORTED}')" for d in sorted(found))
    return UnsupportedLightningError(
        f"put-migrate's runtime (shim) supports Lightning 2.0 through 2.6 ({SUPPORTED}); found {names}."
        f" Install a supported release: {installs}. The put-migrate CLI itself needs no Lightning."
    )


def check_installed(found: dict[str, str] | None = None) -> None:
    """Raise ``UnsupportedLightningError`` when Lightning is installed but no installed release is supported.

    One supported distribution is enough: an old ``pytorch-lightning`` beside a supported ``lightning`` (or the
    reverse) is common, and the trainer's own package is checked again by ``check_package``.
    """
    found = installed() if found is None else found
    if found and not any(is_supported(version) for version in found.values()):
        raise _error(found)


def check_package(package: str, version: str) -> None:
    """Raise ``UnsupportedLightningError`` when ``package`` (``lightning`` or ``pytorch_lightning``, the one a
    trainer comes from) has an unsupported ``version``."""
    if not is_supported(version):
        raise _error({_PACKAGE_DISTRIBUTION.get(package, package): version})
