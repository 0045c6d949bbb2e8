"""Serving a spec: operations (the request pipeline), parameters, replies and WSGI layers."""
