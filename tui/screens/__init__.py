"""The app's screens: conversation, model picker, providers, settings, sessions, keys."""
