"""Support (SAB): agents and their sign-in, hand-off of chats to a person, and the actions only
the SAB may take (a code by phone, a new mobile or e-mail, unlocks, unlinking, fraud outcomes).
"""
