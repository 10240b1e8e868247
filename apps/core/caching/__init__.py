"""Layered caching: per-process L1, Redis L2 with versioned keys, HTTP validators, ORM cache."""
