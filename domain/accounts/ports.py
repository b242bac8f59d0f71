"""What the accounts context needs stored: its aggregate's repository."""

from __future__ import annotations

from domain.accounts.account import Account
from domain.shared.ports import Repository

AccountRepository = Repository[Account]
