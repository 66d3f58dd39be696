"""The HTTP interface: FastAPI app, routers, auth dependencies and problem rendering."""
