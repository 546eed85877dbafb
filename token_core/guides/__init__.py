"""Treatment guides (GTO): registration, cancellation, unlock, and their named queries."""
