"""Plumbing with no domain: located reading of YAML/CSV, located errors, atomic folders, JIT."""
