"""The Streamlit host of nncore: `streamlit run app` (runs app/streamlit_app.py)."""
