"""Helpers for the warehouse tests: pipeline runs in separate processes, and demo networks."""
