"""Beneficiaries: identity values (CPF, mobile), the registry import and look-ups."""
