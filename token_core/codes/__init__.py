"""Security codes: generation, issuance, validation and the rule that a code works once, for
one guide (`single_use.py`); the numbers that govern them (`policy.py`).
"""
