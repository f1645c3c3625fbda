"""The dashboard's built files, served at `/`."""
