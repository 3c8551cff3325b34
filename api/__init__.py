"""The web shell: the Flask app, one flask-restx namespace per reference service group."""
