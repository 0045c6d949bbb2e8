"""Starting a service: the production server launch and its gunicorn hooks."""
