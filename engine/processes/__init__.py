"""The running processes: the command line, the server and worker, their wiring and clock."""
