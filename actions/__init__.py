"""Yishi's action server (rasa-sdk): thin actions over the catalogue. `rasa run actions --actions actions`."""
