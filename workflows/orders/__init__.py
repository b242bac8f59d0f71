"""The order-placement saga: reserve the stock, charge the customer, commit the stock."""
