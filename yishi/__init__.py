"""What every Yishi process shares: its settings and the one client of the Rasa servers. Imports
nothing else of Yishi's, so every package may use it."""
