"""Bounds of the drives' options that Settings checks too. Their own module, with no imports,
so that loading the settings (before the tray shows) does not load the upload and indexing
machinery they belong to (start-up time: ``benchmarks/startup.py``)."""

from __future__ import annotations

# The longest upload delay the upload scheduler checks (Settings refuses more):
# :mod:`.uploads` holds every upload far longer than this and releases it after a check.
MAX_WRITE_BACK = 3600.0

# Drives with more items are not read ahead after mounting: rclone holds about 2.3 KB of
# memory per item (benchmarks/delta_listing.py: 229 MiB per 100,000). The settings' default
# of MountOptions.prefill_max_items; used by :mod:`.indexing`.
DEFAULT_PREFILL_MAX_ITEMS = 100_000
