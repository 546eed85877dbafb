"""odontoken's domain: security codes for treatment guides, the beneficiary registry, chat links,
the audit and the outbox. Imports no web or chat framework; persistence is Tortoise ORM in
`persistence/`, ephemeral state goes through the `storage/` port.
"""
