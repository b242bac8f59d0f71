"""Transfers: a request to move money between two accounts, and where its saga ended."""
