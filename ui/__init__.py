"""Streamlit-side glue shared by the pages: cached process-wide objects and session-state keys."""
