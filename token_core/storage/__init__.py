"""Ephemeral state: the store port (`ports.py`) and its adapters, Redis and in-process."""
