"""What the transfers context needs stored: its aggregate's repository."""

from __future__ import annotations

from domain.shared.ports import Repository
from domain.transfers.transfer import Transfer

TransferRepository = Repository[Transfer]
