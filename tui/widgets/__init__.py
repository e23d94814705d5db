"""Widgets for the chatterm TUI."""
