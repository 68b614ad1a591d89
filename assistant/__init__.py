"""Yishi's assistant core: pure functions, no Rasa, rasa-sdk, Flask or network import.

intents (bundle intent names), payloads (button payloads, built and parsed), decision (bundle, ask
back or honest fallback from a parse), evaluation (the held-out arithmetic) and training (Rasa data
generated from the catalogue). The actions, the web app, the console and `make eval` use it.
"""
