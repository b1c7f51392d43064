"""Templates (canned responses): stored texts with personalisation, rendered in a sandbox."""
