"""The blinded self-trial (SPEC §14): design, blinding, result, and its pages."""
