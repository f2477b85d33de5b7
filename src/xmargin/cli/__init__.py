"""The command line: parse options, call one library function, render JSON or a table."""
