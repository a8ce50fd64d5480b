"""Layout templates and field location: where the amount and the account number are on a page."""
