"""Protocol peers: small servers on loopback that speak like the systems we do not own."""
