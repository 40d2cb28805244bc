"""Descent Lab core: data, training, jobs and figures. Never imports streamlit."""
