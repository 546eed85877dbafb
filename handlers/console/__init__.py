"""The support console (SAB) at /atendimento: server-rendered pages (Jinja2), a little plain
JavaScript for the live parts (server-sent events fed by the store's publish/subscribe).
"""
