"""Who may call the API: API clients with encrypted secrets, and request signatures."""
