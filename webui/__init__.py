"""Helpers of the Gradio front end (app.py). The rag library never imports this package."""
