"""Accounts: an Account holds money in one currency; deposits, withdrawals, freezing, closing."""
