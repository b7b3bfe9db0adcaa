"""Locale files: one YAML file per namespace and language (``fi/<namespace>.yaml``, ``en/…``)."""
