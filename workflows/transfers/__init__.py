"""The money-transfer saga: withdraw, deposit, complete; refund when the deposit fails."""
