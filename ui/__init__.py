"""The workbench page's parts (`app.py` draws them in order): each ``*_ui()`` function
draws one part with Streamlit and returns the planner's choices; the work happens in
``sim/``."""
