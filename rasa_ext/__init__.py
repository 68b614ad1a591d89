"""Code that runs inside the Rasa server: the guarded input channels, the tokenizer, the tracker store."""
