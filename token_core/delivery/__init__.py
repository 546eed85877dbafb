"""Getting a code to a person: the sender port, where a code may go (`contacts.py`, the seed's
contact rules) and sending on the channel the dentist chose (`sending.py`).
"""
