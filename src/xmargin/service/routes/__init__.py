"""The ``/v1`` routes: each one authorizes, parses, calls the library or the writer."""
