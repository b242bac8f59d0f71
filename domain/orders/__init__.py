"""Orders: a customer's basket of lines, priced and placed, then settled by the order saga."""
