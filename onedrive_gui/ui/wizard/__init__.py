"""First-run / add-account wizard: one page per module, assembled in wizard.py."""
